//! The typed series analysis works on. [`crate::History`] loads them once;
//! everything downstream ([`crate::compare()`], the dashboard, the exports) reads
//! these instead of the database.

use std::collections::{BTreeMap, BTreeSet};

use crate::Metric;

/// One benchmark's values at one commit, one vector per run, oldest first:
/// per-iteration nanoseconds (a run's samples) or one instruction count.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSeries {
    pub metric: Metric,
    pub runs: Vec<Vec<f64>>,
}

impl RunSeries {
    /// Every run's values in one list.
    #[must_use]
    pub fn pooled(&self) -> Vec<f64> {
        self.runs.concat()
    }
}

/// Everything recorded for one commit (plain `record` runs and `track run`
/// rounds alike), as independent runs: what an unpaired comparison and the
/// dashboard's points read.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitSeries {
    pub commit: String,
    pub machines: BTreeSet<String>,
    pub benchmarks: BTreeMap<String, RunSeries>,
}

/// One round of a paired run for one benchmark: A's and B's values,
/// measured back to back.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedRound {
    pub round: i64,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
}

/// One benchmark's rounds in a batch, in round order.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedBenchmark {
    pub metric: Metric,
    pub rounds: Vec<PairedRound>,
}

/// What one `track run` (a batch) recorded for its two commits, paired
/// round by round and never with runs from outside the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedSeries {
    pub batch: i64,
    pub a: String,
    pub b: String,
    pub machines: BTreeSet<String>,
    /// Benchmarks with at least one round on both sides.
    pub benchmarks: BTreeMap<String, PairedBenchmark>,
    /// Benchmarks measured on one side only (new in B, or gone from it).
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
    /// Benchmarks not measured: their executable's code was the same on both sides.
    pub identical_code: Vec<String>,
}

impl PairedSeries {
    /// The same batch seen from the other side: B becomes the baseline.
    #[must_use]
    pub fn swapped(self) -> PairedSeries {
        PairedSeries {
            batch: self.batch,
            a: self.b,
            b: self.a,
            machines: self.machines,
            benchmarks: self
                .benchmarks
                .into_iter()
                .map(|(id, bench)| {
                    let rounds = bench
                        .rounds
                        .into_iter()
                        .map(|r| PairedRound {
                            round: r.round,
                            a: r.b,
                            b: r.a,
                        })
                        .collect();
                    (
                        id,
                        PairedBenchmark {
                            metric: bench.metric,
                            rounds,
                        },
                    )
                })
                .collect(),
            only_a: self.only_b,
            only_b: self.only_a,
            identical_code: self.identical_code,
        }
    }
}
