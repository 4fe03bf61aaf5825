//! The program the tutorial profiles, as a reusable machine-learning crate:
//! a [`make_classification`] dataset generator with scikit-learn's semantics,
//! a binary [`Perceptron`] trained by SGD exactly as scikit-learn's is,
//! [`RepeatedStratifiedKFold`] with [`cross_val_score`] (one fit at a time,
//! several fits interleaved in one loop with [`Perceptron::fit_interleaved`],
//! or on rayon's pool, all with bit-identical results; a [`CrossValidation`]
//! made once scores many models on the same folds), and the tutorial's
//! [`hill_climb`] over the perceptron's `eta0` and `alpha`.
//!
//! Every random choice comes from a named, seeded generator
//! ([`rand_pcg::Pcg64`]), so the same seed gives the same data, splits and
//! models on every platform and thread count. Start from
//! [`TutorialObjective`] to score a configuration the way the tutorial does.
//!
//! It is not a general machine-learning library: one linear model, binary
//! classification, dense features.
//!
//! ```
//! use proflab_perceptron::{ClassificationParams, Hyperparameters, TutorialObjective, make_classification};
//!
//! let data = make_classification(&ClassificationParams::tutorial())?;
//! let objective = TutorialObjective::new(&data);
//! let accuracy = objective.evaluate(Hyperparameters { eta0: 0.5, alpha: 0.001 })?;
//! assert!(accuracy > 0.6 && accuracy <= 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dataset;
mod generator;
mod interleaved;
mod model;
mod model_selection;
mod search;

pub use dataset::{Dataset, DatasetError};
pub use generator::{ClassificationParams, GeneratorError, make_classification};
pub use model::{FitError, FittedPerceptron, Penalty, Perceptron};
pub use model_selection::{
    CrossValidation, CvError, Execution, RepeatedStratifiedKFold, Split, cross_val_score,
    mean_and_std,
};
pub use search::{AcceptedStep, Hyperparameters, SearchOutcome, TutorialObjective, hill_climb};

/// The named generator behind every random choice in this crate.
pub type SeededRng = rand_pcg::Pcg64;
