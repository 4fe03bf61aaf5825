//! `proflab make-classification`: writes a generated dataset as CSV.

use std::ops::Bound;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use proflab_perceptron::{ClassificationParams, make_classification};

/// Generate a two-class dataset like scikit-learn's make_classification and
/// write it as CSV (header row, feature columns, label last).
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  proflab make-classification --samples 1000 --features 5 --informative 2 --redundant 1 --seed 1 -o data.csv"
)]
pub struct Args {
    /// Number of samples (rows; samples x features at most 10 million).
    #[arg(long, default_value_t = 1000, value_parser = crate::limits::count(1..=10_000_000))]
    samples: usize,
    /// Total number of features (at most 10000).
    #[arg(long, default_value_t = 5, value_parser = crate::limits::count(1..=10_000))]
    features: usize,
    /// Features that carry the class signal (at most 1000).
    #[arg(long, default_value_t = 2, value_parser = crate::limits::count(1..=1_000))]
    informative: usize,
    /// Linear combinations of the informative features.
    #[arg(long, default_value_t = 1, value_parser = crate::limits::count(0..=10_000))]
    redundant: usize,
    /// Copies of informative or redundant features.
    #[arg(long, default_value_t = 0, value_parser = crate::limits::count(0..=10_000))]
    repeated: usize,
    /// Gaussian clusters per class (at most 100).
    #[arg(long, default_value_t = 2, value_parser = crate::limits::count(1..=100))]
    clusters_per_class: usize,
    /// Half the side of the hypercube the clusters sit on (finite).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true, value_parser = crate::limits::float((Bound::Unbounded, Bound::Unbounded), "a finite number"))]
    class_sep: f64,
    /// Fraction of labels assigned at random (0 to 1).
    #[arg(long, default_value_t = 0.01, value_parser = crate::limits::float((Bound::Included(0.0), Bound::Included(1.0)), "a number from 0 to 1"))]
    flip_y: f64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file; standard output when absent.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

/// Values generated at most: about 200 MB of CSV, which `--data` reads
/// back within its 256 MiB limit.
const MAX_VALUES: usize = 10_000_000;

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.samples.saturating_mul(args.features) > MAX_VALUES {
        bail!(
            "--samples {} x --features {} is more than {MAX_VALUES} values",
            args.samples,
            args.features
        );
    }
    let output = args
        .output
        .as_deref()
        .map(|path| crate::output::PendingFile::prepare(path, "-o"))
        .transpose()?;
    let params = ClassificationParams {
        n_samples: args.samples,
        n_features: args.features,
        n_informative: args.informative,
        n_redundant: args.redundant,
        n_repeated: args.repeated,
        n_clusters_per_class: args.clusters_per_class,
        class_sep: args.class_sep,
        flip_y: args.flip_y,
        seed: args.seed,
    };
    let data = make_classification(&params)?;
    // A huge --class-sep makes features the readers would reject: refuse to
    // write them.
    data.check_features()
        .context("the generated features are out of range; lower --class-sep")?;
    match output {
        Some(file) => file.write(|out| Ok(data.write_csv(out)?))?,
        None => data
            .write_csv(std::io::stdout().lock())
            .context("cannot write to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
