//! The summary Criterion lacks: for each benchmark group and input size, every
//! variant's median with its 95% interval, its ratio to the fastest variant
//! and to the group's limit kernels (such as `vector_math`'s `copy` and
//! `simd_limit`), each row linking to Criterion's own page for it.
//!
//! [`read_criterion`] loads what the last `cargo bench` wrote
//! (`target/criterion/**/new/{benchmark,estimates}.json`); [`summarize`] turns
//! it into a [`Summary`] of [`Table`]s; [`write_markdown`] and [`write_html`]
//! print it (the JSON form is the `Serialize` of [`Summary`]). It reads only
//! the latest run: history and verdicts between commits are `proflab track`'s.

mod html;
mod markdown;
mod read;

use std::cmp::Ordering;
use std::path::PathBuf;

use serde::Serialize;

pub use html::write_html;
pub use markdown::{MarkdownOptions, write_markdown};
pub use read::{Measured, read_criterion};

/// Everything that can go wrong, naming the file or folder at fault.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("{0} does not exist: run `cargo bench` first")]
    NoCriterionDir(PathBuf),
    #[error("{0} holds no Criterion results (no */new/benchmark.json): run `cargo bench` first")]
    NoBenchmarks(PathBuf),
    /// A result file or folder that could not be read, named.
    #[error(transparent)]
    Read(#[from] proflab_criterion_read::ReadError),
    #[error("limit `{0}` is not GROUP/FUNCTION (e.g. vector_math/copy)")]
    BadLimit(String),
}

/// A point estimate with its confidence interval, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub point_ns: f64,
    pub lower_ns: f64,
    pub upper_ns: f64,
}

/// A reference variant of a group that the others are measured against
/// (memory bandwidth, the arithmetic unit's throughput).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub group: String,
    pub function: String,
}

impl std::str::FromStr for Limit {
    type Err = SummaryError;

    /// `GROUP/FUNCTION`; the group may itself contain `/`.
    ///
    /// ```
    /// let limit: proflab_summary::Limit = "string_concat/pieces/join".parse().unwrap();
    /// assert_eq!((limit.group.as_str(), limit.function.as_str()), ("string_concat/pieces", "join"));
    /// assert!("copy".parse::<proflab_summary::Limit>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, SummaryError> {
        match text.rsplit_once('/') {
            Some((group, function)) if !group.is_empty() && !function.is_empty() => Ok(Limit {
                group: group.to_owned(),
                function: function.to_owned(),
            }),
            _ => Err(SummaryError::BadLimit(text.to_owned())),
        }
    }
}

/// One variant at one size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub function: String,
    pub median: Estimate,
    /// Median over the fastest median of the table (1 for the fastest).
    pub ratio_to_fastest: f64,
    /// Median over each limit kernel's median, in [`Table::limits`] order.
    pub ratio_to_limits: Vec<f64>,
    /// Criterion's page for this benchmark, relative to the Criterion folder,
    /// when that page exists.
    pub page: Option<String>,
}

/// One group at one size: its variants, fastest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub group: String,
    pub size: Option<String>,
    /// The limit kernels measured in this table, one ratio column each.
    pub limits: Vec<String>,
    /// Criterion's page for the whole group (its line chart), when it exists.
    pub group_page: Option<String>,
    pub rows: Vec<Row>,
}

impl Table {
    /// `vector_math, n = 1000`; a size that is not a number stands alone.
    #[must_use]
    pub fn title(&self) -> String {
        match &self.size {
            Some(size) if size.parse::<f64>().is_ok() => format!("{}, n = {size}", self.group),
            Some(size) => format!("{}, {size}", self.group),
            None => self.group.clone(),
        }
    }

    /// A stable HTML id for the table.
    #[must_use]
    pub fn anchor(&self) -> String {
        self.title()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    }
}

/// Every table of one Criterion folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub format: &'static str,
    pub tables: Vec<Table>,
}

/// `format` of the JSON form.
pub const SUMMARY_FORMAT: &str = "proflab-summary/1";

/// Groups results by group and size, orders sizes numerically and variants by
/// median, and computes the ratios. `prefixes` keep only benchmarks whose
/// `group/function` starts with one of them (all when empty).
#[must_use]
pub fn summarize(measured: &[Measured], limits: &[Limit], prefixes: &[String]) -> Summary {
    let mut tables: Vec<Table> = Vec::new();
    for result in measured {
        let id = format!("{}/{}", result.group, result.function);
        if !prefixes.is_empty() && !prefixes.iter().any(|p| id.starts_with(p.as_str())) {
            continue;
        }
        let row = Row {
            function: result.function.clone(),
            median: result.median,
            ratio_to_fastest: f64::NAN,
            ratio_to_limits: Vec::new(),
            page: result.page.clone(),
        };
        match tables
            .iter_mut()
            .find(|t| t.group == result.group && t.size == result.size)
        {
            Some(table) => table.rows.push(row),
            None => tables.push(Table {
                group: result.group.clone(),
                size: result.size.clone(),
                limits: Vec::new(),
                group_page: result.group_page.clone(),
                rows: vec![row],
            }),
        }
    }
    for table in &mut tables {
        table
            .rows
            .sort_by(|a, b| a.median.point_ns.total_cmp(&b.median.point_ns));
        let fastest = table.rows[0].median.point_ns;
        let limit_medians: Vec<(String, f64)> = limits
            .iter()
            .filter(|limit| limit.group == table.group)
            .filter_map(|limit| {
                let row = table.rows.iter().find(|r| r.function == limit.function)?;
                Some((limit.function.clone(), row.median.point_ns))
            })
            .collect();
        table.limits = limit_medians.iter().map(|(name, _)| name.clone()).collect();
        for row in &mut table.rows {
            row.ratio_to_fastest = row.median.point_ns / fastest;
            row.ratio_to_limits = limit_medians
                .iter()
                .map(|(_, limit)| row.median.point_ns / limit)
                .collect();
        }
    }
    tables.sort_by(|a, b| {
        a.group
            .cmp(&b.group)
            .then_with(|| size_order(&a.size, &b.size))
    });
    Summary {
        format: SUMMARY_FORMAT,
        tables,
    }
}

/// Numbers by value, then other sizes by name; no size first.
fn size_order(a: &Option<String>, b: &Option<String>) -> Ordering {
    let number = |s: &Option<String>| s.as_deref().and_then(|s| s.parse::<f64>().ok());
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// A ratio with three significant digits: `1.00`, `12.3`, `456`.
#[must_use]
pub fn human_ratio(ratio: f64) -> String {
    if ratio < 10.0 {
        format!("{ratio:.2}")
    } else if ratio < 100.0 {
        format!("{ratio:.1}")
    } else {
        format!("{ratio:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(group: &str, function: &str, size: Option<&str>, median: f64) -> Measured {
        Measured {
            group: group.into(),
            function: function.into(),
            size: size.map(Into::into),
            median: Estimate {
                point_ns: median,
                lower_ns: median * 0.9,
                upper_ns: median * 1.1,
            },
            page: None,
            group_page: None,
        }
    }

    #[test]
    fn tables_are_per_group_and_size_with_ratios_to_fastest_and_limits() {
        let results = [
            measured("vm", "map", Some("100000"), 400.0),
            measured("vm", "copy", Some("100000"), 100.0),
            measured("vm", "simd_limit", Some("100000"), 200.0),
            measured("vm", "map", Some("1000"), 4.0),
            measured("other", "a", None, 3.0),
        ];
        let limits = ["vm/copy".parse().unwrap(), "vm/simd_limit".parse().unwrap()];
        let summary = summarize(&results, &limits, &[]);
        let titles: Vec<String> = summary.tables.iter().map(Table::title).collect();
        assert_eq!(titles, ["other", "vm, n = 1000", "vm, n = 100000"]);
        let big = &summary.tables[2];
        assert_eq!(big.limits, ["copy", "simd_limit"]);
        let names: Vec<&str> = big.rows.iter().map(|r| r.function.as_str()).collect();
        assert_eq!(names, ["copy", "simd_limit", "map"], "fastest first");
        assert_eq!(big.rows[2].ratio_to_fastest, 4.0);
        assert_eq!(big.rows[2].ratio_to_limits, [4.0, 2.0]);
        // A size without its limit kernels gets no limit columns.
        assert!(summary.tables[1].limits.is_empty());
        assert!(summary.tables[1].rows[0].ratio_to_limits.is_empty());
    }

    #[test]
    fn prefixes_select_benchmarks_by_group_and_function() {
        let results = [
            measured("string_concat/format", "write", Some("10"), 1.0),
            measured("string_concat/pieces", "join", Some("10"), 1.0),
        ];
        let summary = summarize(&results, &[], &["string_concat/pieces".into()]);
        assert_eq!(summary.tables.len(), 1);
        assert_eq!(summary.tables[0].group, "string_concat/pieces");
    }

    #[test]
    fn sizes_sort_as_numbers() {
        let results = [
            measured("g", "f", Some("100000"), 1.0),
            measured("g", "f", Some("10"), 1.0),
            measured("g", "f", Some("1000"), 1.0),
        ];
        let sizes: Vec<String> = summarize(&results, &[], &[])
            .tables
            .into_iter()
            .filter_map(|t| t.size)
            .collect();
        assert_eq!(sizes, ["10", "1000", "100000"]);
    }

    #[test]
    fn ratios_keep_three_significant_digits() {
        assert_eq!(human_ratio(1.0), "1.00");
        assert_eq!(human_ratio(12.34), "12.3");
        assert_eq!(human_ratio(456.7), "457");
    }

    #[test]
    fn limits_need_a_group_and_a_function() {
        for bad in ["copy", "/copy", "vector_math/"] {
            assert!(bad.parse::<Limit>().is_err(), "{bad}");
        }
    }
}
