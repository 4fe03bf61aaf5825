//! Reading Criterion's folder, through `proflab_criterion_read`:
//! `<root>/<benchmark dir>/new/benchmark.json` (what the benchmark is) and
//! `new/estimates.json` (its statistics).

use std::path::Path;

use proflab_criterion_read::{
    BenchmarkJson, EstimatesJson, LATEST, read_json, required, result_dirs,
};

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

/// Every benchmark under `root` (normally `target/criterion`), in path order.
///
/// # Errors
/// `root` is missing or holds no results, or a result file cannot be read or
/// is not Criterion's JSON.
pub fn read_criterion(root: &Path) -> Result<Vec<Measured>, SummaryError> {
    if !root.is_dir() {
        return Err(SummaryError::NoCriterionDir(root.to_owned()));
    }
    // Each benchmark's folder holds its `new` results.
    let dirs = result_dirs(root, LATEST)?;
    if dirs.is_empty() {
        return Err(SummaryError::NoBenchmarks(root.to_owned()));
    }
    dirs.iter()
        .map(|new| read_one(root, new.parent().unwrap_or(root)))
        .collect()
}

fn read_one(root: &Path, dir: &Path) -> Result<Measured, SummaryError> {
    let benchmark_path = dir.join("new/benchmark.json");
    let benchmark: BenchmarkJson = read_json(&benchmark_path)?;
    let group = required(benchmark.group_id, &benchmark_path, "group_id")?;
    let estimates_path = dir.join("new/estimates.json");
    let estimates: EstimatesJson = read_json(&estimates_path)?;
    let median = required(estimates.median, &estimates_path, "median")?;
    let interval = required(
        median.confidence_interval,
        &estimates_path,
        "median.confidence_interval",
    )?;
    let relative = dir.strip_prefix(root).unwrap_or(dir);
    let page = existing_page(root, relative);
    let group_page = relative
        .components()
        .next()
        .and_then(|group_dir| existing_page(root, Path::new(&group_dir)));
    Ok(Measured {
        function: benchmark.function_id.unwrap_or_else(|| group.clone()),
        group,
        size: benchmark.value_str,
        median: Estimate {
            point_ns: median.point_estimate,
            lower_ns: interval.lower_bound,
            upper_ns: interval.upper_bound,
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

#[cfg(test)]
mod tests {
    use super::read_criterion;
    use crate::Estimate;

    /// Criterion 0.3.0-0.3.2 wrote `estimates.json` with capitalised keys
    /// (`Mean`, `Median`, ...); the summary once failed on them ("missing
    /// field `median`") while `track` read them.
    #[test]
    fn criterion_0_3_early_estimates_are_read() {
        let root = tempfile::tempdir().unwrap();
        let new = root.path().join("g/f/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"g","function_id":"f","value_str":null,"throughput":null,"full_id":"g/f","directory_name":"g/f","title":"g/f"}"#,
        )
        .unwrap();
        let estimate = |point: f64| {
            format!(
                r#"{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}},"point_estimate":{point},"standard_error":0.5}}"#,
                point - 1.0,
                point + 1.0
            )
        };
        std::fs::write(
            new.join("estimates.json"),
            format!(
                r#"{{"Mean":{},"Median":{},"MedianAbsDev":{},"Slope":{},"StdDev":{}}}"#,
                estimate(10.5),
                estimate(10.0),
                estimate(0.3),
                estimate(10.4),
                estimate(0.4)
            ),
        )
        .unwrap();
        let measured = read_criterion(root.path()).unwrap();
        assert_eq!(measured.len(), 1);
        assert_eq!(
            (measured[0].group.as_str(), measured[0].function.as_str()),
            ("g", "f")
        );
        assert_eq!(
            measured[0].median,
            Estimate {
                point_ns: 10.0,
                lower_ns: 9.0,
                upper_ns: 11.0
            }
        );
    }
}
