//! `proflab track`: benchmark history between commits (see docs/TRACKING.md).

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use proflab_track::{CompareOptions, ExportFormat, History, Machine, TrackError, Verdict};

/// Record Criterion results per commit, compare commits, export and report.
#[derive(clap::Args)]
#[command(after_help = "Example:\n  cargo bench && proflab track record\n  \
    proflab track compare main HEAD --fail-on-regression")]
pub struct Args {
    /// History database [default: <repo root>/.proflab/history.sqlite, kept by `cargo clean`].
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: TrackCommand,
}

#[derive(Subcommand)]
enum TrackCommand {
    /// Import every benchmark under target/criterion, and the instruction counts under
    /// target/proflab-instructions, for the checked-out commit.
    Record {
        /// Criterion's output folder [default: $CARGO_TARGET_DIR or <repo root>/target, then /criterion].
        #[arg(long)]
        criterion_dir: Option<PathBuf>,
        /// Instruction-count reports [default: the same target folder, then /proflab-instructions].
        #[arg(long)]
        instructions_dir: Option<PathBuf>,
    },
    /// Compare commit B against commit A, benchmark by benchmark.
    Compare {
        /// Baseline commit: any git revision (main, HEAD~1, a tag) or a prefix of a recorded SHA.
        a: String,
        /// Candidate commit.
        b: String,
        /// Smallest relative change that counts, in percent.
        #[arg(long, default_value_t = 2.0)]
        threshold: f64,
        /// Only benchmarks whose id matches this regex.
        #[arg(long)]
        filter: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Exit with status 1 when any benchmark regressed (a CI gate).
        #[arg(long)]
        fail_on_regression: bool,
        /// Compare runs recorded on different CPUs, OSes or compilers.
        #[arg(long)]
        allow_different_machines: bool,
    },
    /// Benchmark two commits alternately in temporary git worktrees, record, compare.
    Run {
        /// Baseline revision.
        a: String,
        /// Candidate revision.
        b: String,
        /// Criterion filter regex (which benchmarks to run and compare).
        #[arg(long)]
        filter: Option<String>,
        /// Rounds: each runs every benchmark on both sides back to back (A B, then B A).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Only these bench targets (`cargo bench --bench NAME`); repeatable.
        #[arg(long = "bench")]
        benches: Vec<String>,
        /// Extra Criterion flags, e.g. --criterion-arg=--measurement-time --criterion-arg=1.
        #[arg(long = "criterion-arg", allow_hyphen_values = true)]
        criterion_args: Vec<String>,
        /// Folder for the two Cargo target folders (a/, b/) [default: a fresh one, removed afterwards].
        #[arg(long)]
        target_dir: Option<PathBuf>,
        /// Smallest relative change that counts, in percent.
        #[arg(long, default_value_t = 2.0)]
        threshold: f64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Exit with status 1 when any benchmark regressed.
        #[arg(long)]
        fail_on_regression: bool,
    },
    /// List recorded runs, oldest first.
    History {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a static HTML dashboard (no network needed) to DIR/index.html.
    Report {
        /// Output folder.
        #[arg(short, long)]
        output: PathBuf,
        /// Only benchmarks whose id matches this regex.
        #[arg(long)]
        filter: Option<String>,
        /// Compare runs recorded on different CPUs, OSes or compilers.
        #[arg(long)]
        allow_different_machines: bool,
    },
    /// Write one commit's results for Bencher or github-action-benchmark.
    Export {
        /// Commit to export (SHA or unique prefix).
        commit: String,
        #[arg(long, value_enum)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Bmf,
    GithubActionBenchmark,
}

fn repo_root() -> PathBuf {
    proflab_track::repo_root(Path::new(".")).unwrap_or_else(|_| PathBuf::from("."))
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let db_path = args
        .db
        .clone()
        .unwrap_or_else(|| proflab_track::default_db_path(&repo_root()));
    let mut history = History::open(&db_path)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match &args.command {
        TrackCommand::Record {
            criterion_dir,
            instructions_dir,
        } => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| repo_root().join("target"), PathBuf::from);
            let instructions = proflab_track::import_instruction_dir(
                &instructions_dir
                    .clone()
                    .unwrap_or_else(|| target.join(proflab_track::INSTRUCTION_REPORT_DIR)),
            )?;
            let counts = instructions.len();
            let mut benches = instructions;
            // Instruction counts alone are a complete record; nothing at all is an error.
            match proflab_track::import_criterion_dir(
                &criterion_dir
                    .clone()
                    .unwrap_or_else(|| target.join("criterion")),
            ) {
                Ok(timed) => benches.extend(timed),
                Err(TrackError::NoCriterionDir { .. }) if counts > 0 => {}
                Err(error) => return Err(error.into()),
            }
            let context = proflab_track::git_context(Path::new("."))
                .context("`record` needs a git checkout to know the commit")?;
            let run = history.record(&context, &Machine::current(), &benches)?;
            writeln!(
                out,
                "recorded run {run}: {} benchmarks ({counts} instruction counts) at {}{} into {}",
                benches.len(),
                &context.commit[..12.min(context.commit.len())],
                if context.dirty { " (dirty)" } else { "" },
                db_path.display()
            )?;
        }
        TrackCommand::Compare {
            a,
            b,
            threshold,
            filter,
            json,
            fail_on_regression,
            allow_different_machines,
        } => {
            let options = CompareOptions {
                threshold: threshold / 100.0,
                allow_different_machines: *allow_different_machines,
                filter: filter.as_deref().map(regex::Regex::new).transpose()?,
                ..CompareOptions::default()
            };
            let here = Path::new(".");
            let (a, b) = (
                proflab_track::rev_parse_or_keep(here, a),
                proflab_track::rev_parse_or_keep(here, b),
            );
            let rows = proflab_track::compare(&history, &a, &b, &options)?;
            return print_comparison(&mut out, &rows, *json, *fail_on_regression);
        }
        TrackCommand::Run {
            a,
            b,
            filter,
            rounds,
            benches,
            criterion_args,
            target_dir,
            threshold,
            json,
            fail_on_regression,
        } => {
            let options = proflab_track::PairedOptions {
                rounds: *rounds,
                filter: filter.clone(),
                benches: benches.clone(),
                criterion_args: criterion_args.clone(),
                target_dir: target_dir.clone(),
            };
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                    .context("progress bar template")?,
            );
            let (a, b) = proflab_track::run_paired(
                &repo_root(),
                a,
                b,
                &options,
                &mut history,
                &mut |done, total, step| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                    bar.set_message(step.to_owned());
                },
            )?;
            bar.finish_and_clear();
            let compare = CompareOptions {
                threshold: threshold / 100.0,
                filter: filter.as_deref().map(regex::Regex::new).transpose()?,
                ..CompareOptions::default()
            };
            let rows = proflab_track::compare(&history, &a, &b, &compare)?;
            return print_comparison(&mut out, &rows, *json, *fail_on_regression);
        }
        TrackCommand::History { json } => {
            let runs = history.runs()?;
            if *json {
                serde_json::to_writer_pretty(&mut out, &runs)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{:>4}  {:<12}  {:<5}  {:<16}  {:>10}  {:>7}",
                    "run", "commit", "dirty", "branch", "time", "benches"
                )?;
                for r in runs {
                    writeln!(
                        out,
                        "{:>4}  {:<12}  {:<5}  {:<16}  {:>10}  {:>7}",
                        r.id,
                        &r.commit[..12.min(r.commit.len())],
                        r.dirty,
                        r.branch,
                        r.time,
                        r.benchmarks
                    )?;
                }
            }
        }
        TrackCommand::Report {
            output,
            filter,
            allow_different_machines,
        } => {
            let options = CompareOptions {
                allow_different_machines: *allow_different_machines,
                filter: filter.as_deref().map(regex::Regex::new).transpose()?,
                ..CompareOptions::default()
            };
            let path = proflab_track::write_report(
                &history,
                proflab_track::repo_root(Path::new(".")).ok().as_deref(),
                output,
                &options,
            )?;
            writeln!(out, "wrote {}", path.display())?;
        }
        TrackCommand::Export { commit, format } => {
            let format = match format {
                Format::Bmf => ExportFormat::Bmf,
                Format::GithubActionBenchmark => ExportFormat::GithubActionBenchmark,
            };
            proflab_track::export(&history, commit, format, &mut out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Table (colored on a terminal unless `NO_COLOR`) or JSON; exit 1 on a regression when asked.
fn print_comparison(
    out: &mut dyn std::io::Write,
    rows: &[proflab_track::Comparison],
    json: bool,
    fail_on_regression: bool,
) -> anyhow::Result<ExitCode> {
    if json {
        proflab_track::write_json(out, rows)?;
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        proflab_track::write_table(out, rows, color)?;
    }
    let regressed = rows.iter().any(|r| r.verdict == Verdict::Regressed);
    Ok(if fail_on_regression && regressed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
