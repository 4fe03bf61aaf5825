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
//! Every fit of one call has the same seed, so every training set of the
//! same length is shuffled by the same permutation each epoch: the
//! permutations are drawn once per length ([`EpochOrders`]) and shared.

use multiversion::multiversion;
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::model::{MIN_SCALE, SgdSettings};
use crate::{FitError, FittedPerceptron, SeededRng};

/// Fits advanced together: eight f64 lanes fill one AVX-512 register (two
/// AVX2 registers), and eight independent chains are more than enough to
/// hide one step's latency.
pub(crate) const LANES: usize = 8;

/// `Sum::sum`'s starting value for f64, so a lane's dot product starts
/// where the reference's `iter().sum()` does (the sign of a zero sum).
fn sum_start() -> f64 {
    std::iter::empty::<f64>().sum()
}

/// The cumulative shuffles of a training set of one length: after epoch
/// `e`, the reference's `order` is `rows[positions(e)[k]]`, because
/// `SliceRandom::shuffle`'s swaps depend only on the generator and the length.
struct EpochOrders {
    len: usize,
    rng: SeededRng,
    /// `positions[e - 1]` is the permutation after epoch `e`.
    positions: Vec<Vec<usize>>,
}

impl EpochOrders {
    fn new(len: usize, seed: u64) -> Self {
        Self {
            len,
            rng: SeededRng::seed_from_u64(seed),
            positions: Vec::new(),
        }
    }

    fn positions(&mut self, epoch: usize) -> &[usize] {
        while self.positions.len() < epoch {
            let mut next = match self.positions.last() {
                Some(previous) => previous.clone(),
                None => (0..self.len).collect(),
            };
            next.shuffle(&mut self.rng);
            self.positions.push(next);
        }
        &self.positions[epoch - 1]
    }
}

/// The bookkeeping of the fit a lane is running (the scalar part of the
/// reference's loop, touched once per epoch).
struct Running {
    /// Index of the fit in the caller's list.
    index: usize,
    /// Which `EpochOrders` shuffles it.
    orders: usize,
    epoch: usize,
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

/// Trains one perceptron per entry of `row_sets` (each already validated),
/// with the settings of the reference's `sgd`, [`LANES`] fits at a time.
/// Results are in `row_sets` order.
pub(crate) fn sgd_interleaved(
    settings: &SgdSettings,
    data: &[f64],
    n_features: usize,
    targets: &[f64],
    row_sets: &[&[usize]],
) -> Vec<Result<FittedPerceptron, FitError>> {
    let mut results: Vec<Option<Result<FittedPerceptron, FitError>>> =
        (0..row_sets.len()).map(|_| None).collect();
    let mut orders: Vec<EpochOrders> = Vec::new();
    let mut lanes = Lanes::new(n_features);
    let mut running: [Option<Running>; LANES] = Default::default();
    // Each lane's rows in this epoch's order; idle lanes read row 0.
    let longest = row_sets.iter().map(|rows| rows.len()).max().unwrap_or(0);
    let mut lane_order: Vec<Vec<usize>> = vec![vec![0; longest]; LANES];
    let mut waiting = 0..row_sets.len();

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
                let which = match orders.iter().position(|o| o.len == rows.len()) {
                    Some(which) => which,
                    None => {
                        orders.push(EpochOrders::new(rows.len(), settings.seed));
                        orders.len() - 1
                    }
                };
                lanes.reset(lane);
                fill_order(&mut lane_order[lane], rows, orders[which].positions(1));
                running[lane] = Some(Running {
                    index,
                    orders: which,
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
        let mut window: [&[usize]; LANES] = [&[]; LANES];
        for (lane, slot) in window.iter_mut().enumerate() {
            let start = running[lane].as_ref().map_or(0, |fit| fit.position);
            *slot = &lane_order[lane][start..start + steps];
        }
        run_steps(settings, data, n_features, targets, &window, &mut lanes);

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
                running[lane] = None;
                continue;
            }
            fit.epoch += 1;
            fit.position = 0;
            lanes.epoch_loss[lane] = 0.0;
            fill_order(
                &mut lane_order[lane],
                rows,
                orders[fit.orders].positions(fit.epoch),
            );
        }
    }
    results
        .into_iter()
        .map(|result| result.expect("every fit ran to its end"))
        .collect()
}

fn fill_order(order: &mut [usize], rows: &[usize], positions: &[usize]) {
    for (slot, &position) in order.iter_mut().zip(positions) {
        *slot = rows[position];
    }
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

/// `window[lane].len()` SGD steps of every lane, lane `l` on the rows
/// `window[l]` in order: the reference's step with each `if` turned into a
/// select between the updated and the unchanged value.
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl", "x86_64+avx2+fma", "x86_64+avx"))]
fn run_steps(
    settings: &SgdSettings,
    data: &[f64],
    n_features: usize,
    targets: &[f64],
    window: &[&[usize]; LANES],
    lanes: &mut Lanes,
) {
    let steps = window[0].len();
    let zero = sum_start();
    let eta = settings.eta;
    let Lanes {
        weights,
        received,
        scale,
        intercept,
        l1_offered,
        epoch_loss,
    } = lanes;
    for t in 0..steps {
        let mut base = [0usize; LANES];
        let mut y = [0.0; LANES];
        for lane in 0..LANES {
            let row = window[lane][t];
            base[lane] = row * n_features;
            y[lane] = targets[row];
        }
        let mut x = [[0.0; LANES]; MAX_GATHERED];
        let gathered = n_features.min(MAX_GATHERED);
        for (j, xj) in x.iter_mut().enumerate().take(gathered) {
            for lane in 0..LANES {
                xj[lane] = data[base[lane] + j];
            }
        }
        let feature = |j: usize, lane: usize, x: &[[f64; LANES]; MAX_GATHERED]| {
            if j < MAX_GATHERED {
                x[j][lane]
            } else {
                data[base[lane] + j]
            }
        };

        let mut dot = [zero; LANES];
        for (j, w) in weights.iter().enumerate() {
            for lane in 0..LANES {
                dot[lane] += w[lane] * feature(j, lane, &x);
            }
        }
        let mut margin = [0.0; LANES];
        for lane in 0..LANES {
            margin[lane] = (dot[lane] * scale[lane] + intercept[lane]) * y[lane];
        }
        if settings.decays {
            for s in scale.iter_mut() {
                *s *= settings.decay;
            }
            if scale.iter().any(|&s| s < MIN_SCALE) {
                fold_scales(weights, scale);
            }
        }
        let mut wrong = [false; LANES];
        let mut step = [0.0; LANES];
        let mut update = [0.0; LANES];
        for lane in 0..LANES {
            wrong[lane] = margin[lane] <= 0.0;
            let loss = epoch_loss[lane] - margin[lane];
            epoch_loss[lane] = if wrong[lane] { loss } else { epoch_loss[lane] };
            update[lane] = eta * y[lane];
            step[lane] = update[lane] / scale[lane];
        }
        for (j, w) in weights.iter_mut().enumerate() {
            for lane in 0..LANES {
                let moved = w[lane] + step[lane] * feature(j, lane, &x);
                w[lane] = if wrong[lane] { moved } else { w[lane] };
            }
        }
        if settings.fit_intercept {
            for lane in 0..LANES {
                let moved = intercept[lane] + update[lane];
                intercept[lane] = if wrong[lane] { moved } else { intercept[lane] };
            }
        }
        if settings.truncates {
            let mut inverse_scale = [0.0; LANES];
            for lane in 0..LANES {
                l1_offered[lane] += settings.l1_step;
                inverse_scale[lane] = 1.0 / scale[lane];
            }
            for (w, q) in weights.iter_mut().zip(received.iter_mut()) {
                for lane in 0..LANES {
                    let before = w[lane];
                    let offered = l1_offered[lane];
                    let shrunk_positive =
                        (before - (offered + q[lane]) * inverse_scale[lane]).max(0.0);
                    let shrunk_negative =
                        (before + (offered - q[lane]) * inverse_scale[lane]).min(0.0);
                    let after = if before > 0.0 {
                        shrunk_positive
                    } else if before < 0.0 {
                        shrunk_negative
                    } else {
                        before
                    };
                    w[lane] = after;
                    q[lane] += scale[lane] * (after - before);
                }
            }
        }
    }
}

/// Features gathered into registers once per step; wider rows read the
/// rest from memory twice.
const MAX_GATHERED: usize = 8;

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
