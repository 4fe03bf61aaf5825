//! Run with: cargo bench --bench suite. Ten benchmarks of equal cost, except
//! that `work/NN` does `SLOWDOWN_PERCENT[NN]` percent more steps.
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn suite(c: &mut Criterion) {
    let mut group = c.benchmark_group("work");
    for (i, percent) in (0..).zip(sensitivity_suite::SLOWDOWN_PERCENT) {
        let steps = 2_000 * (100 + percent) / 100;
        group.bench_function(format!("{i:02}"), |b| b.iter(|| sensitivity_suite::work(black_box(steps), i)));
    }
    group.finish();
}

criterion_group!(benches, suite);
criterion_main!(benches);
