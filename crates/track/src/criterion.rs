//! Imports Criterion's on-disk results, as `proflab_criterion_read` reads
//! them: `target/criterion/<group>/<function>[/<value>]/new/{benchmark.json,
//! estimates.json,sample.json}` (the folder names are Criterion's
//! `directory_name`, sanitized and truncated, so the id is read from
//! `benchmark.json`, never rebuilt from the path), into the values history
//! keeps, refusing what no analysis could use.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub use proflab_criterion_read::LATEST;
use proflab_criterion_read::{BenchmarkJson, EstimatesJson, SampleJson, read_json, required};

use crate::TrackError;

/// What a benchmark's values measure; time unless recorded otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Wall-clock nanoseconds per iteration, one value per Criterion sample: noisy.
    #[default]
    TimeNs,
    /// Instructions executed (callgrind's `Ir`), one value per run: deterministic.
    Instructions,
}

impl Metric {
    /// The name stored in the history database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::TimeNs => "time_ns",
            Metric::Instructions => "instructions",
        }
    }

    /// The metric stored as `name`; unknown names (from a newer proflab) read as time.
    #[must_use]
    pub fn from_stored(name: &str) -> Metric {
        if name == "instructions" {
            Metric::Instructions
        } else {
            Metric::TimeNs
        }
    }
}

/// One benchmark's raw result.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    /// Criterion's `full_id`, e.g. `string_concat/push_str/1000`, or for
    /// instruction counts `<bench target>/<id>`: the key history uses.
    pub id: String,
    pub metric: Metric,
    /// For time, each sample's time divided by its iteration count, in
    /// nanoseconds; for instructions, the one count.
    pub values: Vec<f64>,
    /// Criterion's own point estimate of the mean (the count for
    /// instructions), kept for exports.
    pub summary: f64,
}

/// The most values one benchmark of one run may hold. Criterion writes its
/// sample size (100 by default); a hundred times that is already far past
/// any real use, and keeps every comparison's resampling fast.
pub const MAX_VALUES: usize = 10_000;

/// The longest benchmark id accepted, in bytes: Criterion's ids are a group,
/// a function and a value, far shorter; a longer one is a mistake, and a
/// table cannot lay it out.
pub const MAX_ID_BYTES: usize = 1024;

/// The range a stored value must lie in: a nanosecond (or instruction) count
/// every statistic can take ratios, squares and sums of without overflowing.
/// Criterion's times per iteration of code optimized away are still above
/// a billionth of a nanosecond; a billion seconds per iteration is no
/// benchmark.
pub const VALUE_RANGE: std::ops::RangeInclusive<f64> = 1e-9..=1e18;

pub use proflab_output::printable;

/// An id in an error message: printable, and cut to its first 80 characters.
pub(crate) fn shown_id(id: &str) -> String {
    let printable = printable(id);
    match printable.char_indices().nth(80) {
        Some((end, _)) => format!("{}… ({} bytes)", &printable[..end], id.len()),
        None => printable.into_owned(),
    }
}

impl Benchmark {
    /// Checks what every analysis and printer assumes: an id of at most
    /// [`MAX_ID_BYTES`] without control characters, at least one value,
    /// each in [`VALUE_RANGE`], and a finite summary.
    pub fn validate(&self) -> Result<(), TrackError> {
        let invalid = |reason: &str| TrackError::InvalidBenchmark {
            id: self.id.clone(),
            reason: reason.to_owned(),
        };
        if self.id.is_empty() {
            return Err(invalid("the id is empty"));
        }
        if self.id.len() > MAX_ID_BYTES {
            return Err(invalid(&format!(
                "the id is {} bytes long, more than the {MAX_ID_BYTES} an id may have",
                self.id.len()
            )));
        }
        if self.id.chars().any(char::is_control) {
            return Err(invalid(
                "the id holds a control character (a newline, tab, escape or NUL); rename the benchmark",
            ));
        }
        if self.values.is_empty() {
            return Err(invalid("no values"));
        }
        if self.values.len() > MAX_VALUES {
            return Err(invalid(&format!(
                "{} values, more than the {MAX_VALUES} a benchmark may hold",
                self.values.len()
            )));
        }
        if let Some(bad) = self.values.iter().find(|v| !VALUE_RANGE.contains(*v)) {
            return Err(invalid(&format!(
                "a value is {bad:e}, not a time per iteration or count proflab can compare (from {:e} to {:e})",
                VALUE_RANGE.start(),
                VALUE_RANGE.end()
            )));
        }
        if !self.summary.is_finite() {
            return Err(invalid(&format!("the summary is {}", self.summary)));
        }
        Ok(())
    }
}

/// Reads every benchmark under `dir` (usually `target/criterion`), sorted by id.
/// Any unreadable file fails the whole import, so nothing partial is recorded.
///
/// ```no_run
/// let benches = proflab_track::import_criterion_dir("target/criterion".as_ref())?;
/// println!("{} benchmarks", benches.len());
/// # Ok::<(), proflab_track::TrackError>(())
/// ```
pub fn import_criterion_dir(dir: &Path) -> Result<Vec<Benchmark>, TrackError> {
    Ok(read_results(dir, LATEST)?
        .into_iter()
        .map(|(bench, _)| bench)
        .collect())
}

/// Every benchmark under `dir` with its result folder named `folder`, sorted by id.
fn read_results(dir: &Path, folder: &str) -> Result<Vec<(Benchmark, PathBuf)>, TrackError> {
    if !dir.is_dir() {
        return Err(TrackError::NoCriterionDir {
            path: dir.to_owned(),
        });
    }
    let found = proflab_criterion_read::result_dirs(dir, folder)?;
    let mut benches = found
        .into_iter()
        .map(|new| read_benchmark(&new).map(|bench| (bench, new)))
        .collect::<Result<Vec<_>, _>>()?;
    if benches.is_empty() {
        return Err(TrackError::NoBenchmarks {
            path: dir.to_owned(),
        });
    }
    benches.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    Ok(benches)
}

/// Which of Criterion's results `record` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// What the latest `cargo bench` wrote: the newest result, and every
    /// result written less than [`SESSION_GAP`] before the next newer one.
    LatestSession,
    /// Results written at or after this time.
    Since(SystemTime),
    /// Everything, however old.
    All,
}

/// Two results further apart in time than this were not written by the same
/// `cargo bench` (one benchmark, warm-up and analysis included, takes seconds
/// to a minute or two).
pub const SESSION_GAP: Duration = Duration::from_secs(10 * 60);

/// Benchmarks read from a Criterion folder, and the ids of those left out as stale.
#[derive(Debug, Clone)]
pub(crate) struct Import {
    pub benchmarks: Vec<Benchmark>,
    pub stale: Vec<String>,
}

/// Reads the benchmarks under `dir` that `freshness` admits, naming the
/// others: a result left behind by an older `cargo bench` (a renamed or
/// filtered-out benchmark) is not the commit being recorded. `folder` is
/// [`LATEST`], or the name given to Criterion's `--save-baseline`.
pub(crate) fn import_fresh(
    dir: &Path,
    folder: &str,
    freshness: Freshness,
) -> Result<Import, TrackError> {
    let results = read_results(dir, folder)?;
    let mut written: Vec<(SystemTime, Benchmark)> = Vec::with_capacity(results.len());
    for (bench, new) in results {
        let sample = new.join("sample.json");
        let time = std::fs::metadata(&sample)
            .and_then(|m| m.modified())
            .map_err(|source| TrackError::Io {
                path: sample.clone(),
                source,
            })?;
        written.push((time, bench));
    }
    written.sort_by_key(|w| std::cmp::Reverse(w.0));
    let cutoff = match freshness {
        Freshness::All => SystemTime::UNIX_EPOCH,
        Freshness::Since(time) => time,
        Freshness::LatestSession => {
            let mut cutoff = written.first().map_or(SystemTime::UNIX_EPOCH, |w| w.0);
            for pair in written.windows(2) {
                match pair[0].0.duration_since(pair[1].0) {
                    Ok(gap) if gap > SESSION_GAP => break,
                    _ => cutoff = pair[1].0,
                }
            }
            cutoff
        }
    };
    let (fresh, stale): (Vec<_>, Vec<_>) =
        written.into_iter().partition(|(time, _)| *time >= cutoff);
    let mut benchmarks: Vec<Benchmark> = fresh.into_iter().map(|(_, b)| b).collect();
    benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
    let mut stale: Vec<String> = stale.into_iter().map(|(_, b)| b.id).collect();
    stale.sort();
    if benchmarks.is_empty() {
        return Err(TrackError::NoBenchmarks {
            path: dir.to_owned(),
        });
    }
    Ok(Import { benchmarks, stale })
}

fn read_benchmark(new: &Path) -> Result<Benchmark, TrackError> {
    let meta_path = new.join("benchmark.json");
    let meta: BenchmarkJson = read_json(&meta_path)?;
    let full_id = required(meta.full_id, &meta_path, "full_id")?;
    let sample_path = new.join("sample.json");
    let (iters, times) = read_json::<SampleJson>(&sample_path)?.into_parts();
    let estimates_path = new.join("estimates.json");
    let estimates: EstimatesJson = read_json(&estimates_path)?;
    let mean = required(estimates.mean, &estimates_path, "mean")?;
    let bad = |reason: &str| TrackError::BadSample {
        path: sample_path.clone(),
        reason: reason.to_owned(),
    };
    if iters.len() != times.len() {
        return Err(bad("`iters` and `times` differ in length"));
    }
    if iters.len() < 2 {
        return Err(bad("fewer than two samples"));
    }
    let values = times
        .iter()
        .zip(&iters)
        .map(|(&t, &n)| {
            let per_iteration = t / n;
            if n > 0.0 && t.is_finite() && t >= 0.0 && per_iteration.is_finite() {
                Ok(per_iteration)
            } else {
                Err(bad(
                    "a sample has a non-positive iteration count, an invalid time, or a time per iteration too large to hold",
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let benchmark = Benchmark {
        id: full_id,
        metric: Metric::TimeNs,
        values,
        summary: mean.point_estimate,
    };
    benchmark
        .validate()
        .map_err(|error| TrackError::BadSample {
            path: new.to_owned(),
            reason: error.to_string(),
        })?;
    Ok(benchmark)
}
