//! Run with: `cargo bench --bench string_concat`
//!
//! The tutorial's two string experiments. `format/*` formats each number
//! inside the timed loop (Python's `s += str(x)` with `str` in the loop);
//! `pieces/*` joins strings prepared outside it (timeit's `-s` setup). Each
//! runs at 10, 1000 and 100 000 pieces so the cost growth shows: the
//! `format_copy` variants are quadratic, the rest linear.

use std::hint::black_box;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use proflab_concat::{FORMATTING, JOINING, numbers, pieces};

const SIZES: [u64; 3] = [10, 1000, 100_000];

/// The quadratic variant takes about a second per call at 100 000 pieces:
/// flat sampling with Criterion's minimum of 10 samples keeps it to seconds,
/// while every other benchmark keeps the shared configuration.
fn configure_for<M: criterion::measurement::Measurement>(
    group: &mut criterion::BenchmarkGroup<'_, M>,
    name: &str,
    n: u64,
) {
    if name == "format_copy" && n >= 100_000 {
        group.sampling_mode(SamplingMode::Flat).sample_size(10);
    } else {
        group.sampling_mode(SamplingMode::Auto).sample_size(30);
    }
}

fn format_in_loop(c: &mut Criterion) {
    let mut group = c.benchmark_group("string_concat/format");
    group.plot_config(proflab_benches::log_axes());
    for n in SIZES {
        let input = numbers(n);
        let output_bytes = proflab_concat::format_write(&input).len() as u64;
        group.throughput(Throughput::Bytes(output_bytes));
        for (name, strategy) in FORMATTING {
            configure_for(&mut group, name, n);
            group.bench_with_input(BenchmarkId::new(*name, n), &input, |b, input| {
                b.iter(|| strategy(black_box(input)));
            });
        }
    }
    group.finish();
}

fn precomputed_pieces(c: &mut Criterion) {
    let mut group = c.benchmark_group("string_concat/pieces");
    group.plot_config(proflab_benches::log_axes());
    for n in SIZES {
        let input = pieces(n);
        let output_bytes = input.iter().map(String::len).sum::<usize>() as u64;
        group.throughput(Throughput::Bytes(output_bytes));
        for (name, strategy) in JOINING {
            configure_for(&mut group, name, n);
            group.bench_with_input(BenchmarkId::new(*name, n), &input, |b, input| {
                b.iter(|| strategy(black_box(input)));
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = proflab_benches::criterion();
    targets = format_in_loop, precomputed_pieces
}
criterion_main!(benches);
