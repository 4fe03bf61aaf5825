//! `track run`: the paired design. Each commit is checked out in its own git
//! worktree under a temporary folder (the user's checkout is never touched),
//! built once, then each benchmark is run on both sides back to back (A B,
//! then B A in the next round, ...) by calling the bench executables directly
//! with Criterion's `--exact ID`, so that drift of the machine over seconds
//! (thermal, other tenants) hits both sides alike.
//!
//! Cleanup invariant: a [`Worktrees`] guard removes the worktrees on every exit
//! path; Ctrl-C only sets a flag (the benchmark child receives SIGINT itself
//! and stops), so the guard's `Drop` still runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::environment::{git, unix_seconds_now};
use crate::{
    History, INSTRUCTION_REPORT_DIR, Machine, RunContext, TrackError, import_criterion_dir,
    import_instruction_dir,
};

/// Settings of a paired run.
#[derive(Debug, Clone)]
pub struct PairedOptions {
    pub rounds: usize,
    /// Criterion's filter regex, passed through.
    pub filter: Option<String>,
    /// `--bench NAME` targets; all benches when empty.
    pub benches: Vec<String>,
    /// Extra Criterion flags, e.g. `--measurement-time 1`.
    pub criterion_args: Vec<String>,
    /// Folder holding one Cargo target folder per side (`a/`, `b/`); a fresh one inside the
    /// temporary folder when `None`.
    /// Reusing one across runs saves rebuilding the dependencies every time.
    pub target_dir: Option<PathBuf>,
}

/// Removes the worktrees it created when dropped, whatever happened.
struct Worktrees {
    repo: PathBuf,
    paths: Vec<PathBuf>,
    _dir: tempfile::TempDir,
}

impl Drop for Worktrees {
    fn drop(&mut self) {
        for path in &self.paths {
            let _ = git(
                &self.repo,
                &["worktree", "remove", "--force", &path.to_string_lossy()],
            );
        }
        let _ = git(&self.repo, &["worktree", "prune"]);
    }
}

/// Set by the Ctrl-C handler, read between benchmark runs. Global because a
/// signal handler can reach nothing else; installed once per process.
fn interrupted_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let for_handler = Arc::clone(&flag);
        // If another handler is already installed the flag stays false and
        // the default behaviour applies; the guard still cleans up on errors.
        let _ = ctrlc::set_handler(move || for_handler.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}

/// One bench executable of one side, as Cargo built it.
struct BenchBinary {
    executable: PathBuf,
    /// The package folder: Cargo runs benches from there, so relative paths hold.
    package_dir: PathBuf,
    /// Its Criterion benchmarks, timed round by round.
    ids: Vec<String>,
    /// Whether it is a `proflab-callgrind` target, counted once per side.
    counts_instructions: bool,
}

/// Builds the bench targets of the worktree and returns their executables
/// (from Cargo's JSON messages), without running anything.
fn build_benches(
    worktree: &Path,
    target: &Path,
    options: &PairedOptions,
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
    let stdout = run_checked(cmd, commit, true)?;
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
            });
        }
    }
    for binary in &mut binaries {
        let mut list = bench_command(binary, target, options);
        list.arg("--list");
        if let Some(filter) = &options.filter {
            list.arg(filter);
        }
        // Criterion lists `ID: benchmark`, proflab-callgrind `ID: instructions`;
        // other harnesses print nothing of either form.
        let listed = run_checked(list, commit, true)?;
        binary.ids = listed
            .lines()
            .filter_map(|line| line.strip_suffix(": benchmark"))
            .map(str::to_owned)
            .collect();
        binary.counts_instructions = listed.lines().any(|line| line.ends_with(": instructions"));
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

fn bench_command(binary: &BenchBinary, target: &Path, options: &PairedOptions) -> Command {
    let mut cmd = Command::new(&binary.executable);
    cmd.current_dir(&binary.package_dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CRITERION_HOME", target.join("criterion"))
        .args(["--bench", "--noplot"])
        .args(&options.criterion_args);
    // Criterion reports on stdout; ours is reserved for the comparison (`--json`).
    cmd.stdout(std::process::Stdio::from(std::io::stderr()));
    cmd
}

/// Runs `cmd` and fails naming the command and commit unless it succeeds;
/// returns its stdout when `capture` (else stdout goes where `cmd` says).
fn run_checked(mut cmd: Command, commit: &str, capture: bool) -> Result<String, TrackError> {
    if capture {
        cmd.stdout(std::process::Stdio::piped());
    }
    let command = format!("{cmd:?}");
    let output = cmd.output().map_err(|source| TrackError::Spawn {
        command: command.clone(),
        source,
    })?;
    if interrupted_flag().load(Ordering::SeqCst) {
        return Err(TrackError::Interrupted);
    }
    if !output.status.success() {
        return Err(TrackError::BenchFailed {
            command,
            commit: commit.to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Builds `a` and `b` of the repository at `repo` and records `rounds` runs of
/// each into `history`; returns the two full SHAs. Each benchmark is run on
/// both sides back to back, in the order A B in odd rounds and B A in even
/// ones, so that drift of the machine over seconds hits both sides alike.
/// `progress` is told each step: (steps done, steps in all, what runs now).
pub fn run_paired(
    repo: &Path,
    a: &str,
    b: &str,
    options: &PairedOptions,
    history: &mut History,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<(String, String), TrackError> {
    let interrupted = interrupted_flag();
    interrupted.store(false, Ordering::SeqCst);
    let sha = |reference: &str| {
        git(
            repo,
            &["rev-parse", "--verify", &format!("{reference}^{{commit}}")],
        )
    };
    let commits = [sha(a)?, sha(b)?];
    let dir = tempfile::Builder::new()
        .prefix("proflab-run-")
        .tempdir()
        .map_err(|source| TrackError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let mut guard = Worktrees {
        repo: repo.to_owned(),
        paths: Vec::new(),
        _dir: dir,
    };
    let root = guard._dir.path().to_owned();
    let machine = Machine::current();
    // One target folder per side: the same package at two paths gets the same
    // binary name, so a single folder would hold only the last side built.
    let targets_root = options
        .target_dir
        .clone()
        .unwrap_or_else(|| root.join("target"));
    let targets = ["a", "b"].map(|side| targets_root.join(side));
    let mut binaries = Vec::new();
    for ((side, commit), target) in ["a", "b"].iter().zip(&commits).zip(&targets) {
        let path = root.join(side);
        git(
            repo,
            &[
                "worktree",
                "add",
                "--detach",
                &path.to_string_lossy(),
                commit,
            ],
        )?;
        guard.paths.push(path.clone());
        progress(binaries.len(), 2, &format!("building {}", &commit[..12]));
        binaries.push(build_benches(&path, target, options, commit)?);
    }
    let mut ids: Vec<&str> = binaries
        .iter()
        .flatten()
        .flat_map(|binary| binary.ids.iter().map(String::as_str))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let total = options.rounds * ids.len();
    let run_context = |commit: &String| RunContext {
        commit: commit.clone(),
        dirty: false,
        branch: format!("run {a}..{b}"),
        time: unix_seconds_now(),
    };
    for round in 0..options.rounds {
        for (index, id) in ids.iter().enumerate() {
            progress(
                round * ids.len() + index,
                total,
                &format!("round {}/{}: {id}", round + 1, options.rounds),
            );
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for side in order {
                for binary in binaries[side]
                    .iter()
                    .filter(|b| b.ids.iter().any(|i| i == id))
                {
                    let mut cmd = bench_command(binary, &targets[side], options);
                    cmd.args(["--exact", id]);
                    run_checked(cmd, &commits[side], false)?;
                }
            }
        }
        for (commit, target) in commits.iter().zip(&targets) {
            let benches = import_criterion_dir(&target.join("criterion"))?;
            history.record(&run_context(commit), &machine, &benches)?;
        }
    }
    // Counts do not drift: one run per side, recorded as one more run.
    for (side, (commit, target)) in commits.iter().zip(&targets).enumerate() {
        let counters: Vec<&BenchBinary> = binaries[side]
            .iter()
            .filter(|binary| binary.counts_instructions)
            .collect();
        if counters.is_empty() {
            continue;
        }
        progress(
            total,
            total,
            &format!("instruction counts: {}", &commit[..12]),
        );
        for binary in counters {
            let mut cmd = bench_command(binary, target, options);
            cmd.args(options.filter.as_slice());
            run_checked(cmd, commit, false)?;
        }
        let counts = import_instruction_dir(&target.join(INSTRUCTION_REPORT_DIR))?;
        history.record(&run_context(commit), &machine, &counts)?;
    }
    progress(total, total, "done");
    drop(guard);
    let [a, b] = commits;
    Ok((a, b))
}
