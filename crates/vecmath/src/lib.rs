//! Square roots over a whole array, as compared by the `vector_math`
//! benchmark group.
//!
//! The tutorial contrasts a Python loop with NumPy's vectorized `sqrt` on
//! 1000 values. In Rust every loop is compiled, so the interesting questions
//! are different: does a variant allocate, does it vectorize, and how close
//! does it come to the two hard limits of the machine, which this crate also
//! provides as reference points: [`copy`] (memory bandwidth: the same bytes
//! moved with no arithmetic) and [`simd_limit`] (the square-root unit's
//! throughput with explicit SIMD). Every strategy computes `sqrt(x)` for
//! each input; the tests check that they agree. It is not a numerics library.

use multiversion::multiversion;
use ndarray::{ArrayView1, ArrayViewMut1};
use rayon::prelude::*;

/// How a strategy receives its input and leaves its output: the benchmark
/// harness adapts to each, so every strategy is timed doing only its own work.
#[derive(Clone, Copy)]
pub enum Kernel {
    /// Returns a new vector, as a list comprehension or `numpy.sqrt(a)` does.
    Allocating(fn(&[f64]) -> Vec<f64>),
    /// Writes into a caller-provided buffer of the same length.
    IntoBuffer(fn(&[f64], &mut [f64])),
    /// Overwrites its input, as `numpy.sqrt(a, out=a)` does.
    InPlace(fn(&mut [f64])),
}

impl Kernel {
    /// Runs the strategy on `input` and returns the result as a new vector,
    /// whatever its shape: the reference form the tests compare.
    #[must_use]
    pub fn apply(self, input: &[f64]) -> Vec<f64> {
        match self {
            Kernel::Allocating(f) => f(input),
            Kernel::IntoBuffer(f) => {
                let mut output = vec![0.0; input.len()];
                f(input, &mut output);
                output
            }
            Kernel::InPlace(f) => {
                let mut output = input.to_vec();
                f(&mut output);
                output
            }
        }
    }
}

/// `iter().map(sqrt).collect()`: the list-comprehension analogue. Vectorizes,
/// but pays for a fresh allocation, whose pages the kernel must fault in on
/// first touch when the vector is large.
#[must_use]
pub fn map_collect(input: &[f64]) -> Vec<f64> {
    input.iter().map(|x| x.sqrt()).collect()
}

/// A plain loop writing into a preallocated buffer: no allocation, and the
/// zip removes every bounds check, so LLVM vectorizes it with the target's
/// baseline SIMD (SSE2's two lanes on x86-64).
pub fn zip_into(input: &[f64], output: &mut [f64]) {
    for (out, x) in output.iter_mut().zip(input) {
        *out = x.sqrt();
    }
}

/// [`zip_into`] compiled several times, for AVX-512, AVX2 and AVX as well as
/// the baseline, with the best version picked at run time by the
/// `multiversion` crate: the same safe loop, autovectorized to the CPU's
/// widest lanes, so it reaches the square-root unit's limit without a line
/// of `unsafe` of our own.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma", "x86_64+avx"))]
pub fn zip_into_multiversion(input: &[f64], output: &mut [f64]) {
    for (out, x) in output.iter_mut().zip(input) {
        *out = x.sqrt();
    }
}

/// [`in_place`] multiversioned like [`zip_into_multiversion`].
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma", "x86_64+avx"))]
pub fn in_place_multiversion(values: &mut [f64]) {
    for x in values.iter_mut() {
        *x = x.sqrt();
    }
}

/// A loop overwriting its input: half the memory traffic of [`zip_into`],
/// since each cache line is read and written back once.
pub fn in_place(values: &mut [f64]) {
    for x in values.iter_mut() {
        *x = x.sqrt();
    }
}

/// ndarray's `mapv` on a view: the `numpy.sqrt(a)` analogue, allocating the
/// result array. For a contiguous view it runs the same vectorized loop as
/// [`map_collect`].
#[must_use]
pub fn ndarray_mapv(input: &[f64]) -> Vec<f64> {
    let (values, _offset) = ArrayView1::from(input)
        .mapv(f64::sqrt)
        .into_raw_vec_and_offset();
    values
}

/// ndarray's `mapv_inplace`: `numpy.sqrt(a, out=a)`, no allocation.
pub fn ndarray_mapv_inplace(values: &mut [f64]) {
    ArrayViewMut1::from(values).mapv_inplace(f64::sqrt);
}

/// `(0..n).map(|x| (x as f64).powf(0.5)).collect()`: the tutorial's
/// `[x**0.5 for x in range(1000)]`, which ignores the input's values and
/// builds them from the range. `powf` is a call to libm's general `pow` per
/// element, which cannot vectorize.
#[must_use]
pub fn powf_range(input: &[f64]) -> Vec<f64> {
    (0..input.len()).map(|x| (x as f64).powf(0.5)).collect()
}

/// rayon's parallel `par_iter().map().collect()`: splits the work across
/// the thread pool. Worth it only when the per-element work outweighs the
/// cost of waking threads, and capped by memory bandwidth shared by all cores.
#[must_use]
pub fn rayon_collect(input: &[f64]) -> Vec<f64> {
    input.par_iter().map(|x| x.sqrt()).collect()
}

/// rayon writing into a preallocated buffer in parallel chunks.
pub fn rayon_into(input: &[f64], output: &mut [f64]) {
    output
        .par_iter_mut()
        .zip(input.par_iter())
        .for_each(|(out, x)| *out = x.sqrt());
}

/// Reference point: copies the input into the buffer with no arithmetic.
/// No square-root strategy that reads and writes the same bytes can beat
/// this once the data no longer fits in cache.
pub fn copy(input: &[f64], output: &mut [f64]) {
    output.copy_from_slice(input);
}

/// Reference point: the square-root unit's throughput, using the widest
/// SIMD square root the CPU offers (AVX-512, then AVX), detected at run time
/// so the binary still runs on any x86-64; elsewhere the portable loop.
///
/// # Panics
/// If the two slices differ in length.
pub fn simd_limit(input: &[f64], output: &mut [f64]) {
    assert_eq!(input.len(), output.len(), "input and output lengths differ");
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            unsafe { x86::sqrt_avx512(input, output) };
            return;
        }
        if is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX, checked just above.
            unsafe { x86::sqrt_avx(input, output) };
            return;
        }
    }
    zip_into(input, output);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        _mm256_loadu_pd, _mm256_sqrt_pd, _mm256_storeu_pd, _mm512_loadu_pd, _mm512_sqrt_pd,
        _mm512_storeu_pd,
    };

    /// Eight lanes per instruction; the tail goes through the scalar loop.
    #[target_feature(enable = "avx512f")]
    pub(super) fn sqrt_avx512(input: &[f64], output: &mut [f64]) {
        const LANES: usize = 8;
        let mut inputs = input.chunks_exact(LANES);
        let mut outputs = output.chunks_exact_mut(LANES);
        for (src, dst) in (&mut inputs).zip(&mut outputs) {
            // SAFETY: both chunks hold exactly LANES f64s, and the unaligned
            // load/store forms accept any address.
            unsafe {
                _mm512_storeu_pd(
                    dst.as_mut_ptr(),
                    _mm512_sqrt_pd(_mm512_loadu_pd(src.as_ptr())),
                )
            };
        }
        super::zip_into(inputs.remainder(), outputs.into_remainder());
    }

    /// Four lanes per instruction; the tail goes through the scalar loop.
    #[target_feature(enable = "avx")]
    pub(super) fn sqrt_avx(input: &[f64], output: &mut [f64]) {
        const LANES: usize = 4;
        let mut inputs = input.chunks_exact(LANES);
        let mut outputs = output.chunks_exact_mut(LANES);
        for (src, dst) in (&mut inputs).zip(&mut outputs) {
            // SAFETY: both chunks hold exactly LANES f64s, and the unaligned
            // load/store forms accept any address.
            unsafe {
                _mm256_storeu_pd(
                    dst.as_mut_ptr(),
                    _mm256_sqrt_pd(_mm256_loadu_pd(src.as_ptr())),
                )
            };
        }
        super::zip_into(inputs.remainder(), outputs.into_remainder());
    }
}

/// Every strategy with its stable benchmark name, the reference points last.
pub const STRATEGIES: &[(&str, Kernel)] = &[
    ("map_collect", Kernel::Allocating(map_collect)),
    ("zip_into", Kernel::IntoBuffer(zip_into)),
    ("in_place", Kernel::InPlace(in_place)),
    (
        "zip_into_multiversion",
        Kernel::IntoBuffer(zip_into_multiversion),
    ),
    (
        "in_place_multiversion",
        Kernel::InPlace(in_place_multiversion),
    ),
    ("ndarray_mapv", Kernel::Allocating(ndarray_mapv)),
    (
        "ndarray_mapv_inplace",
        Kernel::InPlace(ndarray_mapv_inplace),
    ),
    ("powf_range", Kernel::Allocating(powf_range)),
    ("rayon_collect", Kernel::Allocating(rayon_collect)),
    ("rayon_into", Kernel::IntoBuffer(rayon_into)),
    ("copy", Kernel::IntoBuffer(copy)),
    ("simd_limit", Kernel::IntoBuffer(simd_limit)),
];

/// The tutorial's input, `range(n)` as floats: every strategy, including
/// [`powf_range`], computes the same values from it.
#[must_use]
pub fn range_input(n: usize) -> Vec<f64> {
    (0..n).map(|x| x as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_but_copy_takes_the_square_root_of_each_element() {
        // Odd lengths exercise the SIMD kernels' scalar tails.
        for n in [0, 1, 7, 9, 1000, 1003] {
            let input = range_input(n);
            let expected: Vec<f64> = input.iter().map(|x| x.sqrt()).collect();
            for (name, kernel) in STRATEGIES.iter().filter(|(name, _)| *name != "copy") {
                let got = kernel.apply(&input);
                assert_eq!(got.len(), n, "{name} at n={n}");
                for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                    // pow(x, 0.5) is within one ulp of the correctly rounded sqrt.
                    assert!(
                        g.to_bits().abs_diff(e.to_bits()) <= 1,
                        "{name} at n={n}, element {i}: {g} != {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn copy_moves_the_input_unchanged() {
        let input = range_input(100);
        assert_eq!(Kernel::IntoBuffer(copy).apply(&input), input);
    }

    #[test]
    #[should_panic(expected = "lengths differ")]
    fn the_limit_kernel_rejects_mismatched_buffers() {
        simd_limit(&[1.0, 4.0], &mut [0.0]);
    }
}
