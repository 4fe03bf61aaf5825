//! Run with: `cargo bench --bench sqrt_scalar`
//!
//! One square root, as the tutorial times `math.sqrt(1.1)`,
//! `numpy.sqrt(1.1)` and `1.1 ** 0.5`: the hardware instruction, the pow and
//! exp/ln routes, a software square root, and ndarray's fixed cost on a
//! single value. The `constant/*` pair is the optimizer caveat: without
//! `black_box` the compiler folds `1.1.sqrt()` and the benchmark times nothing.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use proflab_sqrt::{STRATEGIES, TUTORIAL_VALUE, folded_constant, opaque_constant};

fn one_value(c: &mut Criterion) {
    let mut group = c.benchmark_group("sqrt_scalar");
    for (name, strategy) in STRATEGIES {
        group.bench_function(*name, |b| b.iter(|| strategy(black_box(TUTORIAL_VALUE))));
    }
    group.finish();
}

fn optimizer_caveat(c: &mut Criterion) {
    let mut group = c.benchmark_group("sqrt_scalar/constant");
    group.bench_function("folded", |b| b.iter(folded_constant));
    group.bench_function("black_box", |b| b.iter(opaque_constant));
    group.finish();
}

criterion_group! {
    name = benches;
    config = proflab_benches::criterion();
    targets = one_value, optimizer_caveat
}
criterion_main!(benches);
