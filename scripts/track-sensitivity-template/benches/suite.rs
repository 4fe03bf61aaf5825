//! Run with: cargo bench --bench suite. Ten benchmarks of equal cost; `work/03`
//! does `SLOWDOWN_PERCENT` more steps.
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn suite(c: &mut Criterion) {
    let mut group = c.benchmark_group("work");
    for i in 0..10u64 {
        let steps = if i == 3 { 2_000 * (100 + sensitivity_suite::SLOWDOWN_PERCENT) / 100 } else { 2_000 };
        group.bench_function(format!("{i:02}"), |b| b.iter(|| sensitivity_suite::work(black_box(steps), i)));
    }
    group.finish();
}

criterion_group!(benches, suite);
criterion_main!(benches);
