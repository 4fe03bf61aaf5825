//! Shared set-up for the tutorial's Criterion groups in `benches/`.
//!
//! This is the root package's only library code: the Criterion configuration
//! every group starts from, so that the whole default `cargo bench` stays
//! within its time budget on a 2-core machine. It is not where strategies
//! live: those are the `proflab-concat`, `proflab-sqrt` and `proflab-vecmath`
//! crates, which the benches compare.

use std::time::Duration;

use criterion::Criterion;

/// The configuration every group in `benches/` starts from.
///
/// Criterion's defaults (3 s warm-up, 5 s measurement, 100 samples) would take
/// well over the project's six-minute budget for the full suite; half a second
/// of warm-up and two seconds of measurement keep confidence intervals within
/// a few percent for these nanosecond-to-millisecond fragments. Groups with
/// slow variants shorten it further with `sample_size`. Command-line flags
/// (`--quick`, `--measurement-time`, `--save-baseline`) still override this,
/// because `criterion_group!` applies `configure_from_args` afterwards.
///
/// ```
/// let c = proflab_benches::criterion();
/// drop(c);
/// ```
#[must_use]
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}
