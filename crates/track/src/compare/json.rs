//! The comparison as JSON: [`ComparisonReport`]'s `Serialize`, field for field.

use std::io::Write;

use super::judge::ComparisonReport;
use crate::TrackError;

/// The comparison as JSON: the two commits, the batch, one object per
/// benchmark, and the benchmarks one side lacks.
pub fn write_json(out: &mut dyn Write, report: &ComparisonReport) -> Result<(), TrackError> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(|e| TrackError::Output(e.into()))?;
    writeln!(out).map_err(TrackError::Output)
}
