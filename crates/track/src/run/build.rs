//! Building one side's bench targets with Cargo.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    let mut binaries = Vec::new();
    for line in stdout.lines() {
        let Ok(message) = serde_json::from_str::<CargoMessage>(line) else {
            continue;
        };
        if let (Some(executable), true) = (
            message.executable,
            message
                .target
                .is_some_and(|t| t.kind.iter().any(|k| k == "bench")),
        ) {
            let package_dir = message
                .manifest_path
                .as_deref()
                .and_then(Path::parent)
                .map_or_else(|| worktree.to_owned(), Path::to_owned);
            binaries.push(BenchBinary {
                executable,
                package_dir,
                ids: Vec::new(),
                counts_instructions: false,
                dialect: Dialect::MODERN,
            });
        }
    }
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

#[derive(serde::Deserialize)]
struct CargoMessage {
    executable: Option<PathBuf>,
    manifest_path: Option<PathBuf>,
    target: Option<CargoTarget>,
}

#[derive(serde::Deserialize)]
struct CargoTarget {
    kind: Vec<String>,
}
