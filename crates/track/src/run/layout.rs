//! Code layouts drawn at random, so that a verdict is about the code and not
//! about where the linker happened to put it.
//!
//! One executable is one sample from the space of layouts however often it
//! runs (Curtsinger and Berger, "Stabilizer", ASPLOS 2013): a function's
//! page offset, its aliasing in the branch predictor and the op cache, which
//! hot loops share a cache set, all stay fixed, and an untouched benchmark of
//! a changed binary can run a few percent faster or slower for a whole batch.
//! So each side is built once with Cargo's linker replaced by a recorder
//! ([`LinkRecorder`]) that keeps every bench executable's link command and
//! the object files rustc would delete after it; each round then relinks the
//! executables it runs ([`LinkCommand::link`]) with LLD's
//! `--shuffle-sections` (function order) and `--randomize-section-padding`
//! (every section's start) under a fresh seed. A new layout costs a link, not
//! a compile: Cargo is not run again.
//!
//! Where this cannot apply the run keeps the build's own layout and says why
//! once ([`LayoutMode::Fixed`]): a platform other than Linux, a linker
//! chosen by the user's Cargo configuration (replacing it would measure
//! another linker), or a recorded command that does not link with LLD (GNU
//! ld and gold have no such options).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::TrackError;

/// The recorder that Cargo runs as the linker: it links with `cc`, as rustc
/// would have, then keeps the command (NUL-separated, `args`), its folder
/// (`cwd`) and copies of its object files (`N-name.o`, N the argument's
/// place) in `$PROFLAB_LINK_RECORDS/<output file name>/`. Libraries that
/// rustc links (`-shared`: proc macros) are not recorded.
const RECORDER: &str = r#"#!/bin/sh
# Written by `proflab track run`: links as rustc asked, then keeps the
# command and its object files so that the output can be relinked later.
set -e
cc "$@"
out=""; prev=""; shared=""
for arg in "$@"; do
    [ "$prev" = "-o" ] && out="$arg"
    [ "$arg" = "-shared" ] && shared=1
    prev="$arg"
done
[ -n "$out" ] && [ -z "$shared" ] || exit 0
keep="$PROFLAB_LINK_RECORDS/$(basename "$out")"
rm -rf "$keep"
mkdir -p "$keep"
place=0
for arg in "$@"; do
    case "$arg" in
        *.o) cp "$arg" "$keep/$place-$(basename "$arg")" ;;
    esac
    place=$((place + 1))
done
pwd > "$keep/cwd"
printf '%s\0' "$@" > "$keep/args"
"#;

/// The name rustc sees: it infers the linker's flavour from it, and a name
/// that ends in `cc` keeps the flavour (and the self-contained LLD) rustc
/// picks for `cc` itself.
const RECORDER_NAME: &str = "proflab-cc";

/// How a side's executables are laid out in the rounds.
#[derive(Debug, Clone)]
pub enum LayoutMode {
    /// Relinked with a fresh random layout each round.
    Random,
    /// As Cargo linked them, functions on 64-byte boundaries; the reason is
    /// shown to the user once.
    Fixed(String),
}

/// Cargo's linker replaced by the recorder, for one build.
pub(super) struct LinkRecorder {
    script: PathBuf,
    records: PathBuf,
    /// `CARGO_TARGET_<HOST>_LINKER`.
    linker_variable: String,
}

impl LinkRecorder {
    /// Writes the recorder into `dir` (rewritten only when it differs, so
    /// that its modification time stays), keeping records under `records`;
    /// `Err` says why layouts cannot be randomized for the worktree at
    /// `worktree` (then nothing is written).
    pub(super) fn install(
        dir: &Path,
        records: &Path,
        worktree: &Path,
    ) -> Result<LinkRecorder, String> {
        if !cfg!(target_os = "linux") {
            return Err("random layouts need LLD on Linux".to_owned());
        }
        let host = host_triple().ok_or("`rustc -vV` did not name the host")?;
        let linker_variable = format!(
            "CARGO_TARGET_{}_LINKER",
            host.to_uppercase().replace(['-', '.'], "_")
        );
        if let Some(source) = own_linker(worktree, &linker_variable) {
            return Err(format!(
                "{source} chooses the linker, and relinking with another one would measure that one"
            ));
        }
        let io = |error: std::io::Error| format!("cannot write the link recorder: {error}");
        std::fs::create_dir_all(records).map_err(io)?;
        std::fs::create_dir_all(dir).map_err(io)?;
        let script = dir.join(RECORDER_NAME);
        if std::fs::read(&script).ok().as_deref() != Some(RECORDER.as_bytes()) {
            std::fs::write(&script, RECORDER).map_err(io)?;
            set_executable(&script).map_err(io)?;
        }
        Ok(LinkRecorder {
            script,
            records: records.to_owned(),
            linker_variable,
        })
    }

    /// Makes the Cargo `cmd` link through the recorder.
    pub(super) fn configure(&self, cmd: &mut Command) {
        cmd.env(&self.linker_variable, &self.script)
            .env("PROFLAB_LINK_RECORDS", &self.records);
    }

    /// The recorded link command of `executable`.
    pub(super) fn command_of(&self, executable: &Path) -> Result<LinkCommand, String> {
        let name = executable.file_name().unwrap_or_default();
        LinkCommand::load(&self.records.join(name))
    }
}

#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

fn host_triple() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("-vV").output().ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
}

/// Where the user chooses a linker, if anywhere: the environment, or a Cargo
/// configuration file that Cargo would read for `worktree` (its folder and
/// every parent, then `$CARGO_HOME`) and that mentions a `linker`. A file
/// that names one for another target only is read the same way: refusing a
/// layout there costs precision, taking over a user's linker would cost
/// the truth.
fn own_linker(worktree: &Path, linker_variable: &str) -> Option<String> {
    if std::env::var_os(linker_variable).is_some() {
        return Some(format!("`{linker_variable}`"));
    }
    for variable in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"] {
        if std::env::var(variable).is_ok_and(|flags| flags.contains("linker=")) {
            return Some(format!("`{variable}`"));
        }
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    let folders = worktree
        .ancestors()
        .map(|folder| folder.join(".cargo"))
        .chain(cargo_home);
    for folder in folders {
        for name in ["config.toml", "config"] {
            let file = folder.join(name);
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let names_a_linker = text.lines().any(|line| {
                let line = line.trim_start();
                !line.starts_with('#')
                    && (line.starts_with("linker")
                        || (line.contains("rustflags") && line.contains("linker=")))
            });
            if names_a_linker {
                return Some(file.display().to_string());
            }
        }
    }
    None
}

/// One executable's recorded link command, its object files kept.
#[derive(Debug, Clone)]
pub(super) struct LinkCommand {
    cwd: PathBuf,
    args: Vec<OsString>,
}

impl LinkCommand {
    fn load(record: &Path) -> Result<LinkCommand, String> {
        use std::os::unix::ffi::OsStringExt as _;
        let missing = || format!("no link command was recorded in {}", record.display());
        let raw = std::fs::read(record.join("args")).map_err(|_| missing())?;
        let cwd = std::fs::read_to_string(record.join("cwd")).map_err(|_| missing())?;
        let mut args: Vec<OsString> = raw
            .split(|byte| *byte == 0)
            .map(|arg| OsString::from_vec(arg.to_vec()))
            .collect();
        // `printf '%s\0'` ends the last argument with a NUL too.
        args.pop();
        for (place, arg) in args.iter_mut().enumerate() {
            let path = Path::new(arg.as_os_str());
            if path.extension().is_some_and(|extension| extension == "o") {
                let kept = record.join(format!(
                    "{place}-{}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                ));
                *arg = kept.into_os_string();
            }
        }
        let command = LinkCommand {
            cwd: PathBuf::from(cwd.trim_end_matches('\n')),
            args,
        };
        if !command.links_with_lld() {
            return Err("the bench executables are not linked with LLD".to_owned());
        }
        Ok(command)
    }

    /// Whether `cc` is told to link with LLD: the last `-fuse-ld=` wins, as
    /// in GCC and Clang.
    fn links_with_lld(&self) -> bool {
        self.args
            .iter()
            .rev()
            .find_map(|arg| arg.to_str()?.strip_prefix("-fuse-ld="))
            .is_some_and(|linker| linker == "lld" || linker.ends_with("ld.lld"))
    }

    /// Links the executable again into `output`: with the layout of `seed`
    /// (functions shuffled, every section's start padded at random), or as
    /// Cargo did with `None`. Returns how long the link took.
    pub(super) fn link(&self, output: &Path, seed: Option<u64>) -> Result<Duration, TrackError> {
        let mut args = self.args.clone();
        let place = args
            .iter()
            .position(|arg| arg == "-o")
            .filter(|place| place + 1 < args.len())
            .ok_or_else(|| TrackError::Layout {
                reason: "the recorded link command has no -o".to_owned(),
            })?;
        args[place + 1] = output.as_os_str().to_owned();
        if let Some(seed) = seed {
            // LLD reads a seed as a signed integer, and 0 means "pick one",
            // which would not be reproducible: a seed from 1 to 2^31 - 1.
            let seed = seed % ((1 << 31) - 1) + 1;
            args.push(format!("-Wl,--shuffle-sections=.text*={seed}").into());
            args.push(format!("-Wl,--randomize-section-padding={seed}").into());
        }
        let started = Instant::now();
        let result = Command::new("cc")
            .args(&args)
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|error| TrackError::Layout {
                reason: format!("cannot run cc: {error}"),
            })?;
        if !result.status.success() {
            return Err(TrackError::Layout {
                reason: format!(
                    "relinking {} failed: {}",
                    output.display(),
                    String::from_utf8_lossy(&result.stderr).trim()
                ),
            });
        }
        Ok(started.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use cargo_metadata::Message;
    use object::{Object as _, ObjectSymbol as _};

    use super::{LinkCommand, LinkRecorder, own_linker};

    /// A crate with one bench target whose `marked_function` the tests look for.
    fn fixture_crate(dir: &Path, cargo_config: Option<&str>) -> PathBuf {
        let root = dir.join("fixture");
        std::fs::create_dir_all(root.join("benches")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [[bench]]\nname = \"spin\"\nharness = false\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "").unwrap();
        std::fs::write(
            root.join("benches/spin.rs"),
            "#[no_mangle]\n#[inline(never)]\npub extern \"C\" fn marked_function(x: u64) -> u64 {\n\
             x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(7)\n}\n\
             fn main() { println!(\"{}\", marked_function(std::hint::black_box(3))); }\n",
        )
        .unwrap();
        if let Some(config) = cargo_config {
            std::fs::create_dir_all(root.join(".cargo")).unwrap();
            std::fs::write(root.join(".cargo/config.toml"), config).unwrap();
        }
        root
    }

    /// Builds the fixture's bench through the recorder; returns the recorder and the executable.
    fn build(root: &Path, dir: &Path) -> (LinkRecorder, PathBuf) {
        let recorder =
            LinkRecorder::install(&dir.join("linker"), &dir.join("links"), root).unwrap();
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo
            .current_dir(root)
            .env("CARGO_TARGET_DIR", root.join("target"))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .args(["bench", "--no-run", "--offline", "--message-format=json"]);
        recorder.configure(&mut cargo);
        let output = cargo.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let executable = Message::parse_stream(&*output.stdout)
            .find_map(|message| match message.unwrap() {
                Message::CompilerArtifact(artifact) if artifact.target.name == "spin" => {
                    artifact.executable
                }
                _ => None,
            })
            .unwrap()
            .into_std_path_buf();
        (recorder, executable)
    }

    fn address_of_marked_function(executable: &Path) -> u64 {
        let bytes = std::fs::read(executable).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        file.symbols()
            .find(|symbol| symbol.name() == Ok("marked_function"))
            .unwrap()
            .address()
    }

    /// Every file under `folder` with its modification time.
    fn stamps(folder: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(stamps(&path));
            } else {
                found.push((path, entry.metadata().unwrap().modified().unwrap()));
            }
        }
        found.sort();
        found
    }

    #[test]
    fn two_seeds_put_a_function_in_two_places_and_relinking_compiles_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = fixture_crate(dir.path(), None);
        let (recorder, executable) = build(&root, dir.path());
        let command = recorder.command_of(&executable).unwrap();
        let release = root.join("target/release");
        let before = stamps(&release);
        let cargo_linked = address_of_marked_function(&executable);
        let mut addresses = Vec::new();
        for seed in [Some(1), Some(u64::MAX), None] {
            let relinked = dir.path().join(format!("spin-{seed:?}"));
            command.link(&relinked, seed).unwrap();
            let run = Command::new(&relinked).output().unwrap();
            let expected = 3u64.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(7);
            assert_eq!(
                String::from_utf8_lossy(&run.stdout).trim(),
                expected.to_string()
            );
            addresses.push(address_of_marked_function(&relinked));
        }
        assert_ne!(addresses[0], addresses[1], "two seeds, one address");
        // Without a seed the relink is Cargo's own layout.
        assert_eq!(addresses[2], cargo_linked);
        // Cargo's fingerprints and outputs are untouched: nothing was compiled again.
        assert_eq!(stamps(&release), before);
    }

    #[test]
    fn a_build_that_links_with_another_linker_keeps_its_layout() {
        let dir = tempfile::tempdir().unwrap();
        // GNU ld, chosen the way a crate's own configuration would.
        let root = fixture_crate(
            dir.path(),
            Some("[build]\nrustflags = [\"-C\", \"link-arg=-fuse-ld=bfd\"]\n"),
        );
        let (recorder, executable) = build(&root, dir.path());
        let refused = recorder.command_of(&executable).unwrap_err();
        assert_eq!(refused, "the bench executables are not linked with LLD");
    }

    #[test]
    fn only_lld_is_relinked() {
        let command = |args: &[&str]| LinkCommand {
            cwd: ".".into(),
            args: args.iter().map(Into::into).collect(),
        };
        assert!(command(&["-fuse-ld=lld", "-o", "x"]).links_with_lld());
        assert!(!command(&["-fuse-ld=lld", "-fuse-ld=bfd", "-o", "x"]).links_with_lld());
        assert!(!command(&["-o", "x"]).links_with_lld());
    }

    #[test]
    fn a_linker_named_in_cargo_configuration_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let worktree = dir.path().join("repo");
        std::fs::create_dir_all(worktree.join(".cargo")).unwrap();
        let variable = "CARGO_TARGET_PROFLAB_TEST_TRIPLE_LINKER";
        assert_eq!(own_linker(&worktree, variable), None);
        std::fs::write(
            worktree.join(".cargo/config.toml"),
            "[target.x86_64-unknown-linux-gnu]\n# linker = \"commented out\"\n",
        )
        .unwrap();
        assert_eq!(own_linker(&worktree, variable), None);
        std::fs::write(
            worktree.join(".cargo/config.toml"),
            "[target.x86_64-unknown-linux-gnu]\nlinker = \"clang\"\n",
        )
        .unwrap();
        assert!(
            own_linker(&worktree, variable)
                .is_some_and(|source| source.ends_with(".cargo/config.toml"))
        );
    }
}
