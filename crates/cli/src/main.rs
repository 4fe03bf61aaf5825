//! `proflab`: the command-line front end of the workspace. It parses
//! arguments, calls a library crate and prints; every piece of logic a test
//! or another tool could want lives in those crates, not here.
//!
//! Exit codes: 0 success, 1 the thing checked failed, 2 usage or input error.

mod color;
mod cv;
mod hillclimb;
mod limits;
mod make_classification;
mod output;
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
            eprintln!("proflab: {}", error_message(&error));
            // As a shell reports a command a signal stopped (130 for Ctrl-C,
            // 143 for SIGTERM), so a script can tell an interrupt from a failure.
            match error.downcast_ref::<proflab_track::TrackError>() {
                Some(proflab_track::TrackError::Interrupted { signal, .. }) => {
                    ExitCode::from(signal.exit_code())
                }
                _ => ExitCode::from(2),
            }
        }
    }
}

/// The error and its causes joined by ": ", leaving out a cause the message
/// before it already ends with: library errors that embed their source
/// (`"repeat 0, fold 1: {source}"`) would otherwise print it twice.
fn error_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// Runs `work` with `jobs` worker threads for rayon (0: one per core): on
/// the calling thread when there is one job, since starting a pool of one
/// thread costs more than it gives (`hillclimb --jobs 1`, 2% of its CPU time:
/// the thread, and a fresh malloc arena growing page by page).
fn with_jobs<T: Send>(jobs: usize, work: impl FnOnce() -> T + Send) -> anyhow::Result<T> {
    use anyhow::Context as _;
    if jobs == 1 {
        return Ok(work());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("cannot start the worker threads")?;
    Ok(pool.install(work))
}

/// The dataset to work on: a CSV file, or the tutorial's generated one.
fn load_dataset(path: Option<&std::path::Path>) -> anyhow::Result<proflab_perceptron::Dataset> {
    use anyhow::Context as _;
    use proflab_perceptron::{ClassificationParams, Dataset, make_classification};
    let data = match path {
        Some(path) => Dataset::from_csv_path(path)
            .with_context(|| format!("cannot use {} as a dataset", path.display()))?,
        None => make_classification(&ClassificationParams::tutorial())?,
    };
    data.check_features()?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_already_in_the_message_is_printed_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let embedded = anyhow::Error::new(io()).context(format!("fold 1: {}", io()));
        assert_eq!(super::error_message(&embedded), "fold 1: no such file");
        let plain = anyhow::Error::new(io()).context("cannot read data.csv");
        assert_eq!(
            super::error_message(&plain),
            "cannot read data.csv: no such file"
        );
    }
}
