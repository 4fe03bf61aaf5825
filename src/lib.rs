//! Shared set-up for the tutorial's Criterion groups in `benches/`.
//!
//! This is the root package's only library code: the Criterion configuration
//! every group starts from, so that the whole default `cargo bench` stays
//! within its time budget on a 2-core machine, and the sampling profiler that
//! `cargo bench --bench NAME -- --profile-time 5` runs to draw a flamegraph of
//! each benchmark. It is not where strategies live: those are the
//! `proflab-concat`, `proflab-sqrt` and `proflab-vecmath` crates, which the
//! benches compare.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::profiler::Profiler;
use criterion::{AxisScale, Criterion, PlotConfiguration};
use pprof::ProfilerGuard;

/// How often the sampling profiler interrupts the benchmark, in Hz: often
/// enough that a 5-second `--profile-time` run collects thousands of stacks,
/// rarely enough that the signal handler's own cost stays in the noise.
const SAMPLING_FREQUENCY_HZ: i32 = 997;

/// The configuration every group in `benches/` starts from.
///
/// Criterion's defaults (3 s warm-up, 5 s measurement, 100 samples) would take
/// well over the project's six-minute budget for the full suite of about a
/// hundred benchmarks; 0.3 s of warm-up, one second of measurement and 30
/// samples keep confidence intervals within a few percent for these
/// nanosecond-to-millisecond fragments. Criterion's 100 000 bootstrap
/// resamples cost about three seconds per benchmark in the HTML report's
/// density plots (measured: 40 s for the 8 `sqrt_scalar` benchmarks with
/// plots, 13 s without); 10 000 keep the intervals' Monte Carlo error near
/// 1% of their width and the plots under half a second. Groups with variants slower than
/// about 10 ms switch those to flat sampling with Criterion's minimum of 10. Command-line flags
/// (`--quick`, `--measurement-time`, `--save-baseline`, `--profile-time`)
/// still override this, because `criterion_group!` applies
/// `configure_from_args` afterwards.
///
/// ```
/// let c = proflab_benches::criterion();
/// drop(c);
/// ```
#[must_use]
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30)
        .nresamples(10_000)
        .with_profiler(FlamegraphProfiler::default())
}

/// The plot configuration of groups whose sizes span decades (`vector_math`,
/// `string_concat`): logarithmic axes in the report's line chart. On Criterion's
/// default linear axes every size below the largest sits on the axis.
///
/// ```
/// let mut c = proflab_benches::criterion();
/// c.benchmark_group("sizes").plot_config(proflab_benches::log_axes());
/// ```
#[must_use]
pub fn log_axes() -> PlotConfiguration {
    PlotConfiguration::default().summary_scale(AxisScale::Logarithmic)
}

/// Criterion's profiling hook: while `--profile-time` runs a benchmark, samples
/// its call stacks with `pprof` and writes them as `flamegraph.svg` in the
/// benchmark's `profile/` directory, e.g.
/// `target/criterion/vector_math/map_collect/1000/profile/flamegraph.svg`.
///
/// Sampling sees what an instrumenting profiler cannot: code it never
/// annotated, inlined callees and the standard library. Function names come
/// from the line tables that `[profile.bench]` keeps.
#[derive(Default)]
pub struct FlamegraphProfiler {
    active: Option<ProfilerGuard<'static>>,
}

impl Profiler for FlamegraphProfiler {
    fn start_profiling(&mut self, benchmark_id: &str, _benchmark_dir: &Path) {
        // Criterion's hook cannot return an error; a failed start only loses
        // the picture, so say so and let the benchmark run on.
        match ProfilerGuard::new(SAMPLING_FREQUENCY_HZ) {
            Ok(guard) => self.active = Some(guard),
            Err(error) => eprintln!("proflab: cannot sample {benchmark_id}: {error}"),
        }
    }

    fn stop_profiling(&mut self, benchmark_id: &str, benchmark_dir: &Path) {
        let Some(guard) = self.active.take() else {
            return;
        };
        match write_flamegraph(&guard, benchmark_dir) {
            Ok(path) => eprintln!("proflab: flamegraph of {benchmark_id}: {}", path.display()),
            Err(error) => eprintln!("proflab: no flamegraph for {benchmark_id}: {error}"),
        }
    }
}

/// Resolves the sampled stacks and draws them into `dir/flamegraph.svg`.
fn write_flamegraph(
    guard: &ProfilerGuard<'_>,
    dir: &Path,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("flamegraph.svg");
    let report = guard.report().build()?;
    report.flamegraph(BufWriter::new(File::create(&path)?))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy_work() -> u64 {
        (0..20_000_000u64).fold(0, |acc, x| {
            std::hint::black_box(acc.wrapping_mul(31).wrapping_add(x))
        })
    }

    #[test]
    fn profiling_a_busy_loop_writes_a_flamegraph_that_names_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut profiler = FlamegraphProfiler::default();
        profiler.start_profiling("busy", dir.path());
        std::hint::black_box(busy_work());
        profiler.stop_profiling("busy", dir.path());
        let svg = std::fs::read_to_string(dir.path().join("flamegraph.svg")).expect("svg written");
        assert!(
            svg.starts_with("<?xml"),
            "not an SVG: {}",
            &svg[..svg.len().min(80)]
        );
        assert!(
            svg.contains("busy_work"),
            "the sampled function is not named in the flamegraph"
        );
    }

    /// The points' centres in Criterion's line chart, as (x, y) pixels.
    fn circles(svg: &str) -> Vec<(f64, f64)> {
        let attribute = |tag: &str, name: &str| -> f64 {
            let start = tag.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
            tag[start..]
                .split('"')
                .next()
                .unwrap()
                .parse()
                .expect("number")
        };
        svg.split("<circle")
            .skip(1)
            .map(|tag| (attribute(tag, "cx"), attribute(tag, "cy")))
            .collect()
    }

    #[test]
    fn log_axes_spread_sizes_a_decade_apart_evenly_in_the_line_chart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut c = Criterion::default()
            .output_directory(dir.path())
            .plotting_backend(criterion::PlottingBackend::Plotters)
            .warm_up_time(Duration::from_millis(10))
            .measurement_time(Duration::from_millis(50))
            .sample_size(10)
            .nresamples(1000);
        let mut group = c.benchmark_group("decades");
        group.plot_config(log_axes());
        for n in [10u64, 1000, 100_000] {
            group.bench_with_input(criterion::BenchmarkId::new("sum", n), &n, |b, &n| {
                b.iter(|| (0..n).fold(0u64, |sum, i| std::hint::black_box(sum + i)));
            });
        }
        group.finish();
        let svg = std::fs::read_to_string(dir.path().join("decades/report/lines.svg"))
            .expect("Criterion drew the line chart");
        let points = circles(&svg);
        assert_eq!(points.len(), 3, "{points:?}");
        let mut points = points;
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Sizes 10, 1000, 100 000: equal gaps on a log axis; on a linear
        // one the first gap would be 1% of the second (both points on the axis).
        let (gap_x1, gap_x2) = (points[1].0 - points[0].0, points[2].0 - points[1].0);
        assert!(
            gap_x1 > 50.0 && (0.8..1.25).contains(&(gap_x1 / gap_x2)),
            "x: {points:?}"
        );
        // Time grows with n; the fixed cost of a call shrinks the first gap,
        // but not to the 1% a linear axis would give.
        let (gap_y1, gap_y2) = (points[0].1 - points[1].1, points[1].1 - points[2].1);
        assert!(gap_y1 > 20.0 && gap_y1 / gap_y2 > 0.2, "y: {points:?}");
    }

    #[test]
    fn stopping_without_starting_writes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut profiler = FlamegraphProfiler::default();
        profiler.stop_profiling("never-started", dir.path());
        assert!(!dir.path().join("flamegraph.svg").exists());
    }
}
