//! The summary as one self-contained HTML page (`target/criterion/summary.html`):
//! inline CSS, no script, links relative to the Criterion folder.

use std::io::{self, Write};

use proflab_criterion_read::format_time;

use crate::{Summary, Table, human_ratio};

const CSS: &str = include_str!("summary.css");

/// Writes the page: a table of contents, then one table per group and size,
/// each variant linking to Criterion's page and each group to its line chart.
/// A bar shows each variant's ratio to the fastest on a logarithmic scale.
///
/// # Errors
/// Only the writer's.
pub fn write_html(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Benchmark summary</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <h1>Benchmark summary</h1>\n\
         <p class=\"lead\">The last <code>cargo bench</code>: each variant's median with its 95% \
         interval, its ratio to the fastest variant of its group and size and to the group's \
         limit kernels. Each variant links to Criterion's page for it; \
         <a href=\"report/index.html\">Criterion's report</a> has the rest.</p>"
    )?;
    writeln!(out, "<nav>\n<ul>")?;
    for table in &summary.tables {
        writeln!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            table.anchor(),
            escape(&table.title())
        )?;
    }
    writeln!(out, "</ul>\n</nav>")?;
    for table in &summary.tables {
        write_table(out, table)?;
    }
    writeln!(
        out,
        "<footer>Written by <code>proflab summary</code> from \
         <code>*/new/estimates.json</code>; times are medians in Criterion's units.</footer>\n\
         </body>\n</html>"
    )
}

fn write_table(out: &mut dyn Write, table: &Table) -> io::Result<()> {
    write!(
        out,
        "<section>\n<h2 id=\"{}\">{}",
        table.anchor(),
        escape(&table.title())
    )?;
    if let Some(page) = &table.group_page {
        write!(
            out,
            "<a class=\"criterion\" href=\"{}\">Criterion's group page</a>",
            escape(page)
        )?;
    }
    writeln!(
        out,
        "</h2>\n<table>\n<thead><tr><th>variant</th><th>median</th><th>95% interval</th><th>× fastest</th>"
    )?;
    for limit in &table.limits {
        writeln!(out, "<th>× {}</th>", escape(limit))?;
    }
    writeln!(
        out,
        "<th>ratio to fastest, log scale</th></tr></thead>\n<tbody>"
    )?;
    let slowest = table
        .rows
        .iter()
        .map(|r| r.ratio_to_fastest)
        .fold(1.0, f64::max);
    for row in &table.rows {
        let mut classes = Vec::new();
        if row.ratio_to_fastest <= 1.0 {
            classes.push("fastest");
        }
        if table.limits.contains(&row.function) {
            classes.push("limit");
        }
        let name = escape(&row.function);
        let variant = match &row.page {
            Some(page) => format!("<a href=\"{}\">{name}</a>", escape(page)),
            None => name,
        };
        write!(
            out,
            "<tr class=\"{}\"><td>{variant}</td><td>{}</td><td>{} – {}</td><td class=\"ratio\">{}</td>",
            classes.join(" "),
            format_time(row.median.point_ns),
            format_time(row.median.lower_ns),
            format_time(row.median.upper_ns),
            human_ratio(row.ratio_to_fastest),
        )?;
        for ratio in &row.ratio_to_limits {
            write!(out, "<td>{}</td>", human_ratio(*ratio))?;
        }
        // Ratios span orders of magnitude; the bar's length is the log of
        // the ratio over the log of the table's largest one.
        let width = if slowest > 1.0 {
            100.0 * row.ratio_to_fastest.ln() / slowest.ln()
        } else {
            0.0
        };
        writeln!(
            out,
            "<td class=\"bar\"><span style=\"width: {width:.1}%\"></span></td></tr>"
        )?;
    }
    writeln!(out, "</tbody>\n</table>\n</section>")
}

/// Text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }
}
