//! Judging: the verdict on each benchmark from the typed series of
//! [`crate::model`], with no store and no output.
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

use regex::Regex;
use serde::Serialize;

use crate::Metric;
use crate::model::{CommitSeries, PairedBenchmark, PairedSeries};
use crate::stats::{
    Estimate, Interval, RatioTest, VariancePrior, benjamini_hochberg, beyond_threshold_p,
    bootstrap_ratio_of_medians, chance_to_flag, equivalence_interval, fastest, mann_whitney_p,
    median, moderation_priors, sample_variance, spoiled_rounds, t_interval, t_interval_df,
    welch_log_interval,
};

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

    /// The verdict as the reports print it (and its JSON spells it).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
        }
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

    /// Whether `interval` lies wholly between `1 / (1 + threshold)` and `1 + threshold`.
    fn within(&self, interval: Interval) -> bool {
        interval.low > 1.0 / (1.0 + self.threshold) && interval.high < 1.0 + self.threshold
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
        let interval = comparison.interval();
        self.within(match comparison.df {
            Some(df) if self.equivalence_by_tost => equivalence_interval(interval, df),
            _ => interval,
        })
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
                    comparison.interval(),
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

impl Comparison {
    /// The 95% interval of [`Comparison::ratio`].
    #[must_use]
    pub fn interval(&self) -> Interval {
        Interval {
            low: self.ci_low,
            high: self.ci_high,
        }
    }
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

/// One benchmark's measurements, summed up for the verdict.
struct Evidence {
    id: String,
    metric: Metric,
    /// Nanoseconds per iteration, or instructions.
    a_median: f64,
    b_median: f64,
    finding: Finding,
}

/// What a test over one benchmark's rounds or runs found.
struct Finding {
    /// The ratio B/A and the p-value of no change at all.
    test: RatioTest,
    /// Rounds (paired) or runs a side (unpaired) the estimate rests on.
    rounds: usize,
    /// Paired rounds set aside as spoiled by one bad process.
    set_aside: usize,
    /// Degrees of freedom of a paired t interval; `None` for other estimates.
    df: Option<f64>,
}

/// Judges a batch's paired rounds.
#[must_use]
pub fn compare_paired(series: &PairedSeries, options: &CompareOptions) -> ComparisonReport {
    let selected: Vec<(&String, &PairedBenchmark)> = series
        .benchmarks
        .iter()
        .filter(|(id, _)| options.selects(id))
        .collect();
    let benchmarks: Vec<&PairedBenchmark> = selected.iter().map(|(_, bench)| *bench).collect();
    let kept = kept_log_ratios(&benchmarks, options);
    let priors = if options.moderate {
        shared_priors(&kept)
    } else {
        vec![None; kept.len()]
    };
    let evidence = selected
        .iter()
        .zip(kept.iter().zip(priors))
        .map(|((id, bench), (kept, prior))| {
            let a: Vec<f64> = bench.rounds.iter().flat_map(|r| r.a.clone()).collect();
            let b: Vec<f64> = bench.rounds.iter().flat_map(|r| r.b.clone()).collect();
            let rounds = bench.rounds.len();
            let finding = match bench.metric {
                Metric::Instructions => exact_ratio(&a, &b),
                // Enough rounds to judge by their spread (two suffice when
                // the other benchmarks lend theirs).
                Metric::TimeNs if kept.len() >= 3 || (kept.len() == 2 && prior.is_some()) => {
                    Finding {
                        test: t_interval(kept, prior),
                        rounds: kept.len(),
                        set_aside: rounds - kept.len(),
                        df: Some(t_interval_df(kept.len(), prior)),
                    }
                }
                Metric::TimeNs => samples_finding(&a, &b, rounds, options),
            };
            Evidence {
                id: (*id).clone(),
                metric: bench.metric,
                a_median: median(&a),
                b_median: median(&b),
                finding,
            }
        })
        .collect();
    let benchmarks = judge(evidence, options);
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

/// Per benchmark, the log ratios B/A of each round's fastest samples, less
/// the rounds one bad process spoiled (unless `set_aside_outliers` is off);
/// none for instruction counts.
fn kept_log_ratios(benchmarks: &[&PairedBenchmark], options: &CompareOptions) -> Vec<Vec<f64>> {
    // The logs of each round's fastest samples, A and B.
    let sides: Vec<Vec<(f64, f64)>> = benchmarks
        .iter()
        .map(|bench| match bench.metric {
            Metric::TimeNs => bench
                .rounds
                .iter()
                .map(|r| (fastest(&r.a).ln(), fastest(&r.b).ln()))
                .collect(),
            Metric::Instructions => Vec::new(),
        })
        .collect();
    let outlying = if options.set_aside_outliers {
        spoiled_rounds(&sides)
    } else {
        sides.iter().map(|s| vec![false; s.len()]).collect()
    };
    sides
        .iter()
        .zip(&outlying)
        .map(|(rounds, bad)| {
            rounds
                .iter()
                .zip(bad)
                .filter(|(_, bad)| !**bad)
                .map(|((a, b), _)| b - a)
                .collect()
        })
        .collect()
}

/// Each benchmark's prior for moderating its variance: the timed benchmarks
/// compared together share the machine's round-to-round noise, all but the
/// hypervariable ones.
fn shared_priors(kept: &[Vec<f64>]) -> Vec<Option<VariancePrior>> {
    moderation_priors(
        &kept
            .iter()
            .map(|logs| match logs.len() {
                0 | 1 => (f64::NAN, 0.0),
                n => (sample_variance(logs), n as f64 - 1.0),
            })
            .collect::<Vec<_>>(),
    )
}

/// Judges independent runs of two commits.
#[must_use]
pub fn compare_runs(
    a: &CommitSeries,
    b: &CommitSeries,
    options: &CompareOptions,
) -> ComparisonReport {
    let evidence = a
        .benchmarks
        .iter()
        .filter(|(id, _)| options.selects(id))
        .filter_map(|(id, a)| b.benchmarks.get(id).map(|b| (id, a, b)))
        .map(|(id, a_runs, b_runs)| {
            let (a, b) = (a_runs.pooled(), b_runs.pooled());
            let runs = a_runs.runs.len().min(b_runs.runs.len());
            let finding = match a_runs.metric {
                Metric::Instructions => exact_ratio(&a, &b),
                Metric::TimeNs if runs >= 3 => {
                    let log_fastest = |runs: &[Vec<f64>]| -> Vec<f64> {
                        runs.iter().map(|r| fastest(r).ln()).collect()
                    };
                    Finding {
                        test: welch_log_interval(
                            &log_fastest(&a_runs.runs),
                            &log_fastest(&b_runs.runs),
                        ),
                        rounds: runs,
                        set_aside: 0,
                        df: None,
                    }
                }
                Metric::TimeNs => samples_finding(&a, &b, runs, options),
            };
            Evidence {
                id: id.clone(),
                metric: a_runs.metric,
                a_median: median(&a),
                b_median: median(&b),
                finding,
            }
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
        benchmarks: judge(evidence, options),
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
pub fn median_interval(values: &[f64], options: &CompareOptions) -> Estimate {
    let m = median(values);
    // The ratio of a resampled median to the point estimate, scaled back.
    let ratio = bootstrap_ratio_of_medians(&[m], values, options.resamples, options.seed);
    Estimate {
        point: m,
        interval: Interval {
            low: m * ratio.interval.low,
            high: m * ratio.interval.high,
        },
    }
}

/// A count does not vary from run to run: the ratio is exact, and any
/// difference is real.
fn exact_ratio(a: &[f64], b: &[f64]) -> Finding {
    let ratio = median(b) / median(a);
    Finding {
        test: RatioTest {
            ratio: Estimate::exact(ratio),
            p: if ratio == 1.0 { 1.0 } else { 0.0 },
        },
        rounds: 1,
        set_aside: 0,
        df: None,
    }
}

/// Too few runs to judge by their spread: only the samples themselves are
/// there to judge by.
fn samples_finding(a: &[f64], b: &[f64], rounds: usize, options: &CompareOptions) -> Finding {
    Finding {
        test: RatioTest {
            ratio: bootstrap_ratio_of_medians(a, b, options.resamples, options.seed),
            p: mann_whitney_p(a, b),
        },
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
fn judge(evidence: Vec<Evidence>, options: &CompareOptions) -> Vec<Comparison> {
    let mut rows: Vec<Comparison> = evidence
        .into_iter()
        .map(|e| {
            let Finding {
                test: RatioTest { ratio, p },
                rounds,
                set_aside,
                df,
            } = e.finding;
            Comparison {
                id: e.id,
                metric: e.metric,
                a_median: e.a_median,
                b_median: e.b_median,
                ratio: ratio.point,
                ci_low: ratio.interval.low,
                ci_high: ratio.interval.high,
                p,
                p_beyond_threshold: match e.metric {
                    Metric::TimeNs => beyond_threshold_p(ratio, df, options.threshold),
                    Metric::Instructions => p,
                },
                q: p,
                verdict: Verdict::Unchanged,
                rounds,
                set_aside,
                df,
                shown_within_threshold: false,
            }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::{
        CompareOptions, Comparison, ComparisonReport, Estimate, Evidence, Finding, Interval,
        RatioTest, Verdict, judge,
    };
    use crate::Metric;
    use crate::compare::table::{TableStyle, write_table};

    /// An "unchanged" paired comparison with this test's estimate (p = q = `test.p`).
    pub(crate) fn unchanged_paired(test: RatioTest, rounds: usize, df: f64) -> Comparison {
        let RatioTest { ratio, p } = test;
        Comparison {
            id: "g/f".into(),
            metric: Metric::TimeNs,
            a_median: 1.0,
            b_median: ratio.point,
            ratio: ratio.point,
            ci_low: ratio.interval.low,
            ci_high: ratio.interval.high,
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

    /// A test of `ratio` within `[low, high]`, p = `p`.
    fn tested(ratio: f64, low: f64, high: f64, p: f64) -> RatioTest {
        RatioTest {
            ratio: Estimate {
                point: ratio,
                interval: Interval { low, high },
            },
            p,
        }
    }

    fn paired(ratio: f64, ci_low: f64, ci_high: f64, rounds: usize, df: f64) -> Comparison {
        unchanged_paired(tested(ratio, ci_low, ci_high, 0.5), rounds, df)
    }

    /// A paired benchmark `id`, A's and B's medians 1, its test on `df`
    /// degrees of freedom.
    fn evidence(id: &str, rounds: usize, df: f64, test: RatioTest) -> Evidence {
        Evidence {
            id: id.to_owned(),
            metric: Metric::TimeNs,
            a_median: 1.0,
            b_median: 1.0,
            finding: Finding {
                test,
                rounds,
                set_aside: 0,
                df: Some(df),
            },
        }
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
        let estimate =
            |ci_low: f64, ci_high: f64| tested((ci_low * ci_high).sqrt(), ci_low, ci_high, 0.5);
        let rows = vec![
            evidence("g/quiet", 5, 8.0, estimate(0.99, 1.01)),
            evidence("g/noisy", 5, 8.0, estimate(0.9, 1.1)),
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
        write_table(&mut table, &report, &TableStyle::default()).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(
            table.contains("(90% interval): 1 of 2 timed benchmarks"),
            "{table}"
        );
    }

    #[test]
    fn a_change_barely_clear_of_the_threshold_is_not_flagged_among_ten() {
        // Ten rounds, p of no change 0.5.
        let row = |name: &str, ratio: f64, ci_low: f64, ci_high: f64, df: f64| {
            evidence(name, 10, df, tested(ratio, ci_low, ci_high, 0.5))
        };
        // `vector_math/copy/10000000` in an A/B of this repository where
        // its code was untouched: 18 rounds, B slower in 15
        // (docs/experiments/notebook-2026-11-to-12.md).
        let untouched = || row("g/copy", 1.061, 1.021, 1.102, 17.0);
        let verdict = |rows| -> Vec<Verdict> {
            judge(rows, &CompareOptions::default())
                .iter()
                .map(|c| c.verdict)
                .collect()
        };
        // Compared alone its interval clears +2% and p of "at most 2%
        // slower" is 0.022: flagged.
        assert_eq!(verdict(vec![untouched()]), [Verdict::Regressed]);
        // Among ten, beside two clear slowdowns and seven unchanged, the
        // correction over the ten takes it back; the two stay flagged.
        let mut rows = vec![
            row("g/push_str", 1.047, 1.034, 1.060, 26.0),
            row("g/zip_into", 1.108, 1.094, 1.122, 26.0),
            untouched(),
        ];
        rows.extend((0..7).map(|i| row(&format!("g/other{i}"), 1.0, 0.99, 1.01, 26.0)));
        let verdicts = verdict(rows);
        assert_eq!(
            verdicts[..3],
            [Verdict::Regressed, Verdict::Regressed, Verdict::Unchanged]
        );
        assert!(verdicts[3..].iter().all(|v| *v == Verdict::Unchanged));
    }
}
