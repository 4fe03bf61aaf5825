//! Commit-to-commit comparison: per benchmark a ratio B/A with a 95% interval
//! and a p-value corrected by Benjamini-Hochberg across all benchmarks
//! compared, and a verdict that needs both to agree. With three or more runs
//! (rounds) per commit, the interval and test are Student-t over per-round
//! ratios, so drift between rounds counts as noise, with each benchmark's
//! variance moderated by the spread all of them show (empirical Bayes); with
//! fewer, a bootstrap of the ratio of medians and a Mann-Whitney test over
//! the samples. Instruction counts are exact ratios.

use std::io::Write;

use regex::Regex;
use serde::Serialize;

use crate::stats::{
    benjamini_hochberg, bootstrap_ratio_of_medians, fit_variance_prior, mann_whitney_p, median,
    round_log_ratios, sample_variance, t_interval,
};
use crate::{History, Metric, TrackError};

/// What `compare` concluded about one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Improved,
    Regressed,
    Unchanged,
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
        }
    }
}

/// One benchmark's comparison of commit B against commit A.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub id: String,
    pub metric: Metric,
    /// Nanoseconds per iteration, or instructions.
    pub a_median: f64,
    pub b_median: f64,
    /// `b_median / a_median`: above 1 means B is slower.
    pub ratio: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p: f64,
    /// `p` after Benjamini-Hochberg over all benchmarks compared.
    pub q: f64,
    pub verdict: Verdict,
}

/// Compares the benchmarks both commits have. Regressed only if the whole 95%
/// interval lies above `1 + threshold` and the corrected p is below `alpha`;
/// improved symmetrically below `1 / (1 + threshold)`; unchanged otherwise.
pub fn compare(
    history: &History,
    a: &str,
    b: &str,
    options: &CompareOptions,
) -> Result<Vec<Comparison>, TrackError> {
    let (a_commit, b_commit) = (history.resolve(a)?, history.resolve(b)?);
    let (a_samples, a_machines) = history.samples_by_run(&a_commit)?;
    let (b_samples, b_machines) = history.samples_by_run(&b_commit)?;
    let metrics = history.metrics()?;
    if !options.allow_different_machines {
        let mut all = a_machines.iter().chain(&b_machines);
        if let Some(first) = all.next()
            && let Some(other) = all.find(|m| *m != first)
        {
            return Err(TrackError::DifferentMachines {
                a: first.clone(),
                b: other.clone(),
            });
        }
    }
    let pairs: Vec<_> = a_samples
        .iter()
        .filter(|(id, _)| options.filter.as_ref().is_none_or(|f| f.is_match(id)))
        .filter_map(|(id, a)| b_samples.get(id).map(|b| (id, a, b)))
        .map(|(id, a_runs, b_runs)| {
            let metric = metrics.get(id).copied().unwrap_or_default();
            let logs = (metric == Metric::TimeNs)
                .then(|| round_log_ratios(a_runs, b_runs))
                .flatten();
            (id, metric, a_runs, b_runs, logs)
        })
        .collect();
    // The timed benchmarks compared together share the machine's round-to-round noise.
    let prior = fit_variance_prior(
        &pairs
            .iter()
            .filter_map(|(.., logs)| logs.as_deref())
            .map(|logs| (sample_variance(logs), logs.len() as f64 - 1.0))
            .collect::<Vec<_>>(),
    );
    let mut rows: Vec<Comparison> = pairs
        .into_iter()
        .map(|(id, metric, a_runs, b_runs, logs)| {
            let (a, b) = (a_runs.concat(), b_runs.concat());
            let (ratio, ci_low, ci_high, p) = match (metric, logs) {
                // A count does not vary from run to run: the ratio is exact,
                // and any difference is real.
                (Metric::Instructions, _) => {
                    let ratio = median(&b) / median(&a);
                    (ratio, ratio, ratio, if ratio == 1.0 { 1.0 } else { 0.0 })
                }
                // Three or more rounds a side: judge by the spread between
                // rounds, moderated by the other benchmarks' spread.
                (Metric::TimeNs, Some(logs)) => t_interval(&logs, prior),
                // Fewer: only the samples themselves are there to judge by.
                (Metric::TimeNs, None) => {
                    let (ratio, low, high) =
                        bootstrap_ratio_of_medians(&a, &b, options.resamples, options.seed);
                    (ratio, low, high, mann_whitney_p(&a, &b))
                }
            };
            Comparison {
                id: id.clone(),
                metric,
                a_median: median(&a),
                b_median: median(&b),
                ratio,
                ci_low,
                ci_high,
                p,
                q: p,
                verdict: Verdict::Unchanged,
            }
        })
        .collect();
    // Only the timed benchmarks are tests of a hypothesis; counts keep q = p.
    let timed: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].metric == Metric::TimeNs)
        .collect();
    let q = benjamini_hochberg(&timed.iter().map(|&i| rows[i].p).collect::<Vec<_>>());
    for (&i, q) in timed.iter().zip(q) {
        rows[i].q = q;
    }
    for row in &mut rows {
        let q = row.q;
        let significant = q < options.alpha;
        row.verdict = if significant && row.ci_low > 1.0 + options.threshold {
            Verdict::Regressed
        } else if significant && row.ci_high < 1.0 / (1.0 + options.threshold) {
            Verdict::Improved
        } else {
            Verdict::Unchanged
        };
    }
    Ok(rows)
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

/// A critcmp-like table; `color` adds ANSI colors to the verdicts (the caller
/// decides: a terminal without `NO_COLOR`).
pub fn write_table(
    out: &mut dyn Write,
    rows: &[Comparison],
    color: bool,
) -> Result<(), TrackError> {
    let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(0).max(9);
    let mut write = || -> std::io::Result<()> {
        writeln!(
            out,
            "{:<width$}  {:>11}  {:>11}  {:>7}  {:>17}  {:>8}  verdict",
            "benchmark", "A median", "B median", "B/A", "95% CI", "q"
        )?;
        for r in rows {
            let verdict = match (r.verdict, color) {
                (Verdict::Regressed, true) => "\x1b[31mregressed\x1b[0m",
                (Verdict::Improved, true) => "\x1b[32mimproved\x1b[0m",
                (Verdict::Regressed, false) => "regressed",
                (Verdict::Improved, false) => "improved",
                (Verdict::Unchanged, _) => "unchanged",
            };
            writeln!(
                out,
                "{:<width$}  {:>11}  {:>11}  {:>7.3}  [{:>6.3}, {:>6.3}]  {:>8.2e}  {verdict}",
                r.id,
                format_value(r.metric, r.a_median),
                format_value(r.metric, r.b_median),
                r.ratio,
                r.ci_low,
                r.ci_high,
                r.q
            )?;
        }
        Ok(())
    };
    write().map_err(TrackError::Output)
}

/// The comparison as a JSON array, one object per benchmark.
pub fn write_json(out: &mut dyn Write, rows: &[Comparison]) -> Result<(), TrackError> {
    serde_json::to_writer_pretty(&mut *out, rows).map_err(|e| TrackError::Output(e.into()))?;
    writeln!(out).map_err(TrackError::Output)
}

#[cfg(test)]
mod tests {
    use super::{format_instructions, format_time};

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
