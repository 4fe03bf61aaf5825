//! `proflab hillclimb`: the tutorial's search, printed as the tutorial does.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use proflab_perceptron::{Execution, Hyperparameters, SeededRng, TutorialObjective, hill_climb};
use rand::{RngExt, SeedableRng};

/// Hill-climb a perceptron's eta0 and alpha, each candidate scored by 10x3
/// repeated stratified cross-validation: the program the tutorial profiles.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  proflab hillclimb --n-iter 100 --step-size 0.1 --seed 1 --jobs 2\n  proflab hillclimb --profile -s ncalls\n  proflab hillclimb -o hillclimb.prof --flamegraph hillclimb.svg && proflab stats hillclimb.prof"
)]
pub struct Args {
    /// CSV dataset; the tutorial's generated 1000 x 5 dataset when absent.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Candidate steps to try (at most 10 million).
    #[arg(long, default_value_t = 100, value_parser = crate::limits::count(0..=10_000_000))]
    n_iter: usize,
    /// Standard deviation of each Gaussian step (0 to 1e100).
    #[arg(long, default_value_t = 0.1, value_parser = crate::limits::step_size())]
    step_size: f64,
    /// Seed of the starting point and the steps.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads for the folds (0: one per core, 1: sequential; at most 256).
    #[arg(long, default_value_t = 1, value_parser = crate::limits::jobs())]
    jobs: usize,
    /// Print the accepted steps and the result as JSON instead of the tutorial's lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    profiling: crate::profiling::ProfileArgs,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    args.profiling.run(|| search(args))
}

fn search(args: &Args) -> anyhow::Result<ExitCode> {
    let data = crate::load_dataset(args.data.as_deref())?;
    let mut objective = TutorialObjective::new(&data);
    crate::limits::check_cv_size(
        data.labels.len(),
        objective.cv.n_splits,
        objective.cv.n_repeats,
    )?;
    if args.jobs != 1 {
        objective.execution = Execution::Parallel;
    }
    let mut rng = SeededRng::seed_from_u64(args.seed);
    let start = Hyperparameters {
        eta0: rng.random(),
        alpha: rng.random(),
    };

    // The bar draws on stderr only when it is a terminal, so piped output
    // stays exactly the tutorial's lines.
    let progress =
        ProgressBar::with_draw_target(Some(args.n_iter as u64 + 1), ProgressDrawTarget::stderr());
    progress.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} evaluations, {elapsed} elapsed, ETA {eta}",
        )
        .expect("the template is valid"),
    );
    let evaluate = |config| {
        let score = objective.evaluate(config);
        progress.inc(1);
        score
    };
    let accepted = std::sync::Mutex::new(Vec::new());
    let report = |step: proflab_perceptron::AcceptedStep| {
        if args.json {
            accepted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(serde_json::json!({
                    "iteration": step.iteration,
                    "eta0": step.config.eta0,
                    "alpha": step.config.alpha,
                    "score": step.score,
                }));
        } else {
            progress
                .suspend(|| println!(">{}, cfg={} {:.5}", step.iteration, step.config, step.score));
        }
    };
    let outcome = crate::with_jobs(args.jobs, || {
        hill_climb(
            evaluate,
            start,
            args.n_iter,
            args.step_size,
            &mut rng,
            report,
        )
    })??;
    progress.finish_and_clear();
    if args.json {
        let result = serde_json::json!({
            "accepted": accepted.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner),
            "eta0": outcome.config.eta0,
            "alpha": outcome.config.alpha,
            "score": outcome.score,
        });
        println!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("Done!");
    println!(
        "cfg={}: Mean Accuracy: {:.6}",
        outcome.config, outcome.score
    );
    Ok(ExitCode::SUCCESS)
}
