//! Reading Criterion's folder: `<root>/<benchmark dir>/new/benchmark.json`
//! (what the benchmark is) and `new/estimates.json` (its statistics).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Estimate, SummaryError};

/// One benchmark of the last run.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub group: String,
    pub function: String,
    /// Criterion's parameter (`BenchmarkId::new(function, size)`), if any.
    pub size: Option<String>,
    pub median: Estimate,
    /// `<benchmark dir>/report/index.html` relative to the root, when it exists.
    pub page: Option<String>,
    /// `<group dir>/report/index.html` relative to the root, when it exists.
    pub group_page: Option<String>,
}

/// The fields of Criterion's `benchmark.json` that the summary needs.
#[derive(Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
}

#[derive(Deserialize)]
struct EstimatesJson {
    median: EstimateJson,
}

#[derive(Deserialize)]
struct EstimateJson {
    point_estimate: f64,
    confidence_interval: IntervalJson,
}

#[derive(Deserialize)]
struct IntervalJson {
    lower_bound: f64,
    upper_bound: f64,
}

/// Every benchmark under `root` (normally `target/criterion`), in path order.
///
/// # Errors
/// `root` is missing or holds no results, or a result file cannot be read or
/// is not Criterion's JSON.
pub fn read_criterion(root: &Path) -> Result<Vec<Measured>, SummaryError> {
    if !root.is_dir() {
        return Err(SummaryError::NoCriterionDir(root.to_owned()));
    }
    let mut dirs = Vec::new();
    find_benchmark_dirs(root, &mut dirs)?;
    dirs.sort();
    if dirs.is_empty() {
        return Err(SummaryError::NoBenchmarks(root.to_owned()));
    }
    dirs.iter().map(|dir| read_one(root, dir)).collect()
}

/// Folders holding `new/benchmark.json`. Groups with and without parameters
/// nest at different depths, so the tree is walked; Criterion's own `report`
/// folders and a benchmark's baselines (`base`, named ones) are not entered.
fn find_benchmark_dirs(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), SummaryError> {
    if dir.join("new/benchmark.json").is_file() {
        found.push(dir.to_owned());
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(io_error(dir))?;
    for entry in entries {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        // Not through symlinks: Criterion writes none, and one pointing at
        // a parent folder would make the walk endless.
        let folder = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if folder && entry.file_name() != "report" {
            find_benchmark_dirs(&path, found)?;
        }
    }
    Ok(())
}

fn read_one(root: &Path, dir: &Path) -> Result<Measured, SummaryError> {
    let benchmark: BenchmarkJson = read_json(&dir.join("new/benchmark.json"))?;
    let estimates: EstimatesJson = read_json(&dir.join("new/estimates.json"))?;
    let median = estimates.median;
    let relative = dir.strip_prefix(root).unwrap_or(dir);
    let page = existing_page(root, relative);
    let group_page = relative
        .components()
        .next()
        .and_then(|group_dir| existing_page(root, Path::new(&group_dir)));
    Ok(Measured {
        function: benchmark
            .function_id
            .unwrap_or_else(|| benchmark.group_id.clone()),
        group: benchmark.group_id,
        size: benchmark.value_str,
        median: Estimate {
            point_ns: median.point_estimate,
            lower_ns: median.confidence_interval.lower_bound,
            upper_ns: median.confidence_interval.upper_bound,
        },
        page,
        group_page,
    })
}

/// `dir/report/index.html` as a link relative to `root` (forward slashes),
/// if Criterion drew that page.
fn existing_page(root: &Path, dir: &Path) -> Option<String> {
    let page = dir.join("report").join("index.html");
    root.join(&page).is_file().then(|| {
        page.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    })
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, SummaryError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    serde_json::from_str(&text).map_err(|source| SummaryError::Json {
        path: path.to_owned(),
        source,
    })
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SummaryError + '_ {
    move |source| SummaryError::Io {
        path: path.to_owned(),
        source,
    }
}
