//! Exports one commit's results to the JSON that hosted trackers read.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;

use crate::compare::median_interval;
use crate::stats::{Estimate, Interval};
use crate::{CompareOptions, History, Metric, TrackError};

/// The target format of [`export`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Bencher Metric Format: `{"<bench>": {"latency": {"value", "lower_value", "upper_value"}}}`
    /// in ns, or `{"instructions": {"value"}}` for instruction counts.
    Bmf,
    /// github-action-benchmark's `customSmallerIsBetter` array.
    GithubActionBenchmark,
}

/// Writes the median and its 95% bootstrap interval of every benchmark of `commit`.
pub fn export(
    history: &History,
    commit: &str,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<(), TrackError> {
    let commit = history.resolve(commit)?;
    let series = history.commit_series(&commit)?;
    let options = CompareOptions::default();
    let summary: Vec<(String, Metric, Estimate)> = series
        .benchmarks
        .iter()
        .map(|(id, s)| {
            let median = median_interval(&s.pooled(), &options);
            (id.clone(), s.metric, median)
        })
        .collect();
    let value = match format {
        ExportFormat::Bmf => {
            let map: BTreeMap<_, _> = summary
                .iter()
                .map(|(id, metric, median)| {
                    let (m, lo, hi) = (median.point, median.interval.low, median.interval.high);
                    let measure = match metric {
                        Metric::TimeNs => {
                            json!({"latency": {"value": m, "lower_value": lo, "upper_value": hi}})
                        }
                        Metric::Instructions => json!({"instructions": {"value": m}}),
                    };
                    (id.clone(), measure)
                })
                .collect();
            json!(map)
        }
        ExportFormat::GithubActionBenchmark => json!(
            summary
                .iter()
                .map(|(id, metric, median)| {
                    let Interval { low, high } = median.interval;
                    json!({
                        "name": id,
                        "unit": match metric {
                            Metric::TimeNs => "ns/iter",
                            Metric::Instructions => "instructions",
                        },
                        "value": median.point,
                        "range": format!("± {:.3}", (high - low) / 2.0),
                        "extra": format!("commit {commit}, 95% CI [{low:.3}, {high:.3}]"),
                    })
                })
                .collect::<Vec<_>>()
        ),
    };
    serde_json::to_writer_pretty(&mut *out, &value).map_err(|e| TrackError::Output(e.into()))?;
    writeln!(out).map_err(TrackError::Output)
}
