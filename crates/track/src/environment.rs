//! Where a run happened: the commit, and a fingerprint of the machine, so that
//! numbers from different hardware or toolchains are never compared by accident.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::TrackError;

/// The hardware and toolchain a run was measured on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub os: String,
    pub rustc: String,
}

impl Machine {
    /// Reads this machine's fingerprint (`/proc/cpuinfo`, `rustc -V`).
    ///
    /// `PROFLAB_MACHINE`, when set and not empty, replaces the CPU model: a
    /// pool of CI runners whose virtual CPUs all report the same model can
    /// name each runner (or each instance type), so that their series stay
    /// apart in one shared history. Cores, OS and rustc still count.
    pub fn current() -> Machine {
        let named = std::env::var("PROFLAB_MACHINE")
            .ok()
            .filter(|name| !name.trim().is_empty());
        let cpu_model = named
            .or_else(|| {
                let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let rustc = rustc_version(Path::new(".")).unwrap_or_else(|_| "unknown".into());
        Machine {
            cpu_model,
            cores,
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            rustc,
        }
    }

    /// One string that differs whenever any part differs.
    pub fn fingerprint(&self) -> String {
        format!(
            "{} x{} | {} | {}",
            self.cpu_model, self.cores, self.os, self.rustc
        )
    }
}

/// `rustc -V` as run in `dir`, where a `rust-toolchain` file may pick another toolchain.
pub(crate) fn rustc_version(dir: &Path) -> std::io::Result<String> {
    let output = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-V")
        .current_dir(dir)
        .output()?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The commit a run measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunContext {
    pub commit: String,
    pub dirty: bool,
    pub branch: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
}

pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<String, TrackError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| TrackError::Git {
            args: args.join(" "),
            message: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(TrackError::Git {
            args: args.join(" "),
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The commit checked out in `dir`, whether tracked files differ from it, and the branch.
pub fn git_context(dir: &Path) -> Result<RunContext, TrackError> {
    let commit = git(dir, &["rev-parse", "HEAD"])?;
    let dirty = !git(dir, &["status", "--porcelain", "--untracked-files=no"])?.is_empty();
    let branch = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"])?;
    Ok(RunContext {
        commit,
        dirty,
        branch,
        time: unix_seconds_now(),
    })
}

/// Seconds since the Unix epoch, as runs are stamped.
pub(crate) fn unix_seconds_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The top of the git checkout containing `dir`.
pub fn repo_root(dir: &Path) -> Result<std::path::PathBuf, TrackError> {
    git(dir, &["rev-parse", "--show-toplevel"]).map(std::path::PathBuf::from)
}

/// The full SHA git gives `reference` (branch, tag, `HEAD~1`, ...) in `dir`, or
/// `reference` unchanged when git does not know it (it may still prefix a recorded SHA).
pub fn rev_parse_or_keep(dir: &Path, reference: &str) -> String {
    commit_sha(dir, reference).unwrap_or_else(|_| reference.to_owned())
}

/// The full SHA of the commit `reference` names in `dir`, or git's error.
pub(crate) fn commit_sha(dir: &Path, reference: &str) -> Result<String, TrackError> {
    git(
        dir,
        &["rev-parse", "--verify", &format!("{reference}^{{commit}}")],
    )
}

/// The first `len` characters of a commit name (all of it if shorter): what
/// tables and charts show. Char-safe, since a tampered database may hold any text.
#[must_use]
pub fn short_sha(commit: &str, len: usize) -> &str {
    commit
        .char_indices()
        .nth(len)
        .map_or(commit, |(end, _)| &commit[..end])
}
