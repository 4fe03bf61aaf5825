//! Building one side's bench targets with Cargo.

use std::path::Path;
use std::process::{Command, Stdio};

use cargo_metadata::{Artifact, Message, TargetKind};

use super::bench::{BenchBinary, Dialect, bench_command};
use super::layout::LinkRecorder;
use super::process::run_checked;
use super::{ALIGN_FUNCTIONS, PairedOptions};
use crate::TrackError;

/// Starts side B's empty target folder as a copy of side A's: the
/// dependencies from the registry are the same on both sides, so Cargo then
/// rebuilds only the workspace's own crates (24 s instead of minutes for this
/// repository's `string_concat`). `cp -a` keeps the modification times Cargo's
/// freshness checks compare; where it is missing or fails, B is built from
/// scratch as before, only slower.
pub(super) fn seed_target(built: &Path, empty: &Path) {
    if empty.exists() || !built.exists() {
        return;
    }
    let copied = Command::new("cp")
        .arg("-a")
        .arg(built)
        .arg(empty)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !copied {
        // A partial copy would only mislead Cargo's freshness checks.
        let _ = std::fs::remove_dir_all(empty);
    }
}

/// The file in a side's target folder that names the checkout it was last
/// built from, written after each build ([`record_built_from`]).
const BUILT_FROM: &str = "proflab-built-from";

/// Cargo calls a local package fresh when its files are older than its last
/// build, wherever that build was made from. A kept worktree
/// (`--worktree-dir`, a bisection's) or the working tree keeps its files'
/// times from one run to the next, so after a run that built another
/// checkout in the same target folder, Cargo would take that checkout's
/// executables for this one's: the other commit's code, measured under this
/// commit's name (seen: B/A 0.49 for a B twice as slow). So when `target` was
/// last built from another folder than `worktree`, the workspace's own
/// packages are cleaned from it first, in the bench profile only, and built
/// again; the dependencies from registries stay. Not needed when
/// `new_files` (a worktree added by this run): its files are newer than any
/// build. Either way the folder names no checkout until this build
/// succeeds ([`record_built_from`]): a build that fails or is interrupted
/// halfway leaves some units newer than the files of the checkout built
/// before.
pub(super) fn clean_builds_of_other_checkouts(
    worktree: &Path,
    target: &Path,
    new_files: bool,
    commit: &str,
) -> Result<(), TrackError> {
    let marker = target.join(BUILT_FROM);
    let built_from = std::fs::read(&marker).ok();
    // Where Cargo puts the bench profile's units.
    let built = target.join("release");
    if !built.exists() || built_from.as_deref() == Some(worktree.as_os_str().as_encoded_bytes()) {
        return Ok(());
    }
    match std::fs::remove_file(&marker) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
            return Err(TrackError::Write {
                path: marker,
                source,
            });
        }
        _ => {}
    }
    if new_files {
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut metadata = Command::new(&cargo);
    metadata
        .current_dir(worktree)
        .args(["metadata", "--no-deps", "--format-version", "1"]);
    // A manifest Cargo cannot read fails the build next, with Cargo's words
    // and a command to build again; should the build succeed all the same,
    // it starts from nothing.
    let Ok(metadata) = run_checked(metadata, commit) else {
        return std::fs::remove_dir_all(&built).map_err(|source| TrackError::Write {
            path: built,
            source,
        });
    };
    let packages = cargo_metadata::MetadataCommand::parse(&metadata.stdout).map_err(|error| {
        TrackError::BenchFailed {
            command: "cargo metadata --no-deps".to_owned(),
            commit: commit.to_owned(),
            stderr: error.to_string(),
        }
    })?;
    let mut clean = Command::new(&cargo);
    clean
        .current_dir(worktree)
        .env("CARGO_TARGET_DIR", target)
        .args(["clean", "--profile", "bench"]);
    for package in packages.workspace_packages() {
        clean.args(["-p", package.name.as_str()]);
    }
    run_checked(clean, commit).map(drop)
}

/// Names `worktree` as the checkout `target` was last built from.
pub(super) fn record_built_from(worktree: &Path, target: &Path) -> Result<(), TrackError> {
    let path = target.join(BUILT_FROM);
    std::fs::write(&path, worktree.as_os_str().as_encoded_bytes())
        .map_err(|source| TrackError::Write { path, source })
}

/// What every build of `track run` adds to rustc's flags, on both sides
/// alike: [`ALIGN_FUNCTIONS`] unless turned off, and `--cap-lints=warn`.
/// A lint never changes the code rustc emits, but an older commit's
/// `#![deny(warnings)]` meets the lints of today's rustc and stops the
/// build (base64 before its `9979cc3`); capped, they are warnings. Both
/// sides get the same flags, so the identical-code check and Cargo's
/// fingerprints (the flags are part of them) are unaffected.
fn added_rustflags(options: &PairedOptions) -> Vec<&'static str> {
    let mut flags = vec!["--cap-lints=warn"];
    if options.align_functions {
        flags.push(ALIGN_FUNCTIONS);
    }
    flags
}

/// The Cargo command that builds one side's bench targets, as environment
/// and arguments: what runs, and what a user is told to run again.
struct CargoBench {
    env: Vec<(&'static str, String)>,
    args: Vec<String>,
}

impl CargoBench {
    fn new(options: &PairedOptions) -> CargoBench {
        let mut bench = CargoBench {
            env: Vec::new(),
            args: ["bench", "--no-run"].map(str::to_owned).to_vec(),
        };
        for name in &options.benches {
            bench.args.extend(["--bench".to_owned(), name.clone()]);
        }
        bench.add_rustflags(&added_rustflags(options));
        bench
    }

    /// Adds `flags` to the flags Cargo gives rustc, keeping the caller's:
    /// Cargo takes the first of `CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS` and
    /// the config files' `rustflags`, so the flags join whichever is in force
    /// (`--config` arrays are appended to the config files' own).
    fn add_rustflags(&mut self, flags: &[&str]) {
        if let Ok(encoded) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
            let joined = std::iter::once(encoded.as_str())
                .filter(|encoded| !encoded.is_empty())
                .chain(flags.iter().copied())
                .collect::<Vec<_>>()
                .join("\u{1f}");
            self.env.push(("CARGO_ENCODED_RUSTFLAGS", joined));
        } else if let Ok(plain) = std::env::var("RUSTFLAGS") {
            self.env
                .push(("RUSTFLAGS", format!("{plain} {}", flags.join(" "))));
        } else {
            let quoted: Vec<String> = flags.iter().map(|flag| format!("{flag:?}")).collect();
            self.args.push("--config".to_owned());
            self.args
                .push(format!("build.rustflags=[{}]", quoted.join(", ")));
        }
    }

    /// The command as a user types it in a shell.
    fn shell_line(&self) -> String {
        let env = self
            .env
            .iter()
            .map(|(name, value)| format!("{name}={}", shell_quote(value)));
        let args = self.args.iter().map(|arg| shell_quote(arg));
        env.chain(std::iter::once("cargo".to_owned()))
            .chain(args)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `text` as one shell word: as it is when nothing in it is special to a
/// shell, else in single quotes.
pub(super) fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,@+%^".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Builds the bench targets of the worktree and returns their executables
/// (from Cargo's JSON messages), listing each one's benchmarks; with a
/// `recorder`, Cargo links through it ([`LinkRecorder`]). A failed build
/// is a [`TrackError::BuildFailed`] whose command to build again starts
/// with `check_out`, the shell commands that make a checkout of the commit
/// outlasting the run and enter it.
pub(super) fn build_benches(
    worktree: &Path,
    target: &Path,
    options: &PairedOptions,
    recorder: Option<&LinkRecorder>,
    commit: &str,
    check_out: &str,
) -> Result<Vec<BenchBinary>, TrackError> {
    let bench = CargoBench::new(options);
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(worktree)
        .env("CARGO_TARGET_DIR", target)
        .envs(bench.env.iter().map(|(name, value)| (name, value)))
        .args(&bench.args)
        .arg("--message-format=json-render-diagnostics");
    if let Some(recorder) = recorder {
        recorder.configure(&mut cmd);
    }
    let stdout = match run_checked(cmd, commit) {
        Ok(finished) => finished.stdout,
        Err(TrackError::BenchFailed { stderr, .. }) => {
            return Err(TrackError::BuildFailed {
                commit: commit.to_owned(),
                rebuild: format!("{check_out} && {}", bench.shell_line()),
                stderr,
            });
        }
        Err(other) => return Err(other),
    };
    let mut binaries = bench_binaries(&stdout, worktree);
    let scratch = target.join("proflab-scratch");
    for binary in &mut binaries {
        let mut list = bench_command(binary, &scratch);
        list.arg("--list");
        if let Some(filter) = &options.filter {
            list.arg(filter);
        }
        // Criterion lists `ID: benchmark` (`ID: bench` before 0.5), proflab-callgrind
        // `ID: instructions`; other harnesses print nothing of either form.
        let listed = run_checked(list, commit)?.stdout;
        let modern: Vec<String> = listed
            .lines()
            .filter_map(|line| line.strip_suffix(": benchmark"))
            .map(str::to_owned)
            .collect();
        binary.counts_instructions = listed.lines().any(|line| line.ends_with(": instructions"));
        if modern.is_empty() {
            binary.ids = listed
                .lines()
                .filter_map(|line| line.strip_suffix(": bench"))
                .map(str::to_owned)
                .collect();
            // Before 0.5: ask `--help` whether it is 0.3 or 0.4 (0.5 and later
            // may be built without clap's help, and are known from `--list`).
            if !binary.ids.is_empty() {
                let mut help = bench_command(binary, &scratch);
                help.arg("--help");
                binary.dialect = Dialect::from_help(&run_checked(help, commit)?.stdout);
            }
        } else {
            binary.ids = modern;
        }
    }
    Ok(binaries)
}

/// The bench executables in Cargo's JSON messages (`cargo_stdout`), each
/// to run from its package's folder (the worktree when Cargo names no
/// manifest), their benchmarks not yet listed. `cargo bench --no-run` also
/// links each library's test harness, which is not a bench target.
fn bench_binaries(cargo_stdout: &str, worktree: &Path) -> Vec<BenchBinary> {
    // Read from memory: no read can fail, and a line that is not one of
    // Cargo's messages comes as a `TextLine`, skipped like the other kinds.
    Message::parse_stream(cargo_stdout.as_bytes())
        .filter_map(|message| match message {
            Ok(Message::CompilerArtifact(artifact)) => bench_binary(artifact, worktree),
            _ => None,
        })
        .collect()
}

fn bench_binary(artifact: Artifact, worktree: &Path) -> Option<BenchBinary> {
    if !artifact.target.kind.contains(&TargetKind::Bench) {
        return None;
    }
    let package_dir = artifact
        .manifest_path
        .parent()
        .map_or_else(|| worktree.to_owned(), |dir| dir.as_std_path().to_owned());
    Some(BenchBinary {
        executable: artifact.executable?.into_std_path_buf(),
        package_dir,
        ids: Vec::new(),
        counts_instructions: false,
        dialect: Dialect::MODERN,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::bench_binaries;

    /// What Cargo 1.95 printed for `cargo bench --no-run
    /// --message-format=json-render-diagnostics` in a workspace whose member
    /// `app` has a library and a bench target `spin`, with one line that is
    /// not Cargo's.
    const CARGO_STDOUT: &str = r#"{"reason":"compiler-artifact","package_id":"path+file:///tmp/ws/app#0.1.0","manifest_path":"/tmp/ws/app/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"app","src_path":"/tmp/ws/app/src/lib.rs","edition":"2024","doc":true,"doctest":true,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/tmp/ws/target/release/deps/libapp-210706aa27608b03.rlib","/tmp/ws/target/release/deps/libapp-210706aa27608b03.rmeta"],"executable":null,"fresh":false}
{"reason":"compiler-artifact","package_id":"path+file:///tmp/ws/app#0.1.0","manifest_path":"/tmp/ws/app/Cargo.toml","target":{"kind":["bench"],"crate_types":["bin"],"name":"spin","src_path":"/tmp/ws/app/benches/spin.rs","edition":"2024","doc":false,"doctest":false,"test":false},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":true},"features":[],"filenames":["/tmp/ws/target/release/deps/spin-3f3c27f616156748"],"executable":"/tmp/ws/target/release/deps/spin-3f3c27f616156748","fresh":false}
{"reason":"compiler-artifact","package_id":"path+file:///tmp/ws/app#0.1.0","manifest_path":"/tmp/ws/app/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"app","src_path":"/tmp/ws/app/src/lib.rs","edition":"2024","doc":true,"doctest":true,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":true},"features":[],"filenames":["/tmp/ws/target/release/deps/app-d977bc05d81d61ba"],"executable":"/tmp/ws/target/release/deps/app-d977bc05d81d61ba","fresh":false}
warning: not a message
{"reason":"build-finished","success":true}
"#;

    #[test]
    fn only_bench_executables_are_kept_each_with_its_package_folder() {
        let binaries = bench_binaries(CARGO_STDOUT, Path::new("/tmp/ws"));
        let found: Vec<(&Path, &Path)> = binaries
            .iter()
            .map(|binary| (binary.executable.as_path(), binary.package_dir.as_path()))
            .collect();
        assert_eq!(
            found,
            [(
                Path::new("/tmp/ws/target/release/deps/spin-3f3c27f616156748"),
                Path::new("/tmp/ws/app")
            )]
        );
    }
}
