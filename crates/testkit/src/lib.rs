//! What the workspace's tests share: finding a tool that is not part of the
//! Rust toolchain (python3 for the pstats oracle, Chromium for rendered
//! pages, valgrind for instruction counts).
//!
//! On a developer's machine a test whose tool is missing is skipped with a
//! note; where the environment variable `CI` is set, the same test fails, so
//! CI cannot pass by skipping. This crate is a dev-dependency only; it has no
//! assertions of its own. Start from [`tool_or_skip`].

use std::io::Write as _;
use std::process::{Command, Stdio};

/// The first of `candidates` that runs (`NAME --version` exits 0), or `None`
/// after printing `SKIPPED <test>: ...` when none does and `CI` is unset.
///
/// The note goes straight to the process's stderr, past libtest's capture,
/// so `cargo test` shows it even though the test passes.
///
/// # Panics
/// When no candidate runs and `CI` is set (to anything but empty, `0` or
/// `false`): a CI machine must have every tool the tests use.
///
/// ```
/// // A test that needs Python's pstats as its oracle:
/// let Some(python) = proflab_testkit::tool_or_skip(
///     "pstats_oracle",
///     &["python3"],
///     "apt-get install python3",
/// ) else {
///     return;
/// };
/// # let _ = python;
/// ```
#[must_use]
#[track_caller]
pub fn tool_or_skip(test: &str, candidates: &[&str], install: &str) -> Option<String> {
    match find(candidates, ci_is_set(), runs) {
        Found::Tool(name) => Some(name),
        Found::Skip => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{}",
                skipped(test, candidates, install)
            );
            None
        }
        Found::FailInCi => panic!(
            "{test}: {} not found on PATH and CI is set: CI must have it ({install})",
            candidates.join(" or ")
        ),
    }
}

/// Whether `CI` asks for every tool to be present.
fn ci_is_set() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.as_str(), "" | "0" | "false"))
}

fn runs(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn skipped(test: &str, candidates: &[&str], install: &str) -> String {
    format!(
        "SKIPPED {test}: {} not found on PATH ({install}); with CI set this fails",
        candidates.join(" or ")
    )
}

#[derive(Debug, PartialEq, Eq)]
enum Found {
    Tool(String),
    Skip,
    FailInCi,
}

fn find(candidates: &[&str], ci: bool, runs: impl Fn(&str) -> bool) -> Found {
    match candidates.iter().find(|name| runs(name)) {
        Some(name) => Found::Tool((*name).to_owned()),
        None if ci => Found::FailInCi,
        None => Found::Skip,
    }
}

/// Headless Chromium as the page tests drive it: a page opened from a
/// `file://` address, its console on stderr, nothing fetched or synced,
/// a `width`×`height` window, and its profile in `profile` (a folder the
/// test owns, so runs never share state). Add `--dump-dom` or
/// `--screenshot=…` and the address.
#[must_use]
pub fn headless_chromium(chromium: &str, profile: &std::path::Path, window: (u32, u32)) -> Command {
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--window-size={},{}", window.0, window.1))
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdin(Stdio::null());
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_candidate_that_runs_is_chosen() {
        let found = find(&["chromium", "chromium-browser"], true, |name| {
            name == "chromium-browser"
        });
        assert_eq!(found, Found::Tool("chromium-browser".into()));
    }

    #[test]
    fn a_missing_tool_skips_locally_and_fails_under_ci() {
        assert_eq!(find(&["python3"], false, |_| false), Found::Skip);
        assert_eq!(find(&["python3"], true, |_| false), Found::FailInCi);
    }

    #[test]
    fn a_program_that_does_not_exist_does_not_run() {
        assert!(!runs("proflab-testkit-no-such-program"));
    }

    #[test]
    fn the_note_names_the_test_the_tool_and_how_to_install_it() {
        let note = skipped(
            "dashboard",
            &["chromium", "chromium-browser"],
            "apt-get install chromium",
        );
        assert_eq!(
            note,
            "SKIPPED dashboard: chromium or chromium-browser not found on PATH \
             (apt-get install chromium); with CI set this fails"
        );
    }
}
