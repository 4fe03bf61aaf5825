//! Git helpers the `track` integration tests share (`mod common;` in each).

use std::path::Path;
use std::process::Command;

/// Runs `git -C dir ARGS`, failing the test unless it succeeds.
pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// An empty commit named `message`, by a fixed test author.
pub fn commit_empty(dir: &Path, message: &str) {
    git(
        dir,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
        ],
    );
}
