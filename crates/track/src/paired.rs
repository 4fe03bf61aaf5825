//! `track run`: the paired design. Each commit is checked out in its own git
//! worktree under a temporary folder (the user's checkout is never touched),
//! built once, then benchmarked alternately A, B, A, B, ... so that slow drift
//! of the machine (thermal, other tenants) hits both sides alike.
//!
//! Cleanup invariant: a [`Worktrees`] guard removes the worktrees on every exit
//! path; Ctrl-C only sets a flag (the benchmark child receives SIGINT itself
//! and stops), so the guard's `Drop` still runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::environment::git;
use crate::{History, Machine, RunContext, TrackError, import_criterion_dir};

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

fn cargo_bench(
    worktree: &Path,
    target: &Path,
    options: &PairedOptions,
    build_only: bool,
) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(worktree)
        .env("CARGO_TARGET_DIR", target)
        .arg("bench");
    // Criterion reports on stdout; ours is reserved for the comparison (`--json`).
    cmd.stdout(std::process::Stdio::from(std::io::stderr()));
    for bench in &options.benches {
        cmd.args(["--bench", bench]);
    }
    if build_only {
        cmd.arg("--no-run");
    } else {
        cmd.args(["--", "--noplot"]).args(&options.criterion_args);
        if let Some(filter) = &options.filter {
            cmd.arg(filter);
        }
    }
    cmd
}

fn run_checked(mut cmd: Command, commit: &str) -> Result<(), TrackError> {
    let described = format!("{cmd:?}");
    let status = cmd.status().map_err(|e| TrackError::Git {
        args: described.clone(),
        message: e.to_string(),
    })?;
    if interrupted_flag().load(Ordering::SeqCst) {
        return Err(TrackError::Interrupted);
    }
    if !status.success() {
        return Err(TrackError::BenchFailed {
            command: described,
            commit: commit.to_owned(),
        });
    }
    Ok(())
}

/// Builds `a` and `b` of the repository at `repo` and records `rounds` alternating
/// runs of each into `history`; returns the two full SHAs. `progress` is told
/// each step (e.g. to advance a progress bar).
pub fn run_paired(
    repo: &Path,
    a: &str,
    b: &str,
    options: &PairedOptions,
    history: &mut History,
    progress: &mut dyn FnMut(&str),
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
    // binary name, so a single folder would rebuild at every alternation.
    let targets = options
        .target_dir
        .clone()
        .unwrap_or_else(|| root.join("target"));
    for (side, commit) in ["a", "b"].iter().zip(&commits) {
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
        progress(&format!("building {}", &commit[..12]));
        run_checked(
            cargo_bench(&path, &targets.join(side), options, true),
            commit,
        )?;
    }
    for round in 1..=options.rounds {
        for (side, commit) in ["a", "b"].iter().zip(&commits) {
            progress(&format!(
                "round {round}/{}: {}",
                options.rounds,
                &commit[..12]
            ));
            run_checked(
                cargo_bench(&root.join(side), &targets.join(side), options, false),
                commit,
            )?;
            let benches = import_criterion_dir(&targets.join(side).join("criterion"))?;
            let context = RunContext {
                commit: commit.clone(),
                dirty: false,
                branch: format!("run {a}..{b}"),
                time: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
            };
            history.record(&context, &machine, &benches)?;
        }
    }
    drop(guard);
    let [a, b] = commits;
    Ok((a, b))
}
