//! The step on AVX2 registers: the eight lanes as two registers of four,
//! for CPUs without AVX-512 (most AMD ones before Zen 4, Intel's client
//! cores). The same phases as `avx512::run_steps_fixed`, with selects
//! (`blendv`) where that kernel uses mask registers. Kept apart from it
//! rather than generic over both: the AVX-512 kernel can only be checked
//! against the reference on a CPU that has it.

use std::arch::x86_64::{
    __m256d, _CMP_GT_OQ, _CMP_LE_OQ, _CMP_LT_OQ, _mm_loadu_si128, _mm_mullo_epi32, _mm_set1_epi32,
    _mm256_add_pd, _mm256_blendv_pd, _mm256_cmp_pd, _mm256_div_pd, _mm256_i32gather_pd,
    _mm256_loadu_pd, _mm256_max_pd, _mm256_min_pd, _mm256_movemask_pd, _mm256_mul_pd,
    _mm256_set1_pd, _mm256_setzero_pd, _mm256_storeu_pd, _mm256_sub_pd,
};

use super::{LANES, Lanes, MIN_SCALE, Ring, SgdSettings, fold_scales, sum_start};

/// f64 lanes in one register.
const WIDTH: usize = 4;
/// Registers per step.
const GROUPS: usize = LANES / WIDTH;
/// The widest rows with a kernel of their own; wider ones take the
/// portable kernel (their weights would not stay in registers anyway).
const MAX_FEATURES: usize = 12;

/// Whether [`run_steps_any_width`] takes rows of `n_features`.
pub(super) fn handles(n_features: usize) -> bool {
    (1..=MAX_FEATURES).contains(&n_features)
}

/// `if mask { if_true } else { if_false }`, lane by lane.
#[inline]
#[target_feature(enable = "avx2")]
fn select(mask: __m256d, if_true: __m256d, if_false: __m256d) -> __m256d {
    _mm256_blendv_pd(if_false, if_true, mask)
}

/// As `avx512::run_steps_fixed`, lane for lane and operation for
/// operation: weights, their L1 bookkeeping and the gathered features
/// in registers (or the compiler's spill slots) for the whole run.
///
/// # Safety
/// The CPU must have AVX2, every `row * n_features + feature` must fit
/// an i32 (`Kernel::pick` checked), and `n_features == NF`.
#[target_feature(enable = "avx2")]
#[allow(
    clippy::too_many_lines,
    clippy::needless_range_loop,
    reason = "one SGD step, kept in one piece to read against the reference; \
              a feature number indexes weights, features and bookkeeping alike"
)]
unsafe fn run_steps_fixed<const NF: usize>(
    settings: &SgdSettings,
    data: &[f64],
    targets: &[f64],
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    let load = |values: &[f64; LANES], group: usize| -> __m256d {
        // SAFETY: group < GROUPS, so the four lanes are inside the array.
        unsafe { _mm256_loadu_pd(values.as_ptr().add(group * WIDTH)) }
    };
    let store = |values: &mut [f64; LANES], group: usize, v: __m256d| {
        // SAFETY: as in `load`.
        unsafe { _mm256_storeu_pd(values.as_mut_ptr().add(group * WIDTH), v) }
    };
    let zero = _mm256_set1_pd(sum_start());
    let positive_zero = _mm256_setzero_pd();
    let one = _mm256_set1_pd(1.0);
    let eta = _mm256_set1_pd(settings.eta);
    let decay = _mm256_set1_pd(settings.decay);
    let min_scale = _mm256_set1_pd(MIN_SCALE);
    let l1_step = _mm256_set1_pd(settings.l1_step);
    let row_width = _mm_set1_epi32(NF as i32);
    let mut scale: [__m256d; GROUPS] = std::array::from_fn(|g| load(&lanes.scale, g));
    let mut intercept: [__m256d; GROUPS] = std::array::from_fn(|g| load(&lanes.intercept, g));
    let mut offered: [__m256d; GROUPS] = std::array::from_fn(|g| load(&lanes.l1_offered, g));
    let mut loss: [__m256d; GROUPS] = std::array::from_fn(|g| load(&lanes.epoch_loss, g));
    let mut weights: [[__m256d; NF]; GROUPS] =
        std::array::from_fn(|g| std::array::from_fn(|j| load(&lanes.weights[j], g)));
    let mut received: [[__m256d; NF]; GROUPS] =
        std::array::from_fn(|g| std::array::from_fn(|j| load(&lanes.received[j], g)));

    // Phase by phase for both registers, as in the AVX-512 kernel, so
    // the two chains are in flight together.
    for step_index in ring.now..ring.now + steps {
        let rows = ring.at(step_index);
        let mut y = [positive_zero; GROUPS];
        let mut x = [[positive_zero; NF]; GROUPS];
        for g in 0..GROUPS {
            // SAFETY: `rows` holds LANES u32 row indices.
            let row = unsafe { _mm_loadu_si128(rows.as_ptr().add(g * WIDTH).cast()) };
            let base = _mm_mullo_epi32(row, row_width);
            // SAFETY: every row index is below the row count (the fits
            // were validated and idle lanes keep earlier rows), so `row`
            // indexes `targets` and `base + j` (j < NF) indexes `data`.
            y[g] = unsafe { _mm256_i32gather_pd::<8>(targets.as_ptr(), row) };
            for j in 0..NF {
                // SAFETY: as above.
                x[g][j] = unsafe { _mm256_i32gather_pd::<8>(data.as_ptr().add(j), base) };
            }
        }
        let mut dot = [zero; GROUPS];
        for j in 0..NF {
            for g in 0..GROUPS {
                dot[g] = _mm256_add_pd(dot[g], _mm256_mul_pd(weights[g][j], x[g][j]));
            }
        }
        let mut wrong = [positive_zero; GROUPS];
        let mut step = [positive_zero; GROUPS];
        let mut inverse_scale = [positive_zero; GROUPS];
        for g in 0..GROUPS {
            let margin = _mm256_mul_pd(
                _mm256_add_pd(_mm256_mul_pd(dot[g], scale[g]), intercept[g]),
                y[g],
            );
            if settings.decays {
                scale[g] = _mm256_mul_pd(scale[g], decay);
                if _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(scale[g], min_scale)) != 0 {
                    store(&mut lanes.scale, g, scale[g]);
                    for j in 0..NF {
                        store(&mut lanes.weights[j], g, weights[g][j]);
                    }
                    fold_scales(
                        &mut lanes.weights,
                        &mut lanes.scale,
                        g * WIDTH..(g + 1) * WIDTH,
                    );
                    scale[g] = load(&lanes.scale, g);
                    for j in 0..NF {
                        weights[g][j] = load(&lanes.weights[j], g);
                    }
                }
            }
            wrong[g] = _mm256_cmp_pd::<_CMP_LE_OQ>(margin, positive_zero);
            loss[g] = select(wrong[g], _mm256_sub_pd(loss[g], margin), loss[g]);
            let update = _mm256_mul_pd(eta, y[g]);
            step[g] = _mm256_div_pd(update, scale[g]);
            if settings.fit_intercept {
                intercept[g] = select(wrong[g], _mm256_add_pd(intercept[g], update), intercept[g]);
            }
            if settings.truncates {
                offered[g] = _mm256_add_pd(offered[g], l1_step);
            }
            inverse_scale[g] = _mm256_div_pd(one, scale[g]);
        }
        // Update, then truncate, per feature: see `avx512::run_steps`.
        for j in 0..NF {
            for g in 0..GROUPS {
                let w = weights[g][j];
                let q = received[g][j];
                let before = select(
                    wrong[g],
                    _mm256_add_pd(w, _mm256_mul_pd(step[g], x[g][j])),
                    w,
                );
                if !settings.truncates {
                    weights[g][j] = before;
                    continue;
                }
                let shrunk_positive = _mm256_max_pd(
                    _mm256_sub_pd(
                        before,
                        _mm256_mul_pd(_mm256_add_pd(offered[g], q), inverse_scale[g]),
                    ),
                    positive_zero,
                );
                let shrunk_negative = _mm256_min_pd(
                    _mm256_add_pd(
                        before,
                        _mm256_mul_pd(_mm256_sub_pd(offered[g], q), inverse_scale[g]),
                    ),
                    positive_zero,
                );
                let positive = _mm256_cmp_pd::<_CMP_GT_OQ>(before, positive_zero);
                let negative = _mm256_cmp_pd::<_CMP_LT_OQ>(before, positive_zero);
                let after = select(
                    positive,
                    shrunk_positive,
                    select(negative, shrunk_negative, before),
                );
                received[g][j] =
                    _mm256_add_pd(q, _mm256_mul_pd(scale[g], _mm256_sub_pd(after, before)));
                weights[g][j] = after;
            }
        }
    }
    for g in 0..GROUPS {
        store(&mut lanes.scale, g, scale[g]);
        store(&mut lanes.intercept, g, intercept[g]);
        store(&mut lanes.l1_offered, g, offered[g]);
        store(&mut lanes.epoch_loss, g, loss[g]);
        for j in 0..NF {
            store(&mut lanes.weights[j], g, weights[g][j]);
            store(&mut lanes.received[j], g, received[g][j]);
        }
    }
}

/// [`run_steps_fixed`] for rows of `n_features`.
///
/// # Safety
/// As [`run_steps_fixed`], with `handles(n_features)` in place of
/// `n_features == NF`.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn run_steps_any_width(
    settings: &SgdSettings,
    data: &[f64],
    n_features: usize,
    targets: &[f64],
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    macro_rules! fixed {
        ($($nf:literal)*) => {
            match n_features {
                // SAFETY: the caller's promises, and n_features == NF.
                $($nf => unsafe { run_steps_fixed::<$nf>(settings, data, targets, ring, steps, lanes) },)*
                _ => unreachable!("the caller checked `handles({n_features})`"),
            }
        };
    }
    fixed!(1 2 3 4 5 6 7 8 9 10 11 12);
}
