//! The phases of the SGD step shared by the x86-64 kernels, written once
//! over [`Simd`], the operations of one instruction set on the [`LANES`]
//! lanes of a step (`avx512::Avx512`: one register; `avx2::Avx2`: two).
//!
//! `#[target_feature]` cannot be generic, so each instruction set has a
//! thin `#[target_feature]` function per kernel instance, and what it calls
//! here is `#[inline(always)]` (as are the [`Simd`] operations): once
//! inlined into that function, the intrinsics are compiled with the
//! instruction set enabled and inline in turn. The phases use loops rather
//! than closures, since a closure here would be a function of its own
//! without the instruction set, where the intrinsics would not inline.
//!
//! Every phase does the portable kernel's operations in its order, lane for
//! lane, so all kernels give the same bits.

use super::{LANES, Lanes, MIN_SCALE, Ring, Samples, SgdSettings, sum_start};

/// A proof that the CPU has an instruction set (its value can only be made
/// where the set is enabled), and that set's operations on the lanes of a
/// step. Each operation is the one intrinsic (or one per register) of the
/// portable kernel's operation.
pub(super) trait Simd: Copy {
    /// A value per lane.
    type V: Copy;
    /// A condition per lane.
    type Mask: Copy;
    /// A 32-bit index per lane.
    type Indices: Copy;

    fn splat(self, value: f64) -> Self::V;
    fn load(self, values: &[f64; LANES]) -> Self::V;
    fn store(self, values: &mut [f64; LANES], v: Self::V);
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    fn div(self, a: Self::V, b: Self::V) -> Self::V;
    /// `maxpd`: `a > b ? a : b`.
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    /// `minpd`: `a < b ? a : b`.
    fn min(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a <= b`, false where either is NaN.
    fn le(self, a: Self::V, b: Self::V) -> Self::Mask;
    /// `a < b`, false where either is NaN.
    fn lt(self, a: Self::V, b: Self::V) -> Self::Mask;
    /// `a > b`, false where either is NaN.
    fn gt(self, a: Self::V, b: Self::V) -> Self::Mask;
    /// Whether the condition holds in some lane.
    fn any(self, mask: Self::Mask) -> bool;
    /// `if mask { if_true } else { if_false }`, lane by lane.
    fn select(self, mask: Self::Mask, if_true: Self::V, if_false: Self::V) -> Self::V;
    fn indices(self, rows: &[u32; LANES]) -> Self::Indices;
    /// Each index times `factor` (wrapping, as `vpmulld`).
    fn times(self, indices: Self::Indices, factor: i32) -> Self::Indices;
    /// `values[index]` for each lane's index.
    ///
    /// # Safety
    /// Every `values + index` is inside the allocation `values` points into.
    unsafe fn gather(self, values: *const f64, indices: Self::Indices) -> Self::V;
}

/// The step's constants, one per lane.
pub(super) struct Constants<V> {
    /// Where a dot product starts ([`sum_start`]).
    pub(super) sum_start: V,
    pub(super) zero: V,
    one: V,
    eta: V,
    decay: V,
    min_scale: V,
    l1_step: V,
}

impl<V: Copy> Constants<V> {
    #[inline(always)]
    pub(super) fn new<S: Simd<V = V>>(s: S, settings: &SgdSettings) -> Self {
        Self {
            sum_start: s.splat(sum_start()),
            zero: s.splat(0.0),
            one: s.splat(1.0),
            eta: s.splat(settings.eta),
            decay: s.splat(settings.decay),
            min_scale: s.splat(MIN_SCALE),
            l1_step: s.splat(settings.l1_step),
        }
    }
}

/// The lanes' state besides the weights, in registers for a kernel's run.
pub(super) struct Carried<V> {
    pub(super) scale: V,
    intercept: V,
    offered: V,
    loss: V,
}

impl<V: Copy> Carried<V> {
    #[inline(always)]
    pub(super) fn load<S: Simd<V = V>>(s: S, lanes: &Lanes) -> Self {
        Self {
            scale: s.load(&lanes.scale),
            intercept: s.load(&lanes.intercept),
            offered: s.load(&lanes.l1_offered),
            loss: s.load(&lanes.epoch_loss),
        }
    }

    #[inline(always)]
    pub(super) fn store<S: Simd<V = V>>(&self, s: S, lanes: &mut Lanes) {
        s.store(&mut lanes.scale, self.scale);
        s.store(&mut lanes.intercept, self.intercept);
        s.store(&mut lanes.l1_offered, self.offered);
        s.store(&mut lanes.epoch_loss, self.loss);
    }
}

/// What the update of each weight needs from the rest of the step.
pub(super) struct Update<S: Simd> {
    /// The lanes whose sample was misclassified (margin ≤ 0): only those
    /// move their weights.
    wrong: S::Mask,
    step: S::V,
    /// With L1 truncation: the lanes' scale, its inverse and the penalty
    /// offered so far.
    truncates: bool,
    scale: S::V,
    inverse_scale: S::V,
    offered: S::V,
    zero: S::V,
}

/// The reference's margin, `(w · x · scale + intercept) · y`, from the dot
/// product `w · x`.
#[inline(always)]
pub(super) fn margin<S: Simd>(s: S, carried: &Carried<S::V>, dot: S::V, y: S::V) -> S::V {
    s.mul(s.add(s.mul(dot, carried.scale), carried.intercept), y)
}

/// The reference's decay of the scale; the lanes whose scale fell below
/// [`MIN_SCALE`], if any, for the caller to fold (the reference's
/// `fold_scale`) where it keeps the weights.
#[inline(always)]
pub(super) fn decay<S: Simd>(
    s: S,
    settings: &SgdSettings,
    constants: &Constants<S::V>,
    scale: &mut S::V,
) -> Option<S::Mask> {
    if !settings.decays {
        return None;
    }
    *scale = s.mul(*scale, constants.decay);
    let low = s.lt(*scale, constants.min_scale);
    s.any(low).then_some(low)
}

/// The reference's step after the decay, up to the weights: the loss, the
/// intercept and the L1 penalty offered so far, in the misclassified lanes.
#[inline(always)]
pub(super) fn misclassified<S: Simd>(
    s: S,
    settings: &SgdSettings,
    constants: &Constants<S::V>,
    carried: &mut Carried<S::V>,
    margin: S::V,
    y: S::V,
) -> Update<S> {
    let wrong = s.le(margin, constants.zero);
    carried.loss = s.select(wrong, s.sub(carried.loss, margin), carried.loss);
    let update = s.mul(constants.eta, y);
    if settings.fit_intercept {
        carried.intercept = s.select(wrong, s.add(carried.intercept, update), carried.intercept);
    }
    if settings.truncates {
        carried.offered = s.add(carried.offered, constants.l1_step);
    }
    Update {
        wrong,
        step: s.div(update, carried.scale),
        truncates: settings.truncates,
        scale: carried.scale,
        inverse_scale: s.div(constants.one, carried.scale),
        offered: carried.offered,
        zero: constants.zero,
    }
}

/// One weight `w` of feature value `x` after the step, and the L1 penalty
/// it has received (`received`, unchanged without truncation). The
/// reference updates every weight, then truncates every weight; each
/// feature's two operations touch only that feature, so doing both per
/// feature is the same arithmetic with the weight kept in hand.
#[inline(always)]
pub(super) fn updated_weight<S: Simd>(
    s: S,
    update: &Update<S>,
    w: S::V,
    received: S::V,
    x: S::V,
) -> (S::V, S::V) {
    let before = s.select(update.wrong, s.add(w, s.mul(update.step, x)), w);
    if !update.truncates {
        return (before, received);
    }
    // `truncate_weight`, lane by lane.
    let zero = update.zero;
    let shrunk_positive = s.max(
        s.sub(
            before,
            s.mul(s.add(update.offered, received), update.inverse_scale),
        ),
        zero,
    );
    let shrunk_negative = s.min(
        s.add(
            before,
            s.mul(s.sub(update.offered, received), update.inverse_scale),
        ),
        zero,
    );
    let after = s.select(
        s.gt(before, zero),
        shrunk_positive,
        s.select(s.lt(before, zero), shrunk_negative, before),
    );
    let received = s.add(received, s.mul(update.scale, s.sub(after, before)));
    (after, received)
}

/// Where a kernel finds each step's samples.
pub(super) trait StepSamples<S: Simd>: Copy {
    /// The targets and the `NF` features of every lane's sample at the
    /// kernel run's `k`-th step.
    ///
    /// # Safety
    /// The source has that step, and its samples have `NF` features.
    unsafe fn at<const NF: usize>(self, s: S, k: usize) -> (S::V, [S::V; NF]);
}

/// The samples of the rows in the ring, gathered.
#[derive(Clone, Copy)]
pub(super) struct Gathered<'a> {
    pub(super) samples: Samples<'a>,
    pub(super) ring: &'a Ring,
}

impl<S: Simd> StepSamples<S> for Gathered<'_> {
    #[inline(always)]
    unsafe fn at<const NF: usize>(self, s: S, k: usize) -> (S::V, [S::V; NF]) {
        let Samples { data, targets, .. } = self.samples;
        let rows = s.indices(self.ring.at(self.ring.now + k));
        let base = s.times(rows, NF as i32);
        // SAFETY: every row index is below the row count (the fits were
        // validated and idle lanes keep earlier rows), so `rows` indexes
        // `targets` and `base + j` (j < NF, the row width) indexes `data`.
        let y = unsafe { s.gather(targets.as_ptr(), rows) };
        let mut x = [y; NF];
        for (j, xj) in x.iter_mut().enumerate() {
            // SAFETY: as above.
            *xj = unsafe { s.gather(data.as_ptr().add(j), base) };
        }
        (y, x)
    }
}

/// `steps` SGD steps of every lane, on samples of `NF` features, with the
/// weights and their L1 bookkeeping in registers (or the compiler's spill
/// slots) for the whole run instead of stored and reloaded every step.
///
/// # Safety
/// `samples` has `steps` steps of samples of `NF` features, and
/// `lanes` has `NF` weights per lane.
#[inline(always)]
pub(super) unsafe fn run_steps_fixed<S: Simd, const NF: usize, R: StepSamples<S>>(
    s: S,
    settings: &SgdSettings,
    samples: R,
    steps: usize,
    lanes: &mut Lanes,
) {
    let constants = Constants::new(s, settings);
    let mut carried = Carried::load(s, lanes);
    let mut weights = [constants.zero; NF];
    let mut received = [constants.zero; NF];
    for j in 0..NF {
        weights[j] = s.load(&lanes.weights[j]);
        received[j] = s.load(&lanes.received[j]);
    }
    for k in 0..steps {
        // SAFETY: the caller's promises.
        let (y, x) = unsafe { samples.at::<NF>(s, k) };
        let mut dot = constants.sum_start;
        for j in 0..NF {
            dot = s.add(dot, s.mul(weights[j], x[j]));
        }
        let margin = margin(s, &carried, dot, y);
        if let Some(low) = decay(s, settings, &constants, &mut carried.scale) {
            // The reference's `fold_scale` in the lanes whose scale fell
            // too low, without leaving the registers.
            for w in &mut weights {
                *w = s.select(low, s.mul(*w, carried.scale), *w);
            }
            carried.scale = s.select(low, constants.one, carried.scale);
        }
        let update = misclassified(s, settings, &constants, &mut carried, margin, y);
        for j in 0..NF {
            (weights[j], received[j]) = updated_weight(s, &update, weights[j], received[j], x[j]);
        }
    }
    carried.store(s, lanes);
    for j in 0..NF {
        s.store(&mut lanes.weights[j], weights[j]);
        s.store(&mut lanes.received[j], received[j]);
    }
}
