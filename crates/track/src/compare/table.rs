//! The comparison as a critcmp-like table for a terminal.

use std::io::Write;

use anstyle::Style;

use super::format::format_value;
use super::judge::{ComparisonReport, Verdict};
use crate::criterion::{MAX_ID_BYTES, printable};
use crate::{Metric, TrackError};

/// How [`write_table`] styles the verdicts of a change; [`Style::new`], the
/// default, writes none. A terminal's caller styles them and writes through
/// an `anstream` stream, which strips the styles unless `--color`, `NO_COLOR`
/// and the terminal want them.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableStyle {
    pub regressed: Style,
    pub improved: Style,
}

/// A critcmp-like table, then the benchmarks one side lacks.
pub fn write_table(
    out: &mut dyn Write,
    report: &ComparisonReport,
    style: &TableStyle,
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
            let verdict_style = match r.verdict {
                Verdict::Regressed => style.regressed,
                Verdict::Improved => style.improved,
                Verdict::Unchanged | Verdict::Inconclusive => Style::new(),
            };
            let rounds = match r.set_aside {
                0 => r.rounds.to_string(),
                n => format!("{}+{n}", r.rounds),
            };
            writeln!(
                out,
                "{:<width$}  {:>11}  {:>11}  {:>7.3}  [{:>6.3}, {:>6.3}]  {:>8.2e}  {rounds:>6}  \
                 {verdict_style}{}{verdict_style:#}",
                printable(&r.id),
                format_value(r.metric, r.a_median),
                format_value(r.metric, r.b_median),
                r.ratio,
                r.ci_low,
                r.ci_high,
                r.q,
                r.verdict.name()
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
