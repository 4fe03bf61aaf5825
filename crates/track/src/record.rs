//! What `track record` takes from the folders a `cargo bench` wrote: the
//! instruction counts of `proflab-callgrind` bench targets, and the Criterion
//! results that [`Freshness`] admits, naming those it leaves out. (`track
//! run` imports its own rounds, in `run/`.)

use std::path::{Path, PathBuf};

use crate::criterion::import_fresh;
use crate::{
    Benchmark, Freshness, INSTRUCTION_REPORT_DIR, LATEST, TrackError, import_instruction_dir,
};

/// Where `track record` reads one commit's results, and which of
/// Criterion's it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSources {
    /// Criterion's output folder.
    pub criterion_dir: PathBuf,
    /// The result folder read in each benchmark's: [`LATEST`], or a name
    /// given to Criterion's `--save-baseline`.
    pub baseline: String,
    /// Which of Criterion's results are the commit's.
    pub freshness: Freshness,
    /// The instruction-count reports.
    pub instructions_dir: PathBuf,
}

impl RecordSources {
    /// What the latest `cargo bench` wrote into Cargo's target folder
    /// `target`: `criterion/` and `proflab-instructions/`.
    #[must_use]
    pub fn latest_in(target: &Path) -> RecordSources {
        RecordSources {
            criterion_dir: target.join("criterion"),
            baseline: LATEST.to_owned(),
            freshness: Freshness::LatestSession,
            instructions_dir: target.join(INSTRUCTION_REPORT_DIR),
        }
    }
}

/// One commit's results, as `track record` stores them.
#[derive(Debug, Clone)]
pub struct RecordImport {
    /// The instruction counts, then the Criterion results, each sorted by id.
    pub benchmarks: Vec<Benchmark>,
    /// How many of `benchmarks` are instruction counts.
    pub instruction_counts: usize,
    /// The ids of the Criterion results left out as older than
    /// [`RecordSources::freshness`] admits.
    pub stale: Vec<String>,
}

/// Reads what `sources` name. Instruction counts alone are a complete
/// record, so with some the Criterion folder may be missing; with none, a
/// missing folder is [`TrackError::NoCriterionDir`]. Any unreadable file
/// fails the whole import, so nothing partial is recorded.
pub fn import_for_record(sources: &RecordSources) -> Result<RecordImport, TrackError> {
    let mut benchmarks = import_instruction_dir(&sources.instructions_dir)?;
    let instruction_counts = benchmarks.len();
    let mut stale = Vec::new();
    match import_fresh(&sources.criterion_dir, &sources.baseline, sources.freshness) {
        Ok(timed) => {
            benchmarks.extend(timed.benchmarks);
            stale = timed.stale;
        }
        Err(TrackError::NoCriterionDir { .. }) if instruction_counts > 0 => {}
        Err(error) => return Err(error),
    }
    Ok(RecordImport {
        benchmarks,
        instruction_counts,
        stale,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{RecordSources, import_for_record};
    use crate::{Metric, TrackError};

    fn instruction_report(target: &Path) {
        let dir = target.join("proflab-instructions");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("counts.json"),
            r#"{"format":"proflab-instructions/1","benchmarks":[{"id":"sum","instructions":1200}]}"#,
        )
        .unwrap();
    }

    fn criterion_result(target: &Path) {
        let new = target.join("criterion/g/f/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), r#"{"full_id":"g/f"}"#).unwrap();
        std::fs::write(
            new.join("sample.json"),
            r#"{"iters":[1.0,2.0],"times":[100.0,210.0]}"#,
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"mean":{"point_estimate":102.5}}"#,
        )
        .unwrap();
    }

    #[test]
    fn instruction_counts_alone_are_a_record_and_nothing_is_an_error() {
        let target = tempfile::tempdir().unwrap();
        let sources = RecordSources::latest_in(target.path());
        assert!(matches!(
            import_for_record(&sources),
            Err(TrackError::NoCriterionDir { path }) if path == target.path().join("criterion")
        ));

        instruction_report(target.path());
        let counts_only = import_for_record(&sources).unwrap();
        assert_eq!(counts_only.instruction_counts, 1);
        assert_eq!(counts_only.benchmarks[0].id, "counts/sum");

        criterion_result(target.path());
        let both = import_for_record(&sources).unwrap();
        let read: Vec<(&str, Metric)> = both
            .benchmarks
            .iter()
            .map(|bench| (bench.id.as_str(), bench.metric))
            .collect();
        assert_eq!(
            read,
            [
                ("counts/sum", Metric::Instructions),
                ("g/f", Metric::TimeNs)
            ]
        );
        assert_eq!(both.instruction_counts, 1);
        assert!(both.stale.is_empty());
    }
}
