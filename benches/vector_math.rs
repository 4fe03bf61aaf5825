//! Run with: `cargo bench --bench vector_math`
//!
//! Square roots over `range(n)`, from the tutorial's 1000 elements up to ten
//! million: allocating, in-buffer and in-place strategies, ndarray, the
//! tutorial's `[x**0.5 for x in range(1000)]`, rayon, and two reference points
//! measured in the same run: `copy` (memory bandwidth) and `simd_limit` (the
//! square-root unit's throughput).

use std::hint::black_box;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use proflab_vecmath::{Kernel, STRATEGIES, range_input};

const SIZES: [usize; 3] = [1000, 100_000, 10_000_000];

fn vector_math(c: &mut Criterion) {
    let mut group = c.benchmark_group("vector_math");
    // Sizes span four decades: logarithmic axes in the line chart.
    group.plot_config(proflab_benches::log_axes());
    for n in SIZES {
        let input = range_input(n);
        group.throughput(Throughput::Elements(n as u64));
        // Ten million elements take milliseconds per call: flat sampling
        // with few samples keeps the group within its time budget.
        if n >= 10_000_000 {
            group.sampling_mode(SamplingMode::Flat).sample_size(10);
        } else {
            group.sampling_mode(SamplingMode::Auto).sample_size(30);
        }
        for (name, kernel) in STRATEGIES {
            let id = BenchmarkId::new(*name, n);
            match *kernel {
                Kernel::Allocating(f) => {
                    group.bench_with_input(id, &input, |b, input| b.iter(|| f(black_box(input))));
                }
                Kernel::IntoBuffer(f) => {
                    let mut output = vec![0.0; n];
                    group.bench_with_input(id, &input, |b, input| {
                        b.iter(|| f(black_box(input), black_box(&mut output)));
                    });
                }
                Kernel::InPlace(f) => {
                    // Repeated square roots drift every value towards 1.0,
                    // which costs the same as any other normal number.
                    let mut values = input.clone();
                    group.bench_function(id, |b| b.iter(|| f(black_box(&mut values))));
                }
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = proflab_benches::criterion();
    targets = vector_math
}
criterion_main!(benches);
