//! Run with: `cargo bench --bench profiler_overhead`
//!
//! What the deterministic profiler costs: an empty function with
//! `#[proflab::profile]` while a profile records, while none does, and
//! without the attribute, beside the cost of the two cycle-counter reads
//! every exactly timed call needs; and the tutorial's hill climb (20 steps of 10x3
//! cross-validation) with and without a profile recording.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use proflab::Profile;
use proflab_perceptron::{
    ClassificationParams, Hyperparameters, SeededRng, TutorialObjective, hill_climb,
    make_classification,
};
use rand::SeedableRng;

#[proflab::profile]
#[inline(never)]
fn instrumented_empty() {
    black_box(());
}

#[inline(never)]
fn plain_empty() {
    black_box(());
}

fn empty_function(c: &mut Criterion) {
    let mut group = c.benchmark_group("profiler_overhead/empty_function");
    // The floor of any exact timing profiler: a profiled call reads the
    // cycle counter twice, on entry and on return.
    let clock = quanta::Clock::new();
    group.bench_function("two_clock_reads", |b| b.iter(|| (clock.raw(), clock.raw())));
    group.bench_function("plain", |b| b.iter(plain_empty));
    group.bench_function("instrumented_disabled", |b| b.iter(instrumented_empty));
    let profile = Profile::new();
    profile.enable();
    group.bench_function("instrumented_profiling", |b| b.iter(instrumented_empty));
    profile.disable();
    group.finish();
}

fn hill_climb_20(data: &proflab_perceptron::Dataset) -> f64 {
    let objective = TutorialObjective::new(data);
    let mut rng = SeededRng::seed_from_u64(1);
    let start = Hyperparameters {
        eta0: 0.5,
        alpha: 0.01,
    };
    hill_climb(
        |config| objective.evaluate(config),
        start,
        20,
        0.1,
        &mut rng,
        |_| {},
    )
    .expect("the tutorial's data cross-validates")
    .score
}

fn tutorial_hill_climb(c: &mut Criterion) {
    let data = make_classification(&ClassificationParams::tutorial())
        .expect("the tutorial's parameters are valid");
    let mut group = c.benchmark_group("profiler_overhead/hill_climb");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function(BenchmarkId::new("unprofiled", 20), |b| {
        b.iter(|| hill_climb_20(&data))
    });
    group.bench_function(BenchmarkId::new("profiled", 20), |b| {
        b.iter(|| {
            let profile = Profile::new();
            profile.run(|| hill_climb_20(&data))
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = proflab_benches::criterion();
    targets = empty_function, tutorial_hill_climb
}
criterion_main!(benches);
