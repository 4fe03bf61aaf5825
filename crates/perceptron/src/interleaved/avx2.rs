//! The step on AVX2 registers: the eight lanes as two registers of four,
//! for CPUs without AVX-512 (most AMD ones before Zen 4, Intel's client
//! cores), with selects (`blendv`) where the AVX-512 kernel uses mask
//! registers.

use std::arch::x86_64::{
    __m128i, __m256d, _CMP_GT_OQ, _CMP_LE_OQ, _CMP_LT_OQ, _mm_loadu_si128, _mm_mullo_epi32,
    _mm_set1_epi32, _mm256_add_pd, _mm256_blendv_pd, _mm256_cmp_pd, _mm256_div_pd,
    _mm256_i32gather_pd, _mm256_loadu_pd, _mm256_max_pd, _mm256_min_pd, _mm256_movemask_pd,
    _mm256_mul_pd, _mm256_set1_pd, _mm256_storeu_pd, _mm256_sub_pd,
};

use super::step::{self, Gathered, Simd};
use super::{LANES, Lanes, Ring, Samples, SgdSettings};

/// f64 lanes in one register.
const WIDTH: usize = 4;
/// The widest rows with a kernel of their own; wider ones take the
/// portable kernel (their weights would not stay in registers anyway).
const MAX_FEATURES: usize = 12;

/// Whether [`run_steps_any_width`] takes rows of `n_features`.
pub(super) fn handles(n_features: usize) -> bool {
    (1..=MAX_FEATURES).contains(&n_features)
}

/// The proof that the CPU has AVX2.
#[derive(Clone, Copy)]
struct Avx2(());

impl Avx2 {
    /// Callable only where AVX2 is enabled.
    #[target_feature(enable = "avx2")]
    fn new() -> Self {
        Self(())
    }
}

/// Lanes 0 to 3, then 4 to 7.
type Pair = [__m256d; 2];

/// The arithmetic (`name: intrinsic`) and the comparisons (`name:
/// predicate`) of [`Simd`], each one intrinsic per register.
macro_rules! register_by_register {
    ($($op:ident: $intrinsic:ident),*; $($compare:ident: $predicate:ident),*) => {
        $(
            #[inline(always)]
            fn $op(self, a: Pair, b: Pair) -> Pair {
                // SAFETY: an `Avx2` exists, so the CPU has AVX2.
                unsafe { [$intrinsic(a[0], b[0]), $intrinsic(a[1], b[1])] }
            }
        )*
        $(
            #[inline(always)]
            fn $compare(self, a: Pair, b: Pair) -> Pair {
                // SAFETY: an `Avx2` exists, so the CPU has AVX2.
                unsafe {
                    [
                        _mm256_cmp_pd::<$predicate>(a[0], b[0]),
                        _mm256_cmp_pd::<$predicate>(a[1], b[1]),
                    ]
                }
            }
        )*
    };
}

impl Simd for Avx2 {
    type V = Pair;
    /// All ones in a lane where the condition holds, as `blendv` takes it.
    type Mask = Pair;
    type Indices = [__m128i; 2];

    #[inline(always)]
    fn splat(self, value: f64) -> Pair {
        // SAFETY: an `Avx2` exists, so the CPU has AVX2.
        unsafe { [_mm256_set1_pd(value); 2] }
    }
    #[inline(always)]
    fn load(self, values: &[f64; LANES]) -> Pair {
        // SAFETY: an `Avx2` exists, so the CPU has AVX2; `values`
        // holds the eight lanes.
        unsafe {
            let p = values.as_ptr();
            [_mm256_loadu_pd(p), _mm256_loadu_pd(p.add(WIDTH))]
        }
    }
    #[inline(always)]
    fn store(self, values: &mut [f64; LANES], v: Pair) {
        // SAFETY: as in `load`.
        unsafe {
            let p = values.as_mut_ptr();
            _mm256_storeu_pd(p, v[0]);
            _mm256_storeu_pd(p.add(WIDTH), v[1]);
        }
    }
    register_by_register! {
        add: _mm256_add_pd, sub: _mm256_sub_pd, mul: _mm256_mul_pd, div: _mm256_div_pd,
        max: _mm256_max_pd, min: _mm256_min_pd;
        le: _CMP_LE_OQ, lt: _CMP_LT_OQ, gt: _CMP_GT_OQ
    }
    #[inline(always)]
    fn any(self, mask: Pair) -> bool {
        // SAFETY: an `Avx2` exists, so the CPU has AVX2.
        unsafe { _mm256_movemask_pd(mask[0]) | _mm256_movemask_pd(mask[1]) != 0 }
    }
    #[inline(always)]
    fn select(self, mask: Pair, if_true: Pair, if_false: Pair) -> Pair {
        // SAFETY: an `Avx2` exists, so the CPU has AVX2.
        unsafe {
            [
                _mm256_blendv_pd(if_false[0], if_true[0], mask[0]),
                _mm256_blendv_pd(if_false[1], if_true[1], mask[1]),
            ]
        }
    }
    #[inline(always)]
    fn indices(self, rows: &[u32; LANES]) -> [__m128i; 2] {
        // SAFETY: an `Avx2` exists, so the CPU has AVX2; `rows` holds
        // the eight indices.
        unsafe {
            let p = rows.as_ptr();
            [
                _mm_loadu_si128(p.cast()),
                _mm_loadu_si128(p.add(WIDTH).cast()),
            ]
        }
    }
    #[inline(always)]
    fn times(self, indices: [__m128i; 2], factor: i32) -> [__m128i; 2] {
        // SAFETY: an `Avx2` exists, so the CPU has AVX2.
        unsafe {
            let factor = _mm_set1_epi32(factor);
            [
                _mm_mullo_epi32(indices[0], factor),
                _mm_mullo_epi32(indices[1], factor),
            ]
        }
    }
    #[inline(always)]
    unsafe fn gather(self, values: *const f64, indices: [__m128i; 2]) -> Pair {
        // SAFETY: an `Avx2` exists, so the CPU has AVX2; the
        // caller's promise.
        unsafe {
            [
                _mm256_i32gather_pd::<8>(values, indices[0]),
                _mm256_i32gather_pd::<8>(values, indices[1]),
            ]
        }
    }
}

/// [`step::run_steps_fixed`] on AVX2, for gathered rows of `NF` features.
///
/// # Safety
/// The CPU has AVX2; as [`step::run_steps_fixed`].
#[target_feature(enable = "avx2")]
unsafe fn run_steps_fixed<const NF: usize>(
    settings: &SgdSettings,
    samples: Gathered<'_>,
    steps: usize,
    lanes: &mut Lanes,
) {
    // SAFETY: the caller's promises.
    unsafe { step::run_steps_fixed::<_, NF, _>(Avx2::new(), settings, samples, steps, lanes) }
}

/// [`run_steps_fixed`] for rows of `samples.n_features`.
///
/// # Safety
/// The CPU has AVX2, every `row * n_features + feature` fits an i32
/// (`Kernel::pick` checked), the ring has `steps` steps from its current
/// one, and `handles(samples.n_features)`.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn run_steps_any_width(
    settings: &SgdSettings,
    samples: Samples<'_>,
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    let gathered = Gathered { samples, ring };
    macro_rules! fixed {
        ($($nf:literal)*) => {
            match samples.n_features {
                // SAFETY: the caller's promises, and n_features == NF.
                $($nf => unsafe { run_steps_fixed::<$nf>(settings, gathered, steps, lanes) },)*
                n_features => unreachable!("the caller checked `handles({n_features})`"),
            }
        };
    }
    fixed!(1 2 3 4 5 6 7 8 9 10 11 12);
}
