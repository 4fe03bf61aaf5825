//! Reads the instruction-count reports that `proflab-callgrind` bench targets
//! write: `target/proflab-instructions/<bench target>.json`.

use std::path::{Path, PathBuf};

use crate::{Benchmark, Metric, TrackError};

/// Every count under `dir`, ids prefixed by their bench target's name and
/// sorted; none when `dir` does not exist (the metric is optional). A report
/// that cannot be read fails the whole import, so nothing partial is recorded.
pub fn import_instruction_dir(dir: &Path) -> Result<Vec<Benchmark>, TrackError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut benches = Vec::new();
    for path in entries(dir)? {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let target = path.file_stem().unwrap_or_default().to_string_lossy();
        let report = proflab_callgrind::read_report(&path)?;
        benches.extend(report.benchmarks.into_iter().map(|count| Benchmark {
            id: format!("{target}/{}", count.id),
            metric: Metric::Instructions,
            values: vec![count.instructions as f64],
            summary: count.instructions as f64,
        }));
    }
    benches.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(benches)
}

/// The paths of the entries of `dir`, failing with the folder's name.
fn entries(dir: &Path) -> Result<Vec<PathBuf>, TrackError> {
    let io = |source| TrackError::Io {
        path: dir.to_owned(),
        source,
    };
    std::fs::read_dir(dir)
        .map_err(io)?
        .map(|entry| entry.map(|e| e.path()).map_err(io))
        .collect()
}
