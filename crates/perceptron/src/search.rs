//! The tutorial's hill climbing over a perceptron's `eta0` and `alpha`.

use std::sync::OnceLock;

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use crate::{
    CrossValidation, CvError, Dataset, Execution, Penalty, Perceptron, RepeatedStratifiedKFold,
    mean_and_std,
};

/// The configuration the tutorial searches: the perceptron's learning rate
/// and regularization strength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hyperparameters {
    /// Learning rate, kept in (0, 1].
    pub eta0: f64,
    /// Elastic-net strength, kept >= 0.
    pub alpha: f64,
}

impl Hyperparameters {
    /// The tutorial's `step`: a Gaussian move of scale `step_size` in each
    /// coordinate, then `eta0` clamped into (0, 1] (values at or below zero
    /// become 1e-8) and `alpha` clamped at 0.
    #[must_use]
    #[proflab::profile]
    pub fn step(self, step_size: f64, rng: &mut impl Rng) -> Self {
        let eta0 = self.eta0 + rng.sample::<f64, _>(StandardNormal) * step_size;
        let alpha = self.alpha + rng.sample::<f64, _>(StandardNormal) * step_size;
        Self {
            eta0: if eta0 <= 0.0 { 1e-8 } else { eta0.min(1.0) },
            alpha: alpha.max(0.0),
        }
    }
}

impl std::fmt::Display for Hyperparameters {
    /// As Python prints the tutorial's list: `[0.5318, 0.0123]`, each number
    /// in its shortest round-trip form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{:?}, {:?}]", self.eta0, self.alpha)
    }
}

/// One step the search accepted: candidate `iteration` was not worse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AcceptedStep {
    /// 0-based iteration of the search.
    pub iteration: usize,
    /// The accepted configuration.
    pub config: Hyperparameters,
    /// Its objective value.
    pub score: f64,
}

/// Where the search ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOutcome {
    /// The best configuration found.
    pub config: Hyperparameters,
    /// Its objective value.
    pub score: f64,
    /// How many times the objective was evaluated (`n_iter + 1`).
    pub evaluations: usize,
}

/// The tutorial's `hillclimbing`: evaluates `start`, then `n_iter` times
/// takes a [`Hyperparameters::step`] from the current configuration and moves
/// there when the candidate scores at least as well, calling `on_accept` for
/// each move.
///
/// # Errors
/// The first error of the objective.
///
/// ```
/// use proflab_perceptron::{Hyperparameters, hill_climb, SeededRng};
/// use rand::SeedableRng;
/// // Maximize -(eta - 0.3)^2 - alpha^2: the optimum is eta0 = 0.3, alpha = 0.
/// let objective = |c: Hyperparameters| Ok::<_, ()>(-(c.eta0 - 0.3).powi(2) - c.alpha.powi(2));
/// let mut rng = SeededRng::seed_from_u64(1);
/// let start = Hyperparameters { eta0: 0.9, alpha: 0.5 };
/// let outcome = hill_climb(objective, start, 500, 0.05, &mut rng, |_| {})?;
/// assert!((outcome.config.eta0 - 0.3).abs() < 0.05 && outcome.config.alpha < 0.05);
/// assert_eq!(outcome.evaluations, 501);
/// # Ok::<(), ()>(())
/// ```
#[proflab::profile]
pub fn hill_climb<E>(
    mut objective: impl FnMut(Hyperparameters) -> Result<f64, E>,
    start: Hyperparameters,
    n_iter: usize,
    step_size: f64,
    rng: &mut impl Rng,
    mut on_accept: impl FnMut(AcceptedStep),
) -> Result<SearchOutcome, E> {
    let mut config = start;
    let mut score = objective(config)?;
    for iteration in 0..n_iter {
        let candidate = config.step(step_size, rng);
        let candidate_score = objective(candidate)?;
        if candidate_score >= score {
            config = candidate;
            score = candidate_score;
            on_accept(AcceptedStep {
                iteration,
                config,
                score,
            });
        }
    }
    Ok(SearchOutcome {
        config,
        score,
        evaluations: n_iter + 1,
    })
}

/// The tutorial's `objective`: the mean accuracy of an elastic-net
/// perceptron with the given `eta0` and `alpha`, over repeated stratified
/// cross-validation of a dataset.
#[derive(Debug, Clone)]
pub struct TutorialObjective<'a> {
    data: &'a Dataset,
    /// The cross-validation scheme (the tutorial's 10 folds x 3 repeats).
    pub cv: RepeatedStratifiedKFold,
    /// The model every configuration starts from; `eta0` and `alpha` are
    /// replaced by the configuration's.
    pub model: Perceptron,
    /// How the folds' fits run (interleaved on the calling thread unless
    /// changed).
    pub execution: Execution,
    /// `data`'s cross-validation by `cv`, made by the first evaluation and
    /// used by every later one made with the same `cv`.
    folds: OnceLock<CrossValidation<'a>>,
}

impl<'a> TutorialObjective<'a> {
    /// The tutorial's set-up on `data`: elastic-net perceptron, 10x3
    /// repeated stratified folds with seed 1, fits interleaved on the calling
    /// thread ([`Execution::Interleaved`]).
    #[must_use]
    pub fn new(data: &'a Dataset) -> Self {
        Self {
            data,
            cv: RepeatedStratifiedKFold::tutorial(),
            model: Perceptron {
                penalty: Penalty::ElasticNet,
                ..Perceptron::default()
            },
            execution: Execution::Interleaved,
            folds: OnceLock::new(),
        }
    }

    /// The cross-validation accuracies of one configuration, in split order.
    ///
    /// # Errors
    /// [`CvError`] when the data cannot be split or a fold cannot be fitted.
    pub fn scores(&self, config: Hyperparameters) -> Result<Vec<f64>, CvError> {
        let model = Perceptron {
            eta0: config.eta0,
            alpha: config.alpha,
            ..self.model.clone()
        };
        match self.folds.get() {
            Some(folds) if *folds.cv() == self.cv => folds.scores(&model, self.execution),
            _ => {
                let folds =
                    CrossValidation::new(self.data.features.view(), &self.data.labels, &self.cv)?;
                let scores = folds.scores(&model, self.execution);
                // Kept only if none is yet: after `cv` changes, each
                // evaluation makes its own.
                let _ = self.folds.set(folds);
                scores
            }
        }
    }

    /// The mean cross-validation accuracy of one configuration.
    ///
    /// # Errors
    /// As [`TutorialObjective::scores`].
    pub fn evaluate(&self, config: Hyperparameters) -> Result<f64, CvError> {
        // Recorded under the tutorial's name for it.
        proflab::profile_scope!("objective");
        Ok(mean_and_std(&self.scores(config)?).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRng;
    use rand::SeedableRng;

    #[test]
    fn steps_stay_within_bounds() {
        let mut rng = SeededRng::seed_from_u64(1);
        let mut config = Hyperparameters {
            eta0: 0.01,
            alpha: 0.0,
        };
        for _ in 0..10_000 {
            config = config.step(0.5, &mut rng);
            assert!(config.eta0 > 0.0 && config.eta0 <= 1.0, "{config}");
            assert!(config.alpha >= 0.0, "{config}");
        }
    }

    #[test]
    fn accepts_only_moves_that_are_not_worse_and_reports_each() {
        let mut rng = SeededRng::seed_from_u64(5);
        let mut accepted = Vec::new();
        let objective = |c: Hyperparameters| Ok::<_, ()>(c.eta0);
        let start = Hyperparameters {
            eta0: 0.5,
            alpha: 0.0,
        };
        let outcome = hill_climb(objective, start, 200, 0.1, &mut rng, |step| {
            accepted.push(step)
        })
        .expect("no error");
        assert!(!accepted.is_empty());
        assert!(
            accepted
                .windows(2)
                .all(|w| w[1].score >= w[0].score && w[1].iteration > w[0].iteration)
        );
        assert_eq!(outcome.score, accepted.last().expect("some step").score);
        assert!(outcome.score > 0.95);
    }

    #[test]
    fn the_first_objective_error_stops_the_search() {
        let mut rng = SeededRng::seed_from_u64(1);
        let mut calls = 0;
        let objective = |_| {
            calls += 1;
            if calls == 3 { Err("boom") } else { Ok(0.0) }
        };
        let start = Hyperparameters {
            eta0: 0.5,
            alpha: 0.0,
        };
        assert_eq!(
            hill_climb(objective, start, 10, 0.1, &mut rng, |_| {}),
            Err("boom")
        );
    }

    /// The objective keeps the cross-validation of its first evaluation;
    /// after `cv` changes, each evaluation scores on the new folds.
    #[test]
    fn a_changed_cv_is_the_one_scored() {
        let data =
            crate::make_classification(&crate::ClassificationParams::tutorial()).expect("valid");
        let config = Hyperparameters {
            eta0: 0.5,
            alpha: 0.01,
        };
        let mut objective = TutorialObjective::new(&data);
        let fresh = |objective: &TutorialObjective<'_>| {
            let model = Perceptron {
                eta0: config.eta0,
                alpha: config.alpha,
                ..objective.model.clone()
            };
            crate::cross_val_score(
                &model,
                data.features.view(),
                &data.labels,
                &objective.cv,
                Execution::Sequential,
            )
        };
        assert_eq!(objective.scores(config), fresh(&objective));
        objective.cv = RepeatedStratifiedKFold {
            n_splits: 5,
            n_repeats: 2,
            seed: 7,
        };
        let scores = objective.scores(config).expect("scores");
        assert_eq!(scores.len(), 10);
        assert_eq!(Ok(scores), fresh(&objective));
    }

    #[test]
    fn configurations_print_like_python_lists() {
        assert_eq!(
            Hyperparameters {
                eta0: 0.53,
                alpha: 0.0
            }
            .to_string(),
            "[0.53, 0.0]"
        );
    }
}
