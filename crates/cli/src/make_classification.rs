//! `proflab make-classification`: writes a generated dataset as CSV.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use proflab_perceptron::{ClassificationParams, make_classification};

/// Generate a two-class dataset like scikit-learn's make_classification and
/// write it as CSV (header row, feature columns, label last).
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  proflab make-classification --samples 1000 --features 5 --informative 2 --redundant 1 --seed 1 -o data.csv"
)]
pub struct Args {
    /// Number of samples (rows).
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    /// Total number of features.
    #[arg(long, default_value_t = 5)]
    features: usize,
    /// Features that carry the class signal.
    #[arg(long, default_value_t = 2)]
    informative: usize,
    /// Linear combinations of the informative features.
    #[arg(long, default_value_t = 1)]
    redundant: usize,
    /// Copies of informative or redundant features.
    #[arg(long, default_value_t = 0)]
    repeated: usize,
    /// Gaussian clusters per class.
    #[arg(long, default_value_t = 2)]
    clusters_per_class: usize,
    /// Half the side of the hypercube the clusters sit on.
    #[arg(long, default_value_t = 1.0)]
    class_sep: f64,
    /// Fraction of labels assigned at random.
    #[arg(long, default_value_t = 0.01)]
    flip_y: f64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file; standard output when absent.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
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
    match &args.output {
        Some(path) => {
            // Write beside the target and rename, so an interrupted run never
            // leaves a truncated dataset under the requested name.
            let partial = path.with_extension("csv.partial");
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            data.write_csv(&mut writer)
                .and_then(|()| writer.flush())
                .with_context(|| format!("cannot write {}", partial.display()))?;
            std::fs::rename(&partial, path)
                .with_context(|| format!("cannot move the dataset to {}", path.display()))?;
        }
        None => data
            .write_csv(std::io::stdout().lock())
            .context("cannot write to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
