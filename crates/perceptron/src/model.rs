//! A binary perceptron trained exactly as scikit-learn's `Perceptron` is.

use ndarray::{ArrayView1, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::SeededRng;

/// The regularization term, as scikit-learn's `penalty`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Penalty {
    /// No regularization (`penalty=None`, the Perceptron's default).
    None,
    /// Squared L2 norm: weight decay.
    L2,
    /// L1 norm by truncated gradient (Tsuruoka et al., 2009).
    L1,
    /// `l1_ratio` of L1 plus the rest of L2 (the tutorial's choice).
    ElasticNet,
}

/// A perceptron's hyperparameters, with scikit-learn's defaults. Call
/// [`Perceptron::fit`] to train one.
///
/// Training is scikit-learn's `_plain_sgd` with the perceptron loss
/// (`max(0, -y·p)`), a constant learning rate `eta0`, the chosen penalty of
/// strength `alpha`, an intercept, the samples shuffled each epoch, and
/// stopping once the epoch's summed loss has failed to improve by
/// `tol · n_samples` for `n_iter_no_change` epochs in a row, or after
/// `max_iter` epochs.
///
/// ```
/// use ndarray::array;
/// use proflab_perceptron::Perceptron;
/// let x = array![[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0]];
/// let y = [1, 1, 0, 0];
/// let model = Perceptron::default().fit(x.view(), &y)?;
/// assert_eq!(model.score(x.view(), &y), 1.0);
/// # Ok::<(), proflab_perceptron::FitError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Perceptron {
    /// The regularization term.
    pub penalty: Penalty,
    /// Regularization strength.
    pub alpha: f64,
    /// Share of L1 in the elastic net.
    pub l1_ratio: f64,
    /// Constant learning rate.
    pub eta0: f64,
    /// Whether to learn an intercept.
    pub fit_intercept: bool,
    /// Upper bound on epochs.
    pub max_iter: usize,
    /// Minimum improvement of the epoch loss, per sample.
    pub tol: f64,
    /// Epochs without improvement before stopping.
    pub n_iter_no_change: usize,
    /// Seed of the per-epoch shuffle (scikit-learn's `random_state=0`).
    pub seed: u64,
}

impl Default for Perceptron {
    fn default() -> Self {
        Self {
            penalty: Penalty::None,
            alpha: 0.0001,
            l1_ratio: 0.15,
            eta0: 1.0,
            fit_intercept: true,
            max_iter: 1000,
            tol: 1e-3,
            n_iter_no_change: 5,
            seed: 0,
        }
    }
}

/// Why a perceptron could not be trained.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum FitError {
    /// The training labels hold one class only.
    #[error("the training samples hold only class {0}; a perceptron needs both classes")]
    OneClass(usize),
    /// No training samples.
    #[error("no training samples")]
    NoSamples,
    /// A label is neither 0 nor 1.
    #[error("label {0} is not a class index (0 or 1)")]
    BadLabel(usize),
    /// Features and labels disagree in length.
    #[error("{features} feature rows but {labels} labels")]
    LengthMismatch {
        /// Rows of features.
        features: usize,
        /// Labels.
        labels: usize,
    },
    /// A hyperparameter is out of range.
    #[error("{name} = {value} is out of range ({expected})")]
    BadParameter {
        /// The hyperparameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// What it must be.
        expected: &'static str,
    },
    /// The weights overflowed (a learning rate or penalty far too large).
    #[error("floating-point overflow at epoch {0}: lower eta0 or alpha")]
    Diverged(usize),
}

/// A trained perceptron: a hyperplane `coef · x + intercept`.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedPerceptron {
    /// One weight per feature.
    pub coef: Vec<f64>,
    /// The bias term.
    pub intercept: f64,
    /// Epochs run before stopping.
    pub n_iter: usize,
}

impl Perceptron {
    /// Trains on every row of `features`, with `labels` the class indices
    /// (0 or 1) of the rows.
    ///
    /// # Errors
    /// [`FitError`] for a single class, mismatched lengths, bad parameters or
    /// divergence.
    pub fn fit(
        &self,
        features: ArrayView2<'_, f64>,
        labels: &[usize],
    ) -> Result<FittedPerceptron, FitError> {
        let rows: Vec<usize> = (0..features.nrows()).collect();
        self.fit_rows(features, labels, &rows)
    }

    /// Trains on the rows of `features` listed in `rows` (cross-validation's
    /// training folds) without copying them out.
    ///
    /// # Errors
    /// As [`Perceptron::fit`].
    ///
    /// # Panics
    /// If a row index is out of bounds.
    #[proflab::profile]
    pub fn fit_rows(
        &self,
        features: ArrayView2<'_, f64>,
        labels: &[usize],
        rows: &[usize],
    ) -> Result<FittedPerceptron, FitError> {
        self.validate(features.nrows(), labels, rows)?;
        let contiguous = features.as_standard_layout();
        let data = contiguous
            .as_slice()
            .expect("standard layout is contiguous");
        self.sgd(data, features.ncols(), labels, rows)
    }

    fn validate(&self, n_rows: usize, labels: &[usize], rows: &[usize]) -> Result<(), FitError> {
        validate_training_set(n_rows, labels, rows)?;
        self.validate_hyperparameters()
    }

    /// Whether the hyperparameters are in range.
    pub(crate) fn validate_hyperparameters(&self) -> Result<(), FitError> {
        let checks = [
            (
                "eta0",
                self.eta0,
                self.eta0 > 0.0 && self.eta0.is_finite(),
                "> 0",
            ),
            (
                "alpha",
                self.alpha,
                self.alpha >= 0.0 && self.alpha.is_finite(),
                ">= 0",
            ),
            (
                "l1_ratio",
                self.l1_ratio,
                (0.0..=1.0).contains(&self.l1_ratio),
                "in [0, 1]",
            ),
            ("tol", self.tol, !self.tol.is_nan(), "a number"),
        ];
        for (name, value, ok, expected) in checks {
            if !ok {
                return Err(FitError::BadParameter {
                    name,
                    value,
                    expected,
                });
            }
        }
        Ok(())
    }

    /// The constants of the SGD loop, derived from the hyperparameters.
    pub(crate) fn settings(&self) -> SgdSettings {
        let l1_ratio = match self.penalty {
            Penalty::None | Penalty::L2 => 0.0,
            Penalty::L1 => 1.0,
            Penalty::ElasticNet => self.l1_ratio,
        };
        let eta = self.eta0;
        SgdSettings {
            decays: matches!(self.penalty, Penalty::L2 | Penalty::ElasticNet),
            truncates: matches!(self.penalty, Penalty::L1 | Penalty::ElasticNet),
            fit_intercept: self.fit_intercept,
            eta,
            decay: (1.0 - (1.0 - l1_ratio) * eta * self.alpha).max(0.0),
            l1_step: l1_ratio * eta * self.alpha,
            max_iter: self.max_iter,
            tol: self.tol,
            n_iter_no_change: self.n_iter_no_change,
            seed: self.seed,
        }
    }

    /// scikit-learn's `_plain_sgd` for dense rows: the weights are stored as
    /// `scale · w` so the L2 decay of every step costs one multiplication.
    /// The reference that [`Perceptron::fit_interleaved`] is tested against.
    #[proflab::profile]
    fn sgd(
        &self,
        data: &[f64],
        n_features: usize,
        labels: &[usize],
        rows: &[usize],
    ) -> Result<FittedPerceptron, FitError> {
        let SgdSettings {
            decays,
            truncates,
            eta,
            decay,
            l1_step,
            ..
        } = self.settings();

        let mut weights = vec![0.0; n_features];
        let mut scale = 1.0;
        let mut intercept = 0.0;
        // Truncated-gradient bookkeeping: total L1 penalty offered so far, and
        // how much of it each weight has actually received.
        let mut l1_offered = 0.0;
        let mut l1_received = vec![0.0; n_features];

        let mut order = rows.to_vec();
        let mut rng = SeededRng::seed_from_u64(self.seed);
        let mut best_loss = f64::INFINITY;
        let mut epochs_without_improvement = 0;
        let mut n_iter = 0;
        let improvement_needed = self.tol * rows.len() as f64;

        let targets = targets(labels);
        for epoch in 1..=self.max_iter {
            n_iter = epoch;
            order.shuffle(&mut rng);
            let mut epoch_loss = 0.0;
            for &row in &order {
                let x = &data[row * n_features..][..n_features];
                let y = targets[row];
                let margin = (dot(&weights, x) * scale + intercept) * y;
                if decays {
                    scale *= decay;
                    if scale < MIN_SCALE {
                        fold_scale(&mut weights, &mut scale);
                    }
                }
                // The perceptron loss max(0, -y·p) and its gradient -y when y·p <= 0.
                if margin <= 0.0 {
                    epoch_loss -= margin;
                    let update = eta * y;
                    let step = update / scale;
                    for (w, xi) in weights.iter_mut().zip(x) {
                        *w += step * xi;
                    }
                    if self.fit_intercept {
                        intercept += update;
                    }
                }
                if truncates {
                    l1_offered += l1_step;
                    truncate(&mut weights, &mut l1_received, scale, l1_offered);
                }
            }
            if !epoch_loss.is_finite() || !intercept.is_finite() {
                return Err(FitError::Diverged(epoch));
            }
            if epoch_loss > best_loss - improvement_needed {
                epochs_without_improvement += 1;
            } else {
                epochs_without_improvement = 0;
            }
            best_loss = best_loss.min(epoch_loss);
            if epochs_without_improvement >= self.n_iter_no_change {
                break;
            }
        }
        let coef: Vec<f64> = weights.iter().map(|w| w * scale).collect();
        if coef.iter().any(|w| !w.is_finite()) {
            return Err(FitError::Diverged(n_iter));
        }
        Ok(FittedPerceptron {
            coef,
            intercept,
            n_iter,
        })
    }
}

/// Whether `rows` of a dataset of `n_rows` rows and class indices `labels`
/// can be trained on, whatever the hyperparameters.
///
/// # Panics
/// If a row index is out of bounds.
pub(crate) fn validate_training_set(
    n_rows: usize,
    labels: &[usize],
    rows: &[usize],
) -> Result<(), FitError> {
    if n_rows != labels.len() {
        return Err(FitError::LengthMismatch {
            features: n_rows,
            labels: labels.len(),
        });
    }
    let Some(&first) = rows.first() else {
        return Err(FitError::NoSamples);
    };
    if let Some(&bad) = labels.iter().find(|&&label| label > 1) {
        return Err(FitError::BadLabel(bad));
    }
    if rows.iter().all(|&row| labels[row] == labels[first]) {
        return Err(FitError::OneClass(labels[first]));
    }
    Ok(())
}

/// Below this the scale is folded back into the weights, as scikit-learn
/// does, to keep `w / scale` representable.
pub(crate) const MIN_SCALE: f64 = 1e-9;

/// What the SGD loop needs of a [`Perceptron`], computed once per fit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SgdSettings {
    /// L2 part present: the scale decays every step.
    pub decays: bool,
    /// L1 part present: weights are truncated every step.
    pub truncates: bool,
    pub fit_intercept: bool,
    pub eta: f64,
    /// The scale's factor per step.
    pub decay: f64,
    /// L1 penalty offered per step.
    pub l1_step: f64,
    pub max_iter: usize,
    pub tol: f64,
    pub n_iter_no_change: usize,
    pub seed: u64,
}

/// ±1 targets of the class indices, looked up once, not per step.
pub(crate) fn targets(labels: &[usize]) -> Vec<f64> {
    labels
        .iter()
        .map(|&label| if label == 1 { 1.0 } else { -1.0 })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn fold_scale(weights: &mut [f64], scale: &mut f64) {
    for w in weights.iter_mut() {
        *w *= *scale;
    }
    *scale = 1.0;
}

/// Applies the L1 penalty a weight is still owed, without letting it cross
/// zero: the cumulative truncated gradient of Tsuruoka et al. Written
/// without branches on the weight's sign and with one division per call,
/// so the loop vectorizes.
fn truncate(weights: &mut [f64], received: &mut [f64], scale: f64, offered: f64) {
    let inverse_scale = 1.0 / scale;
    for (w, q) in weights.iter_mut().zip(received.iter_mut()) {
        truncate_weight(w, q, scale, inverse_scale, offered);
    }
}

/// One weight's L1 truncation (see `truncate`): `weight` moves towards zero
/// by the penalty `offered` minus what it has `received`, stopping at zero,
/// and `received` records what it took. Shared by the reference and the
/// interleaved portable kernel, whose lanes must do exactly this; the
/// branches become selects once inlined into a loop.
#[inline(always)]
pub(crate) fn truncate_weight(
    weight: &mut f64,
    received: &mut f64,
    scale: f64,
    inverse_scale: f64,
    offered: f64,
) {
    let before = *weight;
    let shrunk_positive = (before - (offered + *received) * inverse_scale).max(0.0);
    let shrunk_negative = (before + (offered - *received) * inverse_scale).min(0.0);
    let after = if before > 0.0 {
        shrunk_positive
    } else if before < 0.0 {
        shrunk_negative
    } else {
        before
    };
    *weight = after;
    *received += scale * (after - before);
}

impl FittedPerceptron {
    /// The signed distance-like score `coef · x + intercept` of one sample.
    #[must_use]
    pub fn decision_function(&self, sample: &[f64]) -> f64 {
        dot(&self.coef, sample) + self.intercept
    }

    /// The class index (0 or 1) of each row: 1 where the score is positive.
    #[must_use]
    pub fn predict(&self, features: ArrayView2<'_, f64>) -> Vec<usize> {
        features
            .rows()
            .into_iter()
            .map(|row| self.predict_row(row))
            .collect()
    }

    fn predict_row(&self, row: ArrayView1<'_, f64>) -> usize {
        let score = row.dot(&ArrayView1::from(&self.coef)) + self.intercept;
        usize::from(score > 0.0)
    }

    /// Accuracy on the listed rows: the fraction predicted correctly.
    ///
    /// # Panics
    /// If a row index is out of bounds.
    #[must_use]
    #[proflab::profile]
    pub fn score_rows(
        &self,
        features: ArrayView2<'_, f64>,
        labels: &[usize],
        rows: &[usize],
    ) -> f64 {
        if rows.is_empty() {
            return 0.0;
        }
        let correct = rows
            .iter()
            .filter(|&&row| self.predict_row(features.row(row)) == labels[row])
            .count();
        correct as f64 / rows.len() as f64
    }

    /// Accuracy on every row.
    #[must_use]
    pub fn score(&self, features: ArrayView2<'_, f64>, labels: &[usize]) -> f64 {
        let rows: Vec<usize> = (0..features.nrows()).collect();
        self.score_rows(features, labels, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    /// Two point clouds on either side of the plane x0 + x1 = 0, with a margin.
    fn separable(n: usize) -> (Array2<f64>, Vec<usize>) {
        let features = Array2::from_shape_fn((n, 2), |(i, j)| {
            let t = i as f64 * 0.37;
            let side = if i % 2 == 0 { 1.0 } else { -1.0 };
            if j == 0 {
                side * (1.0 + t.sin().abs())
            } else {
                side * (0.5 + (t * 1.3).cos().abs())
            }
        });
        let labels = (0..n).map(|i| usize::from(i % 2 == 0)).collect();
        (features, labels)
    }

    #[test]
    fn learns_a_separable_set_perfectly_with_every_penalty() {
        let (x, y) = separable(200);
        for penalty in [Penalty::None, Penalty::L2, Penalty::L1, Penalty::ElasticNet] {
            let model = Perceptron {
                penalty,
                alpha: 1e-4,
                ..Perceptron::default()
            };
            let fitted = model.fit(x.view(), &y).expect("fits");
            assert_eq!(fitted.score(x.view(), &y), 1.0, "{penalty:?}");
            assert_eq!(fitted.predict(x.view()), y, "{penalty:?}");
        }
    }

    #[test]
    fn stops_early_once_the_loss_stops_improving() {
        let (x, y) = separable(100);
        let fitted = Perceptron::default().fit(x.view(), &y).expect("fits");
        // A separable set reaches zero loss quickly, then five idle epochs.
        assert!(fitted.n_iter < 20, "ran {} epochs", fitted.n_iter);
        assert!(fitted.n_iter > 5);
    }

    #[test]
    fn the_same_seed_gives_the_same_model() {
        let (x, y) = separable(50);
        let model = Perceptron {
            penalty: Penalty::ElasticNet,
            ..Perceptron::default()
        };
        assert_eq!(model.fit(x.view(), &y), model.fit(x.view(), &y));
    }

    #[test]
    fn a_strong_l1_penalty_zeroes_useless_weights() {
        // Feature 1 is noise; a heavy L1 penalty should drive its weight to 0.
        let x = Array2::from_shape_fn((200, 2), |(i, j)| {
            if j == 0 {
                if i % 2 == 0 { 1.0 } else { -1.0 }
            } else {
                ((i * 7919) % 13) as f64 / 13.0 - 0.5
            }
        });
        let y: Vec<usize> = (0..200).map(|i| usize::from(i % 2 == 0)).collect();
        let model = Perceptron {
            penalty: Penalty::L1,
            alpha: 0.01,
            ..Perceptron::default()
        };
        let fitted = model.fit(x.view(), &y).expect("fits");
        assert_eq!(fitted.coef[1], 0.0, "{:?}", fitted.coef);
        assert!(fitted.coef[0] > 0.0);
    }

    #[test]
    fn l2_decay_shrinks_the_weights() {
        let (x, y) = separable(200);
        let plain = Perceptron::default().fit(x.view(), &y).expect("fits");
        let decayed = Perceptron {
            penalty: Penalty::L2,
            alpha: 0.1,
            ..Perceptron::default()
        }
        .fit(x.view(), &y)
        .expect("fits");
        let norm = |m: &FittedPerceptron| m.coef.iter().map(|w| w * w).sum::<f64>();
        assert!(norm(&decayed) < norm(&plain));
    }

    #[test]
    fn bad_training_sets_and_parameters_are_errors() {
        let x = array![[1.0], [2.0]];
        assert_eq!(
            Perceptron::default().fit(x.view(), &[1, 1]),
            Err(FitError::OneClass(1))
        );
        assert_eq!(
            Perceptron::default().fit(x.view(), &[0]),
            Err(FitError::LengthMismatch {
                features: 2,
                labels: 1
            })
        );
        assert_eq!(
            Perceptron::default().fit(x.view(), &[0, 2]),
            Err(FitError::BadLabel(2))
        );
        assert_eq!(
            Perceptron::default().fit_rows(x.view(), &[0, 1], &[]),
            Err(FitError::NoSamples)
        );
        let negative = Perceptron {
            eta0: -1.0,
            ..Perceptron::default()
        };
        assert!(matches!(
            negative.fit(x.view(), &[0, 1]),
            Err(FitError::BadParameter { name: "eta0", .. })
        ));
    }

    #[test]
    fn works_on_column_major_views() {
        let (x, y) = separable(60);
        let fortran = x.t().as_standard_layout().into_owned().reversed_axes();
        assert!(!fortran.is_standard_layout());
        let model = Perceptron::default();
        assert_eq!(model.fit(fortran.view(), &y), model.fit(x.view(), &y));
        let fitted = model.fit(x.view(), &y).expect("fits");
        assert_eq!(fitted.predict(fortran.view()), fitted.predict(x.view()));
    }
}
