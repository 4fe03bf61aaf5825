//! Commit-to-commit comparison: per benchmark a ratio B/A with a 95% interval
//! and the p-value of a change beyond the threshold, corrected by
//! Benjamini-Hochberg across all benchmarks compared, and a verdict that
//! needs both to agree.
//!
//! Two designs, two methods. A batch (one `track run`) pairs each round's A
//! and B runs of a benchmark, measured back to back: the verdict is a
//! Student-t interval over the per-round log ratios of fastest samples, after
//! setting aside rounds that one bad benchmark process spoiled
//! ([`spoiled_rounds`]) and with each benchmark's variance moderated by the
//! spread all of them show (empirical Bayes), unless its own is far larger
//! ([`moderation_priors`]). Runs outside a batch (`track
//! record`) have no partner: with three or more runs a side, Welch's t over
//! their log fastest samples; with fewer, a bootstrap of the ratio of medians
//! and a Mann-Whitney test over the samples. Instruction counts are exact
//! ratios either way.
//!
//! Everything here is a pure function of the typed series in
//! [`crate::model`]; [`compare()`] only loads them.

use std::collections::BTreeSet;
use std::io::Write;

use regex::Regex;
use serde::Serialize;

use crate::criterion::{MAX_ID_BYTES, printable};
use crate::environment::short_sha;
use crate::model::{CommitSeries, PairedSeries};
use crate::stats::{
    benjamini_hochberg, beyond_threshold_p, bootstrap_ratio_of_medians, chance_to_flag,
    equivalence_interval, fastest, mann_whitney_p, median, moderation_priors, sample_variance,
    spoiled_rounds, t_interval, t_interval_df, welch_log_interval,
};
use crate::{History, Metric, TrackError};

/// What `compare` concluded about one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Improved,
    Regressed,
    /// No change found, and none beyond the threshold either way hidden by
    /// the interval on at least one side.
    Unchanged,
    /// No change found, but the interval reaches past the threshold on both
    /// sides: it rules nothing out.
    Inconclusive,
}

impl Verdict {
    /// Regressed or improved: a change was called.
    #[must_use]
    pub fn is_change(self) -> bool {
        matches!(self, Verdict::Regressed | Verdict::Improved)
    }
}

/// Settings of a comparison.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Smallest relative change that counts, e.g. 0.02 for 2%.
    pub threshold: f64,
    /// Significance level for the corrected p-value.
    pub alpha: f64,
    pub allow_different_machines: bool,
    pub filter: Option<Regex>,
    pub resamples: usize,
    pub seed: u64,
    /// The batch to compare; the newest one holding both commits when `None`.
    pub batch: Option<i64>,
    /// Ignore batches: judge every run of each commit as independent.
    pub unpaired: bool,
    /// Set aside rounds far from their benchmark's others (on by default;
    /// off only to measure what it buys).
    pub set_aside_outliers: bool,
    /// Moderate each benchmark's variance by the others' (on by default).
    pub moderate: bool,
    /// Settle "unchanged" by the two one-sided tests (on by default; off
    /// requires the whole 95% interval inside the threshold).
    pub equivalence_by_tost: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            threshold: 0.02,
            alpha: 0.05,
            allow_different_machines: false,
            filter: None,
            resamples: 2000,
            seed: 0x5eed,
            batch: None,
            unpaired: false,
            set_aside_outliers: true,
            moderate: true,
            equivalence_by_tost: true,
        }
    }
}

impl CompareOptions {
    fn selects(&self, id: &str) -> bool {
        self.filter.as_ref().is_none_or(|f| f.is_match(id))
    }

    /// Whether an interval lies wholly between `1 / (1 + threshold)` and `1 + threshold`.
    fn within(&self, ci_low: f64, ci_high: f64) -> bool {
        ci_low > 1.0 / (1.0 + self.threshold) && ci_high < 1.0 + self.threshold
    }

    /// Whether more rounds could change nothing about `comparison`: it is
    /// "unchanged" and shown equivalent within the threshold
    /// ([`CompareOptions::equivalent`]), or a change (interval and corrected
    /// p-value agreeing) that rests on at least `rounds_to_flag` rounds. A
    /// change seen in few rounds is measured on: three rounds of a benchmark
    /// that switches between two levels from process to process agree by
    /// chance one time in thirty or so.
    #[must_use]
    pub fn settles(&self, comparison: &Comparison, rounds_to_flag: usize) -> bool {
        match comparison.verdict {
            Verdict::Unchanged | Verdict::Inconclusive => self.equivalent(comparison),
            Verdict::Regressed | Verdict::Improved => comparison.rounds >= rounds_to_flag,
        }
    }

    /// Whether `comparison` shows B within the threshold of A: by the two
    /// one-sided tests at 5% each (the 90% interval inside the band) for a
    /// t interval, the usual test of equivalence; a change of the threshold
    /// either way is then rejected at the same 5% that flags a change. By
    /// the whole 95% interval otherwise, or when `equivalence_by_tost` is off.
    #[must_use]
    pub fn equivalent(&self, comparison: &Comparison) -> bool {
        let interval = (comparison.ci_low, comparison.ci_high);
        let (low, high) = match comparison.df {
            Some(df) if self.equivalence_by_tost => equivalence_interval(interval, df),
            _ => interval,
        };
        self.within(low, high)
    }

    /// Whether `comparison` could still be flagged as a change within
    /// `more_rounds` rounds: the chance of it, predicted from its rounds so
    /// far ([`chance_to_flag`]), is at least `WORTH_MEASURING`. Rounds are
    /// spent where they could find a change, not on proving "unchanged"
    /// within the threshold: a benchmark without a change in reach ends
    /// "unchanged" either way, and its interval says how much change its
    /// noise could hide.
    #[must_use]
    pub fn could_flag(&self, comparison: &Comparison, more_rounds: usize) -> bool {
        match comparison.df {
            _ if more_rounds == 0 => false,
            Some(df) => {
                chance_to_flag(
                    (comparison.ci_low, comparison.ci_high),
                    comparison.rounds,
                    df,
                    more_rounds,
                    self.threshold,
                ) >= WORTH_MEASURING
            }
            // Not yet a t interval: too few rounds to predict from.
            None => true,
        }
    }
}

/// The least chance of a flag within the rounds left that keeps a
/// benchmark measured: one in ten, the usual bar of stochastic curtailment
/// for stopping a trial for futility.
const WORTH_MEASURING: f64 = 0.1;

/// One benchmark's comparison of commit B against commit A.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub id: String,
    pub metric: Metric,
    /// Nanoseconds per iteration, or instructions.
    pub a_median: f64,
    pub b_median: f64,
    /// The estimate of B/A: above 1 means B is slower.
    pub ratio: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// p-value of "no change at all" (two-sided).
    pub p: f64,
    /// p-value of "no change beyond the threshold", one-sided in the
    /// direction of the estimate ([`beyond_threshold_p`]).
    pub p_beyond_threshold: f64,
    /// `p_beyond_threshold` after Benjamini-Hochberg over the timed
    /// benchmarks compared: a change is flagged only with `q` below alpha.
    pub q: f64,
    pub verdict: Verdict,
    /// Rounds (paired) or runs a side (unpaired) the estimate rests on.
    pub rounds: usize,
    /// Paired rounds set aside as spoiled by one bad process.
    pub set_aside: usize,
    /// Degrees of freedom of the paired t interval (moderated ones count
    /// the other benchmarks' evidence); `None` for other estimates.
    pub df: Option<f64>,
    /// "Unchanged" and shown so: B within the threshold of A
    /// ([`CompareOptions::equivalent`]). An unchanged benchmark without it
    /// had no change found, and its interval bounds what its noise could hide.
    pub shown_within_threshold: bool,
}

/// A whole comparison: each benchmark both sides have, and those only one has.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonReport {
    pub a: String,
    pub b: String,
    /// The batch whose paired rounds were compared; `None` for independent runs.
    pub batch: Option<i64>,
    pub benchmarks: Vec<Comparison>,
    /// Benchmarks B has and A has not.
    pub added: Vec<String>,
    /// Benchmarks A has and B has not.
    pub removed: Vec<String>,
    /// Benchmarks not measured: their executable's code was the same on
    /// both sides (`track run`).
    pub identical_code: Vec<String>,
    /// Batches of the same two commits, newer than the one judged, that an
    /// interrupt cut short: left out unless named with `--batch`.
    pub skipped_incomplete: Vec<i64>,
}

impl ComparisonReport {
    #[must_use]
    pub fn regressed(&self) -> bool {
        self.benchmarks
            .iter()
            .any(|c| c.verdict == Verdict::Regressed)
    }
}

/// Compares commit `b` against commit `a` (SHAs or unique prefixes of
/// recorded ones): the paired rounds of `options.batch`, or of the newest
/// batch that measured both, else every run of each as independent runs.
pub fn compare(
    history: &History,
    a: &str,
    b: &str,
    options: &CompareOptions,
) -> Result<ComparisonReport, TrackError> {
    if let Some(series) = named_batch(history, a, b, options)? {
        check_machines(&series.machines, options)?;
        return Ok(compare_paired(&series, options));
    }
    let (a, b) = (history.resolve(a)?, history.resolve(b)?);
    let batch = match (options.batch, options.unpaired) {
        (_, true) => None,
        (Some(batch), false) => Some(batch),
        (None, false) => history.latest_batch(&a, &b)?,
    };
    // Interrupted batches newer than the one judged: left out, and said so.
    let skipped_incomplete: Vec<i64> = if options.batch.is_none() && !options.unpaired {
        history
            .batches_of(&a, &b)?
            .into_iter()
            .filter(|(id, complete)| !complete && batch.is_none_or(|batch| *id > batch))
            .map(|(id, _)| id)
            .collect()
    } else {
        Vec::new()
    };
    let with_skipped = |report: ComparisonReport| ComparisonReport {
        skipped_incomplete: skipped_incomplete.clone(),
        ..report
    };
    if let Some(batch) = batch {
        let series = history.paired_series(batch)?;
        let series = if (series.a.as_str(), series.b.as_str()) == (a.as_str(), b.as_str()) {
            series
        } else if (series.b.as_str(), series.a.as_str()) == (a.as_str(), b.as_str()) {
            series.swapped()
        } else {
            return Err(TrackError::BatchMismatch {
                batch,
                a: series.a,
                b: series.b,
            });
        };
        check_machines(&series.machines, options)?;
        return Ok(with_skipped(compare_paired(&series, options)));
    }
    let (a, b) = (history.commit_series(&a)?, history.commit_series(&b)?);
    check_machines(&a.machines.union(&b.machines).cloned().collect(), options)?;
    Ok(with_skipped(compare_runs(&a, &b, options)))
}

/// The batch of `options.batch` seen from `a`, when `a` and `b` begin its
/// two commits' SHAs: a batch named by its id speaks for its own commits,
/// even one whose every benchmark was left out as identical code (it has no
/// run to resolve a reference by).
fn named_batch(
    history: &History,
    a: &str,
    b: &str,
    options: &CompareOptions,
) -> Result<Option<PairedSeries>, TrackError> {
    let (Some(batch), false) = (options.batch, options.unpaired) else {
        return Ok(None);
    };
    let (batch_a, batch_b) = history.batch_commits(batch)?;
    let begins = |reference: &str, sha: &str| !reference.is_empty() && sha.starts_with(reference);
    if begins(a, &batch_a) && begins(b, &batch_b) {
        Ok(Some(history.paired_series(batch)?))
    } else if begins(a, &batch_b) && begins(b, &batch_a) {
        Ok(Some(history.paired_series(batch)?.swapped()))
    } else {
        Ok(None)
    }
}

/// Refuses runs from more than one machine unless the options allow it.
pub(crate) fn check_machines(
    machines: &BTreeSet<String>,
    options: &CompareOptions,
) -> Result<(), TrackError> {
    let mut all = machines.iter();
    match (all.next(), all.next()) {
        (Some(first), Some(other)) if !options.allow_different_machines => {
            Err(TrackError::DifferentMachines {
                a: first.clone(),
                b: other.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// The estimate of one benchmark before the verdict.
struct Estimate {
    ratio: f64,
    ci_low: f64,
    ci_high: f64,
    p: f64,
    rounds: usize,
    set_aside: usize,
    df: Option<f64>,
}

/// Judges a batch's paired rounds.
#[must_use]
pub fn compare_paired(series: &PairedSeries, options: &CompareOptions) -> ComparisonReport {
    let selected: Vec<(&String, &crate::model::PairedBenchmark)> = series
        .benchmarks
        .iter()
        .filter(|(id, _)| options.selects(id))
        .collect();
    // Timed benchmarks with the logs of each round's fastest samples, A and B.
    let sides: Vec<Vec<(f64, f64)>> = selected
        .iter()
        .map(|(_, bench)| match bench.metric {
            Metric::TimeNs => bench
                .rounds
                .iter()
                .map(|r| (fastest(&r.a).ln(), fastest(&r.b).ln()))
                .collect(),
            Metric::Instructions => Vec::new(),
        })
        .collect();
    let logs: Vec<Vec<f64>> = sides
        .iter()
        .map(|rounds| rounds.iter().map(|(a, b)| b - a).collect())
        .collect();
    let outlying = if options.set_aside_outliers {
        spoiled_rounds(&sides)
    } else {
        logs.iter().map(|l| vec![false; l.len()]).collect()
    };
    let kept: Vec<Vec<f64>> = logs
        .iter()
        .zip(&outlying)
        .map(|(logs, bad)| {
            logs.iter()
                .zip(bad)
                .filter(|(_, bad)| !**bad)
                .map(|(log, _)| *log)
                .collect()
        })
        .collect();
    // The timed benchmarks compared together share the machine's round-to-round
    // noise, all but the hypervariable ones.
    let priors = if options.moderate {
        moderation_priors(
            &kept
                .iter()
                .map(|logs| match logs.len() {
                    0 | 1 => (f64::NAN, 0.0),
                    n => (sample_variance(logs), n as f64 - 1.0),
                })
                .collect::<Vec<_>>(),
        )
    } else {
        vec![None; kept.len()]
    };
    let rows = selected
        .iter()
        .zip(kept.iter().zip(priors))
        .map(|((id, bench), (kept, prior))| {
            let a: Vec<f64> = bench.rounds.iter().flat_map(|r| r.a.clone()).collect();
            let b: Vec<f64> = bench.rounds.iter().flat_map(|r| r.b.clone()).collect();
            let rounds = bench.rounds.len();
            let estimate = match bench.metric {
                Metric::Instructions => exact_ratio(&a, &b),
                // Enough rounds to judge by their spread (two suffice when
                // the other benchmarks lend theirs).
                Metric::TimeNs if kept.len() >= 3 || (kept.len() == 2 && prior.is_some()) => {
                    let (ratio, ci_low, ci_high, p) = t_interval(kept, prior);
                    Estimate {
                        ratio,
                        ci_low,
                        ci_high,
                        p,
                        rounds: kept.len(),
                        set_aside: rounds - kept.len(),
                        df: Some(t_interval_df(kept.len(), prior)),
                    }
                }
                Metric::TimeNs => samples_estimate(&a, &b, rounds, options),
            };
            (
                (*id).clone(),
                bench.metric,
                median(&a),
                median(&b),
                estimate,
            )
        })
        .collect();
    let benchmarks = judge(rows, options);
    let pick = |ids: &[String]| {
        ids.iter()
            .filter(|id| options.selects(id))
            .cloned()
            .collect()
    };
    ComparisonReport {
        a: series.a.clone(),
        b: series.b.clone(),
        batch: Some(series.batch),
        benchmarks,
        added: pick(&series.only_b),
        removed: pick(&series.only_a),
        identical_code: pick(&series.identical_code),
        skipped_incomplete: Vec::new(),
    }
}

/// Judges independent runs of two commits.
#[must_use]
pub fn compare_runs(
    a: &CommitSeries,
    b: &CommitSeries,
    options: &CompareOptions,
) -> ComparisonReport {
    let rows = a
        .benchmarks
        .iter()
        .filter(|(id, _)| options.selects(id))
        .filter_map(|(id, a)| b.benchmarks.get(id).map(|b| (id, a, b)))
        .map(|(id, a_runs, b_runs)| {
            let (a, b) = (a_runs.pooled(), b_runs.pooled());
            let runs = a_runs.runs.len().min(b_runs.runs.len());
            let estimate = match a_runs.metric {
                Metric::Instructions => exact_ratio(&a, &b),
                Metric::TimeNs if runs >= 3 => {
                    let log_fastest = |runs: &[Vec<f64>]| -> Vec<f64> {
                        runs.iter().map(|r| fastest(r).ln()).collect()
                    };
                    let (ratio, ci_low, ci_high, p) =
                        welch_log_interval(&log_fastest(&a_runs.runs), &log_fastest(&b_runs.runs));
                    Estimate {
                        ratio,
                        ci_low,
                        ci_high,
                        p,
                        rounds: runs,
                        set_aside: 0,
                        df: None,
                    }
                }
                Metric::TimeNs => samples_estimate(&a, &b, runs, options),
            };
            (id.clone(), a_runs.metric, median(&a), median(&b), estimate)
        })
        .collect();
    let only = |x: &CommitSeries, y: &CommitSeries| {
        x.benchmarks
            .keys()
            .filter(|id| !y.benchmarks.contains_key(*id) && options.selects(id))
            .cloned()
            .collect()
    };
    ComparisonReport {
        a: a.commit.clone(),
        b: b.commit.clone(),
        batch: None,
        benchmarks: judge(rows, options),
        added: only(b, a),
        removed: only(a, b),
        identical_code: Vec::new(),
        skipped_incomplete: Vec::new(),
    }
}

/// A benchmark's median at one commit with the 95% bootstrap interval of that
/// median (a count's interval has width zero): the point the dashboard draws
/// and the exports write.
#[must_use]
pub fn median_interval(values: &[f64], options: &CompareOptions) -> (f64, f64, f64) {
    let m = median(values);
    // The ratio of a resampled median to the point estimate, scaled back.
    let (_, low, high) = bootstrap_ratio_of_medians(&[m], values, options.resamples, options.seed);
    (m, m * low, m * high)
}

/// A count does not vary from run to run: the ratio is exact, and any
/// difference is real.
fn exact_ratio(a: &[f64], b: &[f64]) -> Estimate {
    let ratio = median(b) / median(a);
    Estimate {
        ratio,
        ci_low: ratio,
        ci_high: ratio,
        p: if ratio == 1.0 { 1.0 } else { 0.0 },
        rounds: 1,
        set_aside: 0,
        df: None,
    }
}

/// Too few runs to judge by their spread: only the samples themselves are
/// there to judge by.
fn samples_estimate(a: &[f64], b: &[f64], rounds: usize, options: &CompareOptions) -> Estimate {
    let (ratio, ci_low, ci_high) =
        bootstrap_ratio_of_medians(a, b, options.resamples, options.seed);
    Estimate {
        ratio,
        ci_low,
        ci_high,
        p: mann_whitney_p(a, b),
        rounds,
        set_aside: 0,
        df: None,
    }
}

/// Corrects the timed benchmarks' p-values of a change beyond the threshold
/// together and gives each its verdict: a change is flagged when its whole
/// 95% interval lies beyond the threshold and its corrected p-value is below
/// alpha, so a batch of many benchmarks flags no more often by chance than
/// a batch of one.
fn judge(
    rows: Vec<(String, Metric, f64, f64, Estimate)>,
    options: &CompareOptions,
) -> Vec<Comparison> {
    let mut rows: Vec<Comparison> = rows
        .into_iter()
        .map(|(id, metric, a_median, b_median, e)| Comparison {
            id,
            metric,
            a_median,
            b_median,
            ratio: e.ratio,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            p: e.p,
            p_beyond_threshold: match metric {
                Metric::TimeNs => {
                    beyond_threshold_p(e.ratio, (e.ci_low, e.ci_high), e.df, options.threshold)
                }
                Metric::Instructions => e.p,
            },
            q: e.p,
            verdict: Verdict::Unchanged,
            rounds: e.rounds,
            set_aside: e.set_aside,
            df: e.df,
            shown_within_threshold: false,
        })
        .collect();
    // Only the timed benchmarks are tests of a hypothesis; counts keep q = p.
    let timed: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].metric == Metric::TimeNs)
        .collect();
    let q = benjamini_hochberg(
        &timed
            .iter()
            .map(|&i| rows[i].p_beyond_threshold)
            .collect::<Vec<_>>(),
    );
    for (&i, q) in timed.iter().zip(q) {
        rows[i].q = q;
    }
    for row in &mut rows {
        let significant = row.q < options.alpha;
        row.verdict = if significant && row.ci_low > 1.0 + options.threshold {
            Verdict::Regressed
        } else if significant && row.ci_high < 1.0 / (1.0 + options.threshold) {
            Verdict::Improved
        } else if row.ci_low < 1.0 / (1.0 + options.threshold)
            && row.ci_high > 1.0 + options.threshold
        {
            Verdict::Inconclusive
        } else {
            Verdict::Unchanged
        };
        row.shown_within_threshold = row.verdict == Verdict::Unchanged && options.equivalent(row);
    }
    rows
}

/// Formats a value of `metric` with the unit that keeps it readable.
pub(crate) fn format_value(metric: Metric, value: f64) -> String {
    match metric {
        Metric::TimeNs => format_time(value),
        Metric::Instructions => format_instructions(value),
    }
}

/// Instruction counts with an SI prefix, `Ir` as callgrind names the event.
fn format_instructions(count: f64) -> String {
    match count {
        n if n < 1e3 => format!("{n:.0} Ir"),
        n if n < 1e6 => format!("{:.2} KIr", n / 1e3),
        n if n < 1e9 => format!("{:.2} MIr", n / 1e6),
        n => format!("{:.2} GIr", n / 1e9),
    }
}

/// Formats nanoseconds the way Criterion does: the unit that keeps 1–999.
fn format_time(ns: f64) -> String {
    let (value, unit) = match ns {
        n if n < 1e3 => (n, "ns"),
        n if n < 1e6 => (n / 1e3, "µs"),
        n if n < 1e9 => (n / 1e6, "ms"),
        n => (n / 1e9, "s"),
    };
    format!("{value:.2} {unit}")
}

/// A critcmp-like table, then the benchmarks one side lacks; `color` adds
/// ANSI colors to the verdicts (the caller decides, from the terminal,
/// `--color` and `NO_COLOR`).
pub fn write_table(
    out: &mut dyn Write,
    report: &ComparisonReport,
    color: bool,
) -> Result<(), TrackError> {
    let rows = &report.benchmarks;
    // Ids stored by an older proflab may be longer than any column (or
    // than a format width can be): those overflow their column.
    let width = rows
        .iter()
        .map(|r| printable(&r.id).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(9, MAX_ID_BYTES);
    let mut write = || -> std::io::Result<()> {
        writeln!(
            out,
            "{:<width$}  {:>11}  {:>11}  {:>7}  {:>17}  {:>8}  {:>6}  verdict",
            "benchmark", "A median", "B median", "B/A", "95% CI", "q", "rounds"
        )?;
        for r in rows {
            let verdict = match (r.verdict, color) {
                (Verdict::Regressed, true) => "\x1b[31mregressed\x1b[0m",
                (Verdict::Improved, true) => "\x1b[32mimproved\x1b[0m",
                (Verdict::Regressed, false) => "regressed",
                (Verdict::Improved, false) => "improved",
                (Verdict::Unchanged, _) => "unchanged",
                (Verdict::Inconclusive, _) => "inconclusive",
            };
            let rounds = match r.set_aside {
                0 => r.rounds.to_string(),
                n => format!("{}+{n}", r.rounds),
            };
            writeln!(
                out,
                "{:<width$}  {:>11}  {:>11}  {:>7.3}  [{:>6.3}, {:>6.3}]  {:>8.2e}  {rounds:>6}  {verdict}",
                printable(&r.id),
                format_value(r.metric, r.a_median),
                format_value(r.metric, r.b_median),
                r.ratio,
                r.ci_low,
                r.ci_high,
                r.q
            )?;
        }
        for (label, ids) in [
            ("added in B", &report.added),
            ("removed in B", &report.removed),
        ] {
            if !ids.is_empty() {
                let ids: Vec<_> = ids.iter().map(|id| printable(id)).collect();
                writeln!(out, "{label} (not compared): {}", ids.join(", "))?;
            }
        }
        for batch in &report.skipped_incomplete {
            writeln!(
                out,
                "batch {batch} of these commits was interrupted and is left out (name it with --batch {batch})"
            )?;
        }
        if !report.identical_code.is_empty() {
            writeln!(
                out,
                "identical code on both sides (not measured, nothing to find): {}",
                report.identical_code.join(", ")
            )?;
        }
        let unchanged = rows
            .iter()
            .filter(|r| r.metric == Metric::TimeNs && !r.verdict.is_change());
        let (shown, all) = unchanged.fold((0, 0), |(shown, all), r| {
            (shown + usize::from(r.shown_within_threshold), all + 1)
        });
        if shown < all {
            writeln!(
                out,
                "within the threshold (90% interval): {shown} of {all} timed benchmarks without a \
                 change; the others' intervals bound what their noise could hide"
            )?;
        }
        if rows.iter().any(|r| r.set_aside > 0) {
            writeln!(
                out,
                "rounds: used+set aside (a round far from the benchmark's others, one slow process)"
            )?;
        }
        Ok(())
    };
    write().map_err(TrackError::Output)
}

/// The comparison as JSON: the two commits, the batch, one object per
/// benchmark, and the benchmarks one side lacks.
pub fn write_json(out: &mut dyn Write, report: &ComparisonReport) -> Result<(), TrackError> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(|e| TrackError::Output(e.into()))?;
    writeln!(out).map_err(TrackError::Output)
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Regressed => "regressed",
        Verdict::Improved => "improved",
        Verdict::Unchanged => "unchanged",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// The comparison as GitHub-flavoured Markdown for a pull-request comment: one
/// summary line, the regressions first (ratio and interval), the rest folded
/// in `<details>`.
pub fn write_markdown(out: &mut dyn Write, report: &ComparisonReport) -> Result<(), TrackError> {
    let count = |verdict: Verdict| {
        report
            .benchmarks
            .iter()
            .filter(|c| c.verdict == verdict)
            .count()
    };
    let row = |c: &Comparison| {
        format!(
            "| {} | {} | {} | {:.3} | [{:.3}, {:.3}] | {:.2e} | {} | {} |",
            markdown_code(&c.id),
            format_value(c.metric, c.a_median),
            format_value(c.metric, c.b_median),
            c.ratio,
            c.ci_low,
            c.ci_high,
            c.q,
            c.rounds,
            verdict_name(c.verdict)
        )
    };
    let header = "| benchmark | A | B | B/A | 95% CI | q | rounds | verdict |\n|---|---:|---:|---:|---|---:|---:|---|";
    let mut write = || -> std::io::Result<()> {
        let (regressed, improved, unchanged) = (
            count(Verdict::Regressed),
            count(Verdict::Improved),
            count(Verdict::Unchanged),
        );
        let mark = if regressed > 0 {
            ":x:"
        } else {
            ":white_check_mark:"
        };
        writeln!(
            out,
            "{mark} **{regressed} regressed**, {improved} improved, {unchanged} unchanged{}, {} added, {} removed{} (`{}` → `{}`{})\n",
            match count(Verdict::Inconclusive) {
                0 => String::new(),
                n => format!(", {n} inconclusive"),
            },
            report.added.len(),
            report.removed.len(),
            match report.identical_code.len() {
                0 => String::new(),
                n => format!(", {n} identical code"),
            },
            short_sha(&report.a, 12),
            short_sha(&report.b, 12),
            report
                .batch
                .map_or_else(String::new, |batch| format!(", batch {batch}"))
        )?;
        let (flagged, rest): (Vec<&Comparison>, Vec<&Comparison>) = report
            .benchmarks
            .iter()
            .partition(|c| c.verdict == Verdict::Regressed);
        if !flagged.is_empty() {
            writeln!(out, "### Regressions\n\n{header}")?;
            for c in flagged {
                writeln!(out, "{}", row(c))?;
            }
            writeln!(out)?;
        }
        if !rest.is_empty() {
            writeln!(
                out,
                "<details><summary>{} other benchmarks</summary>\n\n{header}",
                rest.len()
            )?;
            for c in rest {
                writeln!(out, "{}", row(c))?;
            }
            writeln!(out, "\n</details>")?;
        }
        for (label, ids) in [
            ("Added in B", &report.added),
            ("Removed in B", &report.removed),
            ("Identical code on both sides", &report.identical_code),
        ] {
            if !ids.is_empty() {
                let ids: Vec<String> = ids.iter().map(|id| markdown_code(id)).collect();
                writeln!(out, "\n{label} (not compared): {}", ids.join(", "))?;
            }
        }
        Ok(())
    };
    write().map_err(TrackError::Output)
}

/// `text` as a Markdown code span that stays one table cell: control
/// characters escaped (a newline would end the table and start a heading),
/// `|` escaped (GitHub splits cells on it before reading code spans), and
/// fenced by one more backtick than the longest run inside it.
fn markdown_code(text: &str) -> String {
    let text = printable(text).replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{
        CompareOptions, Comparison, ComparisonReport, Estimate, Verdict, format_instructions,
        format_time, judge, write_table,
    };
    use crate::Metric;

    /// An "unchanged" paired comparison with this estimate (p = q = `p`).
    pub(crate) fn unchanged_paired(
        (ratio, ci_low, ci_high, p): (f64, f64, f64, f64),
        rounds: usize,
        df: f64,
    ) -> Comparison {
        Comparison {
            id: "g/f".into(),
            metric: Metric::TimeNs,
            a_median: 1.0,
            b_median: ratio,
            ratio,
            ci_low,
            ci_high,
            p,
            p_beyond_threshold: p,
            q: p,
            verdict: Verdict::Unchanged,
            rounds,
            set_aside: 0,
            df: Some(df),
            shown_within_threshold: false,
        }
    }

    fn paired(ratio: f64, ci_low: f64, ci_high: f64, rounds: usize, df: f64) -> Comparison {
        unchanged_paired((ratio, ci_low, ci_high, 0.5), rounds, df)
    }

    #[test]
    fn a_change_is_settled_only_on_enough_rounds_and_with_its_p_value() {
        let options = CompareOptions::default();
        let mut regression = paired(1.05, 1.03, 1.07, 3, 2.0);
        regression.verdict = Verdict::Regressed;
        assert!(!options.settles(&regression, 5));
        regression.rounds = 5;
        assert!(options.settles(&regression, 5));
        // Wholly above 1.02 but not significant once corrected: the verdict
        // is "unchanged", and only more rounds can settle it.
        let unsure = paired(1.066, 1.023, 1.11, 3, 8.1);
        assert!(unsure.ci_low > 1.0 + options.threshold);
        assert!(!options.settles(&unsure, 5));
        assert!(options.settles(&paired(1.0, 0.99, 1.01, 3, 2.0), 5));
        // The 95% interval pokes out of ±2%, the 90% one (TOST) does not.
        let equivalent = paired(1.0, 0.979, 1.0214, 5, 4.0);
        assert!(options.settles(&equivalent, 5));
        let by_whole_interval = CompareOptions {
            equivalence_by_tost: false,
            ..CompareOptions::default()
        };
        assert!(!by_whole_interval.settles(&equivalent, 5));
    }

    #[test]
    fn rounds_go_on_only_where_they_could_flag_a_change() {
        let options = CompareOptions::default();
        // Five rounds, unmoderated (4 df): centred near 1.05 and ±4%;
        // five more rounds would likely put it wholly above 1.02.
        let regression = paired(1.05, 1.01, 1.092, 5, 4.0);
        assert!(regression.ci_low < 1.0 + options.threshold);
        assert!(options.could_flag(&regression, 5));
        assert!(!options.could_flag(&regression, 0));
        // Centred just past the threshold: the five rounds so far may be
        // low by chance, so it is worth measuring if enough rounds are left.
        let short_of_it = paired(1.025, 1.025 / 1.0275, 1.025 * 1.0275, 5, 4.0);
        assert!(options.could_flag(&short_of_it, 7));
        assert!(!options.could_flag(&short_of_it, 2));
        // Centred on 1, ±30%, ±6% or ±2.5%: no change in reach of five more.
        for (low, high) in [(0.77, 1.3), (0.94, 1.06), (0.975, 1.025)] {
            assert!(!options.could_flag(&paired(1.0, low, high, 5, 4.0), 5));
        }
    }

    #[test]
    fn the_table_counts_the_unchanged_benchmarks_shown_within_the_threshold() {
        let estimate = |ci_low: f64, ci_high: f64| Estimate {
            ratio: (ci_low * ci_high).sqrt(),
            ci_low,
            ci_high,
            p: 0.5,
            rounds: 5,
            set_aside: 0,
            df: Some(8.0),
        };
        let rows = vec![
            (
                "g/quiet".to_owned(),
                Metric::TimeNs,
                1.0,
                1.0,
                estimate(0.99, 1.01),
            ),
            (
                "g/noisy".to_owned(),
                Metric::TimeNs,
                1.0,
                1.0,
                estimate(0.9, 1.1),
            ),
        ];
        let benchmarks = judge(rows, &CompareOptions::default());
        let shown: Vec<bool> = benchmarks
            .iter()
            .map(|c| c.shown_within_threshold)
            .collect();
        assert_eq!(shown, [true, false]);
        let report = ComparisonReport {
            a: "a".into(),
            b: "b".into(),
            batch: Some(1),
            benchmarks,
            added: Vec::new(),
            removed: Vec::new(),
            identical_code: Vec::new(),
            skipped_incomplete: Vec::new(),
        };
        let mut table = Vec::new();
        write_table(&mut table, &report, false).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(
            table.contains("(90% interval): 1 of 2 timed benchmarks"),
            "{table}"
        );
    }

    #[test]
    fn a_change_barely_clear_of_the_threshold_is_not_flagged_among_ten() {
        let estimate = |ratio: f64, ci_low: f64, ci_high: f64, df: f64| Estimate {
            ratio,
            ci_low,
            ci_high,
            p: 0.5,
            rounds: 10,
            set_aside: 0,
            df: Some(df),
        };
        let row = |name: &str, e: Estimate| (format!("g/{name}"), Metric::TimeNs, 1.0, 1.0, e);
        // `vector_math/copy/10000000` in an A/B of this repository where
        // its code was untouched: 18 rounds, B slower in 15
        // (docs/experiments/notebook-2026-11-to-12.md).
        let untouched = || estimate(1.061, 1.021, 1.102, 17.0);
        let verdict = |rows| -> Vec<Verdict> {
            judge(rows, &CompareOptions::default())
                .iter()
                .map(|c| c.verdict)
                .collect()
        };
        // Compared alone its interval clears +2% and p of "at most 2%
        // slower" is 0.022: flagged.
        assert_eq!(
            verdict(vec![row("copy", untouched())]),
            [Verdict::Regressed]
        );
        // Among ten, beside two clear slowdowns and seven unchanged, the
        // correction over the ten takes it back; the two stay flagged.
        let mut rows = vec![
            row("push_str", estimate(1.047, 1.034, 1.060, 26.0)),
            row("zip_into", estimate(1.108, 1.094, 1.122, 26.0)),
            row("copy", untouched()),
        ];
        rows.extend((0..7).map(|i| row(&format!("other{i}"), estimate(1.0, 0.99, 1.01, 26.0))));
        let verdicts = verdict(rows);
        assert_eq!(
            verdicts[..3],
            [Verdict::Regressed, Verdict::Regressed, Verdict::Unchanged]
        );
        assert!(verdicts[3..].iter().all(|v| *v == Verdict::Unchanged));
    }

    #[test]
    fn times_pick_a_readable_unit() {
        assert_eq!(format_time(12.345), "12.35 ns");
        assert_eq!(format_time(1_500.0), "1.50 µs");
        assert_eq!(format_time(2.5e9), "2.50 s");
    }

    #[test]
    fn counts_pick_a_readable_prefix() {
        assert_eq!(format_instructions(812.0), "812 Ir");
        assert_eq!(format_instructions(41_250.0), "41.25 KIr");
        assert_eq!(format_instructions(3.5e9), "3.50 GIr");
    }
}
