//! Repeated stratified k-fold cross-validation.

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::interleaved::{KEPT_EPOCH_ROWS, TrainingData};
use crate::{FitError, Perceptron, SeededRng};

/// scikit-learn's `RepeatedStratifiedKFold`: `n_repeats` independent
/// shufflings, each cut into `n_splits` folds that keep every class's
/// proportion; each fold is the test set once.
///
/// ```
/// use proflab_perceptron::RepeatedStratifiedKFold;
/// let labels = [0, 0, 0, 1, 1, 1];
/// let cv = RepeatedStratifiedKFold { n_splits: 3, n_repeats: 2, seed: 1 };
/// let splits = cv.split(&labels)?;
/// assert_eq!(splits.len(), 6);
/// assert!(splits.iter().all(|s| s.test.len() == 2 && s.train.len() == 4));
/// # Ok::<(), proflab_perceptron::CvError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatedStratifiedKFold {
    /// Folds per repetition.
    pub n_splits: usize,
    /// Repetitions, each with a fresh shuffle.
    pub n_repeats: usize,
    /// Seed of the shuffles (scikit-learn's `random_state`).
    pub seed: u64,
}

impl RepeatedStratifiedKFold {
    /// The tutorial's 10 folds repeated 3 times, seed 1.
    #[must_use]
    pub fn tutorial() -> Self {
        Self {
            n_splits: 10,
            n_repeats: 3,
            seed: 1,
        }
    }
}

/// One train/test partition of the sample indices, both sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Rows to train on.
    pub train: Vec<usize>,
    /// Rows to score on.
    pub test: Vec<usize>,
}

/// Why cross-validation could not run.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum CvError {
    /// Fewer than two folds, or no repeats.
    #[error(
        "n_splits must be at least 2 and n_repeats at least 1 (got {n_splits} and {n_repeats})"
    )]
    BadShape {
        /// Folds asked for.
        n_splits: usize,
        /// Repeats asked for.
        n_repeats: usize,
    },
    /// A class has fewer members than there are folds, so some test folds
    /// would miss it.
    #[error(
        "n_splits = {n_splits} is more than the {members} member(s) of the smallest class (class {class})"
    )]
    TooFewMembers {
        /// Folds asked for.
        n_splits: usize,
        /// The smallest class's index.
        class: usize,
        /// Its size.
        members: usize,
    },
    /// A training fold could not be fitted.
    #[error("repeat {repeat}, fold {fold}: {source}")]
    Fit {
        /// 0-based repetition.
        repeat: usize,
        /// 0-based fold.
        fold: usize,
        /// What went wrong.
        source: FitError,
    },
}

impl RepeatedStratifiedKFold {
    /// The train/test splits for `labels` (class indices), repetition by
    /// repetition, fold by fold.
    ///
    /// Within each class the fold sizes differ by at most one, the way
    /// scikit-learn's `StratifiedKFold` allocates them (classes dealt round
    /// robin over the sorted labels), and the fold assignment is shuffled per
    /// class with the seeded generator.
    ///
    /// # Errors
    /// [`CvError::BadShape`] or [`CvError::TooFewMembers`].
    #[proflab::profile]
    pub fn split(&self, labels: &[usize]) -> Result<Vec<Split>, CvError> {
        if self.n_splits < 2 || self.n_repeats == 0 {
            return Err(CvError::BadShape {
                n_splits: self.n_splits,
                n_repeats: self.n_repeats,
            });
        }
        let n_classes = labels.iter().max().map_or(0, |&max| max + 1);
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
        for (row, &label) in labels.iter().enumerate() {
            members[label].push(row);
        }
        if let Some((class, rows)) = members
            .iter()
            .enumerate()
            .filter(|(_, rows)| !rows.is_empty())
            .min_by_key(|(_, rows)| rows.len())
            && rows.len() < self.n_splits
        {
            return Err(CvError::TooFewMembers {
                n_splits: self.n_splits,
                class,
                members: rows.len(),
            });
        }

        // Deal the sorted labels round robin over the folds: allocation[f][c]
        // is how many members of class c fold f receives.
        let mut sorted = labels.to_vec();
        sorted.sort_unstable();
        let mut allocation = vec![vec![0usize; n_classes]; self.n_splits];
        for (position, &class) in sorted.iter().enumerate() {
            allocation[position % self.n_splits][class] += 1;
        }

        let mut rng = SeededRng::seed_from_u64(self.seed);
        let mut splits = Vec::with_capacity(self.n_splits * self.n_repeats);
        for _ in 0..self.n_repeats {
            let mut test_fold = vec![0usize; labels.len()];
            for (class, rows) in members.iter().enumerate() {
                let mut folds: Vec<usize> = (0..self.n_splits)
                    .flat_map(|fold| std::iter::repeat_n(fold, allocation[fold][class]))
                    .collect();
                folds.shuffle(&mut rng);
                for (&row, fold) in rows.iter().zip(folds) {
                    test_fold[row] = fold;
                }
            }
            // Each fold's size is known before its rows are collected:
            // vectors of the right capacity instead of a dozen regrowths each.
            let mut fold_sizes = vec![0usize; self.n_splits];
            for &fold in &test_fold {
                fold_sizes[fold] += 1;
            }
            for (fold, &size) in fold_sizes.iter().enumerate() {
                let mut test = Vec::with_capacity(size);
                let mut train = Vec::with_capacity(labels.len() - size);
                for (row, &row_fold) in test_fold.iter().enumerate() {
                    if row_fold == fold {
                        test.push(row);
                    } else {
                        train.push(row);
                    }
                }
                splits.push(Split { train, test });
            }
        }
        Ok(splits)
    }
}

/// How [`cross_val_score`] runs the fits. All give identical scores, bit
/// for bit: each fit depends only on its own split and the model's seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Execution {
    /// One fit after another, on the calling thread: the reference.
    Sequential,
    /// Several fits at once in one loop on the calling thread
    /// ([`Perceptron::fit_interleaved`]), hiding each step's latency.
    Interleaved,
    /// The folds cut into one contiguous share per thread of the current
    /// rayon pool, each share interleaved.
    Parallel,
}

/// scikit-learn's `cross_val_score`: fits `model` on each split's training
/// rows and returns the accuracy on its test rows, in split order. To score
/// many models on the same data and folds, make a [`CrossValidation`] once.
///
/// # Errors
/// [`CvError`] when the splits cannot be made or a fold cannot be fitted
/// (the first such fold in split order).
///
/// ```
/// use proflab_perceptron::*;
/// let data = make_classification(&ClassificationParams::tutorial())?;
/// let cv = RepeatedStratifiedKFold { n_splits: 5, n_repeats: 1, seed: 1 };
/// let model = Perceptron::default();
/// let score = |execution| cross_val_score(&model, data.features.view(), &data.labels, &cv, execution);
/// let sequential = score(Execution::Sequential)?;
/// assert_eq!(sequential, score(Execution::Interleaved)?);
/// assert_eq!(sequential, score(Execution::Parallel)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cross_val_score(
    model: &Perceptron,
    features: ArrayView2<'_, f64>,
    labels: &[usize],
    cv: &RepeatedStratifiedKFold,
    execution: Execution,
) -> Result<Vec<f64>, CvError> {
    CrossValidation::new(features, labels, cv)?.scores(model, execution)
}

/// One dataset's cross-validation, made once and run for any number of
/// models: the splits, and the data as the interleaved fits read it, with
/// the per-epoch shuffles they draw (the same for every model of the same
/// seed). A search that scores many configurations on the same folds, like
/// the tutorial's hill climb, saves drawing them again for each.
///
/// ```
/// use proflab_perceptron::*;
/// let data = make_classification(&ClassificationParams::tutorial())?;
/// let cv = RepeatedStratifiedKFold { n_splits: 5, n_repeats: 1, seed: 1 };
/// let folds = CrossValidation::new(data.features.view(), &data.labels, &cv)?;
/// for eta0 in [1.0, 0.5] {
///     let model = Perceptron { eta0, ..Perceptron::default() };
///     let scores = folds.scores(&model, Execution::Interleaved)?;
///     let once = cross_val_score(&model, data.features.view(), &data.labels, &cv, Execution::Interleaved)?;
///     assert_eq!(scores, once);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CrossValidation<'a> {
    cv: RepeatedStratifiedKFold,
    splits: Vec<Split>,
    labels: &'a [usize],
    training: TrainingData<'a>,
}

impl<'a> CrossValidation<'a> {
    /// The splits of `labels` by `cv`, over the rows of `features`.
    ///
    /// # Errors
    /// [`CvError`] when the splits cannot be made.
    pub fn new(
        features: ArrayView2<'a, f64>,
        labels: &'a [usize],
        cv: &RepeatedStratifiedKFold,
    ) -> Result<Self, CvError> {
        let splits = cv.split(labels)?;
        let training_sets = splits
            .iter()
            .map(|split| split.train.clone().into())
            .collect();
        Ok(Self {
            cv: *cv,
            splits,
            labels,
            training: TrainingData::new(features, labels, training_sets, KEPT_EPOCH_ROWS),
        })
    }

    /// The scheme the splits were made by.
    #[must_use]
    pub fn cv(&self) -> &RepeatedStratifiedKFold {
        &self.cv
    }

    /// Fits `model` on each split's training rows and returns the accuracy
    /// on its test rows, in split order: scikit-learn's `cross_val_score`.
    ///
    /// # Errors
    /// [`CvError::Fit`] for the first fold, in split order, that cannot be
    /// fitted.
    pub fn scores(&self, model: &Perceptron, execution: Execution) -> Result<Vec<f64>, CvError> {
        // Recorded under scikit-learn's name for it.
        proflab::profile_scope!("cross_val_score");
        let features = self.training.features();
        let labels = self.labels;
        let located = |index: usize, source| CvError::Fit {
            repeat: index / self.cv.n_splits,
            fold: index % self.cv.n_splits,
            source,
        };
        let score = |(index, split): (usize, &Split)| {
            fit_and_score(model, features, labels, split).map_err(|source| located(index, source))
        };
        // Fits a run of consecutive splits interleaved, then scores each.
        let interleaved = |(first, share): (usize, &[Split])| {
            self.training
                .fit_interleaved(model, first..first + share.len())
                .into_iter()
                .zip(share)
                .enumerate()
                .map(|(offset, (fitted, split))| {
                    fitted
                        .map(|fitted| fitted.score_rows(features, labels, &split.test))
                        .map_err(|source| located(first + offset, source))
                })
                .collect::<Vec<_>>()
        };
        match execution {
            Execution::Sequential => self.splits.iter().enumerate().map(score).collect(),
            Execution::Interleaved => interleaved((0, &self.splits)).into_iter().collect(),
            Execution::Parallel => {
                let share = self
                    .splits
                    .len()
                    .div_ceil(rayon::current_num_threads())
                    .max(1);
                let shares: Vec<Vec<Result<f64, CvError>>> = self
                    .splits
                    .par_chunks(share)
                    .enumerate()
                    .map(|(chunk, splits)| interleaved((chunk * share, splits)))
                    .collect();
                shares.into_iter().flatten().collect()
            }
        }
    }
}

/// Trains on one split's training rows and scores its test rows.
#[proflab::profile]
fn fit_and_score(
    model: &Perceptron,
    features: ArrayView2<'_, f64>,
    labels: &[usize],
    split: &Split,
) -> Result<f64, FitError> {
    let fitted = model.fit_rows(features, labels, &split.train)?;
    Ok(fitted.score_rows(features, labels, &split.test))
}

/// The mean and the population standard deviation (numpy's default) of the
/// scores, as the tutorial prints them.
#[must_use]
pub fn mean_and_std(scores: &[f64]) -> (f64, f64) {
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let variance = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(counts: &[usize]) -> Vec<usize> {
        // Interleave classes so class membership is not contiguous.
        let mut out = Vec::new();
        let mut remaining = counts.to_vec();
        while remaining.iter().any(|&r| r > 0) {
            for (class, r) in remaining.iter_mut().enumerate() {
                if *r > 0 {
                    out.push(class);
                    *r -= 1;
                }
            }
        }
        out
    }

    #[test]
    fn each_repeat_tests_every_sample_exactly_once() {
        let y = labels(&[37, 63]);
        let cv = RepeatedStratifiedKFold {
            n_splits: 10,
            n_repeats: 3,
            seed: 1,
        };
        let splits = cv.split(&y).expect("splits");
        assert_eq!(splits.len(), 30);
        for repeat in splits.chunks(10) {
            let mut tested: Vec<usize> = repeat.iter().flat_map(|s| s.test.clone()).collect();
            tested.sort_unstable();
            assert_eq!(tested, (0..100).collect::<Vec<_>>());
            for split in repeat {
                assert_eq!(split.train.len() + split.test.len(), 100);
                assert!(split.train.iter().all(|row| !split.test.contains(row)));
                assert!(split.train.is_sorted() && split.test.is_sorted());
            }
        }
    }

    #[test]
    fn folds_keep_the_class_proportions() {
        let y = labels(&[37, 63]);
        let cv = RepeatedStratifiedKFold {
            n_splits: 10,
            n_repeats: 1,
            seed: 7,
        };
        for split in cv.split(&y).expect("splits") {
            let class_one = split.test.iter().filter(|&&row| y[row] == 1).count();
            let class_zero = split.test.len() - class_one;
            assert!(
                (3..=4).contains(&class_zero),
                "class 0 in fold: {class_zero}"
            );
            assert!((6..=7).contains(&class_one), "class 1 in fold: {class_one}");
        }
    }

    #[test]
    fn repeats_shuffle_differently_and_seeds_reproduce() {
        let y = labels(&[50, 50]);
        let cv = RepeatedStratifiedKFold {
            n_splits: 5,
            n_repeats: 2,
            seed: 3,
        };
        let splits = cv.split(&y).expect("splits");
        assert_ne!(splits[0].test, splits[5].test);
        assert_eq!(splits, cv.split(&y).expect("splits"));
        let other = RepeatedStratifiedKFold { seed: 4, ..cv };
        assert_ne!(splits, other.split(&y).expect("splits"));
    }

    #[test]
    fn more_folds_than_the_smallest_class_is_an_error() {
        let y = labels(&[3, 50]);
        let cv = RepeatedStratifiedKFold {
            n_splits: 4,
            n_repeats: 1,
            seed: 1,
        };
        assert_eq!(
            cv.split(&y),
            Err(CvError::TooFewMembers {
                n_splits: 4,
                class: 0,
                members: 3
            })
        );
        let one_fold = RepeatedStratifiedKFold { n_splits: 1, ..cv };
        assert!(matches!(one_fold.split(&y), Err(CvError::BadShape { .. })));
    }

    #[test]
    fn mean_and_std_match_numpy() {
        let (mean, std) = mean_and_std(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(mean, 2.5);
        assert!((std - 1.118_033_988_749_895).abs() < 1e-12);
    }
}
