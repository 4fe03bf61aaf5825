//! Several perceptron fits trained in one loop on one core.
//!
//! One SGD step of [`Perceptron::fit_rows`] cannot start before the previous
//! step's weights are known, so a single fit runs at the latency of that
//! chain (dot product, margin, update, truncation), with most of the core's
//! arithmetic units idle. The fits of a cross-validation are independent:
//! here [`LANES`] of them advance together, one step of each per iteration,
//! their weights stored lane by lane (`weights[feature][lane]`) so that each
//! operation of the step is one SIMD instruction over all the lanes. Each
//! lane does exactly the reference's operations in the reference's order,
//! with branches replaced by selects of the same values, so every fit's
//! result is bit for bit the one-fit-at-a-time result.
//!
//! Fits stop at different epochs (early stopping, divergence): a lane that
//! finishes takes the next waiting fit at once, so lanes are busy until the
//! queue is empty; idle lanes at the end compute on a harmless dummy state
//! whose values are never read.
//!
//! Fits with the same seed shuffle every training set of the same length
//! by the same permutation each epoch: the permutations are drawn once per
//! seed and length ([`EpochOrders`]) and shared, by the fits of one call
//! and by later calls on the same [`TrainingData`] (a search's
//! cross-validations, which differ only in hyperparameters).
//!
//! The step runs in an AVX-512 kernel when the CPU has AVX-512F, else in an
//! AVX2 kernel (two registers of four lanes) for rows of up to twelve
//! features, else in a portable kernel of the same operations on arrays. The
//! AVX-512 kernel reads rows of up to seven features as one 64-byte line
//! each, features and target ([`PaddedRow`]), each lane following its own
//! epoch's order ([`DirectRows`]), and transposes eight of them into a
//! register per feature; for wider rows, and in the AVX2 kernel, each lane
//! writes its epoch's row indices into a ring ahead and the kernel gathers.
//! Both x86-64 kernels run the step's phases written once in `step` over
//! the operations of their instruction set. They are the only `unsafe` of
//! the crate: intrinsics, and loads and gathers whose indices were checked
//! when the fits were validated. Each is tested against the reference on a
//! CPU that has it.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ndarray::{ArrayView2, CowArray, Ix2};
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::model::{MIN_SCALE, SgdSettings, targets, validate_training_set};
use crate::{FitError, FittedPerceptron, Perceptron, SeededRng};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod portable;
#[cfg(target_arch = "x86_64")]
mod step;

impl Perceptron {
    /// Trains one perceptron per entry of `row_sets`, each as
    /// [`Perceptron::fit_rows`] would and with bit-for-bit the same result,
    /// but several at a time in one loop on the calling thread, so the
    /// latency of one fit's step-to-step chain overlaps the others' work.
    /// Results are in `row_sets` order.
    ///
    /// # Panics
    /// If a row index is out of bounds.
    ///
    /// ```
    /// use ndarray::array;
    /// use proflab_perceptron::Perceptron;
    /// let x = array![[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0]];
    /// let y = [1, 1, 0, 0];
    /// let model = Perceptron::default();
    /// let sets: [&[usize]; 2] = [&[0, 1, 2], &[1, 2, 3]];
    /// let fits = model.fit_interleaved(x.view(), &y, &sets);
    /// assert_eq!(fits[1], model.fit_rows(x.view(), &y, sets[1]));
    /// ```
    pub fn fit_interleaved(
        &self,
        features: ArrayView2<'_, f64>,
        labels: &[usize],
        row_sets: &[&[usize]],
    ) -> Vec<Result<FittedPerceptron, FitError>> {
        let borrowed = row_sets.iter().map(|&rows| rows.into()).collect();
        // Sets fitted once: their epochs are not worth keeping in order.
        TrainingData::new(features, labels, borrowed, 0).fit_interleaved(self, 0..row_sets.len())
    }
}

/// Fits advanced together: eight f64 lanes fill one AVX-512 register. With
/// eight lanes one step's latency and the kernel's throughput meet (about
/// 26 ns per eight-lane step on the project's machine); sixteen lanes, two
/// registers per step, measured no faster per fit and leave more lanes idle
/// at the end of a cross-validation (docs/experiments/notebook-2026-11-to-12.md).
pub(crate) const LANES: usize = 8;

/// `Sum::sum`'s starting value for f64, so a lane's dot product starts
/// where the reference's `iter().sum()` does (the sign of a zero sum).
fn sum_start() -> f64 {
    std::iter::empty::<f64>().sum()
}

/// The cumulative shuffles of a training set of one length by one seed:
/// after epoch `e`, the reference's `order` is `rows[positions(e)[k]]`,
/// because `SliceRandom::shuffle`'s swaps depend only on the generator and
/// the length.
#[derive(Clone)]
struct EpochOrders {
    seed: u64,
    len: usize,
    rng: SeededRng,
    /// `positions[e - 1]` is the permutation after epoch `e`; shared with
    /// the lanes reading it while other fits draw further epochs.
    positions: Vec<Arc<[usize]>>,
}

impl EpochOrders {
    fn new(len: usize, seed: u64) -> Self {
        Self {
            seed,
            len,
            rng: SeededRng::seed_from_u64(seed),
            positions: Vec::new(),
        }
    }

    fn positions(&mut self, epoch: usize) -> Arc<[usize]> {
        while self.positions.len() < epoch {
            let mut next: Vec<usize> = match self.positions.last() {
                Some(previous) => previous.to_vec(),
                None => (0..self.len).collect(),
            };
            next.shuffle(&mut self.rng);
            self.positions.push(next.into());
        }
        Arc::clone(&self.positions[epoch - 1])
    }
}

/// At most this many row indices of epochs in order are kept for later
/// fits (4 bytes each, 32 MiB): the tutorial's search needs about a
/// million. An epoch beyond it is still written out for the fit that needs
/// it, and dropped when that fit moves on.
pub(crate) const KEPT_EPOCH_ROWS: usize = 1 << 23;

/// A dataset and training sets in the layouts the interleaved fits read,
/// and what those fits have drawn on them: the epoch shuffles, and each
/// training set's epochs in order. None of it depends on a model's
/// hyperparameters other than the seed, so a search builds it once and fits
/// every configuration on it ([`crate::CrossValidation`]).
pub(crate) struct TrainingData<'a> {
    features: CowArray<'a, f64, Ix2>,
    labels: &'a [usize],
    targets: Vec<f64>,
    kernel: Kernel,
    /// The rows for the AVX-512 kernel, else empty.
    padded: Vec<PaddedRow>,
    row_sets: Vec<Cow<'a, [usize]>>,
    /// Each training set's checks that no hyperparameter changes.
    set_checks: Vec<Result<(), FitError>>,
    /// Epochs the fits on each set have run so far, summed: fits start
    /// longest-first by it, so fewer lanes idle at the end of a call (the
    /// order changes no result).
    epochs_run: Vec<AtomicUsize>,
    draws: Mutex<Draws>,
    /// The most row indices `draws` keeps in epoch order.
    kept_epoch_rows: usize,
}

/// One training set's rows in the order of epochs 1, 2, … by one seed (a
/// fit asks for them in that order).
type SeedEpochs = (u64, Vec<Arc<[u32]>>);

/// What the fits have drawn, for later fits: the epoch shuffles, and the
/// training sets' rows in each epoch's order (by set, then by seed).
#[derive(Clone)]
struct Draws {
    shuffles: Vec<EpochOrders>,
    by_set: Vec<Vec<SeedEpochs>>,
    /// Row indices held in `by_set`.
    held: usize,
}

impl Draws {
    /// The permutation of `len` positions after epoch `epoch` by `seed`.
    fn order(&mut self, seed: u64, len: usize, epoch: usize) -> Arc<[usize]> {
        let which = match self
            .shuffles
            .iter()
            .position(|o| o.seed == seed && o.len == len)
        {
            Some(which) => which,
            None => {
                self.shuffles.push(EpochOrders::new(len, seed));
                self.shuffles.len() - 1
            }
        };
        self.shuffles[which].positions(epoch)
    }

    /// The epochs of training set `set` by `seed` kept in order so far.
    fn kept(&mut self, set: usize, seed: u64) -> &mut Vec<Arc<[u32]>> {
        let of_set = &mut self.by_set[set];
        let which = match of_set.iter().position(|(s, _)| *s == seed) {
            Some(which) => which,
            None => {
                of_set.push((seed, Vec::new()));
                of_set.len() - 1
            }
        };
        &mut of_set[which].1
    }
}

impl Clone for TrainingData<'_> {
    fn clone(&self) -> Self {
        Self {
            features: self.features.clone(),
            labels: self.labels,
            targets: self.targets.clone(),
            kernel: self.kernel,
            padded: self.padded.clone(),
            row_sets: self.row_sets.clone(),
            set_checks: self.set_checks.clone(),
            epochs_run: self
                .epochs_run
                .iter()
                .map(|epochs| AtomicUsize::new(epochs.load(Ordering::Relaxed)))
                .collect(),
            draws: Mutex::new(self.lock_draws().clone()),
            kept_epoch_rows: self.kept_epoch_rows,
        }
    }
}

impl std::fmt::Debug for TrainingData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainingData")
            .field("rows", &self.features.nrows())
            .field("features", &self.features.ncols())
            .finish_non_exhaustive()
    }
}

impl<'a> TrainingData<'a> {
    /// `features` (any layout), the class indices of its rows, and the
    /// training sets fits will be asked for (rows of `features`); each set's
    /// epochs are kept in order, up to `kept_epoch_rows` row indices in all
    /// (worth it only for sets fitted again, by other models).
    pub(crate) fn new(
        features: ArrayView2<'a, f64>,
        labels: &'a [usize],
        row_sets: Vec<Cow<'a, [usize]>>,
        kept_epoch_rows: usize,
    ) -> Self {
        let features: CowArray<'a, f64, Ix2> = if features.is_standard_layout() {
            features.into()
        } else {
            features.as_standard_layout().into_owned().into()
        };
        let (n_rows, n_features) = features.dim();
        let data = features.as_slice().expect("standard layout is contiguous");
        // Whether every `row * n_features + feature` fits an i32 (the SIMD
        // kernels' gather offsets).
        let offsets_fit_i32 = i32::try_from(data.len()).is_ok();
        let kernel = Kernel::pick(n_features, offsets_fit_i32, allowed_kernels());
        // Targets only where the labels match the rows; a mismatch is
        // reported by each fit's validation.
        let targets = if labels.len() == features.nrows() {
            targets(labels)
        } else {
            Vec::new()
        };
        let padded = if kernel == Kernel::Avx512 {
            padded_rows(data, n_features, &targets)
        } else {
            Vec::new()
        };
        Self {
            features,
            labels,
            targets,
            kernel,
            padded,
            draws: Mutex::new(Draws {
                shuffles: Vec::new(),
                by_set: vec![Vec::new(); row_sets.len()],
                held: 0,
            }),
            kept_epoch_rows,
            epochs_run: row_sets.iter().map(|_| AtomicUsize::new(0)).collect(),
            set_checks: row_sets
                .iter()
                .map(|rows| validate_training_set(n_rows, labels, rows))
                .collect(),
            row_sets,
        }
    }

    /// The features, row-major.
    pub(crate) fn features(&self) -> ArrayView2<'_, f64> {
        self.features.view()
    }

    // A panic while drawing leaves at worst shorter lists, still valid.
    fn lock_draws(&self) -> MutexGuard<'_, Draws> {
        self.draws.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Training set `set`'s rows in epoch `epoch` by `seed`: in the order
    /// the reference visits them when this keeps epochs in order (kept for
    /// later fits until [`TrainingData::kept_epoch_rows`] are), else as the
    /// epoch's permutation of the set's positions. The caller checked that
    /// row indices fit u32.
    fn epoch_rows(&self, set: usize, seed: u64, epoch: usize) -> EpochRows {
        let set_rows = &self.row_sets[set];
        let mut draws = self.lock_draws();
        if self.kept_epoch_rows == 0 {
            return EpochRows::ByOrder(draws.order(seed, set_rows.len(), epoch));
        }
        if let Some(rows) = draws.kept(set, seed).get(epoch - 1) {
            return EpochRows::InOrder(Arc::clone(rows));
        }
        let rows: Arc<[u32]> = draws
            .order(seed, set_rows.len(), epoch)
            .iter()
            .map(|&position| set_rows[position] as u32)
            .collect();
        // A fit asks for epochs in turn, so the previous one is kept unless
        // the limit stopped it.
        if draws.held + rows.len() <= self.kept_epoch_rows {
            let kept = draws.kept(set, seed);
            if kept.len() + 1 == epoch {
                kept.push(Arc::clone(&rows));
                draws.held += rows.len();
            }
        }
        EpochRows::InOrder(rows)
    }

    /// Trains one perceptron on each training set of `sets`, as
    /// [`Perceptron::fit_rows`] would and with bit-for-bit the same result,
    /// [`LANES`] fits at a time. Results are in `sets` order.
    ///
    /// # Panics
    /// If a row index is out of bounds.
    #[proflab::profile]
    pub(crate) fn fit_interleaved(
        &self,
        model: &Perceptron,
        sets: Range<usize>,
    ) -> Vec<Result<FittedPerceptron, FitError>> {
        let features = self.features();
        let row_sets = &self.row_sets[sets.clone()];
        // A set's own check first, then the model's, as `fit_rows` reports.
        let hyperparameters = model.validate_hyperparameters();
        let checked: Vec<Result<(), FitError>> = self.set_checks[sets.clone()]
            .iter()
            .map(|check| check.clone().and_then(|()| hyperparameters.clone()))
            .collect();
        if u32::try_from(features.nrows()).is_err() {
            // Beyond the lanes' u32 row indices: one fit at a time.
            return row_sets
                .iter()
                .map(|rows| model.fit_rows(features, self.labels, rows))
                .collect();
        }
        let valid: Vec<usize> = sets
            .zip(&checked)
            .filter(|(_, check)| check.is_ok())
            .map(|(set, _)| set)
            .collect();
        let mut fitted = sgd_interleaved(&model.settings(), self, &valid).into_iter();
        checked
            .into_iter()
            .map(|check| match check {
                Ok(()) => fitted.next().expect("one result per valid set"),
                Err(error) => Err(error),
            })
            .collect()
    }
}

/// Each lane's own rows, read as the steps go, and loaded whole from
/// `padded`: how the AVX-512 kernel finds the samples of rows of up to
/// [`PADDED_FEATURES`] features, in place of the ring. Filling the ring
/// (one strided store per lane and step) cost 10 to 15% of that kernel's
/// time (`sgd_rate`); looking each lane's row up as it goes costs less.
struct DirectRows<'a> {
    padded: &'a [PaddedRow],
    rows: LaneRows<'a>,
}

/// Where each lane finds the row of its `k`-th step from here.
#[derive(Clone, Copy)]
enum LaneRows<'a> {
    /// The epoch's rows written out in order, kept by [`TrainingData`]:
    /// one load per lane and step where [`Self::ByOrder`] needs two more,
    /// worth writing out only when the sets are fitted again (the hill
    /// climb 70.7 to 69.3 ms of CPU; docs/experiments/notebook-2026-11-to-12.md).
    InOrder([&'a [u32]; LANES]),
    /// The training set's rows and the epoch's order: `rows[order[k]]`.
    ByOrder([(&'a [usize], &'a [usize]); LANES]),
}

/// How a kernel finds the row of a lane's step from the two kinds of
/// [`LaneRows`], each compiled into its own kernel.
trait RowAt: Copy {
    /// The row of lane `lane`'s `k`-th step from here.
    ///
    /// # Safety
    /// `lane < LANES`, and the lane has more than `k` steps of rows.
    unsafe fn row_at(self, lane: usize, k: usize) -> usize;
}

impl RowAt for &[&[u32]; LANES] {
    #[inline(always)]
    unsafe fn row_at(self, lane: usize, k: usize) -> usize {
        // SAFETY: the caller's promises.
        unsafe { *self.get_unchecked(lane).get_unchecked(k) as usize }
    }
}

impl RowAt for &[(&[usize], &[usize]); LANES] {
    #[inline(always)]
    unsafe fn row_at(self, lane: usize, k: usize) -> usize {
        // SAFETY: the caller's promises; `order` is a permutation of the
        // positions of `rows`.
        unsafe {
            let (rows, order) = *self.get_unchecked(lane);
            *rows.get_unchecked(*order.get_unchecked(k))
        }
    }
}

/// A lane's rows over one epoch.
enum EpochRows {
    /// In the order the reference visits them.
    InOrder(Arc<[u32]>),
    /// The epoch's permutation of the training set's positions.
    ByOrder(Arc<[usize]>),
}

impl EpochRows {
    /// The row of step `k` of the epoch, of the training set `rows`.
    fn row(&self, rows: &[usize], k: usize) -> usize {
        match self {
            Self::InOrder(in_order) => in_order[k] as usize,
            Self::ByOrder(order) => rows[order[k]],
        }
    }
}

/// Each lane's rows from its current position (every lane's epoch rows are
/// of one kind, that of the [`TrainingData`]); idle lanes take a running
/// lane's (their results are never read).
fn lane_rows<'a>(running: &'a [Option<Running>; LANES], row_sets: &[&'a [usize]]) -> LaneRows<'a> {
    fn each<'a, T: Copy>(
        running: &'a [Option<Running>; LANES],
        rows: impl Fn(&'a Running) -> T,
    ) -> [T; LANES] {
        let first = running
            .iter()
            .flatten()
            .next()
            .map(&rows)
            .expect("the kernel runs while a lane does");
        std::array::from_fn(|lane| running[lane].as_ref().map_or(first, &rows))
    }
    let in_order = running
        .iter()
        .flatten()
        .next()
        .is_some_and(|fit| matches!(fit.rows, EpochRows::InOrder(_)));
    if in_order {
        LaneRows::InOrder(each(running, |fit| match &fit.rows {
            EpochRows::InOrder(rows) => &rows[fit.position..],
            EpochRows::ByOrder(_) => unreachable!("one kind of epoch rows per call"),
        }))
    } else {
        LaneRows::ByOrder(each(running, |fit| match &fit.rows {
            EpochRows::ByOrder(order) => (row_sets[fit.index], &order[fit.position..]),
            EpochRows::InOrder(_) => unreachable!("one kind of epoch rows per call"),
        }))
    }
}

/// The bookkeeping of the fit a lane is running (the scalar part of the
/// reference's loop, touched once per epoch).
struct Running {
    /// Index of the fit in the caller's list.
    index: usize,
    epoch: usize,
    /// This epoch's rows.
    rows: EpochRows,
    /// Steps done in this epoch.
    position: usize,
    best_loss: f64,
    epochs_without_improvement: usize,
    improvement_needed: f64,
}

/// The state every step touches, lane by lane.
struct Lanes {
    /// `weights[feature][lane]`, stored as `scale · w` like the reference.
    weights: Vec<[f64; LANES]>,
    /// Truncated-gradient L1 penalty each weight has received.
    received: Vec<[f64; LANES]>,
    scale: [f64; LANES],
    intercept: [f64; LANES],
    l1_offered: [f64; LANES],
    epoch_loss: [f64; LANES],
}

impl Lanes {
    fn new(n_features: usize) -> Self {
        Self {
            weights: vec![[0.0; LANES]; n_features],
            received: vec![[0.0; LANES]; n_features],
            scale: [1.0; LANES],
            intercept: [0.0; LANES],
            l1_offered: [0.0; LANES],
            epoch_loss: [0.0; LANES],
        }
    }

    /// Puts lane `lane` back to the reference's starting state.
    fn reset(&mut self, lane: usize) {
        for (w, q) in self.weights.iter_mut().zip(&mut self.received) {
            w[lane] = 0.0;
            q[lane] = 0.0;
        }
        self.scale[lane] = 1.0;
        self.intercept[lane] = 0.0;
        self.l1_offered[lane] = 0.0;
        self.epoch_loss[lane] = 0.0;
    }
}

/// Trains one perceptron on each of `training`'s sets numbered in `sets`
/// (each already validated, every row index below `u32::MAX`),
/// with the settings of the reference's `sgd`, [`LANES`] fits at a time.
/// Results are in `sets` order.
#[allow(
    clippy::needless_range_loop,
    reason = "a lane number indexes the lanes' state and their bookkeeping alike"
)]
fn sgd_interleaved(
    settings: &SgdSettings,
    training: &TrainingData<'_>,
    sets: &[usize],
) -> Vec<Result<FittedPerceptron, FitError>> {
    let row_sets: Vec<&[usize]> = sets.iter().map(|&set| &*training.row_sets[set]).collect();
    let data = training
        .features
        .as_slice()
        .expect("standard layout is contiguous");
    let n_features = training.features.ncols();
    let targets = training.targets.as_slice();
    let samples = Samples {
        data,
        n_features,
        targets,
    };
    let kernel = training.kernel;
    let mut results: Vec<Option<Result<FittedPerceptron, FitError>>> =
        (0..row_sets.len()).map(|_| None).collect();
    let mut lanes = Lanes::new(n_features);
    let mut running: [Option<Running>; LANES] = Default::default();
    // With padded rows each lane reads its own order: the ring stays empty.
    let direct = !training.padded.is_empty();
    // Without direct rows, the rows each lane reads, by global step:
    // `ring[step & mask][lane]`. A lane writes a whole epoch ahead
    // when it starts one, so the kernel reads one contiguous vector of row
    // indices per step; idle lanes read stale (valid) rows.
    let longest = row_sets.iter().map(|rows| rows.len()).max().unwrap_or(0);
    let ring_len = longest.next_power_of_two();
    let mut ring = Ring {
        rows: if direct {
            Vec::new()
        } else {
            vec![[0; LANES]; ring_len]
        },
        mask: ring_len - 1,
        now: 0,
    };
    // Longest-first by the epochs earlier fits on the same sets ran (a
    // stable sort: in order the first time).
    let mut waiting: Vec<usize> = (0..sets.len()).collect();
    waiting.sort_by_key(|&index| Reverse(training.epochs_run[sets[index]].load(Ordering::Relaxed)));
    let mut waiting = waiting.into_iter();

    loop {
        for lane in 0..LANES {
            while running[lane].is_none() {
                let Some(index) = waiting.next() else {
                    // Idle from now on: a fresh state, so no overflowed or
                    // subnormal leftovers slow the lanes still working.
                    lanes.reset(lane);
                    break;
                };
                let rows = row_sets[index];
                if settings.max_iter == 0 {
                    // The reference runs no epoch: zero weights.
                    lanes.reset(lane);
                    results[index] = Some(finish_fit(&lanes, lane, 0));
                    continue;
                }
                lanes.reset(lane);
                let epoch_rows = training.epoch_rows(sets[index], settings.seed, 1);
                if !direct {
                    ring.fill(lane, rows, &epoch_rows);
                }
                running[lane] = Some(Running {
                    index,
                    rows: epoch_rows,
                    epoch: 1,
                    position: 0,
                    best_loss: f64::INFINITY,
                    epochs_without_improvement: 0,
                    improvement_needed: settings.tol * rows.len() as f64,
                });
            }
        }
        // Run until the first lane reaches the end of its epoch.
        let Some(steps) = running
            .iter()
            .flatten()
            .map(|fit| row_sets[fit.index].len() - fit.position)
            .min()
        else {
            break;
        };
        let direct_rows = direct.then(|| DirectRows {
            padded: &training.padded,
            rows: lane_rows(&running, &row_sets),
        });
        run_steps(
            settings,
            samples,
            kernel,
            direct_rows.as_ref(),
            &ring,
            steps,
            &mut lanes,
        );
        ring.now += steps;

        for lane in 0..LANES {
            let Some(fit) = running[lane].as_mut() else {
                continue;
            };
            fit.position += steps;
            let rows = row_sets[fit.index];
            if fit.position < rows.len() {
                continue;
            }
            // The reference's end-of-epoch checks, for this lane.
            let epoch_loss = lanes.epoch_loss[lane];
            let outcome = if !epoch_loss.is_finite() || !lanes.intercept[lane].is_finite() {
                Some(Err(FitError::Diverged(fit.epoch)))
            } else {
                if epoch_loss > fit.best_loss - fit.improvement_needed {
                    fit.epochs_without_improvement += 1;
                } else {
                    fit.epochs_without_improvement = 0;
                }
                fit.best_loss = fit.best_loss.min(epoch_loss);
                (fit.epochs_without_improvement >= settings.n_iter_no_change
                    || fit.epoch == settings.max_iter)
                    .then(|| finish_fit(&lanes, lane, fit.epoch))
            };
            if let Some(outcome) = outcome {
                results[fit.index] = Some(outcome);
                training.epochs_run[sets[fit.index]].fetch_add(fit.epoch, Ordering::Relaxed);
                running[lane] = None;
                continue;
            }
            fit.epoch += 1;
            fit.position = 0;
            lanes.epoch_loss[lane] = 0.0;
            fit.rows = training.epoch_rows(sets[fit.index], settings.seed, fit.epoch);
            if !direct {
                ring.fill(lane, rows, &fit.rows);
            }
        }
    }
    results
        .into_iter()
        .map(|result| result.expect("every fit ran to its end"))
        .collect()
}

/// The samples the steps read: rows of `n_features` features one after
/// the other, and each row's target (±1).
#[derive(Clone, Copy)]
struct Samples<'a> {
    data: &'a [f64],
    n_features: usize,
    targets: &'a [f64],
}

/// Row indices by global step and lane.
struct Ring {
    rows: Vec<[u32; LANES]>,
    /// Steps held, minus one (a power of two, at least the longest epoch).
    mask: usize,
    /// The global step the next kernel run starts at.
    now: usize,
}

impl Ring {
    /// Lane `lane`'s next epoch of the training set `rows`, from step `now`
    /// on.
    fn fill(&mut self, lane: usize, rows: &[usize], epoch: &EpochRows) {
        // From `now` to the end of the ring, then from its start.
        let start = self.now & self.mask;
        let head = rows.len().min(self.mask + 1 - start);
        let write = |ring: &mut [[u32; LANES]], steps: Range<usize>| {
            for (slot, k) in ring.iter_mut().zip(steps) {
                // The caller checked that row indices fit u32.
                slot[lane] = epoch.row(rows, k) as u32;
            }
        };
        write(&mut self.rows[start..], 0..head);
        write(&mut self.rows, head..rows.len());
    }

    /// The row indices of every lane at global step `step`.
    fn at(&self, step: usize) -> &[u32; LANES] {
        &self.rows[step & self.mask]
    }
}

/// One sample in one 64-byte line: its features, then its target, then
/// zeros. The AVX-512 kernel loads eight of these (one per lane) and
/// transposes them into a register per feature, which on Zen 5 costs about
/// a third of the time of gathering the same values (`sgd_rate`, 8 fits x
/// 40 epochs: 3.46 ns a step with gathers, 2.31 with plain loads).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct PaddedRow([f64; 8]);

/// The widest rows a [`PaddedRow`] holds beside their target.
const PADDED_FEATURES: usize = 7;

/// `data`'s rows and `targets` as [`PaddedRow`]s, for rows of 1 to
/// [`PADDED_FEATURES`] features; empty otherwise.
fn padded_rows(data: &[f64], n_features: usize, targets: &[f64]) -> Vec<PaddedRow> {
    if !(1..=PADDED_FEATURES).contains(&n_features) {
        return Vec::new();
    }
    data.chunks_exact(n_features)
        .zip(targets)
        .map(|(features, &target)| {
            let mut row = [0.0; 8];
            row[..n_features].copy_from_slice(features);
            row[n_features] = target;
            PaddedRow(row)
        })
        .collect()
}

/// The reference's epilogue for one fit: unscaled weights, checked for
/// overflow. Profiled so that a profile still counts one call per fit.
#[proflab::profile]
fn finish_fit(lanes: &Lanes, lane: usize, n_iter: usize) -> Result<FittedPerceptron, FitError> {
    let scale = lanes.scale[lane];
    let coef: Vec<f64> = lanes.weights.iter().map(|w| w[lane] * scale).collect();
    if coef.iter().any(|w| !w.is_finite()) {
        return Err(FitError::Diverged(n_iter));
    }
    Ok(FittedPerceptron {
        coef,
        intercept: lanes.intercept[lane],
        n_iter,
    })
}

/// `steps` SGD steps of every lane from the ring's current step: the
/// reference's step with each `if` turned into a select between the updated
/// and the unchanged value. The widest kernel the CPU has (AVX-512, AVX2),
/// else the same operations on arrays, left to the compiler.
fn run_steps(
    settings: &SgdSettings,
    samples: Samples<'_>,
    kernel: Kernel,
    direct: Option<&DirectRows<'_>>,
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    match kernel {
        // SAFETY: `kernel` came from `Kernel::pick`, which checked the CPU's
        // features and the offsets; `direct` rows have every row, and each
        // lane's order `steps` positions at least.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => unsafe {
            avx512::run_steps_any_width(settings, samples, direct, ring, steps, lanes);
        },
        // SAFETY: as above, and `pick` checked the width.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => unsafe {
            avx2::run_steps_any_width(settings, samples, ring, steps, lanes);
        },
        _ => portable::run_steps(settings, samples, ring, steps, lanes),
    }
}

/// The step's kernels, from the most portable up.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kernel {
    Portable,
    Avx2,
    Avx512,
}

impl Kernel {
    /// The widest kernel up to `allowed` that this CPU has and that takes
    /// rows of `n_features` (the SIMD kernels gather with i32 offsets);
    /// the portable one off x86-64.
    fn pick(n_features: usize, offsets_fit_i32: bool, allowed: Kernel) -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if offsets_fit_i32 {
            if allowed >= Kernel::Avx512 && std::arch::is_x86_feature_detected!("avx512f") {
                return Kernel::Avx512;
            }
            if allowed >= Kernel::Avx2
                && avx2::handles(n_features)
                && std::arch::is_x86_feature_detected!("avx2")
            {
                return Kernel::Avx2;
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (n_features, offsets_fit_i32, allowed);
        Kernel::Portable
    }
}

/// A test lowers this to check each kernel on a CPU that would pick a wider
/// one (`Kernel as u8`). Other tests running meanwhile may get a narrower
/// kernel than their CPU's: every kernel gives the same bits.
#[cfg(test)]
static ALLOWED_KERNELS: std::sync::atomic::AtomicU8 =
    std::sync::atomic::AtomicU8::new(Kernel::Avx512 as u8);

/// The widest kernel `run_steps` may pick, if the CPU has it.
fn allowed_kernels() -> Kernel {
    #[cfg(test)]
    return match ALLOWED_KERNELS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => Kernel::Portable,
        1 => Kernel::Avx2,
        _ => Kernel::Avx512,
    };
    #[cfg(not(test))]
    Kernel::Avx512
}

/// The reference's `fold_scale`, for the lanes whose scale fell too low.
#[cold]
fn fold_scales(weights: &mut [[f64; LANES]], scale: &mut [f64; LANES]) {
    for lane in 0..LANES {
        if scale[lane] < MIN_SCALE {
            for w in weights.iter_mut() {
                w[lane] *= scale[lane];
            }
            scale[lane] = 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClassificationParams, Penalty, Perceptron, RepeatedStratifiedKFold};

    /// The integration tests run the kernel this CPU picks; this one runs
    /// the narrower kernels too (those this CPU has), against the reference.
    #[test]
    fn the_narrower_kernels_match_the_reference() {
        let data = crate::make_classification(&ClassificationParams::tutorial()).expect("valid");
        let splits = RepeatedStratifiedKFold::tutorial()
            .split(&data.labels)
            .expect("splits");
        let sets: Vec<&[usize]> = splits.iter().map(|s| s.train.as_slice()).collect();
        #[cfg(target_arch = "x86_64")]
        {
            let mut kernels = vec![Kernel::Portable];
            if std::arch::is_x86_feature_detected!("avx2") {
                kernels.push(Kernel::Avx2);
            }
            // The only test that lowers the global, one kernel after the other.
            for kernel in kernels {
                ALLOWED_KERNELS.store(kernel as u8, std::sync::atomic::Ordering::Relaxed);
                check_against_reference(&data, &sets);
            }
            ALLOWED_KERNELS.store(Kernel::Avx512 as u8, std::sync::atomic::Ordering::Relaxed);
        }
        // Elsewhere the portable kernel is the only one.
        #[cfg(not(target_arch = "x86_64"))]
        check_against_reference(&data, &sets);
    }

    /// Past the limit of kept epochs, fits write out their own and give the
    /// same bits.
    #[test]
    fn fits_beyond_the_kept_epochs_match_the_reference() {
        let data = crate::make_classification(&ClassificationParams::tutorial()).expect("valid");
        let splits = RepeatedStratifiedKFold::tutorial()
            .split(&data.labels)
            .expect("splits");
        let sets: Vec<&[usize]> = splits.iter().map(|s| s.train.as_slice()).collect();
        // Room for five epochs of 900 rows.
        let training = TrainingData::new(
            data.features.view(),
            &data.labels,
            sets.iter().map(|&rows| rows.into()).collect(),
            5 * 900,
        );
        let model = Perceptron {
            penalty: Penalty::ElasticNet,
            alpha: 0.0001,
            ..Perceptron::default()
        };
        for _ in 0..2 {
            let fits = training.fit_interleaved(&model, 0..sets.len());
            for (rows, fit) in sets.iter().zip(&fits) {
                let reference = model.fit_rows(data.features.view(), &data.labels, rows);
                // Debug prints each f64 exactly, signed zeros included.
                assert_eq!(format!("{fit:?}"), format!("{reference:?}"));
            }
        }
        let draws = training.lock_draws();
        assert_eq!(draws.held, 5 * 900);
        assert!(
            draws
                .by_set
                .iter()
                .flatten()
                .all(|(_, kept)| kept.len() <= 5)
        );
    }

    fn check_against_reference(data: &crate::Dataset, sets: &[&[usize]]) {
        for (penalty, alpha) in [(Penalty::ElasticNet, 0.05), (Penalty::None, 0.0)] {
            let model = Perceptron {
                penalty,
                alpha,
                ..Perceptron::default()
            };
            let fits = model.fit_interleaved(data.features.view(), &data.labels, &sets[..11]);
            for (rows, fit) in sets.iter().zip(&fits) {
                let reference = model.fit_rows(data.features.view(), &data.labels, rows);
                let bits = |fit: &Result<crate::FittedPerceptron, FitError>| {
                    fit.clone().map(|fit| {
                        let mut bits: Vec<u64> = fit.coef.iter().map(|w| w.to_bits()).collect();
                        bits.push(fit.intercept.to_bits());
                        (bits, fit.n_iter)
                    })
                };
                assert_eq!(bits(fit), bits(&reference));
            }
        }
    }
}
