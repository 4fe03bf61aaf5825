//! Run with: `cargo bench --bench instructions` (needs valgrind on PATH).
//!
//! The tutorial's comparisons again, counted in instructions by callgrind
//! instead of timed: the counts do not move when the machine is busy, so a
//! change of 0.1% is real. They are not times: a `sqrtsd` counts one
//! instruction like an add, cache misses and branch mispredictions cost
//! nothing, and the CPU features valgrind reports (AVX2, not AVX-512) pick
//! the `multiversion` paths. Each counts one call at the middle size of its
//! Criterion group; the report lands in `target/proflab-instructions/`
//! for `proflab track record`.

use std::cell::RefCell;
use std::hint::black_box;

use proflab_callgrind::Harness;
use proflab_perceptron::{
    ClassificationParams, Execution, Penalty, Perceptron, RepeatedStratifiedKFold, cross_val_score,
    make_classification,
};
use proflab_vecmath::Kernel;

/// The middle size of the string and vector groups: large enough that the
/// per-call overhead is small, small enough that callgrind takes seconds.
const N: u64 = 1000;

fn string_concat(harness: &mut Harness) {
    for (name, strategy) in proflab_concat::FORMATTING {
        let input = proflab_concat::numbers(N);
        harness.bench(format!("string_concat/format/{name}/{N}"), move || {
            strategy(black_box(&input))
        });
    }
    for (name, strategy) in proflab_concat::JOINING {
        let input = proflab_concat::pieces(N);
        harness.bench(format!("string_concat/pieces/{name}/{N}"), move || {
            strategy(black_box(&input))
        });
    }
}

fn sqrt_scalar(harness: &mut Harness) {
    for (name, strategy) in proflab_sqrt::STRATEGIES {
        harness.bench(format!("sqrt_scalar/{name}"), move || {
            strategy(black_box(proflab_sqrt::TUTORIAL_VALUE))
        });
    }
}

fn vector_math(harness: &mut Harness) {
    let input: Vec<f64> = (1..=N).map(|i| i as f64).collect();
    // Callgrind counts the calling thread only: rayon's workers would vanish.
    for (name, kernel) in proflab_vecmath::STRATEGIES
        .iter()
        .filter(|(name, _)| !name.starts_with("rayon"))
    {
        let id = format!("vector_math/{name}/{N}");
        let input = input.clone();
        // In-place kernels overwrite the buffer again each call; a square
        // root's instruction count does not depend on its operand.
        let buffer = RefCell::new(input.clone());
        match *kernel {
            Kernel::Allocating(f) => harness.bench(id, move || f(black_box(&input))),
            Kernel::IntoBuffer(f) => harness.bench(id, move || {
                f(black_box(&input), &mut buffer.borrow_mut());
            }),
            Kernel::InPlace(f) => harness.bench(id, move || f(black_box(&mut buffer.borrow_mut()))),
        };
    }
}

fn perceptron(harness: &mut Harness) {
    let data = std::rc::Rc::new(
        make_classification(&ClassificationParams::tutorial())
            .expect("the tutorial's parameters are valid"),
    );
    let model = Perceptron {
        penalty: Penalty::ElasticNet,
        eta0: 1.0,
        alpha: 0.0001,
        ..Perceptron::default()
    };
    let (fit_model, fit_data) = (model.clone(), data.clone());
    harness.bench("perceptron/fit", move || {
        fit_model.fit(
            black_box(fit_data.features.view()),
            black_box(&fit_data.labels),
        )
    });
    harness.bench("perceptron/cross_val_score/sequential", move || {
        cross_val_score(
            &model,
            data.features.view(),
            &data.labels,
            &RepeatedStratifiedKFold::tutorial(),
            Execution::Sequential,
        )
    });
}

fn main() -> std::process::ExitCode {
    let mut harness = Harness::new();
    // What the harness itself costs per call (the boxed call and `black_box`),
    // to subtract mentally from the smallest counts.
    harness.bench("harness/empty", || ());
    string_concat(&mut harness);
    sqrt_scalar(&mut harness);
    vector_math(&mut harness);
    perceptron(&mut harness);
    harness.main()
}
