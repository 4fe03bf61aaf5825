//! The comparison as a GitHub-flavoured Markdown pull-request comment.

use std::io::Write;

use super::format::format_value;
use super::judge::{Comparison, ComparisonReport, Verdict};
use crate::TrackError;
use crate::criterion::printable;
use crate::environment::short_sha;

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
            c.verdict.name()
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
