//! Commit-to-commit comparison: per benchmark a ratio B/A with a 95% interval
//! and the p-value of a change beyond the threshold, corrected by
//! Benjamini-Hochberg across all benchmarks compared, and a verdict that
//! needs both to agree.
//!
//! Three steps, one module each: [`select`] picks from the store which
//! runs are compared (a batch's paired rounds, or every run of each commit)
//! and loads them as the typed series of [`crate::model`]; [`judge`] is pure
//! statistics on those series, giving a [`ComparisonReport`]; [`table`],
//! [`markdown`] and [`json`] print a report and nothing else.

mod format;
mod json;
mod judge;
mod markdown;
mod select;
mod table;

pub use json::write_json;
pub use judge::{CompareOptions, Comparison, ComparisonReport, Verdict, compare_paired};
pub(crate) use judge::{compare_runs, median_interval};
pub use markdown::write_markdown;
pub use select::compare;
pub use table::{TableStyle, write_table};

#[cfg(test)]
pub(crate) use judge::tests;
