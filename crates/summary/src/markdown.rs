//! The summary as Markdown tables, one per group and size.

use std::io::{self, Write};

use anstyle::Style;

use proflab_criterion_read::format_time;

use crate::{Summary, Table, human_ratio};

/// How [`write_markdown`] writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownOptions {
    /// Link each variant to Criterion's page (for `summary.md`, which sits in
    /// the Criterion folder); off for tables pasted into other documents.
    pub links: bool,
    /// Style of the table titles; [`Style::new`] writes none.
    pub heading: Style,
    /// Style of the fastest variant's ratio.
    pub fastest: Style,
}

/// Writes one `####` table per group and size: variant, median, 95% interval,
/// ratio to the fastest and to each limit kernel present.
///
/// # Errors
/// Only the writer's.
pub fn write_markdown(
    out: &mut dyn Write,
    summary: &Summary,
    options: &MarkdownOptions,
) -> io::Result<()> {
    if options.links {
        writeln!(
            out,
            "# Benchmark summary\n\nThe last `cargo bench`: each variant's median with its 95% \
             interval, its ratio to the group's fastest variant and to its limit kernels. \
             Each variant links to Criterion's page; [Criterion's report](report/index.html) \
             has the rest.\n"
        )?;
    }
    for table in &summary.tables {
        write_table(out, table, options)?;
    }
    Ok(())
}

fn write_table(out: &mut dyn Write, table: &Table, options: &MarkdownOptions) -> io::Result<()> {
    let heading = options.heading;
    writeln!(out, "{heading}#### {}{heading:#}\n", escape(&table.title()))?;
    let mut header = "| variant | median | 95% CI | ratio to fastest |".to_owned();
    let mut rule = "|---|---:|---:|---:|".to_owned();
    for limit in &table.limits {
        header.push_str(&format!(" ratio to {} |", escape(limit)));
        rule.push_str("---:|");
    }
    writeln!(out, "{header}\n{rule}")?;
    for row in &table.rows {
        let name = escape(&row.function);
        let variant = match (&row.page, options.links) {
            (Some(page), true) => format!("[{name}]({page})"),
            _ => name,
        };
        let style = if row.ratio_to_fastest <= 1.0 {
            options.fastest
        } else {
            Style::new()
        };
        write!(
            out,
            "| {variant} | {} | {} – {} | {style}{}{style:#} |",
            format_time(row.median.point_ns),
            format_time(row.median.lower_ns),
            format_time(row.median.upper_ns),
            human_ratio(row.ratio_to_fastest),
        )?;
        for ratio in &row.ratio_to_limits {
            write!(out, " {} |", human_ratio(*ratio))?;
        }
        writeln!(out)?;
    }
    writeln!(out)
}

/// Text from Criterion's folders as plain Markdown text: control
/// characters written as Rust escapes (a newline would end the table or
/// start a heading) and the punctuation that could end a cell or a link,
/// open code or emphasis, or start HTML backslash-escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            if "\\`*[]<>|".contains(c) {
                escaped.push('\\');
            }
            escaped.push(c);
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Estimate, Row};

    fn summary() -> Summary {
        let row = |function: &str, ns: f64, ratio: f64, limits: Vec<f64>| Row {
            function: function.into(),
            median: Estimate {
                point_ns: ns,
                lower_ns: ns - 1.0,
                upper_ns: ns + 1.0,
            },
            ratio_to_fastest: ratio,
            ratio_to_limits: limits,
            page: Some(format!("vm/{function}/1000/report/index.html")),
        };
        Summary {
            format: crate::SUMMARY_FORMAT,
            tables: vec![Table {
                group: "vm".into(),
                size: Some("1000".into()),
                limits: vec!["copy".into()],
                group_page: None,
                rows: vec![
                    row("copy", 100.0, 1.0, vec![1.0]),
                    row("map", 250.0, 2.5, vec![2.5]),
                ],
            }],
        }
    }

    #[test]
    fn plain_tables_have_a_column_per_limit_and_no_links() {
        let mut out = Vec::new();
        write_markdown(&mut out, &summary(), &MarkdownOptions::default()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "#### vm, n = 1000\n\n\
             | variant | median | 95% CI | ratio to fastest | ratio to copy |\n\
             |---|---:|---:|---:|---:|\n\
             | copy | 100 ns | 99 ns – 101 ns | 1.00 | 1.00 |\n\
             | map | 250 ns | 249 ns – 251 ns | 2.50 | 2.50 |\n\n"
        );
    }

    #[test]
    fn linked_tables_point_at_criterions_pages_and_styles_wrap_text() {
        let mut out = Vec::new();
        let options = MarkdownOptions {
            links: true,
            heading: Style::new().bold(),
            fastest: Style::new(),
        };
        write_markdown(&mut out, &summary(), &options).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("# Benchmark summary"), "{text}");
        assert!(
            text.contains("| [map](vm/map/1000/report/index.html) |"),
            "{text}"
        );
        assert!(
            text.contains("\u{1b}[1m#### vm, n = 1000\u{1b}[0m"),
            "{text}"
        );
    }

    /// Issue 35, item 4: a name from Criterion's folders could end the
    /// table and start a heading in a pull-request comment.
    #[test]
    fn names_stay_inside_their_cell_and_heading() {
        let mut summary = summary();
        summary.tables[0].group = "vm\n# Injected".into();
        summary.tables[0].rows[1].function = "m|a`p\u{1b}[31m".into();
        let mut out = Vec::new();
        write_markdown(&mut out, &summary, &MarkdownOptions::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("#### vm\\n# Injected, n = 1000\n"),
            "{text}"
        );
        assert!(!text.lines().any(|line| line.starts_with("# ")), "{text}");
        assert!(
            text.contains("| m\\|a\\`p\\u{1b}\\[31m | 250 ns |"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
