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

/// Adds `flag` to the flags Cargo gives rustc, keeping the caller's: Cargo
/// takes the first of `CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS` and the config
/// files' `rustflags`, so the flag joins whichever is in force (`--config`
/// arrays are appended to the config files' own).
pub(super) fn add_rustflag(cmd: &mut Command, flag: &str) {
    if let Ok(encoded) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        let joined = if encoded.is_empty() {
            flag.to_owned()
        } else {
            format!("{encoded}\u{1f}{flag}")
        };
        cmd.env("CARGO_ENCODED_RUSTFLAGS", joined);
    } else if let Ok(plain) = std::env::var("RUSTFLAGS") {
        cmd.env("RUSTFLAGS", format!("{plain} {flag}"));
    } else {
        cmd.arg("--config")
            .arg(format!("build.rustflags=[\"{flag}\"]"));
    }
}

/// Builds the bench targets of the worktree and returns their executables
/// (from Cargo's JSON messages), listing each one's benchmarks; with a
/// `recorder`, Cargo links through it ([`LinkRecorder`]).
pub(super) fn build_benches(
    worktree: &Path,
    target: &Path,
    options: &PairedOptions,
    recorder: Option<&LinkRecorder>,
    commit: &str,
) -> Result<Vec<BenchBinary>, TrackError> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(worktree)
        .env("CARGO_TARGET_DIR", target)
        .args([
            "bench",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ]);
    for bench in &options.benches {
        cmd.args(["--bench", bench]);
    }
    if options.align_functions {
        add_rustflag(&mut cmd, ALIGN_FUNCTIONS);
    }
    if let Some(recorder) = recorder {
        recorder.configure(&mut cmd);
    }
    let stdout = run_checked(cmd, commit)?;
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
        let listed = run_checked(list, commit)?;
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
                binary.dialect = Dialect::from_help(&run_checked(help, commit)?);
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
