//! `proflab`: the command-line front end of the workspace. It parses
//! arguments, calls a library crate and prints; every piece of logic a test
//! or another tool could want lives in those crates, not here.
//!
//! Exit codes: 0 success, 1 the thing checked failed, 2 usage or input error.

mod color;
mod cv;
mod hillclimb;
mod make_classification;
mod profiling;
mod stats;
mod summary;
mod timeit;
mod track;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Profile, compare and track Rust code the way the "Profiling Python Code"
/// tutorial does with cProfile, pstats and timeit.
#[derive(Parser)]
#[command(name = "proflab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Hillclimb(hillclimb::Args),
    Cv(cv::Args),
    MakeClassification(make_classification::Args),
    Stats(stats::Args),
    Summary(summary::Args),
    Timeit(timeit::Args),
    Track(track::Args),
}

/// Counts allocations per profiled function for `--memory`; two
/// thread-local additions per allocation otherwise.
#[global_allocator]
static ALLOCATOR: proflab::CountingAllocator = proflab::CountingAllocator;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Hillclimb(args) => hillclimb::run(&args),
        Command::Cv(args) => cv::run(&args),
        Command::MakeClassification(args) => make_classification::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Summary(args) => summary::run(&args),
        Command::Timeit(args) => timeit::run(&args),
        Command::Track(args) => track::run(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("proflab: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Builds the thread pool that `--jobs` asks for; 0 means one per core.
fn thread_pool(jobs: usize) -> anyhow::Result<rayon::ThreadPool> {
    use anyhow::Context as _;
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("cannot start the worker threads")
}

/// The dataset to work on: a CSV file, or the tutorial's generated one.
fn load_dataset(path: Option<&std::path::Path>) -> anyhow::Result<proflab_perceptron::Dataset> {
    use anyhow::Context as _;
    use proflab_perceptron::{ClassificationParams, Dataset, make_classification};
    match path {
        Some(path) => Dataset::from_csv_path(path)
            .with_context(|| format!("cannot use {} as a dataset", path.display())),
        None => Ok(make_classification(&ClassificationParams::tutorial())?),
    }
}
