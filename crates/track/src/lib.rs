//! Benchmark history for Criterion output: import what `cargo bench` left under
//! `target/criterion/` (and the instruction counts of `proflab-callgrind`
//! bench targets under `target/proflab-instructions/`), keep it in a SQLite file or a
//! PostgreSQL database that many CI runners share, keyed by commit and machine, compare two commits with statistics that hold on a noisy machine,
//! and export to Bencher Metric Format or github-action-benchmark.
//!
//! It does not run or time anything itself: Criterion measures, this crate
//! remembers and judges. Start from [`History`] (the store) and [`compare()`].

mod bisect;
mod changes;
mod compare;
mod criterion;
mod dashboard;
mod environment;
mod error;
mod export;
mod history;
mod history_table;
mod instructions;
mod model;
mod record;
mod run;
mod stats;

// The boundary: the store, what `track record` imports, the comparison and
// its printers, the history and change-point tables, the dashboard, the
// exports, `track run`, bisection and change points, and the types their
// signatures name. Everything else is `pub(crate)` inside its module.
pub use bisect::{BisectOutcome, BisectStep, bisect, bisect_table};
pub use changes::{
    BenchmarkChange, ChangeOptions, ChangePoint, change_points, changes_table, history_changes,
};
pub use compare::{
    CompareOptions, Comparison, ComparisonReport, TableStyle, Verdict, compare, compare_paired,
    write_json, write_markdown, write_table,
};
pub use criterion::{Benchmark, Freshness, LATEST, Metric, import_criterion_dir, printable};
pub use dashboard::{ReportOptions, write_report};
pub use environment::{Machine, RunContext, git_context, repo_root, rev_parse_or_keep, short_sha};
pub use error::TrackError;
pub use export::{ExportFormat, export};
pub use history::{
    BatchSlot, BatchSummary, Database, History, RunSummary, Side, StoreError, default_db_path,
};
pub use history_table::{RunListing, history_table};
pub use instructions::import_instruction_dir;
pub use model::{CommitSeries, PairedBenchmark, PairedRound, PairedSeries, RunSeries};
pub use proflab_callgrind::REPORT_DIR as INSTRUCTION_REPORT_DIR;
pub use record::{RecordImport, RecordSources, import_for_record};
pub use run::{
    DEFAULT_BUDGET_MINUTES, Interruption, LayoutMode, LayoutSummary, MissingSubmodule,
    PairedOptions, PairedRun, Progress, default_target_dir, rounds_left, run_paired, run_summary,
    wants_another_round,
};
pub use stats::median;
