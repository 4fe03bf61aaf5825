//! `proflab cv`: one configuration's cross-validated accuracy.

use std::path::PathBuf;
use std::process::ExitCode;

use proflab_perceptron::{
    Execution, Penalty, Perceptron, RepeatedStratifiedKFold, cross_val_score, mean_and_std,
};

/// Score one perceptron configuration by repeated stratified k-fold
/// cross-validation, like scikit-learn's cross_val_score.
#[derive(clap::Args)]
#[command(after_help = "Example:\n  proflab cv --data data.csv --eta0 1.0 --alpha 0.0001 --json")]
pub struct Args {
    /// CSV file: header row, numeric features, label last.
    #[arg(long)]
    data: PathBuf,
    /// Learning rate (above 0, at most 1e64).
    #[arg(long, value_parser = crate::limits::eta0())]
    eta0: f64,
    /// Regularization strength (finite, >= 0).
    #[arg(long, value_parser = crate::limits::non_negative())]
    alpha: f64,
    /// Regularization term.
    #[arg(long, value_enum, default_value_t = PenaltyArg::Elasticnet)]
    penalty: PenaltyArg,
    /// Folds per repetition (2 to 10000).
    #[arg(long, default_value_t = 10, value_parser = crate::limits::count(2..=10_000))]
    splits: usize,
    /// Repetitions with fresh shuffles (1 to 10000).
    #[arg(long, default_value_t = 3, value_parser = crate::limits::count(1..=10_000))]
    repeats: usize,
    /// Seed of the fold shuffles.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads for the folds (0: one per core, 1: sequential; at most 256).
    #[arg(long, default_value_t = 1, value_parser = crate::limits::jobs())]
    jobs: usize,
    /// Print one JSON object {"mean", "std", "scores"} instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PenaltyArg {
    None,
    L2,
    L1,
    Elasticnet,
}

impl From<PenaltyArg> for Penalty {
    fn from(penalty: PenaltyArg) -> Self {
        match penalty {
            PenaltyArg::None => Penalty::None,
            PenaltyArg::L2 => Penalty::L2,
            PenaltyArg::L1 => Penalty::L1,
            PenaltyArg::Elasticnet => Penalty::ElasticNet,
        }
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let data = crate::load_dataset(Some(&args.data))?;
    crate::limits::check_cv_size(data.labels.len(), args.splits, args.repeats)?;
    let model = Perceptron {
        penalty: args.penalty.into(),
        eta0: args.eta0,
        alpha: args.alpha,
        ..Perceptron::default()
    };
    let cv = RepeatedStratifiedKFold {
        n_splits: args.splits,
        n_repeats: args.repeats,
        seed: args.seed,
    };
    let execution = if args.jobs == 1 {
        Execution::Sequential
    } else {
        Execution::Parallel
    };
    let scores = crate::with_jobs(args.jobs, || {
        cross_val_score(&model, data.features.view(), &data.labels, &cv, execution)
    })??;
    let (mean, std) = mean_and_std(&scores);
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "mean": mean, "std": std, "scores": scores })
        );
    } else {
        println!("Mean Accuracy: {mean:.3} ({std:.3})");
    }
    Ok(ExitCode::SUCCESS)
}
