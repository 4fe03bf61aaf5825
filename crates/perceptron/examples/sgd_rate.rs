//! Run with: `cargo run --release -p proflab-perceptron --example sgd_rate`
//!
//! Nanoseconds per SGD step (one sample seen by one fit) on the tutorial's
//! data, with early stopping turned off so every fit runs the same number of
//! epochs: one fit at a time (`fit_rows`, bound by its step-to-step chain)
//! against `fit_interleaved` (several fits per loop). Thread CPU time, so a
//! busy second core disturbs it less than wall time would.

use std::time::Duration;

use proflab_perceptron::{
    ClassificationParams, Hyperparameters, Penalty, Perceptron, RepeatedStratifiedKFold, SeededRng,
    TutorialObjective, hill_climb, make_classification, mean_and_std,
};
use rand::{RngExt, SeedableRng};

fn cpu_time() -> Duration {
    let mut t = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &raw mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
unsafe extern "C" {
    fn clock_gettime(clock: i32, t: *mut Timespec) -> i32;
}

/// Best of seven runs of `f`, in seconds of this thread's CPU time.
fn best(f: &dyn Fn()) -> f64 {
    (0..7)
        .map(|_| {
            let start = cpu_time();
            f();
            cpu_time() - start
        })
        .min()
        .expect("runs")
        .as_secs_f64()
}

fn main() {
    let data = make_classification(&ClassificationParams::tutorial()).expect("valid");
    let splits = RepeatedStratifiedKFold::tutorial()
        .split(&data.labels)
        .expect("splits");
    let epochs = 40;
    let model = Perceptron {
        penalty: Penalty::ElasticNet,
        eta0: 1.0,
        alpha: 0.0001,
        max_iter: epochs,
        tol: f64::NEG_INFINITY,
        ..Perceptron::default()
    };
    let x = data.features.view();
    for fits in [1, 8, 16, 24, 32] {
        let sets: Vec<&[usize]> = (0..fits)
            .map(|i| splits[i % splits.len()].train.as_slice())
            .collect();
        let steps = (sets.iter().map(|s| s.len()).sum::<usize>() * epochs) as f64;
        let one_by_one = best(&|| {
            for rows in &sets {
                std::hint::black_box(model.fit_rows(x, &data.labels, rows).expect("fits"));
            }
        });
        let interleaved = best(&|| {
            std::hint::black_box(model.fit_interleaved(x, &data.labels, &sets));
        });
        println!(
            "{fits:2} fits x {epochs} epochs: one at a time {:5.2} ns/step, interleaved {:5.2} ns/step",
            one_by_one / steps * 1e9,
            interleaved / steps * 1e9
        );
    }

    // The tutorial's own fits (early stopping on): lanes idle once the
    // queue is empty and the last fits run on alone.
    let sets: Vec<&[usize]> = splits.iter().map(|s| s.train.as_slice()).collect();
    for (eta0, alpha) in [(1.0, 0.0001), (1.0, 0.05), (0.5, 0.01)] {
        let model = Perceptron {
            penalty: Penalty::ElasticNet,
            eta0,
            alpha,
            ..Perceptron::default()
        };
        let fits = model.fit_interleaved(x, &data.labels, &sets);
        let steps: usize = fits
            .iter()
            .zip(&sets)
            .map(|(fit, rows)| fit.as_ref().map_or(0, |fit| fit.n_iter) * rows.len())
            .sum();
        let epochs: Vec<usize> = fits
            .iter()
            .map(|fit| fit.as_ref().map_or(0, |fit| fit.n_iter))
            .collect();
        let one_by_one = best(&|| {
            for rows in &sets {
                std::hint::black_box(model.fit_rows(x, &data.labels, rows).ok());
            }
        });
        let interleaved = best(&|| {
            std::hint::black_box(model.fit_interleaved(x, &data.labels, &sets));
        });
        println!(
            "tutorial folds, eta0 {eta0}, alpha {alpha} (epochs {}..{}): one at a time {:5.2} ns/step, interleaved {:5.2} ns/step",
            epochs.iter().min().expect("fits"),
            epochs.iter().max().expect("fits"),
            one_by_one / steps as f64 * 1e9,
            interleaved / steps as f64 * 1e9
        );
    }

    // The whole search of `proflab hillclimb` (seed 1, 100 steps of 0.1):
    // how many SGD steps it takes (counted by a first pass that fits each
    // configuration one-off), and the CPU time per step of the search as
    // `proflab hillclimb --jobs 1` runs it, through `TutorialObjective`
    // (one cross-validation made once and reused by every configuration).
    let climb = |evaluate: &mut dyn FnMut(Hyperparameters) -> f64| {
        let mut rng = SeededRng::seed_from_u64(1);
        let start = Hyperparameters {
            eta0: rng.random(),
            alpha: rng.random(),
        };
        hill_climb(
            |config| Ok::<_, proflab_perceptron::CvError>(evaluate(config)),
            start,
            100,
            0.1,
            &mut rng,
            |_| {},
        )
        .expect("the search runs")
    };
    let objective = TutorialObjective::new(&data);
    let mut total = 0;
    let outcome = climb(&mut |config| {
        let model = Perceptron {
            eta0: config.eta0,
            alpha: config.alpha,
            ..objective.model.clone()
        };
        let fits = model.fit_interleaved(x, &data.labels, &sets);
        let mut scores = Vec::new();
        for ((fit, rows), split) in fits.iter().zip(&sets).zip(&splits) {
            let fit = fit.as_ref().expect("the tutorial's fits converge");
            total += fit.n_iter * rows.len();
            scores.push(fit.score_rows(x, &data.labels, &split.test));
        }
        mean_and_std(&scores).0
    });
    let seconds = best(&|| {
        let objective = TutorialObjective::new(&data);
        let searched = climb(&mut |config| objective.evaluate(config).expect("scores"));
        assert_eq!(searched.score.to_bits(), outcome.score.to_bits());
    });
    println!(
        "the tutorial's hill climb (best {:.6}): {} SGD steps, {:.1} ms CPU, {:.2} ns/step",
        outcome.score,
        total,
        seconds * 1e3,
        seconds / total as f64 * 1e9
    );
}
