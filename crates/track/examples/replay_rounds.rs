//! Replays `track run`'s adaptive rounds on a batch that measured every
//! benchmark the same number of rounds (`--min-rounds N --max-rounds N`):
//! at which round each benchmark would have stopped under the rules of this
//! build, and with which verdict. Stopping rules are then compared on the
//! same measurements instead of on runs that each met other noise
//! (docs/experiments/notebook-2026-11-to-12.md, "track run over the whole suite").
//!
//! On a batch of an ordinary run, whose benchmarks stopped where that run's
//! rules stopped them, a benchmark is cut at its last measured round at the
//! latest: a rule that stops sooner is replayed exactly, one that would
//! measure on is not (such benchmarks are listed). `--horizon N` gives up
//! on a benchmark when no change is in reach of the next N rounds, instead
//! of all the rounds up to `--max-rounds`.
//!
//! The cost of a benchmark process is estimated as its fixed overhead plus,
//! for benchmarks whose one call outlasts the warm-up, the 11 calls that
//! Criterion's warm-up and 10 flat samples then take.
//!
//! Run with: cargo run --release -p proflab-track --example replay_rounds --
//! DB BATCH [--no-tost] [--no-moderate] [--min-rounds N] [--max-rounds N] [--horizon N]

use std::collections::BTreeMap;
use std::process::ExitCode;

use proflab_track::{
    CompareOptions, History, Metric, PairedOptions, PairedSeries, Verdict, compare_paired, median,
    rounds_left, wants_another_round,
};

/// Seconds of a benchmark process besides its calls: start-up, warm-up and
/// measurement windows, analysis (0.45 s measured here, 0.1 + 0.2 s windows).
const PROCESS_OVERHEAD_SECONDS: f64 = 0.45;

fn usage() -> ExitCode {
    eprintln!(
        "usage: replay_rounds DB BATCH [--no-tost] [--no-moderate] [--min-rounds N] [--max-rounds N] [--horizon N]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(db), Some(batch)) = (args.first(), args.get(1).and_then(|b| b.parse().ok())) else {
        return usage();
    };
    let mut compare = CompareOptions::default();
    let mut options = PairedOptions::default();
    let mut horizon = None;
    let mut rest = args[2..].iter();
    while let Some(arg) = rest.next() {
        let mut number = || rest.next().and_then(|n| n.parse::<usize>().ok());
        match arg.as_str() {
            "--no-tost" => compare.equivalence_by_tost = false,
            "--no-moderate" => compare.moderate = false,
            "--min-rounds" => match number() {
                Some(n) => options.min_rounds = n,
                None => return usage(),
            },
            "--max-rounds" => match number() {
                Some(n) => options.max_rounds = n,
                None => return usage(),
            },
            "--horizon" => match number() {
                Some(n) => horizon = Some(n),
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    match replay(db, batch, &options, horizon, &compare) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("replay_rounds: {error}");
            ExitCode::FAILURE
        }
    }
}

fn replay(
    db: &str,
    batch: i64,
    options: &PairedOptions,
    horizon: Option<usize>,
    compare: &CompareOptions,
) -> Result<(), proflab_track::TrackError> {
    let history = History::open_read_only(std::path::PathBuf::from(db))?;
    let full = history.paired_series(batch)?;
    let measured = full
        .benchmarks
        .values()
        .filter(|b| b.metric == Metric::TimeNs)
        .map(|b| b.rounds.len())
        .max()
        .unwrap_or(0);
    let mut stopped: BTreeMap<String, (usize, Verdict)> = BTreeMap::new();
    let timed = |series: &PairedSeries| -> Vec<String> {
        series
            .benchmarks
            .iter()
            .filter(|(_, b)| b.metric == Metric::TimeNs)
            .map(|(id, _)| id.clone())
            .collect()
    };
    let ids = timed(&full);
    let mut last_verdicts = BTreeMap::new();
    // Benchmarks whose measured rounds ran out while these rules still wanted
    // one more: the run stopped them sooner (its budget, its other rules).
    let mut cut_by_the_run = Vec::new();
    for round in 1..=measured.min(options.max_rounds) {
        // Benchmarks whose measured rounds ran out stop there, as they did.
        for (id, bench) in &full.benchmarks {
            if bench.rounds.len() < round
                && !stopped.contains_key(id)
                && let Some(verdict) = last_verdicts.get(id)
            {
                cut_by_the_run.push(format!("{id} ({} rounds)", bench.rounds.len()));
                stopped.insert(id.clone(), (bench.rounds.len(), *verdict));
            }
        }
        // Giving up within a horizon: the rounds left, as the rules see them, end there.
        let rules = PairedOptions {
            max_rounds: horizon.map_or(options.max_rounds, |h| options.max_rounds.min(round + h)),
            ..options.clone()
        };
        let mut series = full.clone();
        for (id, bench) in &mut series.benchmarks {
            let kept = stopped.get(id).map_or(round, |(at, _)| *at);
            bench.rounds.truncate(kept);
        }
        let report = compare_paired(&series, compare);
        for c in report
            .benchmarks
            .iter()
            .filter(|c| c.metric == Metric::TimeNs)
        {
            last_verdicts.insert(c.id.clone(), c.verdict);
            if round >= options.min_rounds
                && !stopped.contains_key(&c.id)
                && !wants_another_round(c, rounds_left(round, &rules, None), &rules, compare)
            {
                stopped.insert(c.id.clone(), (round, c.verdict));
            }
        }
    }
    let unfinished: Vec<&String> = ids.iter().filter(|id| !stopped.contains_key(*id)).collect();
    let mut by_rounds: BTreeMap<usize, usize> = BTreeMap::new();
    let mut seconds = 0.0;
    for id in &ids {
        let bench = &full.benchmarks[id];
        let rounds = stopped.get(id).map_or(bench.rounds.len(), |(at, _)| *at);
        *by_rounds.entry(rounds).or_default() += 1;
        let call_seconds = median(
            &bench
                .rounds
                .iter()
                .flat_map(|r| r.a.iter().chain(&r.b).copied())
                .collect::<Vec<f64>>(),
        ) / 1e9;
        let process = PROCESS_OVERHEAD_SECONDS
            + if call_seconds > 0.1 {
                11.0 * call_seconds
            } else {
                0.0
            };
        seconds += 2.0 * process * rounds as f64;
    }
    let flagged: Vec<(&String, &Verdict)> = last_verdicts
        .iter()
        .filter(|(_, v)| v.is_change())
        .collect();
    println!(
        "batch {batch}: {} timed benchmarks, up to {measured} rounds measured; rules: min {} max {} rounds{}, {}{}",
        ids.len(),
        options.min_rounds,
        options.max_rounds,
        horizon.map_or_else(String::new, |h| format!(", horizon {h}")),
        if compare.equivalence_by_tost {
            "unchanged by TOST (90% interval)"
        } else {
            "unchanged by the 95% interval"
        },
        if compare.moderate {
            ""
        } else {
            ", variances not moderated"
        }
    );
    let histogram: Vec<String> = by_rounds
        .iter()
        .map(|(rounds, count)| format!("{count}x{rounds}"))
        .collect();
    println!("rounds per benchmark: {}", histogram.join(", "));
    println!(
        "still measuring after round {measured}: {}",
        unfinished.len()
    );
    println!(
        "cut by the run while these rules would have measured on: {}",
        cut_by_the_run.len()
    );
    for cut in &cut_by_the_run {
        println!("  {cut}");
    }
    println!("estimated seconds of benchmark processes: {seconds:.0}");
    println!("flagged: {}", flagged.len());
    for (id, verdict) in flagged {
        println!("  {id}: {verdict:?}");
    }
    Ok(())
}
