//! `proflab timeit`: Python's `python -m timeit`, for Rust snippets.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use proflab_timeit::{
    BuildProgress, Cache, Dependency, Progress, Snippet, fastest_best, format_report, format_time,
    measure_side_by_side, unreliable_warning,
};

use crate::color::ColorArgs;

/// Time a Rust snippet like `python -m timeit`: compiled in release mode in
/// a cached scratch crate (never in your project), its value passed through
/// `black_box`, loop count chosen like timeit's autorange.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  proflab timeit -s 'let v: Vec<f64> = (0..1000).map(f64::from).collect();' 'v.iter().map(|x| x.sqrt()).sum::<f64>()'\n  proflab timeit --compare -e '1.1f64.sqrt()' -e '1.1f64.powf(0.5)'\n  proflab timeit --dep ndarray=0.17 -s 'let a = ndarray::Array1::<f64>::ones(1000);' 'a.mapv(f64::sqrt)'"
)]
pub struct Args {
    /// Setup line, run once before timing (repeatable).
    #[arg(short = 's', long = "setup", value_name = "SETUP")]
    setup: Vec<String>,
    /// Executions per repetition (1 to 10^12); chosen by autorange (0.2 s) when absent.
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000_000))]
    number: Option<u64>,
    /// Repetitions (1 to 100000); the best is reported.
    #[arg(short = 'r', long, default_value_t = 5, value_parser = crate::limits::count(1..=100_000))]
    repeat: usize,
    /// A crate the snippet uses, as name=version (repeatable).
    #[arg(long = "dep", value_name = "NAME=VERSION")]
    dependencies: Vec<String>,
    /// Time several statements side by side (each `-e`) and print ratios.
    #[arg(long)]
    compare: bool,
    /// A statement to compare (with --compare; repeatable).
    #[arg(short = 'e', value_name = "STMT")]
    compared: Vec<String>,
    #[command(flatten)]
    color: ColorArgs,
    /// Print each statement's loop count, repetition times and best time per loop as JSON.
    #[arg(long)]
    json: bool,
    /// The statement's lines, one block (as timeit's several STMT arguments).
    statement: Vec<String>,
}

/// A spinner on stderr while snippets build and run: a first build with
/// dependencies takes minutes. indicatif draws nothing when stderr is not a
/// terminal, so pipes and tests see only the results.
fn spinner() -> ProgressBar {
    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let dependencies = args
        .dependencies
        .iter()
        .map(|d| d.parse::<Dependency>())
        .collect::<Result<Vec<_>, _>>()?;
    let statements: Vec<Vec<String>> = if args.compare {
        if args.compared.len() < 2 {
            bail!("--compare needs at least two -e STMT snippets");
        }
        args.compared.iter().map(|s| vec![s.clone()]).collect()
    } else {
        if !args.compared.is_empty() {
            bail!("-e STMT is for --compare; give a single statement as positional arguments");
        }
        // As timeit: no statement times `pass`.
        vec![if args.statement.is_empty() {
            vec!["()".to_owned()]
        } else {
            args.statement.clone()
        }]
    };
    for name in ["PROFLAB_CACHE_DIR", "XDG_CACHE_HOME"] {
        if let Some(value) = std::env::var_os(name)
            && !value.is_empty()
            && !std::path::Path::new(&value).is_absolute()
        {
            eprintln!("proflab: warning: {name}={value:?} is not an absolute path; ignored");
        }
    }
    let cache = Cache::from_environment();
    let spinner = spinner();
    let mut timers = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let snippet = Snippet {
            setup: args.setup.clone(),
            statement: statement.clone(),
            dependencies: dependencies.clone(),
        };
        let which = if statements.len() > 1 {
            format!(" {} of {}", index + 1, statements.len())
        } else {
            String::new()
        };
        spinner.set_message(format!("building snippet{which}"));
        let mut show = |progress: &BuildProgress| {
            spinner.set_message(format!(
                "building snippet{which}: {} compiled, last {}",
                progress.compiled, progress.crate_name
            ));
        };
        timers.push(cache.build_with_progress(&snippet, &mut show)?);
    }
    let measurements = measure_side_by_side(&mut timers, args.number, args.repeat, |progress| {
        spinner.set_message(match progress {
            Progress::ChoosingLoopCounts => "choosing loop counts".to_owned(),
            Progress::Repetition { number, of } => format!("timing: repetition {number} of {of}"),
        });
    })?;
    spinner.finish_and_clear();
    if args.json {
        let fastest = fastest_best(&measurements);
        let results: Vec<serde_json::Value> = statements
            .iter()
            .zip(&measurements)
            .map(|(statement, measurement)| {
                serde_json::json!({
                    "statement": statement.join("\n"),
                    "loops": measurement.number,
                    "repetition_seconds": measurement.raw_timings,
                    "best_seconds_per_loop": measurement.best(),
                    "ratio_to_fastest": measurement.best() / fastest,
                    "warning": unreliable_warning(measurement),
                })
            })
            .collect();
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &results)?;
        writeln!(stdout)?;
        return Ok(ExitCode::SUCCESS);
    }
    let warning_style = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
    let fastest_style = Style::new().bold().fg_color(Some(AnsiColor::Green.into()));
    let mut stdout = args.color.stdout().lock();
    let mut stderr = args.color.stderr().lock();
    for (statement, measurement) in statements.iter().zip(&measurements) {
        if let Some(warning) = unreliable_warning(measurement) {
            writeln!(
                stderr,
                "proflab: {warning_style}warning:{warning_style:#} {warning}"
            )?;
        }
        if args.compare {
            writeln!(
                stdout,
                "{}: {}",
                statement.join("; "),
                format_report(measurement)
            )?;
        } else {
            writeln!(stdout, "{}", format_report(measurement))?;
        }
    }
    if args.compare {
        let fastest = fastest_best(&measurements);
        writeln!(stdout)?;
        for (statement, measurement) in statements.iter().zip(&measurements) {
            let ratio = measurement.best() / fastest;
            let style = if ratio <= 1.0 {
                fastest_style
            } else {
                Style::new()
            };
            writeln!(
                stdout,
                "{style}{ratio:>8.2}x{style:#}  {:>12}  {}",
                format_time(measurement.best()),
                statement.join("; ")
            )?;
        }
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}
