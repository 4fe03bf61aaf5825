//! `proflab stats`: pstats' statistics browser, `python -m pstats FILE`.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use proflab::{Browser, Stats};

/// Browse a saved profile like `python -m pstats FILE`: commands sort,
/// stats, callers, callees, reverse, strip, add, read, memory, help, quit.
/// Reads commands from a terminal or piped on standard input.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  printf 'strip\\nsort cumulative\\nstats 10\\n' | proflab stats hillclimb.prof"
)]
pub struct Args {
    /// Stats file (cProfile's format, from `proflab hillclimb -o` or `python -m cProfile -o`).
    file: PathBuf,
    /// More stats files to add to the first.
    more: Vec<PathBuf>,
    /// Print the statistics as one JSON object instead of browsing.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.json {
        let mut stats = Stats::load(&args.file)?;
        for extra in &args.more {
            stats = stats.add_stats(&Stats::load(extra)?);
        }
        stats
            .write_json(&mut std::io::stdout().lock())
            .context("cannot write to standard output")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut browser = Browser::new();
    let interactive = std::io::stdin().is_terminal();
    let mut out = std::io::stdout().lock();
    if let Err(error) = browser.read(&args.file) {
        // A script's commands mean nothing without the file: stop with exit
        // 2. At a terminal, go on as pstats does, with an empty browser
        // where `read` can load another (docs/PROFILING.md).
        if !interactive {
            return Err(error.into());
        }
        writeln!(out, "{}", Browser::read_failure(&error))?;
    }
    for extra in &args.more {
        if let Err(error) = browser.add(extra) {
            if !interactive {
                return Err(error.into());
            }
            let argument = extra.to_string_lossy();
            writeln!(out, "{}", Browser::add_failure(&argument, &error))?;
        }
    }
    browser
        .run(&mut std::io::stdin().lock(), &mut out)
        .context("the browser's input or output failed")?;
    Ok(ExitCode::SUCCESS)
}
