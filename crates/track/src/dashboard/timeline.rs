//! The dashboard's analysis: what the page shows, computed from what the
//! store and git said, without reading either. One branch's first-parent
//! line per machine, each recorded commit a point (median with its 95%
//! interval), each step to the next recorded commit judged (paired when one
//! `track run` measured both, otherwise labelled unpaired), the change points
//! of every benchmark's line, and each batch with its paired verdicts.
//!
//! Commits off the line (a pull request's head, a sibling branch) are never
//! points and never the end of a step: they appear only in the batches that
//! measured them.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::Metric;
use crate::changes::{ChangeOptions, change_points};
use crate::compare::{
    CompareOptions, Comparison, ComparisonReport, Verdict, compare_paired, compare_runs,
    median_interval,
};
use crate::history::BatchSummary;
use crate::model::{CommitSeries, PairedSeries};

/// A commit on the branch's first-parent line, as git describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineCommit {
    pub sha: String,
    /// The committer date, `YYYY-MM-DD`.
    pub date: String,
    pub subject: String,
}

/// What the analysis reads: git's line and the store's records, already loaded.
pub struct TimelineInput<'a> {
    /// The branch as the user named it (or as it was found).
    pub branch: &'a str,
    /// The branch's first-parent commits, oldest first.
    pub line: &'a [LineCommit],
    /// What the store holds: one series per commit and machine. Series of
    /// commits that are not on `line` are left out.
    pub recorded: &'a [CommitSeries],
    /// Every batch with its paired rounds.
    pub batches: &'a [(BatchSummary, PairedSeries)],
}

/// Everything the page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub branch: String,
    /// The commits of the line that have records on some machine, oldest
    /// first; points and steps name commits by their index here.
    pub commits: Vec<LineCommit>,
    pub machines: Vec<MachineTimeline>,
    /// Every batch, newest first.
    pub batches: Vec<BatchView>,
    /// The verdicts' threshold (0.02 for 2%) and significance level.
    pub threshold: f64,
    pub alpha: f64,
    /// The significance level of the change points' permutation test.
    pub change_alpha: f64,
}

/// One machine's line: times from two CPUs are never one history.
#[derive(Debug, Clone, Serialize)]
pub struct MachineTimeline {
    pub machine: String,
    pub benchmarks: Vec<BenchmarkTimeline>,
}

/// One benchmark along the line on one machine.
#[derive(Debug, Clone, Serialize)]
pub struct BenchmarkTimeline {
    pub id: String,
    pub metric: Metric,
    /// One per recorded commit that has this benchmark, in line order.
    pub points: Vec<Point>,
    /// Between consecutive recorded commits that both have it.
    pub steps: Vec<Step>,
    pub shifts: Vec<LevelShift>,
}

/// A benchmark at one commit: the median of every run's values with the 95%
/// bootstrap interval of that median (of width zero for a count).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub commit: usize,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

/// The comparison of a benchmark at one commit against the previous
/// recorded commit on the line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Step {
    pub from: usize,
    pub to: usize,
    /// The batch whose paired rounds gave the verdict; `None` for an
    /// unpaired step, judged from independent runs (noisier, and open to
    /// whatever else changed between the two recordings).
    pub batch: Option<i64>,
    /// `to` / `from` with its 95% interval.
    pub ratio: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub verdict: Verdict,
}

/// A change point of one benchmark's line ([`change_points`]): the level
/// shifts somewhere after commit `before` and up to commit `after`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelShift {
    pub before: usize,
    pub after: usize,
    /// New level / old level.
    pub ratio: f64,
    /// 1 - the permutation p-value.
    pub confidence: f64,
}

/// One `track run`: a pull request's A/B as its own view.
#[derive(Debug, Clone, Serialize)]
pub struct BatchView {
    pub id: i64,
    pub time: i64,
    /// Its run ended; an interrupted batch is shown with what it measured.
    pub complete: bool,
    pub machines: Vec<String>,
    /// How the executables were laid out (`random`, or `fixed: why`), when
    /// the batch's settings say.
    pub layouts: Option<String>,
    /// A and B, the paired verdicts (regressions first, then improvements,
    /// inconclusive, unchanged), the added and removed benchmarks.
    pub report: ComparisonReport,
}

/// Computes the dashboard. Pure: the same input gives the same page.
#[must_use]
pub fn analyse(
    input: &TimelineInput<'_>,
    compare: &CompareOptions,
    changes: &ChangeOptions,
) -> Dashboard {
    let on_line: HashMap<&str, usize> = input
        .line
        .iter()
        .enumerate()
        .map(|(position, c)| (c.sha.as_str(), position))
        .collect();
    let mut positions: Vec<usize> = input
        .recorded
        .iter()
        .filter_map(|s| on_line.get(s.commit.as_str()).copied())
        .collect();
    positions.sort_unstable();
    positions.dedup();
    let commits: Vec<LineCommit> = positions.iter().map(|&p| input.line[p].clone()).collect();
    let index: HashMap<&str, usize> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.sha.as_str(), i))
        .collect();

    let mut by_machine: BTreeMap<&str, Vec<(usize, &CommitSeries)>> = BTreeMap::new();
    for series in input.recorded {
        let Some(&commit) = index.get(series.commit.as_str()) else {
            continue;
        };
        for machine in &series.machines {
            by_machine
                .entry(machine)
                .or_default()
                .push((commit, series));
        }
    }
    let machines = by_machine
        .into_iter()
        .map(|(machine, mut series)| {
            series.sort_by_key(|&(commit, _)| commit);
            machine_timeline(machine, &series, input.batches, compare, changes)
        })
        .collect();

    let mut batches: Vec<BatchView> = input
        .batches
        .iter()
        .map(|(summary, series)| batch_view(summary, series, compare))
        .collect();
    batches.reverse();
    Dashboard {
        branch: input.branch.to_owned(),
        commits,
        machines,
        batches,
        threshold: compare.threshold,
        alpha: compare.alpha,
        change_alpha: changes.alpha,
    }
}

/// One machine's benchmarks along the line; `series` holds its recorded
/// commits in line order, each commit once.
fn machine_timeline(
    machine: &str,
    series: &[(usize, &CommitSeries)],
    batches: &[(BatchSummary, PairedSeries)],
    compare: &CompareOptions,
    changes: &ChangeOptions,
) -> MachineTimeline {
    let selected = |id: &str| compare.filter.as_ref().is_none_or(|f| f.is_match(id));
    let mut benchmarks: BTreeMap<&str, BenchmarkTimeline> = BTreeMap::new();
    for &(commit, recorded) in series {
        for (id, runs) in recorded.benchmarks.iter().filter(|(id, _)| selected(id)) {
            let median = median_interval(&runs.pooled(), compare);
            let (estimate, low, high) = (median.point, median.interval.low, median.interval.high);
            benchmarks
                .entry(id)
                .or_insert_with(|| BenchmarkTimeline {
                    id: id.clone(),
                    metric: runs.metric,
                    points: Vec::new(),
                    steps: Vec::new(),
                    shifts: Vec::new(),
                })
                .points
                .push(Point {
                    commit,
                    estimate,
                    low,
                    high,
                });
        }
    }
    for pair in series.windows(2) {
        let [(from, before), (to, after)] = [pair[0], pair[1]];
        let (batch, report) = match paired_batch(batches, machine, &before.commit, &after.commit) {
            Some((batch, paired)) => (Some(batch), compare_paired(&paired, compare)),
            None => (None, compare_runs(before, after, compare)),
        };
        for comparison in report.benchmarks {
            if let Some(timeline) = benchmarks.get_mut(comparison.id.as_str()) {
                timeline.steps.push(step(from, to, batch, &comparison));
            }
        }
    }
    for timeline in benchmarks.values_mut() {
        let levels: Vec<f64> = timeline.points.iter().map(|p| p.estimate).collect();
        timeline.shifts = change_points(&levels, changes)
            .into_iter()
            .map(|change| LevelShift {
                before: timeline.points[change.index - 1].commit,
                after: timeline.points[change.index].commit,
                ratio: change.ratio,
                confidence: 1.0 - change.p,
            })
            .collect();
    }
    MachineTimeline {
        machine: machine.to_owned(),
        benchmarks: benchmarks.into_values().collect(),
    }
}

fn step(from: usize, to: usize, batch: Option<i64>, comparison: &Comparison) -> Step {
    Step {
        from,
        to,
        batch,
        ratio: comparison.ratio,
        ci_low: comparison.ci_low,
        ci_high: comparison.ci_high,
        verdict: comparison.verdict,
    }
}

/// The newest complete batch on `machine` that measured `before` against
/// `after` (either way round), turned so that `before` is A.
fn paired_batch(
    batches: &[(BatchSummary, PairedSeries)],
    machine: &str,
    before: &str,
    after: &str,
) -> Option<(i64, PairedSeries)> {
    batches
        .iter()
        .rev()
        .filter(|(summary, series)| summary.complete && series.machines.contains(machine))
        .find_map(|(summary, series)| {
            if (series.a.as_str(), series.b.as_str()) == (before, after) {
                Some((summary.id, series.clone()))
            } else if (series.a.as_str(), series.b.as_str()) == (after, before) {
                Some((summary.id, series.clone().swapped()))
            } else {
                None
            }
        })
}

fn batch_view(
    summary: &BatchSummary,
    series: &PairedSeries,
    compare: &CompareOptions,
) -> BatchView {
    let mut report = compare_paired(series, compare);
    report.benchmarks.sort_by(|x, y| {
        severity(x.verdict).cmp(&severity(y.verdict)).then_with(|| {
            // Within a verdict, the largest change first.
            (y.ratio.ln().abs()).total_cmp(&x.ratio.ln().abs())
        })
    });
    #[derive(serde::Deserialize)]
    struct Settings {
        layouts: Option<String>,
    }
    BatchView {
        id: summary.id,
        time: summary.time,
        complete: summary.complete,
        machines: series.machines.iter().cloned().collect(),
        layouts: serde_json::from_str::<Settings>(&summary.settings)
            .ok()
            .and_then(|settings| settings.layouts),
        report,
    }
}

/// Where a verdict goes in a batch's table: what needs a look first.
fn severity(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Regressed => 0,
        Verdict::Improved => 1,
        Verdict::Inconclusive => 2,
        Verdict::Unchanged => 3,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::model::{PairedBenchmark, PairedRound, RunSeries};

    const XEON: &str = "xeon";
    const EPYC: &str = "epyc";

    fn commit(sha: &str) -> LineCommit {
        LineCommit {
            sha: sha.to_owned(),
            date: "2026-12-07".to_owned(),
            subject: format!("subject of {sha}"),
        }
    }

    /// Five runs of 20 samples around `level` nanoseconds, a little noisy.
    fn runs(level: f64) -> RunSeries {
        RunSeries {
            metric: Metric::TimeNs,
            runs: (0..5)
                .map(|run| {
                    (0..20)
                        .map(|i| level * (1.0 + 0.001 * f64::from((i * 7 + run * 3) % 11)))
                        .collect()
                })
                .collect(),
        }
    }

    fn series(sha: &str, machine: &str, benches: &[(&str, f64)]) -> CommitSeries {
        CommitSeries {
            commit: sha.to_owned(),
            machines: BTreeSet::from([machine.to_owned()]),
            benchmarks: benches
                .iter()
                .map(|&(id, level)| (id.to_owned(), runs(level)))
                .collect(),
        }
    }

    /// A complete batch of `a` against `b` on `machine`: `rounds` paired
    /// rounds of each benchmark, B `ratio` times A's level.
    fn batch(
        id: i64,
        a: &str,
        b: &str,
        machine: &str,
        benches: &[(&str, f64, f64)],
    ) -> (BatchSummary, PairedSeries) {
        let summary = BatchSummary {
            id,
            a: a.to_owned(),
            b: b.to_owned(),
            time: 1_796_000_000 + id,
            complete: true,
            settings: r#"{"layouts":"random","identical_code":[]}"#.to_owned(),
        };
        let benchmarks = benches
            .iter()
            .map(|&(bench, level, ratio)| {
                let rounds = (0..8)
                    .map(|round| {
                        let noise = 1.0 + 0.002 * f64::from(round % 3);
                        PairedRound {
                            round: i64::from(round) + 1,
                            a: runs(level * noise).runs[0].clone(),
                            b: runs(level * ratio * noise).runs[0].clone(),
                        }
                    })
                    .collect();
                (
                    bench.to_owned(),
                    PairedBenchmark {
                        metric: Metric::TimeNs,
                        rounds,
                    },
                )
            })
            .collect();
        let series = PairedSeries {
            batch: id,
            a: a.to_owned(),
            b: b.to_owned(),
            machines: BTreeSet::from([machine.to_owned()]),
            benchmarks,
            only_a: vec!["g/gone".to_owned()],
            only_b: vec!["g/new".to_owned()],
            identical_code: Vec::new(),
        };
        (summary, series)
    }

    fn run_analysis(
        line: &[LineCommit],
        recorded: &[CommitSeries],
        batches: &[(BatchSummary, PairedSeries)],
    ) -> Dashboard {
        let options = CompareOptions {
            resamples: 200,
            ..CompareOptions::default()
        };
        analyse(
            &TimelineInput {
                branch: "main",
                line,
                recorded,
                batches,
            },
            &options,
            &ChangeOptions::default(),
        )
    }

    fn bench<'a>(dashboard: &'a Dashboard, machine: &str, id: &str) -> &'a BenchmarkTimeline {
        dashboard
            .machines
            .iter()
            .find(|m| m.machine == machine)
            .and_then(|m| m.benchmarks.iter().find(|b| b.id == id))
            .unwrap_or_else(|| panic!("{id} on {machine}"))
    }

    #[test]
    fn commits_off_the_line_are_never_points_nor_compared() {
        // main: c1 -> c2 -> c3; `side` branched from c1 and is 50% slower.
        let line = [commit("c1"), commit("c2"), commit("c3")];
        let recorded = [
            series("c1", XEON, &[("g/f", 100.0)]),
            series("side", XEON, &[("g/f", 150.0)]),
            series("c2", XEON, &[("g/f", 100.0)]),
            series("c3", XEON, &[("g/f", 100.0)]),
        ];
        let dashboard = run_analysis(&line, &recorded, &[]);
        let shas: Vec<&str> = dashboard.commits.iter().map(|c| c.sha.as_str()).collect();
        assert_eq!(shas, ["c1", "c2", "c3"]);
        let timeline = bench(&dashboard, XEON, "g/f");
        let points: Vec<usize> = timeline.points.iter().map(|p| p.commit).collect();
        assert_eq!(points, [0, 1, 2]);
        let steps: Vec<(usize, usize)> = timeline.steps.iter().map(|s| (s.from, s.to)).collect();
        assert_eq!(steps, [(0, 1), (1, 2)], "only neighbours on the line");
        for step in &timeline.steps {
            assert!(
                (step.ratio - 1.0).abs() < 0.01,
                "the side's 1.5 never shows: {step:?}"
            );
            assert_eq!(step.batch, None, "no batch measured them: unpaired");
        }
    }

    #[test]
    fn a_step_a_batch_measured_is_paired_either_way_round() {
        let line = [commit("c1"), commit("c2"), commit("c3")];
        let recorded = [
            series("c1", XEON, &[("g/f", 100.0)]),
            series("c2", XEON, &[("g/f", 110.0)]),
            series("c3", XEON, &[("g/f", 110.0)]),
        ];
        // Measured as c2 against c1: B (c1) is 1/1.1 of A (c2).
        let batches = [batch(7, "c2", "c1", XEON, &[("g/f", 110.0, 1.0 / 1.1)])];
        let dashboard = run_analysis(&line, &recorded, &batches);
        let timeline = bench(&dashboard, XEON, "g/f");
        let first = timeline.steps[0];
        assert_eq!(first.batch, Some(7));
        assert!(
            (first.ratio - 1.1).abs() < 0.005,
            "turned so c1 is A: {first:?}"
        );
        assert_eq!(first.verdict, Verdict::Regressed);
        assert_eq!(timeline.steps[1].batch, None);
    }

    #[test]
    fn each_machine_has_its_own_line() {
        let line = [commit("c1"), commit("c2")];
        let recorded = [
            series("c1", XEON, &[("g/f", 100.0)]),
            series("c1", EPYC, &[("g/f", 50.0)]),
            series("c2", XEON, &[("g/f", 100.0)]),
            series("c2", EPYC, &[("g/f", 50.0)]),
        ];
        // A batch of c1 and c2 on the other machine pairs nothing on this one.
        let batches = [batch(3, "c1", "c2", EPYC, &[("g/f", 50.0, 1.0)])];
        let dashboard = run_analysis(&line, &recorded, &batches);
        let names: Vec<&str> = dashboard
            .machines
            .iter()
            .map(|m| m.machine.as_str())
            .collect();
        assert_eq!(names, [EPYC, XEON]);
        let epyc = bench(&dashboard, EPYC, "g/f");
        let xeon = bench(&dashboard, XEON, "g/f");
        assert!((epyc.points[0].estimate - 50.0).abs() < 1.0, "{epyc:?}");
        assert!((xeon.points[0].estimate - 100.0).abs() < 2.0, "{xeon:?}");
        assert_eq!(epyc.steps[0].batch, Some(3));
        assert_eq!(xeon.steps[0].batch, None);
        assert!(
            (xeon.steps[0].ratio - 1.0).abs() < 0.01,
            "never across machines"
        );
    }

    #[test]
    fn a_level_shift_is_marked_with_its_commits() {
        let line: Vec<LineCommit> = (0..12).map(|i| commit(&format!("c{i}"))).collect();
        let recorded: Vec<CommitSeries> = (0..12)
            .map(|i| {
                let level = if i >= 7 { 120.0 } else { 100.0 };
                series(
                    &format!("c{i}"),
                    XEON,
                    &[("g/moves", level), ("g/still", 80.0)],
                )
            })
            .collect();
        let dashboard = run_analysis(&line, &recorded, &[]);
        let moved = bench(&dashboard, XEON, "g/moves");
        assert_eq!(moved.shifts.len(), 1, "{:?}", moved.shifts);
        let shift = moved.shifts[0];
        assert_eq!((shift.before, shift.after), (6, 7));
        assert!(
            (shift.ratio - 1.2).abs() < 0.01 && shift.confidence > 0.95,
            "{shift:?}"
        );
        assert!(bench(&dashboard, XEON, "g/still").shifts.is_empty());
    }

    #[test]
    fn a_batch_lists_regressions_first_and_what_one_side_lacks() {
        let batches = [batch(
            1,
            "a",
            "b",
            XEON,
            &[
                ("g/same", 100.0, 1.0),
                ("g/faster", 100.0, 0.8),
                ("g/slower", 100.0, 1.1),
                ("g/much-slower", 100.0, 1.3),
            ],
        )];
        let dashboard = run_analysis(&[], &[], &batches);
        assert!(dashboard.commits.is_empty() && dashboard.machines.is_empty());
        let view = &dashboard.batches[0];
        let order: Vec<(&str, Verdict)> = view
            .report
            .benchmarks
            .iter()
            .map(|c| (c.id.as_str(), c.verdict))
            .collect();
        assert_eq!(
            order,
            [
                ("g/much-slower", Verdict::Regressed),
                ("g/slower", Verdict::Regressed),
                ("g/faster", Verdict::Improved),
                ("g/same", Verdict::Unchanged),
            ]
        );
        assert_eq!(view.report.added, ["g/new"]);
        assert_eq!(view.report.removed, ["g/gone"]);
        assert_eq!(view.layouts.as_deref(), Some("random"));
        assert_eq!(view.machines, [XEON]);
        assert_eq!(view.report.benchmarks[0].rounds, 8);
    }

    #[test]
    fn batches_are_listed_newest_first() {
        let batches = [
            batch(1, "a", "b", XEON, &[("g/f", 100.0, 1.0)]),
            batch(2, "a", "c", XEON, &[("g/f", 100.0, 1.0)]),
        ];
        let dashboard = run_analysis(&[], &[], &batches);
        let ids: Vec<i64> = dashboard.batches.iter().map(|b| b.id).collect();
        assert_eq!(ids, [2, 1]);
    }
}
