//! The step on AVX-512 registers: the eight lanes in one register, the
//! conditions in mask registers.

use std::arch::x86_64::{
    __m256i, __m512d, __mmask8, _CMP_GT_OQ, _CMP_LE_OQ, _CMP_LT_OQ, _mm256_loadu_si256,
    _mm256_mullo_epi32, _mm256_set1_epi32, _mm512_add_pd, _mm512_cmp_pd_mask, _mm512_div_pd,
    _mm512_i32gather_pd, _mm512_load_pd, _mm512_loadu_pd, _mm512_mask_mov_pd, _mm512_max_pd,
    _mm512_min_pd, _mm512_mul_pd, _mm512_set1_pd, _mm512_shuffle_f64x2, _mm512_storeu_pd,
    _mm512_sub_pd, _mm512_unpackhi_pd, _mm512_unpacklo_pd,
};

use super::step::{
    self, Carried, Constants, Gathered, Simd, StepSamples, decay, margin, misclassified,
    updated_weight,
};
use super::{
    DirectRows, LANES, LaneRows, Lanes, PaddedRow, Ring, RowAt, Samples, SgdSettings, fold_scales,
};

/// Features whose gathered values [`run_steps_wide`] keeps for the update;
/// wider rows gather the rest twice.
const KEPT: usize = 16;

/// The proof that the CPU has AVX-512F.
#[derive(Clone, Copy)]
struct Avx512(());

impl Avx512 {
    /// Callable only where AVX-512F is enabled.
    #[target_feature(enable = "avx512f")]
    fn new() -> Self {
        Self(())
    }
}

/// The arithmetic (`name: intrinsic`) and the comparisons (`name:
/// predicate`) of [`Simd`], each one intrinsic.
macro_rules! lane_by_lane {
    ($($op:ident: $intrinsic:ident),*; $($compare:ident: $predicate:ident),*) => {
        $(
            #[inline(always)]
            fn $op(self, a: __m512d, b: __m512d) -> __m512d {
                // SAFETY: an `Avx512` exists, so the CPU has AVX-512F.
                unsafe { $intrinsic(a, b) }
            }
        )*
        $(
            #[inline(always)]
            fn $compare(self, a: __m512d, b: __m512d) -> __mmask8 {
                // SAFETY: an `Avx512` exists, so the CPU has AVX-512F.
                unsafe { _mm512_cmp_pd_mask::<$predicate>(a, b) }
            }
        )*
    };
}

impl Simd for Avx512 {
    type V = __m512d;
    type Mask = __mmask8;
    type Indices = __m256i;

    #[inline(always)]
    fn splat(self, value: f64) -> __m512d {
        // SAFETY: an `Avx512` exists, so the CPU has AVX-512F.
        unsafe { _mm512_set1_pd(value) }
    }
    #[inline(always)]
    fn load(self, values: &[f64; LANES]) -> __m512d {
        // SAFETY: an `Avx512` exists, so the CPU has AVX-512F; `values`
        // holds the eight lanes.
        unsafe { _mm512_loadu_pd(values.as_ptr()) }
    }
    #[inline(always)]
    fn store(self, values: &mut [f64; LANES], v: __m512d) {
        // SAFETY: as in `load`.
        unsafe { _mm512_storeu_pd(values.as_mut_ptr(), v) }
    }
    lane_by_lane! {
        add: _mm512_add_pd, sub: _mm512_sub_pd, mul: _mm512_mul_pd, div: _mm512_div_pd,
        max: _mm512_max_pd, min: _mm512_min_pd;
        le: _CMP_LE_OQ, lt: _CMP_LT_OQ, gt: _CMP_GT_OQ
    }
    #[inline(always)]
    fn any(self, mask: __mmask8) -> bool {
        mask != 0
    }
    /// A masked move; a select of an operation's result, as the step's
    /// are, compiles to that operation masked.
    #[inline(always)]
    fn select(self, mask: __mmask8, if_true: __m512d, if_false: __m512d) -> __m512d {
        // SAFETY: an `Avx512` exists, so the CPU has AVX-512F.
        unsafe { _mm512_mask_mov_pd(if_false, mask, if_true) }
    }
    #[inline(always)]
    fn indices(self, rows: &[u32; LANES]) -> __m256i {
        // SAFETY: an `Avx512` exists, so the CPU has AVX-512F; `rows` holds
        // the eight indices.
        unsafe { _mm256_loadu_si256(rows.as_ptr().cast()) }
    }
    #[inline(always)]
    fn times(self, indices: __m256i, factor: i32) -> __m256i {
        // SAFETY: an `Avx512` exists, so the CPU has AVX-512F.
        unsafe { _mm256_mullo_epi32(indices, _mm256_set1_epi32(factor)) }
    }
    #[inline(always)]
    unsafe fn gather(self, values: *const f64, indices: __m256i) -> __m512d {
        // SAFETY: an `Avx512` exists, so the CPU has AVX-512F; the
        // caller's promise.
        unsafe { _mm512_i32gather_pd::<8>(indices, values) }
    }
}

/// Eight rows of eight values as eight columns: `columns[j][l] ==
/// rows[l][j]`. Three rounds of shuffles: pairs of rows within each
/// 128-bit block, then blocks of pairs, then blocks of quadruples.
#[inline]
#[target_feature(enable = "avx512f")]
fn transpose(rows: [__m512d; LANES]) -> [__m512d; LANES] {
    // 128-bit blocks (a0, a2, b0, b2) and (a1, a3, b1, b3).
    const EVEN: i32 = 0b10_00_10_00;
    const ODD: i32 = 0b11_01_11_01;
    // pairs[2p] holds rows 2p and 2p + 1 at even positions, pairs[2p + 1] at odd ones.
    let pairs: [__m512d; LANES] = std::array::from_fn(|i| {
        let (a, b) = (rows[i / 2 * 2], rows[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm512_unpacklo_pd(a, b)
        } else {
            _mm512_unpackhi_pd(a, b)
        }
    });
    // quads[4h + k]: rows 4h..4h+4 at positions k, k + 4 (k = 0, 2, 1, 3).
    let quads: [__m512d; LANES] = std::array::from_fn(|i| {
        let (h, k) = (i / 4, i % 4);
        let (a, b) = (pairs[4 * h + k / 2], pairs[4 * h + k / 2 + 2]);
        if k % 2 == 0 {
            _mm512_shuffle_f64x2::<EVEN>(a, b)
        } else {
            _mm512_shuffle_f64x2::<ODD>(a, b)
        }
    });
    // Column j comes from quads[k] and quads[4 + k] with k = 2 (j % 2) + (j % 4) / 2.
    std::array::from_fn(|j| {
        let k = 2 * (j % 2) + (j % 4) / 2;
        if j < 4 {
            _mm512_shuffle_f64x2::<EVEN>(quads[k], quads[4 + k])
        } else {
            _mm512_shuffle_f64x2::<ODD>(quads[k], quads[4 + k])
        }
    })
}

/// Each lane's sample read whole from its [`PaddedRow`], the lanes' rows
/// found as they go: rows of up to [`super::PADDED_FEATURES`].
#[derive(Clone, Copy)]
struct Direct<'a, R> {
    padded: &'a [PaddedRow],
    rows: R,
}

impl<R: RowAt> Direct<'_, R> {
    /// The lanes' rows of their `k`-th step as columns: features, then
    /// the target.
    ///
    /// # Safety
    /// As [`StepSamples::at`].
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn columns(self, k: usize) -> [__m512d; LANES] {
        transpose(std::array::from_fn(|lane| {
            // SAFETY: each lane has more than `k` steps of rows, every one
            // below the row count, so `padded` has it; a PaddedRow is
            // eight f64, 64-byte aligned.
            // SAFETY: an `Avx512` exists, so the CPU has AVX-512F.
            unsafe {
                let row = self.rows.row_at(lane, k);
                _mm512_load_pd(self.padded.get_unchecked(row).0.as_ptr())
            }
        }))
    }
}

impl<R: RowAt> StepSamples<Avx512> for Direct<'_, R> {
    #[inline(always)]
    unsafe fn at<const NF: usize>(self, _: Avx512, k: usize) -> (__m512d, [__m512d; NF]) {
        // SAFETY: the `Avx512` passed proves AVX-512F; the caller's promises.
        let columns = unsafe { self.columns(k) };
        let mut x = [columns[0]; NF];
        x.copy_from_slice(&columns[..NF]);
        (columns[NF], x)
    }
}

/// [`step::run_steps_fixed`] on AVX-512.
///
/// # Safety
/// The CPU has AVX-512F; as [`step::run_steps_fixed`].
#[target_feature(enable = "avx512f")]
unsafe fn run_steps_fixed<const NF: usize, R: StepSamples<Avx512>>(
    settings: &SgdSettings,
    samples: R,
    steps: usize,
    lanes: &mut Lanes,
) {
    // SAFETY: the caller's promises.
    unsafe { step::run_steps_fixed::<_, NF, _>(Avx512::new(), settings, samples, steps, lanes) }
}

/// `steps` SGD steps of every lane, for rows of any width, with the
/// weights in memory.
///
/// # Safety
/// The CPU has AVX-512F, every `row * n_features + feature` fits an i32,
/// and the ring has `steps` steps from its current one.
#[target_feature(enable = "avx512f")]
unsafe fn run_steps_wide(
    settings: &SgdSettings,
    samples: Samples<'_>,
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    let s = Avx512::new();
    let Samples {
        data,
        n_features,
        targets,
    } = samples;
    let constants = Constants::new(s, settings);
    let mut carried = Carried::load(s, lanes);
    let mut x = [constants.zero; KEPT];
    for step_index in ring.now..ring.now + steps {
        let rows = s.indices(ring.at(step_index));
        let base = s.times(rows, n_features as i32);
        // SAFETY: every row index is below the row count (the fits were
        // validated and idle lanes keep earlier rows), so `rows` indexes
        // `targets` and `base + j` (j < n_features) indexes `data`.
        let y = unsafe { s.gather(targets.as_ptr(), rows) };
        // SAFETY: as above, j < n_features.
        let feature = |j: usize| unsafe { s.gather(data.as_ptr().add(j), base) };

        let mut dot = constants.sum_start;
        for (j, w) in lanes.weights.iter().enumerate() {
            let xj = feature(j);
            if j < KEPT {
                x[j] = xj;
            }
            dot = s.add(dot, s.mul(s.load(w), xj));
        }
        let margin = margin(s, &carried, dot, y);
        if decay(s, settings, &constants, &mut carried.scale).is_some() {
            s.store(&mut lanes.scale, carried.scale);
            fold_scales(&mut lanes.weights, &mut lanes.scale);
            carried.scale = s.load(&lanes.scale);
        }
        let update = misclassified(s, settings, &constants, &mut carried, margin, y);
        for (j, (w, q)) in lanes
            .weights
            .iter_mut()
            .zip(lanes.received.iter_mut())
            .enumerate()
        {
            let xj = if j < KEPT { x[j] } else { feature(j) };
            let (after, received) = updated_weight(s, &update, s.load(w), s.load(q), xj);
            s.store(w, after);
            if settings.truncates {
                s.store(q, received);
            }
        }
    }
    carried.store(s, lanes);
}

/// [`run_steps_fixed`] for the common row widths, [`run_steps_wide`] for
/// others.
///
/// # Safety
/// The CPU has AVX-512F, every `row * n_features + feature` fits an i32
/// (`Kernel::pick` checked), the ring has `steps` steps from its current
/// one, and `direct` rows have every row, and each lane's order `steps`
/// positions at least.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn run_steps_any_width(
    settings: &SgdSettings,
    samples: Samples<'_>,
    direct: Option<&DirectRows<'_>>,
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    macro_rules! fixed {
        ($source:expr; $($nf:literal)*) => {
            match samples.n_features {
                // SAFETY: the caller's promises, and n_features == NF.
                $($nf => unsafe { run_steps_fixed::<$nf, _>(settings, $source, steps, lanes) },)*
                // SAFETY: the caller's promises.
                _ => unsafe { run_steps_wide(settings, samples, ring, steps, lanes) },
            }
        };
    }
    // Direct rows are only made for rows of up to PADDED_FEATURES.
    match direct {
        Some(DirectRows {
            padded,
            rows: LaneRows::InOrder(rows),
        }) => fixed!(Direct { padded, rows }; 1 2 3 4 5 6 7),
        Some(DirectRows {
            padded,
            rows: LaneRows::ByOrder(rows),
        }) => fixed!(Direct { padded, rows }; 1 2 3 4 5 6 7),
        None => fixed!(Gathered { samples, ring }; 1 2 3 4 5 6 7 8 9 10 11 12),
    }
}
