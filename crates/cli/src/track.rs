//! `proflab track`: benchmark history between commits (see docs/TRACKING.md).
//! One function per subcommand; the options several of them share are the
//! flattened [`VerdictArgs`] and [`OutputArgs`].

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use proflab_track::{
    CompareOptions, ComparisonReport, Database, ExportFormat, Freshness, History, Machine,
    PairedOptions, Progress, RecordSources, TableStyle,
};

use crate::color::ColorArgs;

/// Record Criterion results per commit, compare commits, export and report.
#[derive(clap::Args)]
#[command(after_help = "Example:\n  cargo bench && proflab track record\n  \
    proflab track compare main HEAD --fail-on-regression\n  \
    proflab track run main HEAD")]
pub struct Args {
    /// History database: a file, or postgres://user:password@host/database for one history
    /// many machines share [default: $PROFLAB_DB, else <repo root>/.proflab/history.sqlite,
    /// kept by `cargo clean`].
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    #[command(flatten)]
    color: crate::color::ColorArgs,
    #[command(subcommand)]
    command: TrackCommand,
}

#[derive(Subcommand)]
enum TrackCommand {
    Record(RecordArgs),
    Compare(CompareArgs),
    Run(RunArgs),
    Bisect(BisectArgs),
    History(HistoryArgs),
    Changes(ChangesArgs),
    Report(ReportArgs),
    Export(ExportArgs),
}

/// How a verdict is reached: shared by `compare`, `run` and `report`.
#[derive(clap::Args)]
struct VerdictArgs {
    /// Smallest relative change that counts, in percent (0 to 1000).
    #[arg(long, default_value_t = 2.0, value_parser = parse_percent)]
    threshold: f64,
    /// Only benchmarks whose id matches this regex.
    #[arg(long)]
    filter: Option<regex::Regex>,
    /// Compare runs recorded on different CPUs, OSes or compilers.
    #[arg(long)]
    allow_different_machines: bool,
}

impl VerdictArgs {
    fn options(&self) -> CompareOptions {
        CompareOptions {
            threshold: self.threshold / 100.0,
            filter: self.filter.clone(),
            allow_different_machines: self.allow_different_machines,
            ..CompareOptions::default()
        }
    }
}

/// How a comparison is printed, and whether it gates CI.
#[derive(clap::Args)]
struct OutputArgs {
    /// Print JSON instead of a table (the same as --format json).
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// table, json, or markdown (a pull-request comment: summary line, regressions first,
    /// the rest folded).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
    /// Exit with status 1 when any benchmark regressed (a CI gate).
    #[arg(long)]
    fail_on_regression: bool,
}

/// Import every benchmark under target/criterion, and the instruction counts under
/// target/proflab-instructions, for the checked-out commit.
#[derive(clap::Args)]
struct RecordArgs {
    /// Criterion's output folder [default: $CARGO_TARGET_DIR or <repo root>/target, then /criterion].
    #[arg(long)]
    criterion_dir: Option<PathBuf>,
    /// Instruction-count reports [default: the same target folder, then /proflab-instructions].
    #[arg(long)]
    instructions_dir: Option<PathBuf>,
    /// Import only results written at or after this time (RFC 3339, e.g. 2026-11-25T14:00:00Z)
    /// [default: what the latest `cargo bench` wrote; older results are named and skipped].
    #[arg(long, value_parser = humantime::parse_rfc3339_weak, conflicts_with = "all")]
    since: Option<std::time::SystemTime>,
    /// Import every result, however old.
    #[arg(long)]
    all: bool,
    /// Import the results Criterion saved with `--save-baseline NAME` instead of the latest.
    #[arg(long)]
    baseline: Option<String>,
    /// Record under this name instead of the checked-out commit (e.g. `laptop-tuned`); any
    /// text but a bare hexadecimal string, which would read as a SHA.
    #[arg(long, value_parser = parse_label)]
    label: Option<String>,
    /// Print what was recorded as JSON.
    #[arg(long)]
    json: bool,
}

/// Compare commit B against commit A, benchmark by benchmark: the paired rounds of the
/// newest `track run` that measured both, else every recorded run of each.
#[derive(clap::Args)]
struct CompareArgs {
    /// Baseline commit: any git revision (main, HEAD~1, a tag) or a prefix of a recorded SHA.
    a: String,
    /// Candidate commit.
    b: String,
    /// Judge this batch (a `track run`; `track history` lists them) instead of the newest.
    #[arg(long, conflicts_with = "unpaired")]
    batch: Option<i64>,
    /// Ignore batches: judge every run of each commit as independent.
    #[arg(long)]
    unpaired: bool,
    /// Keep rounds that one bad process spoiled (to measure what setting them aside buys).
    #[arg(long, hide = true)]
    keep_outliers: bool,
    /// Judge each benchmark by its own rounds alone (to measure what moderation buys).
    #[arg(long, hide = true)]
    no_moderation: bool,
    #[command(flatten)]
    verdict: VerdictArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Benchmark two commits in paired rounds in temporary git worktrees, record them as one
/// batch, compare.
#[derive(clap::Args)]
struct RunArgs {
    /// Baseline revision.
    a: String,
    /// Candidate revision.
    b: String,
    #[command(flatten)]
    measure: MeasureArgs,
    /// Folder for the two worktrees (a/, b/), kept between runs: each run checks out its
    /// commits there, so only what changed is rebuilt [default: fresh ones, removed afterwards].
    #[arg(long)]
    worktree_dir: Option<PathBuf>,
    #[command(flatten)]
    verdict: VerdictArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// How each side is measured: shared by `run` and `bisect`.
#[derive(clap::Args)]
struct MeasureArgs {
    /// Rounds every benchmark gets before it may stop (each runs it on both sides back to
    /// back, A B then B A). Raise it to narrow the "unchanged" intervals: from here on a
    /// benchmark stops once no change is in reach of the rounds left.
    #[arg(long, default_value_t = default_rounds(PairedOptions::default().min_rounds),
          value_parser = clap::value_parser!(u16).range(2..=1000))]
    min_rounds: u16,
    /// Most rounds for a benchmark whose interval could still cross the threshold (while the
    /// rounds left could still flag a change), or that lost a round to one slow process.
    #[arg(long, default_value_t = default_rounds(PairedOptions::default().max_rounds),
          value_parser = clap::value_parser!(u16).range(2..=1000))]
    max_rounds: u16,
    /// Minutes for the whole run, builds included: the benchmarks that go on share the time
    /// left equally, one whose share cannot buy the rounds a change would need is given up on,
    /// and no new measurement starts once it is spent; what was measured is judged.
    #[arg(long, default_value_t = proflab_track::DEFAULT_BUDGET_MINUTES, value_parser = parse_positive)]
    budget: f64,
    /// Criterion's warm-up time per benchmark process, in seconds.
    #[arg(long, default_value_t = PairedOptions::default().warm_up_seconds, value_parser = parse_positive)]
    warm_up: f64,
    /// Criterion's measurement time per benchmark process, in seconds.
    #[arg(long, default_value_t = PairedOptions::default().measurement_seconds,
          value_parser = parse_positive)]
    measurement: f64,
    /// Only these bench targets (`cargo bench --bench NAME`); repeatable.
    #[arg(long = "bench")]
    benches: Vec<String>,
    /// Extra Criterion flags, e.g. --criterion-arg=--sample-size --criterion-arg=20.
    #[arg(long = "criterion-arg", allow_hyphen_values = true)]
    criterion_args: Vec<String>,
    /// Folder for the two Cargo target folders (a/, b/), kept for the next run, which then
    /// rebuilds only what changed; a run that finds it in use by another builds in a temporary
    /// folder [default: <repo root>/.proflab/target].
    #[arg(long)]
    target_dir: Option<PathBuf>,
    /// Build with rustc's usual function alignment instead of every function on a 64-byte
    /// boundary (the default keeps untouched functions' layout, so neighbours of a changed
    /// function are not flagged).
    #[arg(long)]
    no_align_functions: bool,
    /// `random`: each round relinks the executables it runs with a fresh random code layout
    /// (LLD's --shuffle-sections and --randomize-section-padding; a link, not a build), so a
    /// verdict is about the code, not about where the linker put it; `fixed`: every round
    /// runs the executables Cargo linked. Random falls back to fixed, saying why, where it
    /// cannot apply (not LLD, a linker chosen by your Cargo configuration, not Linux).
    #[arg(long, value_enum, default_value_t = Layouts::Random)]
    layouts: Layouts,
    /// Measure benchmarks even when their bench executable's code is identical on both sides
    /// (by default they are reported as identical code, without a round).
    #[arg(long)]
    measure_identical: bool,
    /// Seed of the random layouts and environment paddings [default: a random one, recorded
    /// in the batch's settings].
    #[arg(long)]
    seed: Option<u64>,
    /// Refuse to run when a commit records a submodule this clone has not checked out (by
    /// default it is left out with a warning, and the smoke test names it if a bench fails on
    /// a path inside it).
    #[arg(long)]
    require_submodules: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Layouts {
    Random,
    Fixed,
}

impl MeasureArgs {
    fn options(&self, filter: Option<&regex::Regex>) -> anyhow::Result<PairedOptions> {
        anyhow::ensure!(
            self.max_rounds >= self.min_rounds,
            "--max-rounds {} is below --min-rounds {}",
            self.max_rounds,
            self.min_rounds
        );
        Ok(PairedOptions {
            min_rounds: usize::from(self.min_rounds),
            max_rounds: usize::from(self.max_rounds),
            budget: Duration::try_from_secs_f64(self.budget * 60.0).ok(),
            filter: filter.map(ToString::to_string),
            benches: self.benches.clone(),
            warm_up_seconds: self.warm_up,
            measurement_seconds: self.measurement,
            criterion_args: self.criterion_args.clone(),
            target_dir: Some(
                self.target_dir
                    .clone()
                    .unwrap_or_else(|| proflab_track::default_target_dir(&repo_root())),
            ),
            worktree_dir: None,
            align_functions: !self.no_align_functions,
            random_layouts: self.layouts == Layouts::Random,
            measure_identical: self.measure_identical,
            seed: self.seed,
            require_submodules: self.require_submodules,
        })
    }
}

/// Find the first commit between GOOD and BAD where the chosen benchmarks regressed: git's
/// bisection with a paired run against GOOD at each step.
#[derive(clap::Args)]
struct BisectArgs {
    /// A commit without the regression.
    good: String,
    /// A later commit with it.
    bad: String,
    #[command(flatten)]
    measure: MeasureArgs,
    #[command(flatten)]
    verdict: VerdictArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// List recorded runs, oldest first.
#[derive(clap::Args)]
struct HistoryArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Find where each benchmark's history shifted (E-Divisive means with a permutation test),
/// across the recorded commits in git history order.
#[derive(clap::Args)]
struct ChangesArgs {
    /// Only benchmarks whose id matches this regex.
    #[arg(long)]
    filter: Option<regex::Regex>,
    /// Significance level of each change's permutation test.
    #[arg(long, default_value_t = 0.05, value_parser = parse_probability)]
    alpha: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Write a static HTML dashboard (no network needed) to DIR/index.html: one branch's
/// first-parent line per machine with its change points, and every `track run` batch.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  proflab track report -o target/dashboard --branch main \\\n    \
    --commit-url 'https://github.com/OWNER/REPO/commit/{sha}'"
)]
struct ReportArgs {
    /// Output folder.
    #[arg(short, long)]
    output: PathBuf,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
    /// The branch whose first-parent commits are drawn [default: the branch origin/HEAD
    /// names, else the one checked out].
    #[arg(long)]
    branch: Option<String>,
    /// Link every commit shown to this page, {sha} standing for the SHA [default: from the
    /// origin remote when it is on GitHub, GitLab or Codeberg].
    #[arg(long, value_parser = parse_commit_url)]
    commit_url: Option<String>,
    /// Significance level of each change point's permutation test (as `track changes --alpha`).
    #[arg(long, default_value_t = 0.05, value_parser = parse_probability)]
    change_alpha: f64,
    #[command(flatten)]
    verdict: VerdictArgs,
}

/// Write one commit's results for Bencher or github-action-benchmark.
#[derive(clap::Args)]
struct ExportArgs {
    /// Commit to export: any git revision, or a prefix of a recorded SHA.
    commit: String,
    #[arg(long, value_enum)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Bmf,
    GithubActionBenchmark,
}

/// A percentage: finite, from 0 to 1000.
fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if value.is_finite() && (0.0..=1000.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{text} is not a percentage from 0 to 1000"))
    }
}

/// A run's name: not empty, no white space, and not hexadecimal alone (a SHA prefix).
fn parse_label(text: &str) -> Result<String, String> {
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        Err("a label is one word".to_owned())
    } else if text.chars().all(|c| c.is_ascii_hexdigit()) {
        Err(format!(
            "`{text}` reads as a commit SHA; add a letter beyond a-f"
        ))
    } else {
        Ok(text.to_owned())
    }
}

/// A commit page template: an http(s) URL with `{sha}` where the SHA goes.
fn parse_commit_url(text: &str) -> Result<String, String> {
    if !text.contains("{sha}") {
        Err(format!("`{text}` has no {{sha}} for the commit's SHA"))
    } else if !(text.starts_with("https://") || text.starts_with("http://")) {
        Err(format!("`{text}` is not an http(s) URL"))
    } else {
        Ok(text.to_owned())
    }
}

/// A probability strictly between 0 and 1.
fn parse_probability(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(format!("{text} is not a probability between 0 and 1"))
    }
}

/// A default number of rounds as the flag takes it.
fn default_rounds(rounds: usize) -> u16 {
    u16::try_from(rounds).unwrap_or(u16::MAX)
}

/// A finite number above zero.
fn parse_positive(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!("{text} is not a finite number above zero"))
    }
}

/// Cargo's target folder: `$CARGO_TARGET_DIR`, else `<repo root>/target`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| repo_root().join("target"), PathBuf::from)
}

fn repo_root() -> PathBuf {
    proflab_track::repo_root(Path::new(".")).unwrap_or_else(|_| PathBuf::from("."))
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    // `--db`, else `PROFLAB_DB` (how a CI runner points at the shared server), else the file.
    let from_env = std::env::var_os("PROFLAB_DB").filter(|db| !db.is_empty());
    let db = match args
        .db
        .as_deref()
        .map(Path::as_os_str)
        .or(from_env.as_deref())
    {
        Some(db) => Database::parse(db)?,
        None => Database::Sqlite(proflab_track::default_db_path(&repo_root())),
    };
    let color = args.color;
    match &args.command {
        TrackCommand::Record(record_args) => record(&db, record_args),
        TrackCommand::Compare(compare_args) => compare(&db, compare_args, color),
        TrackCommand::Run(run_args) => paired_run(&db, run_args, color),
        TrackCommand::Bisect(bisect_args) => bisect(&db, bisect_args),
        TrackCommand::History(history_args) => history(&db, history_args),
        TrackCommand::Changes(changes_args) => changes(&db, changes_args),
        TrackCommand::Report(report_args) => report(&db, report_args),
        TrackCommand::Export(export_args) => export(&db, export_args),
    }
}

fn record(db: &Database, args: &RecordArgs) -> anyhow::Result<ExitCode> {
    // Ask git first: outside a checkout nothing is created.
    let mut context = proflab_track::git_context(Path::new("."))
        .context("`record` needs a git checkout to know the commit")?;
    if let Some(label) = &args.label {
        context.commit.clone_from(label);
    }
    let latest = RecordSources::latest_in(&target_dir());
    let sources = RecordSources {
        criterion_dir: args.criterion_dir.clone().unwrap_or(latest.criterion_dir),
        baseline: args.baseline.clone().unwrap_or(latest.baseline),
        freshness: match (args.all, args.since) {
            (true, _) => Freshness::All,
            (false, Some(time)) => Freshness::Since(time),
            (false, None) => latest.freshness,
        },
        instructions_dir: args
            .instructions_dir
            .clone()
            .unwrap_or(latest.instructions_dir),
    };
    let imported = proflab_track::import_for_record(&sources)?;
    if !imported.stale.is_empty() {
        eprintln!(
            "proflab: skipped {} stale result(s), older than the latest `cargo bench` (--all imports them): {}",
            imported.stale.len(),
            imported
                .stale
                .iter()
                .map(|id| proflab_track::printable(id))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut history = History::open(db)?;
    let run = history.record(&context, &Machine::current(), &imported.benchmarks)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "run": run,
                "commit": context.commit,
                "dirty": context.dirty,
                "benchmarks": imported.benchmarks.len(),
                "instruction_counts": imported.instruction_counts,
                "stale": imported.stale,
                "database": db.to_string(),
            }),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "recorded run {run}: {} benchmarks ({} instruction counts) at {}{} into {}",
            imported.benchmarks.len(),
            imported.instruction_counts,
            proflab_track::short_sha(&context.commit, 12),
            if context.dirty { " (dirty)" } else { "" },
            db
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn compare(db: &Database, args: &CompareArgs, color: ColorArgs) -> anyhow::Result<ExitCode> {
    let history = History::open_read_only(db)?;
    let options = CompareOptions {
        batch: args.batch,
        unpaired: args.unpaired,
        set_aside_outliers: !args.keep_outliers,
        moderate: !args.no_moderation,
        ..args.verdict.options()
    };
    let here = Path::new(".");
    let (a, b) = (
        proflab_track::rev_parse_or_keep(here, &args.a),
        proflab_track::rev_parse_or_keep(here, &args.b),
    );
    let report = proflab_track::compare(&history, &a, &b, &options)?;
    print_comparison(&report, &args.output, color)
}

fn paired_run(db: &Database, args: &RunArgs, color: ColorArgs) -> anyhow::Result<ExitCode> {
    let options = PairedOptions {
        worktree_dir: args.worktree_dir.clone(),
        ..args.measure.options(args.verdict.filter.as_ref())?
    };
    let mut history = History::open(db)?;
    let compare_options = args.verdict.options();
    let mut shown = RunProgress::new(std::io::stderr().is_terminal())?;
    let run = proflab_track::run_paired(
        &repo_root(),
        &args.a,
        &args.b,
        &options,
        &compare_options,
        &mut history,
        &mut |step| shown.show(step),
    );
    shown.finish();
    let run = run?;
    eprint!("{}", proflab_track::run_summary(&run));
    let options = CompareOptions {
        batch: Some(run.batch),
        ..compare_options
    };
    let report = proflab_track::compare(&history, &run.a, &run.b, &options)?;
    print_comparison(&report, &args.output, color)
}

/// How `track run` shows its progress on stderr: a bar on a terminal; in a
/// CI log or a redirect, where indicatif draws nothing, a plain line as
/// each phase and each round begins.
enum RunProgress {
    Bar(indicatif::ProgressBar),
    Lines { started: std::time::Instant },
}

impl RunProgress {
    fn new(terminal: bool) -> anyhow::Result<RunProgress> {
        if !terminal {
            return Ok(RunProgress::Lines {
                started: std::time::Instant::now(),
            });
        }
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                .context("progress bar template")?,
        );
        Ok(RunProgress::Bar(bar))
    }

    fn show(&mut self, step: Progress<'_>) {
        match (self, step) {
            (RunProgress::Bar(bar), Progress::Phase(phase)) => {
                bar.set_length(1);
                bar.set_position(0);
                bar.set_message(phase.to_owned());
            }
            (
                RunProgress::Bar(bar),
                Progress::Round {
                    round,
                    benchmarks,
                    time_left,
                },
            ) => {
                bar.set_length(benchmarks as u64);
                bar.set_position(0);
                bar.set_message(format!("round {round}{}", budget_left(time_left)));
            }
            (RunProgress::Bar(bar), Progress::Pair { done, of, id }) => {
                bar.set_position(done as u64);
                bar.set_message(format!("{id} ({} left)", of - done));
            }
            (RunProgress::Bar(bar), Progress::Notice(text)) => {
                bar.suspend(|| eprintln!("note: {text}"));
            }
            (RunProgress::Lines { started }, Progress::Phase(phase)) => {
                eprintln!("[{:>5.0} s] {phase}", started.elapsed().as_secs_f64());
            }
            (
                RunProgress::Lines { started },
                Progress::Round {
                    round,
                    benchmarks,
                    time_left,
                },
            ) => {
                eprintln!(
                    "[{:>5.0} s] round {round}: {benchmarks} benchmark(s) left{}",
                    started.elapsed().as_secs_f64(),
                    budget_left(time_left)
                );
            }
            (RunProgress::Lines { .. }, Progress::Pair { .. }) => {}
            (RunProgress::Lines { .. }, Progress::Notice(text)) => eprintln!("note: {text}"),
        }
    }

    fn finish(&self) {
        if let RunProgress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// ", 12 min 30 s of the budget left", or nothing without a budget.
fn budget_left(time_left: Option<Duration>) -> String {
    let Some(left) = time_left else {
        return String::new();
    };
    let seconds = left.as_secs();
    format!(
        ", {} min {:02} s of the budget left",
        seconds / 60,
        seconds % 60
    )
}

fn bisect(db: &Database, args: &BisectArgs) -> anyhow::Result<ExitCode> {
    let options = args.measure.options(args.verdict.filter.as_ref())?;
    let mut history = History::open(db)?;
    let outcome = proflab_track::bisect(
        &repo_root(),
        &args.good,
        &args.bad,
        &options,
        &args.verdict.options(),
        &mut history,
        &mut |commit| eprintln!("bisect: measuring {}", proflab_track::short_sha(commit, 12)),
    )?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &outcome)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", proflab_track::bisect_table(&outcome))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn history(db: &Database, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let history = History::open_read_only(db)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &history.runs()?)?;
        writeln!(out)?;
    } else {
        let listing = proflab_track::RunListing::load(&history)?;
        out.write_all(proflab_track::history_table(&listing).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn changes(db: &Database, args: &ChangesArgs) -> anyhow::Result<ExitCode> {
    let history = History::open_read_only(db)?;
    let options = proflab_track::ChangeOptions {
        alpha: args.alpha,
        ..proflab_track::ChangeOptions::default()
    };
    let changes = proflab_track::history_changes(
        &history,
        proflab_track::repo_root(Path::new(".")).ok().as_deref(),
        args.filter.as_ref(),
        &options,
    )?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &changes)?;
        writeln!(out)?;
    } else {
        out.write_all(proflab_track::changes_table(&changes).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn report(db: &Database, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let history = History::open_read_only(db)?;
    let target = target_dir();
    let path = proflab_track::write_report(
        &history,
        &proflab_track::ReportOptions {
            output: args.output.clone(),
            repo: proflab_track::repo_root(Path::new(".")).ok(),
            branch: args.branch.clone(),
            commit_url: args.commit_url.clone(),
            criterion: Some(target.join("criterion")),
            compare: args.verdict.options(),
            changes: proflab_track::ChangeOptions {
                alpha: args.change_alpha,
                ..proflab_track::ChangeOptions::default()
            },
        },
    )?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "written": path }))?;
        writeln!(out)?;
    } else {
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn export(db: &Database, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let history = History::open_read_only(db)?;
    let format = match args.format {
        Format::Bmf => ExportFormat::Bmf,
        Format::GithubActionBenchmark => ExportFormat::GithubActionBenchmark,
    };
    let commit = proflab_track::rev_parse_or_keep(Path::new("."), &args.commit);
    proflab_track::export(&history, &commit, format, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}

/// Table or JSON; exit 1 on a regression when asked.
fn print_comparison(
    report: &ComparisonReport,
    output: &OutputArgs,
    color: ColorArgs,
) -> anyhow::Result<ExitCode> {
    match (output.json, output.format) {
        (true, _) | (false, ReportFormat::Json) => {
            proflab_track::write_json(&mut std::io::stdout().lock(), report)?;
        }
        (false, ReportFormat::Markdown) => {
            proflab_track::write_markdown(&mut std::io::stdout().lock(), report)?;
        }
        // Styled always; the stream strips the styles unless `--color`,
        // `NO_COLOR` and the terminal ask for them.
        (false, ReportFormat::Table) => {
            let style = TableStyle {
                regressed: Style::new().fg_color(Some(AnsiColor::Red.into())),
                improved: Style::new().fg_color(Some(AnsiColor::Green.into())),
            };
            proflab_track::write_table(&mut color.stdout().lock(), report, &style)?;
        }
    }
    Ok(if output.fail_on_regression && report.regressed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
