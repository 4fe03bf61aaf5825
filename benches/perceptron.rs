//! Run with: `cargo bench --bench perceptron`
//!
//! The tutorial's profiled program, piece by piece, on its 1000 x 5 dataset:
//! one perceptron fit, the 30 fits of one 10x3 cross-validation, one
//! cross-validation, one objective evaluation and a short hill climb, each
//! one fit at a time (`sequential`), several fits interleaved in one loop on
//! one core (`interleaved`), and interleaved on each of rayon's threads
//! (`parallel`).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use proflab_perceptron::{
    ClassificationParams, Execution, Hyperparameters, Penalty, Perceptron, RepeatedStratifiedKFold,
    SeededRng, TutorialObjective, cross_val_score, hill_climb, make_classification,
};
use rand::SeedableRng;

const EXECUTIONS: [(&str, Execution); 3] = [
    ("sequential", Execution::Sequential),
    ("interleaved", Execution::Interleaved),
    ("parallel", Execution::Parallel),
];

/// The configuration the tutorial's search typically reaches.
const CONFIG: Hyperparameters = Hyperparameters {
    eta0: 1.0,
    alpha: 0.0001,
};

fn perceptron(c: &mut Criterion) {
    let data = make_classification(&ClassificationParams::tutorial())
        .expect("the tutorial's parameters are valid");
    let model = Perceptron {
        penalty: Penalty::ElasticNet,
        eta0: CONFIG.eta0,
        alpha: CONFIG.alpha,
        ..Perceptron::default()
    };
    let mut group = c.benchmark_group("perceptron");
    // Cross-validations and climbs take 5 to 100 ms per call: flat sampling
    // with Criterion's minimum of 10 samples keeps the group within budget.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);

    group.bench_function("fit", |b| {
        b.iter(|| model.fit(black_box(data.features.view()), black_box(&data.labels)));
    });
    // The 30 training folds of the tutorial's cross-validation, without the
    // splitting and scoring around them: the SGD loop alone.
    let splits = RepeatedStratifiedKFold::tutorial()
        .split(&data.labels)
        .expect("the tutorial's labels split");
    let folds: Vec<&[usize]> = splits.iter().map(|s| s.train.as_slice()).collect();
    group.bench_function(BenchmarkId::new("fit_30_folds", "sequential"), |b| {
        b.iter(|| {
            folds
                .iter()
                .map(|rows| model.fit_rows(data.features.view(), &data.labels, black_box(rows)))
                .collect::<Vec<_>>()
        });
    });
    group.bench_function(BenchmarkId::new("fit_30_folds", "interleaved"), |b| {
        b.iter(|| model.fit_interleaved(data.features.view(), &data.labels, black_box(&folds)));
    });
    for (name, execution) in EXECUTIONS {
        group.bench_function(BenchmarkId::new("cross_val_score", name), |b| {
            let cv = RepeatedStratifiedKFold::tutorial();
            b.iter(|| cross_val_score(&model, data.features.view(), &data.labels, &cv, execution));
        });
        let mut objective = TutorialObjective::new(&data);
        objective.execution = execution;
        group.bench_function(BenchmarkId::new("objective", name), |b| {
            b.iter(|| objective.evaluate(black_box(CONFIG)));
        });
        group.bench_function(BenchmarkId::new("hill_climb_10", name), |b| {
            b.iter(|| {
                let mut rng = SeededRng::seed_from_u64(1);
                let start = Hyperparameters {
                    eta0: 0.5,
                    alpha: 0.01,
                };
                hill_climb(
                    |config| objective.evaluate(config),
                    start,
                    10,
                    0.1,
                    &mut rng,
                    |_| {},
                )
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = proflab_benches::criterion();
    targets = perceptron
}
criterion_main!(benches);
