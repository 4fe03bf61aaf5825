//! `track bisect GOOD BAD`: the first commit between them where the chosen
//! benchmarks regressed, by git's bisection with a paired `track run` at each
//! step. Each step measures the candidate against GOOD itself (not against
//! the last good step), so a regression that builds up over several commits
//! is still caught where it crosses the threshold. After BAD, only the
//! benchmarks that regressed at BAD are measured and judged: a bisection
//! hunts that regression, and a false alarm on another benchmark at one step
//! (seen in CI under load, at three rounds) would misdirect it. The
//! worktrees are kept for the whole bisection: GOOD's side never changes and
//! the candidate's moves by `git checkout`, so each step rebuilds only what
//! changed.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::environment::{commit_sha, git, short_sha};
use crate::run::Worktrees;
use crate::{CompareOptions, History, PairedOptions, TrackError, Verdict, compare, run_paired};

/// One measured commit of a bisection.
#[derive(Debug, Clone, Serialize)]
pub struct BisectStep {
    pub commit: String,
    pub batch: i64,
    /// The benchmarks that regressed against GOOD; empty for a good commit.
    pub regressed: Vec<String>,
}

/// What a bisection found.
#[derive(Debug, Clone, Serialize)]
pub struct BisectOutcome {
    pub good: String,
    pub bad: String,
    /// The first commit whose benchmarks regressed against GOOD.
    pub first_bad: String,
    /// Every measured commit, in the order measured.
    pub steps: Vec<BisectStep>,
}

/// `track bisect`'s text: each measured commit with its batch and what
/// regressed there, then the first regressed commit.
#[must_use]
pub fn bisect_table(outcome: &BisectOutcome) -> String {
    let mut text = String::new();
    for step in &outcome.steps {
        let _ = writeln!(
            text,
            "{}  batch {:>3}  {}",
            short_sha(&step.commit, 12),
            step.batch,
            if step.regressed.is_empty() {
                "good".to_owned()
            } else {
                format!("regressed: {}", step.regressed.join(", "))
            }
        );
    }
    let _ = writeln!(text, "first regressed commit: {}", outcome.first_bad);
    text
}

/// Finds the first commit on the ancestry path from `good` to `bad` whose
/// benchmarks (those `compare.filter` selects) regressed against `good`.
/// `bad` is measured first, and the bisection refused when it shows no
/// regression. `progress` is told each step's commit.
pub fn bisect(
    repo: &Path,
    good: &str,
    bad: &str,
    options: &PairedOptions,
    compare_options: &CompareOptions,
    history: &mut History,
    progress: &mut dyn FnMut(&str),
) -> Result<BisectOutcome, TrackError> {
    let (good, bad) = (commit_sha(repo, good)?, commit_sha(repo, bad)?);
    if good == bad {
        return Err(TrackError::SameCommit { commit: good });
    }
    let path = git(
        repo,
        &[
            "rev-list",
            "--ancestry-path",
            "--reverse",
            &format!("{good}..{bad}"),
        ],
    )?;
    let candidates: Vec<String> = path.lines().map(str::to_owned).collect();
    if candidates.last() != Some(&bad) {
        return Err(TrackError::NotAnAncestor { good, bad });
    }
    let kept = tempfile::Builder::new()
        .prefix("proflab-bisect-")
        .tempdir()
        .map_err(|source| TrackError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    let kept_worktrees = kept.path().join("worktrees");
    let step_options = PairedOptions {
        worktree_dir: Some(kept_worktrees.clone()),
        target_dir: Some(
            options
                .target_dir
                .clone()
                .unwrap_or_else(|| kept.path().join("target")),
        ),
        ..options.clone()
    };
    // `run_paired` keeps the two worktrees there between steps; this guard
    // removes them when the bisection ends, however it ends.
    let worktrees = Worktrees {
        repo: repo.to_owned(),
        paths: ["a", "b"].map(|side| kept_worktrees.join(side)).to_vec(),
        _dir: kept,
    };
    let mut steps = Vec::new();
    let mut measure = |commit: &str,
                       step_options: &PairedOptions,
                       steps: &mut Vec<BisectStep>|
     -> Result<bool, TrackError> {
        progress(commit);
        let run = run_paired(
            repo,
            &good,
            commit,
            step_options,
            compare_options,
            history,
            &mut |_| {},
        )?;
        let report = compare(
            history,
            &good,
            commit,
            &CompareOptions {
                batch: Some(run.batch),
                ..compare_options.clone()
            },
        )?;
        let regressed: Vec<String> = report
            .benchmarks
            .into_iter()
            .filter(|c| c.verdict == Verdict::Regressed)
            .map(|c| c.id)
            .collect();
        let is_bad = !regressed.is_empty();
        steps.push(BisectStep {
            commit: commit.to_owned(),
            batch: run.batch,
            regressed,
        });
        Ok(is_bad)
    };
    if !measure(&bad, &step_options, &mut steps)? {
        return Err(TrackError::NoRegression { good, bad });
    }
    // Each later batch holds only these, so its comparison judges only them.
    let step_options = PairedOptions {
        filter: Some(exactly(&steps[0].regressed)),
        ..step_options
    };
    // Invariant: everything before `low` is good (GOOD itself at -1), `high` is bad.
    let (mut low, mut high) = (0, candidates.len() - 1);
    while low < high {
        let middle = (low + high) / 2;
        if measure(&candidates[middle], &step_options, &mut steps)? {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    drop(worktrees);
    Ok(BisectOutcome {
        first_bad: candidates[high].clone(),
        good,
        bad,
        steps,
    })
}

/// A regex (Criterion's filter syntax as ours) matching exactly these ids.
fn exactly(ids: &[String]) -> String {
    let alternatives: Vec<String> = ids.iter().map(|id| regex::escape(id)).collect();
    format!("^({})$", alternatives.join("|"))
}
