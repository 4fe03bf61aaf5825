//! Change points in a benchmark's history: where its level shifted, found by
//! E-Divisive means (Matteson and James, "A nonparametric approach for
//! multiple change point analysis of multivariate data", JASA 2014; the
//! method MongoDB runs on its CI, Daly et al., ICPE 2020).
//!
//! Why E-Divisive and not PELT: PELT needs a cost model and a penalty tuned
//! to the noise (a normal likelihood would call every heavy-tailed outlier a
//! change); E-Divisive's energy statistic makes no assumption on the
//! distribution, and its permutation test gives each change a confidence a
//! reader can weigh. Its O(n²) per split is nothing for histories of a few
//! hundred commits.
//!
//! [`history_changes`] finds the changes; [`table`] prints them and nothing else.

mod table;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rand_pcg::Pcg64;
use rand_pcg::rand_core::{Rng as _, SeedableRng as _};
use regex::Regex;
use serde::Serialize;

use crate::environment::git;
use crate::model::CommitSeries;
use crate::{History, Metric, TrackError};

pub use table::changes_table;

/// Settings of the search.
#[derive(Debug, Clone, Copy)]
pub struct ChangeOptions {
    /// Significance level of the permutation test.
    pub alpha: f64,
    /// Permutations per test.
    pub permutations: usize,
    /// Fewest points on each side of a change.
    pub min_segment: usize,
    pub seed: u64,
}

impl Default for ChangeOptions {
    fn default() -> Self {
        ChangeOptions {
            alpha: 0.05,
            permutations: 199,
            min_segment: 3,
            seed: 0x5eed,
        }
    }
}

/// One change: the level shifts between `values[index - 1]` and `values[index]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChangePoint {
    /// The first point of the new level.
    pub index: usize,
    /// Median after / median before, within the neighbouring segments.
    pub ratio: f64,
    /// Permutation p-value of the split.
    pub p: f64,
}

/// A change in one benchmark's recorded history.
#[derive(Debug, Clone, Serialize)]
pub struct BenchmarkChange {
    pub id: String,
    pub metric: Metric,
    /// The last commit at the old level and the first at the new one.
    pub before: String,
    pub after: String,
    /// New level / old level (medians of the neighbouring segments).
    pub ratio: f64,
    /// 1 - the permutation p-value.
    pub confidence: f64,
}

/// The change points of every benchmark (matching `filter`) across the
/// recorded commits in git history order, one value per commit: the median
/// of all its runs' values. Commits where a benchmark is missing are skipped
/// for that benchmark.
pub fn history_changes(
    history: &History,
    repo: Option<&Path>,
    filter: Option<&Regex>,
    options: &ChangeOptions,
) -> Result<Vec<BenchmarkChange>, TrackError> {
    let commits = commits_in_order(history, repo)?;
    let mut series: BTreeMap<&str, (Metric, Levels<'_>)> = BTreeMap::new();
    for commit in &commits {
        for (id, runs) in &commit.benchmarks {
            if filter.is_some_and(|f| !f.is_match(id)) {
                continue;
            }
            series
                .entry(id)
                .or_insert_with(|| (runs.metric, Vec::new()))
                .1
                .push((&commit.commit, crate::stats::median(&runs.pooled())));
        }
    }
    let mut changes = Vec::new();
    for (id, (metric, points)) in series {
        let values: Vec<f64> = points.iter().map(|p| p.1).collect();
        for change in change_points(&values, options) {
            changes.push(BenchmarkChange {
                id: id.to_owned(),
                metric,
                before: points[change.index - 1].0.to_owned(),
                after: points[change.index].0.to_owned(),
                ratio: change.ratio,
                confidence: 1.0 - change.p,
            });
        }
    }
    Ok(changes)
}

/// One benchmark's level (median) at each commit that has it, in history order.
type Levels<'a> = Vec<(&'a str, f64)>;

/// The change points of `values` (one per commit, in history order), in
/// index order: binary segmentation, each split the one maximizing the
/// energy statistic and kept when its permutation p-value is below `alpha`.
#[must_use]
pub fn change_points(values: &[f64], options: &ChangeOptions) -> Vec<ChangePoint> {
    let mut rng = Pcg64::seed_from_u64(options.seed);
    let mut found = Vec::new();
    let mut pending = vec![(0, values.len())];
    while let Some((start, end)) = pending.pop() {
        let segment = &values[start..end];
        let Some((split, statistic)) = best_split(segment, options.min_segment) else {
            continue;
        };
        let mut shuffled = segment.to_vec();
        let as_large = (0..options.permutations)
            .filter(|_| {
                shuffle(&mut shuffled, &mut rng);
                best_split(&shuffled, options.min_segment).is_some_and(|(_, s)| s >= statistic)
            })
            .count();
        let p = (as_large + 1) as f64 / (options.permutations + 1) as f64;
        if p < options.alpha {
            found.push((start + split, p));
            pending.push((start, start + split));
            pending.push((start + split, end));
        }
    }
    found.sort_by_key(|&(index, _)| index);
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(found.iter().map(|&(index, _)| index))
        .chain(std::iter::once(values.len()))
        .collect();
    found
        .iter()
        .enumerate()
        .map(|(k, &(index, p))| ChangePoint {
            index,
            ratio: crate::stats::median(&values[index..bounds[k + 2]])
                / crate::stats::median(&values[bounds[k]..index]),
            p,
        })
        .collect()
}

/// The split of `values` with the largest energy statistic
/// `Q = (m n / (m + n)) (2 E|X - Y| - E|X - X'| - E|Y - Y'|)`, and that statistic.
fn best_split(values: &[f64], min_segment: usize) -> Option<(usize, f64)> {
    let n = values.len();
    if n < 2 * min_segment.max(2) {
        return None;
    }
    (min_segment.max(2)..=n - min_segment.max(2))
        .map(|split| (split, energy(&values[..split], &values[split..])))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

fn energy(x: &[f64], y: &[f64]) -> f64 {
    let mean_distance = |a: &[f64], b: &[f64]| {
        a.iter()
            .map(|p| b.iter().map(|q| (p - q).abs()).sum::<f64>())
            .sum::<f64>()
            / (a.len() * b.len()) as f64
    };
    let within = |a: &[f64]| {
        let pairs = a.len() * (a.len() - 1) / 2;
        let mut sum = 0.0;
        for i in 0..a.len() {
            for j in i + 1..a.len() {
                sum += (a[i] - a[j]).abs();
            }
        }
        sum / pairs as f64
    };
    let (m, n) = (x.len() as f64, y.len() as f64);
    m * n / (m + n) * (2.0 * mean_distance(x, y) - within(x) - within(y))
}

/// Fisher-Yates with the seeded generator, so the same history gives the same changes.
fn shuffle(values: &mut [f64], rng: &mut Pcg64) {
    for i in (1..values.len()).rev() {
        // Modulo bias is below 1e-16 for lengths this small.
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        values.swap(i, j);
    }
}

/// Orders `commits` (SHAs in the order first recorded) as the git history of
/// `repo` does, oldest first; commits git does not know keep their recorded
/// order, after the known ones. Without a readable repository, recorded order.
pub(crate) fn in_git_order(commits: Vec<String>, repo: Option<&Path>) -> Vec<String> {
    let Some(listed) =
        repo.and_then(|repo| git(repo, &["rev-list", "--all", "--topo-order", "--reverse"]).ok())
    else {
        return commits;
    };
    let position: HashMap<&str, usize> = listed.lines().zip(0..).collect();
    let (mut known, unknown): (Vec<String>, Vec<String>) = commits
        .into_iter()
        .partition(|c| position.contains_key(c.as_str()));
    known.sort_by_key(|c| position[c.as_str()]);
    known.extend(unknown);
    known
}

/// Every recorded commit's series, in the order of the git history of `repo`
/// (else the order first recorded): what the dashboard and change points read.
pub(crate) fn commits_in_order(
    history: &History,
    repo: Option<&Path>,
) -> Result<Vec<CommitSeries>, TrackError> {
    let mut recorded: Vec<String> = Vec::new();
    for run in history.runs()? {
        if !recorded.contains(&run.commit) {
            recorded.push(run.commit);
        }
    }
    in_git_order(recorded, repo)
        .iter()
        .map(|commit| history.commit_series(commit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise: a spread of about `scale` around 1.
    fn noisy(n: usize, level: f64, scale: f64, seed: u64) -> Vec<f64> {
        let mut rng = Pcg64::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                level * (1.0 + scale * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5))
            })
            .collect()
    }

    #[test]
    fn a_level_shift_is_found_where_it_is() {
        let mut values = noisy(20, 100.0, 0.02, 1);
        values.extend(noisy(15, 110.0, 0.02, 2));
        let changes = change_points(&values, &ChangeOptions::default());
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].index, 20);
        assert!(
            (changes[0].ratio - 1.1).abs() < 0.01 && changes[0].p < 0.01,
            "{changes:?}"
        );
    }

    #[test]
    fn noise_alone_has_no_change_and_two_shifts_are_both_found() {
        assert!(change_points(&noisy(40, 100.0, 0.05, 3), &ChangeOptions::default()).is_empty());
        let mut values = noisy(12, 100.0, 0.02, 4);
        values.extend(noisy(12, 90.0, 0.02, 5));
        values.extend(noisy(12, 105.0, 0.02, 6));
        let indices: Vec<usize> = change_points(&values, &ChangeOptions::default())
            .iter()
            .map(|c| c.index)
            .collect();
        assert_eq!(indices, [12, 24]);
    }

    #[test]
    fn commits_follow_the_git_history_and_unknown_ones_come_last() {
        let repo = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| git(repo.path(), args).unwrap();
        run(&["init", "-q", "-b", "main"]);
        let mut shas = Vec::new();
        for message in ["one", "two", "three"] {
            run(&[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                message,
            ]);
            shas.push(run(&["rev-parse", "HEAD"]));
        }
        let recorded = vec![
            shas[2].clone(),
            shas[0].clone(),
            "feedface".to_owned(),
            shas[1].clone(),
        ];
        let expected = [&shas[0], &shas[1], &shas[2], "feedface"];
        assert_eq!(in_git_order(recorded.clone(), Some(repo.path())), expected);
        assert_eq!(in_git_order(recorded.clone(), None), recorded);
    }
}
