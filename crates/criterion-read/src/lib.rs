//! Criterion's on-disk results, read the one way `proflab summary` and
//! `proflab track` both need: the result folders under `target/criterion`
//! (found by walking, since groups with and without values nest at different
//! depths), and the JSON files in each, in the shapes every Criterion from
//! 0.3.0 to 0.8 writes (`estimates.json` had capitalised keys and
//! `sample.json` a pair of arrays before 0.3.3). And [`format_time`], the one
//! way proflab prints a time Criterion measured.
//!
//! It does not decide what a result means: each tool takes the fields it
//! needs and says, with [`required`], which it cannot do without. Start from
//! [`result_dirs`].

mod time;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use time::format_time;

/// The folder where Criterion keeps each benchmark's latest result.
pub const LATEST: &str = "new";

/// A result file that could not be read, naming it.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not Criterion's JSON")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// `benchmark.json`: which benchmark a result folder holds. Criterion
/// writes every field; a tool requires those it uses ([`required`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BenchmarkJson {
    pub group_id: Option<String>,
    /// `None` for a plain `bench_function`, whose id is its group's.
    pub function_id: Option<String>,
    /// The parameter of `BenchmarkId::new(function, value)`, if any.
    pub value_str: Option<String>,
    /// `group/function/value`: the id that names a benchmark everywhere.
    pub full_id: Option<String>,
}

/// `estimates.json`: the statistics Criterion computed over the samples.
/// Lower-case keys since Criterion 0.3.3, `Mean`, `Median`, ... before.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EstimatesJson {
    #[serde(alias = "Mean")]
    pub mean: Option<EstimateJson>,
    #[serde(alias = "Median")]
    pub median: Option<EstimateJson>,
}

/// One statistic of `estimates.json`, in nanoseconds per iteration.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct EstimateJson {
    pub point_estimate: f64,
    pub confidence_interval: Option<ConfidenceIntervalJson>,
}

/// The bounds of a statistic's confidence interval (95% unless configured).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct ConfidenceIntervalJson {
    pub lower_bound: f64,
    pub upper_bound: f64,
}

/// `sample.json`: each sample's iteration count and total time in
/// nanoseconds. An object since Criterion 0.3.3, a pair of arrays
/// `[[iters...], [times...]]` in 0.3.0-0.3.2.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum SampleJson {
    Object { iters: Vec<f64>, times: Vec<f64> },
    Pair(Vec<f64>, Vec<f64>),
}

impl SampleJson {
    /// The iteration counts and the times, in sample order.
    #[must_use]
    pub fn into_parts(self) -> (Vec<f64>, Vec<f64>) {
        match self {
            SampleJson::Object { iters, times } | SampleJson::Pair(iters, times) => (iters, times),
        }
    }
}

/// Every result folder named `folder` ([`LATEST`], or a baseline's name)
/// under `root` that holds a `benchmark.json`, in path order. Criterion's
/// `report` folders are not entered, nor symlinks to folders: Criterion
/// writes none, and two pointing at `.` would make the walk endless.
///
/// # Errors
/// A folder that cannot be listed, named.
pub fn result_dirs(root: &Path, folder: &str) -> Result<Vec<PathBuf>, ReadError> {
    let mut found = Vec::new();
    walk(root, folder, &mut found)?;
    found.sort();
    Ok(found)
}

fn walk(dir: &Path, folder: &str, found: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let io = |source| ReadError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if !std::fs::symlink_metadata(&path).is_ok_and(|metadata| metadata.is_dir()) {
            continue;
        }
        let name = path.file_name().unwrap_or_default();
        if name == folder && path.join("benchmark.json").is_file() {
            found.push(path);
        } else if name != "report" {
            walk(&path, folder, found)?;
        }
    }
    Ok(())
}

/// Reads and parses one of Criterion's JSON files.
///
/// # Errors
/// The file cannot be read, or is not JSON of that shape.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, ReadError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ReadError::Json {
        path: path.to_owned(),
        source,
    })
}

/// `value`, the field `field` of the file at `path`, which the caller cannot
/// do without; its absence is the error serde gives for a missing field.
///
/// # Errors
/// [`ReadError::Json`] naming the file and the field when `value` is `None`.
pub fn required<T>(value: Option<T>, path: &Path, field: &'static str) -> Result<T, ReadError> {
    value.ok_or_else(|| ReadError::Json {
        path: path.to_owned(),
        source: serde::de::Error::missing_field(field),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESTIMATE: &str = r#"{"confidence_interval":{"confidence_level":0.95,"lower_bound":9.0,"upper_bound":11.0},"point_estimate":10.5,"standard_error":0.5}"#;

    #[test]
    fn estimates_read_with_either_key_spelling() {
        let early: EstimatesJson = serde_json::from_str(&format!(
            r#"{{"Mean":{ESTIMATE},"Median":{ESTIMATE},"MedianAbsDev":{ESTIMATE},"Slope":{ESTIMATE},"StdDev":{ESTIMATE}}}"#
        ))
        .unwrap();
        let late: EstimatesJson = serde_json::from_str(&format!(
            r#"{{"mean":{ESTIMATE},"median":{ESTIMATE},"median_abs_dev":{ESTIMATE},"slope":null,"std_dev":{ESTIMATE}}}"#
        ))
        .unwrap();
        assert_eq!(early, late);
        let median = early.median.unwrap();
        assert_eq!(median.point_estimate, 10.5);
        assert_eq!(median.confidence_interval.unwrap().upper_bound, 11.0);
    }

    #[test]
    fn samples_read_in_both_shapes() {
        let pair: SampleJson = serde_json::from_str("[[1.0,2.0],[10.0,22.0]]").unwrap();
        let object: SampleJson = serde_json::from_str(
            r#"{"sampling_mode":"Linear","iters":[1.0,2.0],"times":[10.0,22.0]}"#,
        )
        .unwrap();
        assert_eq!(pair.into_parts(), object.into_parts());
    }

    #[test]
    fn a_missing_field_names_the_file_and_the_field() {
        let path = Path::new("g/f/new/benchmark.json");
        let error = required(None::<String>, path, "full_id").unwrap_err();
        assert_eq!(
            error.to_string(),
            "g/f/new/benchmark.json: not Criterion's JSON"
        );
        let source = std::error::Error::source(&error).unwrap().to_string();
        assert!(source.contains("full_id"), "{source}");
    }

    #[test]
    fn the_walk_finds_results_at_any_depth_and_skips_reports_and_baselines() {
        let root = tempfile::tempdir().unwrap();
        for dir in ["g/f/10/new", "g/f/10/base", "plain/new", "g/report/new"] {
            let dir = root.path().join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("benchmark.json"), "{}").unwrap();
        }
        let found = result_dirs(root.path(), LATEST).unwrap();
        let relative: Vec<&Path> = found
            .iter()
            .map(|dir| dir.strip_prefix(root.path()).unwrap())
            .collect();
        assert_eq!(relative, [Path::new("g/f/10/new"), Path::new("plain/new")]);
    }
}
