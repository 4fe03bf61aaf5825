//! The interleaved fits against the one-fit-at-a-time reference, bit for bit:
//! every model (weights, intercept, epochs) and every cross-validation score,
//! on the tutorial's dataset and two wider ones, over several seeds, penalties
//! and learning rates (including ones that fold the scale and that diverge).

use proflab_perceptron::{
    ClassificationParams, CrossValidation, CvError, Dataset, Execution, FitError, FittedPerceptron,
    Penalty, Perceptron, RepeatedStratifiedKFold, cross_val_score, make_classification,
};

fn tutorial(seed: u64) -> Dataset {
    make_classification(&ClassificationParams {
        seed,
        ..ClassificationParams::tutorial()
    })
    .expect("valid parameters")
}

/// The second dataset of scripts/compare-sklearn: 2000 x 20.
fn wide(seed: u64) -> Dataset {
    make_classification(&ClassificationParams {
        n_samples: 2000,
        n_features: 20,
        n_informative: 10,
        n_redundant: 5,
        seed,
        ..ClassificationParams::tutorial()
    })
    .expect("valid parameters")
}

/// Seven features: the widest rows the AVX-512 kernel loads whole, with
/// their target, as one 64-byte line per sample (wider ones are gathered).
fn seven_features(seed: u64) -> Dataset {
    make_classification(&ClassificationParams {
        n_features: 7,
        n_informative: 3,
        n_redundant: 2,
        seed,
        ..ClassificationParams::tutorial()
    })
    .expect("valid parameters")
}

/// Settings that exercise every branch of the step: each penalty, a strong
/// decay that folds the scale back into the weights many times per epoch, a
/// tiny learning rate, and a short epoch limit.
fn models() -> Vec<Perceptron> {
    let mut models = Vec::new();
    for penalty in [Penalty::ElasticNet, Penalty::None, Penalty::L2, Penalty::L1] {
        for (eta0, alpha) in [(1.0, 0.0001), (0.1, 0.0), (0.01, 0.1), (0.5, 0.05)] {
            models.push(Perceptron {
                penalty,
                eta0,
                alpha,
                ..Perceptron::default()
            });
        }
    }
    models.push(Perceptron {
        penalty: Penalty::ElasticNet,
        max_iter: 3,
        seed: 7,
        ..Perceptron::default()
    });
    models.push(Perceptron {
        penalty: Penalty::L2,
        alpha: 0.9,
        eta0: 1.0,
        fit_intercept: false,
        seed: 42,
        ..Perceptron::default()
    });
    models
}

fn bits(fit: &Result<FittedPerceptron, FitError>) -> Result<(Vec<u64>, u64, usize), FitError> {
    fit.clone().map(|fit| {
        (
            fit.coef.iter().map(|w| w.to_bits()).collect(),
            fit.intercept.to_bits(),
            fit.n_iter,
        )
    })
}

fn score_bits(scores: &Result<Vec<f64>, CvError>) -> Result<Vec<u64>, CvError> {
    scores
        .clone()
        .map(|scores| scores.iter().map(|s| s.to_bits()).collect())
}

#[test]
fn every_fit_is_bit_identical_to_the_reference() {
    for data in [tutorial(1), seven_features(1), wide(1)] {
        let cv = RepeatedStratifiedKFold::tutorial();
        let splits = cv.split(&data.labels).expect("splits");
        let row_sets: Vec<&[usize]> = splits.iter().map(|s| s.train.as_slice()).collect();
        let mut different_epochs = false;
        for model in models() {
            let interleaved = model.fit_interleaved(data.features.view(), &data.labels, &row_sets);
            assert_eq!(interleaved.len(), row_sets.len());
            let mut epochs = Vec::new();
            for (rows, fit) in row_sets.iter().zip(&interleaved) {
                let reference = model.fit_rows(data.features.view(), &data.labels, rows);
                assert_eq!(bits(fit), bits(&reference), "{model:?}");
                epochs.push(fit.as_ref().map_or(0, |fit| fit.n_iter));
            }
            different_epochs |= epochs.iter().any(|&e| e != epochs[0]);
        }
        // Fits that stop at different epochs are what the lanes must handle.
        assert!(different_epochs);
    }
}

#[test]
fn every_score_is_bit_identical_on_both_datasets_and_several_seeds() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .expect("a pool");
    for seed in [1, 2, 3] {
        for data in [tutorial(seed), seven_features(seed), wide(seed)] {
            let cv = RepeatedStratifiedKFold {
                seed: seed + 10,
                ..RepeatedStratifiedKFold::tutorial()
            };
            // All settings on the first seed, the tutorial's penalty on the others.
            let models: Vec<Perceptron> = models()
                .into_iter()
                .filter(|m| seed == 1 || m.penalty == Penalty::ElasticNet)
                .collect();
            for model in models {
                let score = |execution| {
                    cross_val_score(&model, data.features.view(), &data.labels, &cv, execution)
                };
                let reference = score_bits(&score(Execution::Sequential));
                assert!(reference.is_ok(), "{model:?}: {reference:?}");
                assert_eq!(score_bits(&score(Execution::Interleaved)), reference);
                assert_eq!(
                    score_bits(&pool.install(|| score(Execution::Parallel))),
                    reference
                );
            }
        }
    }
}

/// A search scores many models on one `CrossValidation`, whose shuffles
/// were drawn by the models before: each must still score bit for bit as
/// the reference does, whatever came before it (other seeds, longer or
/// shorter fits, training sets of other lengths, other threads).
#[test]
fn one_cross_validation_scores_every_model_as_the_reference_does() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .expect("a pool");
    let uneven = RepeatedStratifiedKFold {
        n_splits: 7,
        n_repeats: 2,
        seed: 5,
    };
    for (data, cv) in [
        (tutorial(1), RepeatedStratifiedKFold::tutorial()),
        (tutorial(2), uneven),
        (seven_features(2), uneven),
        (wide(3), RepeatedStratifiedKFold::tutorial()),
    ] {
        let folds = CrossValidation::new(data.features.view(), &data.labels, &cv).expect("splits");
        let models = models();
        // Forwards, then backwards: each model meets shuffles drawn by others.
        for model in models.iter().chain(models.iter().rev()) {
            let reference = score_bits(&cross_val_score(
                model,
                data.features.view(),
                &data.labels,
                &cv,
                Execution::Sequential,
            ));
            assert_eq!(
                score_bits(&folds.scores(model, Execution::Interleaved)),
                reference,
                "{model:?}"
            );
            assert_eq!(
                score_bits(&pool.install(|| folds.scores(model, Execution::Parallel))),
                reference,
                "{model:?}"
            );
        }
    }
}

#[test]
fn uneven_training_sets_and_invalid_ones_keep_their_place() {
    let data = tutorial(4);
    let model = Perceptron {
        penalty: Penalty::ElasticNet,
        ..Perceptron::default()
    };
    let one_class: Vec<usize> = (0..data.labels.len())
        .filter(|&row| data.labels[row] == 1)
        .collect();
    let row_sets: Vec<Vec<usize>> = vec![
        (0..900).collect(),
        (0..301).collect(),
        Vec::new(),
        (100..1000).step_by(2).collect(),
        one_class,
        (0..17).collect(),
        (0..900).rev().collect(),
        (0..1000).collect(),
        (5..906).collect(),
        (0..450).collect(),
        (3..640).collect(),
    ];
    let row_sets: Vec<&[usize]> = row_sets.iter().map(Vec::as_slice).collect();
    let fits = model.fit_interleaved(data.features.view(), &data.labels, &row_sets);
    for (rows, fit) in row_sets.iter().zip(&fits) {
        let reference = model.fit_rows(data.features.view(), &data.labels, rows);
        assert_eq!(bits(fit), bits(&reference));
    }
    assert_eq!(fits[2], Err(FitError::NoSamples));
    assert_eq!(fits[4], Err(FitError::OneClass(1)));
}

#[test]
fn divergence_is_reported_for_the_same_fold() {
    let data = tutorial(1);
    let model = Perceptron {
        penalty: Penalty::None,
        eta0: 1e307,
        ..Perceptron::default()
    };
    let cv = RepeatedStratifiedKFold::tutorial();
    let score =
        |execution| cross_val_score(&model, data.features.view(), &data.labels, &cv, execution);
    let reference = score(Execution::Sequential);
    assert!(
        matches!(
            reference,
            Err(CvError::Fit {
                source: FitError::Diverged(_),
                ..
            })
        ),
        "{reference:?}"
    );
    assert_eq!(score(Execution::Interleaved), reference);
    assert_eq!(score(Execution::Parallel), reference);
}
