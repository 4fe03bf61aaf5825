//! The step on AVX-512 registers, eight lanes per register, the registers
//! of a step independent of each other so their chains overlap.

use std::arch::x86_64::{
    __m512d, _CMP_GT_OQ, _CMP_LE_OQ, _CMP_LT_OQ, _mm256_loadu_si256, _mm256_mullo_epi32,
    _mm256_set1_epi32, _mm512_add_pd, _mm512_cmp_pd_mask, _mm512_div_pd, _mm512_i32gather_pd,
    _mm512_load_pd, _mm512_loadu_pd, _mm512_mask_add_pd, _mm512_mask_mov_pd, _mm512_mask_mul_pd,
    _mm512_mask_sub_pd, _mm512_max_pd, _mm512_min_pd, _mm512_mul_pd, _mm512_set1_pd,
    _mm512_setzero_pd, _mm512_shuffle_f64x2, _mm512_storeu_pd, _mm512_sub_pd, _mm512_unpackhi_pd,
    _mm512_unpacklo_pd,
};

use super::{
    DirectRows, LANES, LaneRows, Lanes, MIN_SCALE, PADDED_FEATURES, PaddedRow, Ring, RowAt,
    SgdSettings, fold_scales, sum_start,
};

/// f64 lanes in one register.
const WIDTH: usize = 8;
/// Registers per step.
const GROUPS: usize = LANES / WIDTH;
/// Features whose gathered values are kept for the update; wider rows
/// gather the rest twice.
const KEPT: usize = 16;

/// As [`super::portable::run_steps`], lane for lane and operation for
/// operation.
///
/// # Safety
/// The CPU must have AVX-512F, and every `row * n_features + feature`
/// must fit an i32 (`Kernel::pick` checked).
#[target_feature(enable = "avx512f")]
#[allow(
    clippy::too_many_lines,
    reason = "one SGD step, kept in one piece to read against the reference"
)]
unsafe fn run_steps(
    settings: &SgdSettings,
    data: &[f64],
    n_features: usize,
    targets: &[f64],
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    let load = |values: &[f64; LANES], group: usize| -> __m512d {
        // SAFETY: group < GROUPS, so the eight lanes are inside the array.
        unsafe { _mm512_loadu_pd(values.as_ptr().add(group * WIDTH)) }
    };
    let store = |values: &mut [f64; LANES], group: usize, v: __m512d| {
        // SAFETY: as in `load`.
        unsafe { _mm512_storeu_pd(values.as_mut_ptr().add(group * WIDTH), v) }
    };
    let zero = _mm512_set1_pd(sum_start());
    let positive_zero = _mm512_setzero_pd();
    let one = _mm512_set1_pd(1.0);
    let eta = _mm512_set1_pd(settings.eta);
    let decay = _mm512_set1_pd(settings.decay);
    let min_scale = _mm512_set1_pd(MIN_SCALE);
    let l1_step = _mm512_set1_pd(settings.l1_step);
    let row_width = _mm256_set1_epi32(n_features as i32);
    let mut scale: [__m512d; GROUPS] = std::array::from_fn(|g| load(&lanes.scale, g));
    let mut intercept: [__m512d; GROUPS] = std::array::from_fn(|g| load(&lanes.intercept, g));
    let mut offered: [__m512d; GROUPS] = std::array::from_fn(|g| load(&lanes.l1_offered, g));
    let mut loss: [__m512d; GROUPS] = std::array::from_fn(|g| load(&lanes.epoch_loss, g));
    let mut x = [[positive_zero; KEPT]; GROUPS];

    for step_index in ring.now..ring.now + steps {
        let rows = ring.at(step_index);
        for g in 0..GROUPS {
            // SAFETY: `rows` holds LANES u32 row indices.
            let row = unsafe { _mm256_loadu_si256(rows.as_ptr().add(g * WIDTH).cast()) };
            let base = _mm256_mullo_epi32(row, row_width);
            // SAFETY: every row index is below the row count (the fits
            // were validated and idle lanes keep earlier rows), so
            // `row` indexes `targets` and `base + j` indexes `data`.
            let y = unsafe { _mm512_i32gather_pd::<8>(row, targets.as_ptr()) };
            let feature = |j: usize| -> __m512d {
                // SAFETY: as above, j < n_features.
                unsafe { _mm512_i32gather_pd::<8>(base, data.as_ptr().add(j)) }
            };

            let mut dot = zero;
            for (j, w) in lanes.weights.iter().enumerate() {
                let xj = feature(j);
                if j < KEPT {
                    x[g][j] = xj;
                }
                dot = _mm512_add_pd(dot, _mm512_mul_pd(load(w, g), xj));
            }
            let margin =
                _mm512_mul_pd(_mm512_add_pd(_mm512_mul_pd(dot, scale[g]), intercept[g]), y);
            if settings.decays {
                scale[g] = _mm512_mul_pd(scale[g], decay);
                if _mm512_cmp_pd_mask::<_CMP_LT_OQ>(scale[g], min_scale) != 0 {
                    store(&mut lanes.scale, g, scale[g]);
                    fold_scales(
                        &mut lanes.weights,
                        &mut lanes.scale,
                        g * WIDTH..(g + 1) * WIDTH,
                    );
                    scale[g] = load(&lanes.scale, g);
                }
            }
            let wrong = _mm512_cmp_pd_mask::<_CMP_LE_OQ>(margin, positive_zero);
            loss[g] = _mm512_mask_sub_pd(loss[g], wrong, loss[g], margin);
            let update = _mm512_mul_pd(eta, y);
            let step = _mm512_div_pd(update, scale[g]);
            if settings.fit_intercept {
                intercept[g] = _mm512_mask_add_pd(intercept[g], wrong, intercept[g], update);
            }
            if settings.truncates {
                offered[g] = _mm512_add_pd(offered[g], l1_step);
            }
            let inverse_scale = _mm512_div_pd(one, scale[g]);
            // The reference updates every weight, then truncates every
            // weight; each feature's two operations touch only that
            // feature, so doing both per feature is the same arithmetic
            // with one store instead of a store and a reload.
            for (j, (w, q)) in lanes
                .weights
                .iter_mut()
                .zip(lanes.received.iter_mut())
                .enumerate()
            {
                let xj = if j < KEPT { x[g][j] } else { feature(j) };
                let old = load(w, g);
                let moved = _mm512_add_pd(old, _mm512_mul_pd(step, xj));
                let before = _mm512_mask_mov_pd(old, wrong, moved);
                if !settings.truncates {
                    store(w, g, before);
                    continue;
                }
                let received = load(q, g);
                let shrunk_positive = _mm512_max_pd(
                    _mm512_sub_pd(
                        before,
                        _mm512_mul_pd(_mm512_add_pd(offered[g], received), inverse_scale),
                    ),
                    positive_zero,
                );
                let shrunk_negative = _mm512_min_pd(
                    _mm512_add_pd(
                        before,
                        _mm512_mul_pd(_mm512_sub_pd(offered[g], received), inverse_scale),
                    ),
                    positive_zero,
                );
                let positive = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(before, positive_zero);
                let negative = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(before, positive_zero);
                let after = _mm512_mask_mov_pd(
                    _mm512_mask_mov_pd(before, negative, shrunk_negative),
                    positive,
                    shrunk_positive,
                );
                store(w, g, after);
                store(
                    q,
                    g,
                    _mm512_add_pd(
                        received,
                        _mm512_mul_pd(scale[g], _mm512_sub_pd(after, before)),
                    ),
                );
            }
        }
    }
    for g in 0..GROUPS {
        store(&mut lanes.scale, g, scale[g]);
        store(&mut lanes.intercept, g, intercept[g]);
        store(&mut lanes.l1_offered, g, offered[g]);
        store(&mut lanes.epoch_loss, g, loss[g]);
    }
}

/// Eight rows of eight values as eight columns: `columns[j][l] ==
/// rows[l][j]`. Three rounds of shuffles: pairs of rows within each
/// 128-bit block, then blocks of pairs, then blocks of quadruples.
#[inline]
#[target_feature(enable = "avx512f")]
fn transpose(rows: [__m512d; WIDTH]) -> [__m512d; WIDTH] {
    // 128-bit blocks (a0, a2, b0, b2) and (a1, a3, b1, b3).
    const EVEN: i32 = 0b10_00_10_00;
    const ODD: i32 = 0b11_01_11_01;
    // pairs[2p] holds rows 2p and 2p + 1 at even positions, pairs[2p + 1] at odd ones.
    let pairs: [__m512d; WIDTH] = std::array::from_fn(|i| {
        let (a, b) = (rows[i / 2 * 2], rows[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm512_unpacklo_pd(a, b)
        } else {
            _mm512_unpackhi_pd(a, b)
        }
    });
    // quads[4h + k]: rows 4h..4h+4 at positions k, k + 4 (k = 0, 2, 1, 3).
    let quads: [__m512d; WIDTH] = std::array::from_fn(|i| {
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

/// [`run_steps`] for rows of `NF` features, with the weights, their L1
/// bookkeeping and the gathered features held in registers for the
/// whole run instead of stored and reloaded every step. With `direct`
/// rows (rows of up to [`PADDED_FEATURES`]) the eight lanes' rows are
/// loaded whole and transposed instead of gathered from the ring's.
///
/// # Safety
/// As [`run_steps`] and `n_features == NF`; `direct` rows have every
/// row, and each lane's order `steps` positions at least.
#[target_feature(enable = "avx512f")]
#[allow(
    clippy::too_many_lines,
    clippy::needless_range_loop,
    reason = "one SGD step, kept in one piece to read against the reference; \
              a feature number indexes weights, features and bookkeeping alike"
)]
unsafe fn run_steps_fixed<const NF: usize, R: RowAt>(
    settings: &SgdSettings,
    data: &[f64],
    targets: &[f64],
    direct: Option<(&[PaddedRow], R)>,
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    let load = |values: &[f64; LANES], group: usize| -> __m512d {
        // SAFETY: group < GROUPS, so the eight lanes are inside the array.
        unsafe { _mm512_loadu_pd(values.as_ptr().add(group * WIDTH)) }
    };
    let store = |values: &mut [f64; LANES], group: usize, v: __m512d| {
        // SAFETY: as in `load`.
        unsafe { _mm512_storeu_pd(values.as_mut_ptr().add(group * WIDTH), v) }
    };
    let zero = _mm512_set1_pd(sum_start());
    let positive_zero = _mm512_setzero_pd();
    let one = _mm512_set1_pd(1.0);
    let eta = _mm512_set1_pd(settings.eta);
    let decay = _mm512_set1_pd(settings.decay);
    let min_scale = _mm512_set1_pd(MIN_SCALE);
    let l1_step = _mm512_set1_pd(settings.l1_step);
    let row_width = _mm256_set1_epi32(NF as i32);
    let mut scale: [__m512d; GROUPS] = std::array::from_fn(|g| load(&lanes.scale, g));
    let mut intercept: [__m512d; GROUPS] = std::array::from_fn(|g| load(&lanes.intercept, g));
    let mut offered: [__m512d; GROUPS] = std::array::from_fn(|g| load(&lanes.l1_offered, g));
    let mut loss: [__m512d; GROUPS] = std::array::from_fn(|g| load(&lanes.epoch_loss, g));
    let mut weights: [[__m512d; NF]; GROUPS] =
        std::array::from_fn(|g| std::array::from_fn(|j| load(&lanes.weights[j], g)));
    let mut received: [[__m512d; NF]; GROUPS] =
        std::array::from_fn(|g| std::array::from_fn(|j| load(&lanes.received[j], g)));

    // Each phase of the step runs for every register before the next
    // phase: the registers' chains are independent, and writing them side
    // by side keeps both in flight (the out-of-order window alone does
    // not reach a whole step ahead).
    for step_index in ring.now..ring.now + steps {
        let mut y = [positive_zero; GROUPS];
        let mut x = [[positive_zero; NF]; GROUPS];
        for g in 0..GROUPS {
            if let (true, Some((padded, rows))) = (NF <= PADDED_FEATURES, direct) {
                let k = step_index - ring.now;
                let columns = transpose(std::array::from_fn(|lane| {
                    // SAFETY: each lane has more than `k` steps of rows,
                    // every one below the row count, so `padded` has
                    // it; a PaddedRow is eight f64, 64-byte aligned.
                    unsafe {
                        let row = rows.row_at(g * WIDTH + lane, k);
                        _mm512_load_pd(padded.get_unchecked(row).0.as_ptr())
                    }
                }));
                y[g] = columns[NF];
                x[g] = std::array::from_fn(|j| columns[j]);
                continue;
            }
            let rows = ring.at(step_index);
            // SAFETY: `rows` holds LANES u32 row indices.
            let row = unsafe { _mm256_loadu_si256(rows.as_ptr().add(g * WIDTH).cast()) };
            let base = _mm256_mullo_epi32(row, row_width);
            // SAFETY: every row index is below the row count, so `row`
            // indexes `targets` and `base + j` (j < NF) indexes `data`.
            y[g] = unsafe { _mm512_i32gather_pd::<8>(row, targets.as_ptr()) };
            for j in 0..NF {
                // SAFETY: as above.
                x[g][j] = unsafe { _mm512_i32gather_pd::<8>(base, data.as_ptr().add(j)) };
            }
        }
        let mut dot = [zero; GROUPS];
        for j in 0..NF {
            for g in 0..GROUPS {
                dot[g] = _mm512_add_pd(dot[g], _mm512_mul_pd(weights[g][j], x[g][j]));
            }
        }
        let mut wrong = [0; GROUPS];
        let mut step = [positive_zero; GROUPS];
        let mut inverse_scale = [positive_zero; GROUPS];
        for g in 0..GROUPS {
            let margin = _mm512_mul_pd(
                _mm512_add_pd(_mm512_mul_pd(dot[g], scale[g]), intercept[g]),
                y[g],
            );
            if settings.decays {
                scale[g] = _mm512_mul_pd(scale[g], decay);
                let low = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(scale[g], min_scale);
                if low != 0 {
                    // The reference's `fold_scale`, in the lanes whose
                    // scale fell too low, without leaving the registers.
                    for j in 0..NF {
                        weights[g][j] =
                            _mm512_mask_mul_pd(weights[g][j], low, weights[g][j], scale[g]);
                    }
                    scale[g] = _mm512_mask_mov_pd(scale[g], low, one);
                }
            }
            wrong[g] = _mm512_cmp_pd_mask::<_CMP_LE_OQ>(margin, positive_zero);
            loss[g] = _mm512_mask_sub_pd(loss[g], wrong[g], loss[g], margin);
            let update = _mm512_mul_pd(eta, y[g]);
            step[g] = _mm512_div_pd(update, scale[g]);
            if settings.fit_intercept {
                intercept[g] = _mm512_mask_add_pd(intercept[g], wrong[g], intercept[g], update);
            }
            if settings.truncates {
                offered[g] = _mm512_add_pd(offered[g], l1_step);
            }
            inverse_scale[g] = _mm512_div_pd(one, scale[g]);
        }
        // Update, then truncate, per feature: see `run_steps`.
        for j in 0..NF {
            for g in 0..GROUPS {
                let w = weights[g][j];
                let q = received[g][j];
                let before = _mm512_mask_add_pd(w, wrong[g], w, _mm512_mul_pd(step[g], x[g][j]));
                if !settings.truncates {
                    weights[g][j] = before;
                    continue;
                }
                let shrunk_positive = _mm512_max_pd(
                    _mm512_sub_pd(
                        before,
                        _mm512_mul_pd(_mm512_add_pd(offered[g], q), inverse_scale[g]),
                    ),
                    positive_zero,
                );
                let shrunk_negative = _mm512_min_pd(
                    _mm512_add_pd(
                        before,
                        _mm512_mul_pd(_mm512_sub_pd(offered[g], q), inverse_scale[g]),
                    ),
                    positive_zero,
                );
                let positive = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(before, positive_zero);
                let negative = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(before, positive_zero);
                let after = _mm512_mask_mov_pd(
                    _mm512_mask_mov_pd(before, negative, shrunk_negative),
                    positive,
                    shrunk_positive,
                );
                received[g][j] =
                    _mm512_add_pd(q, _mm512_mul_pd(scale[g], _mm512_sub_pd(after, before)));
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

/// [`run_steps_fixed`] for the common row widths, [`run_steps`] for others.
///
/// # Safety
/// As [`run_steps`].
#[target_feature(enable = "avx512f")]
#[allow(
    clippy::too_many_arguments,
    reason = "as `super::run_steps`, whose arguments these are"
)]
pub(super) unsafe fn run_steps_any_width(
    settings: &SgdSettings,
    data: &[f64],
    n_features: usize,
    targets: &[f64],
    direct: Option<&DirectRows<'_>>,
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    macro_rules! fixed {
        ($direct:expr; $($nf:literal)*) => {
            match n_features {
                // SAFETY: the caller's promises, and n_features == NF.
                $($nf => unsafe { run_steps_fixed::<$nf, _>(settings, data, targets, $direct, ring, steps, lanes) },)*
                // SAFETY: the caller's promises.
                _ => unsafe { run_steps(settings, data, n_features, targets, ring, steps, lanes) },
            }
        };
    }
    // Direct rows are only made for rows of up to PADDED_FEATURES.
    match direct {
        Some(DirectRows {
            padded,
            rows: LaneRows::InOrder(rows),
        }) => {
            fixed!(Some((*padded, rows)); 1 2 3 4 5 6 7);
        }
        Some(DirectRows {
            padded,
            rows: LaneRows::ByOrder(rows),
        }) => {
            fixed!(Some((*padded, rows)); 1 2 3 4 5 6 7);
        }
        None => fixed!(None::<(&[PaddedRow], &[&[u32]; LANES])>; 1 2 3 4 5 6 7 8 9 10 11 12),
    }
}
