//! Instruction counts of benchmark fragments, measured under valgrind's
//! callgrind: the metric that does not move when a shared machine is noisy.
//!
//! A bench target (`harness = false`) registers closures on a [`Harness`] and
//! calls [`Harness::main`]. The binary then starts itself once under
//! `valgrind --tool=callgrind`, runs every selected closure once to warm it up
//! and once inside a marker function that callgrind collects and dumps, reads
//! one instruction total per dump, prints them beside the previous run's, and
//! writes an [`InstructionReport`] to
//! `target/proflab-instructions/<bench target>.json`, which
//! `proflab track record` imports as a second metric. Only the calling thread
//! is counted, so work handed to other threads (rayon) is not. This crate is
//! not a timer and does not model caches or cycles: for time, use Criterion;
//! for cache simulation, gungraun or `valgrind --tool=cachegrind`.

use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use serde::{Deserialize, Serialize};

/// Set in the environment of the copy of the bench binary that valgrind runs.
const CHILD_ENV: &str = "PROFLAB_CALLGRIND_CHILD";
/// The marker function's symbol, for `--toggle-collect` and `--dump-after`.
const MARKER: &str = "proflab_callgrind_measured";
/// `format` of reports this version writes and reads.
pub const REPORT_FORMAT: &str = "proflab-instructions/1";
/// Folder under the Cargo target folder where reports land.
pub const REPORT_DIR: &str = "proflab-instructions";

/// One benchmark's count of executed instructions (callgrind's `Ir`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstructionCount {
    pub id: String,
    pub instructions: u64,
}

/// What one bench target's run writes: every benchmark it measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstructionReport {
    /// [`REPORT_FORMAT`]; a reader refuses anything else.
    pub format: String,
    pub benchmarks: Vec<InstructionCount>,
}

/// Everything that can go wrong, naming the program or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum CallgrindError {
    #[error("cannot run valgrind (install it, e.g. `apt-get install valgrind`)")]
    NoValgrind(#[source] std::io::Error),
    #[error("valgrind failed ({status}) running {program}:\n{stderr}")]
    ValgrindFailed {
        program: PathBuf,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("{path}: {reason}")]
    BadOutput { path: PathBuf, reason: String },
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a proflab instruction report")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CallgrindError + '_ {
    move |source| CallgrindError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The collected instruction total of one callgrind output file: its `totals:`
/// line (or `summary:`, which older valgrinds write instead), first event.
///
/// ```
/// let dump = "version: 1\nevents: Ir\nfn=(1) main\n3 120\ntotals: 120\n";
/// assert_eq!(proflab_callgrind::parse_totals(dump), Some(120));
/// assert_eq!(proflab_callgrind::parse_totals("events: Ir\n"), None);
/// ```
#[must_use]
pub fn parse_totals(dump: &str) -> Option<u64> {
    dump.lines()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|count| count.parse().ok())
}

/// Reads a report written by [`Harness::main`], refusing other formats.
///
/// # Errors
/// The file cannot be read, is not JSON of this shape, or has another `format`.
pub fn read_report(path: &Path) -> Result<InstructionReport, CallgrindError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    let report: InstructionReport =
        serde_json::from_str(&text).map_err(|source| CallgrindError::Json {
            path: path.to_owned(),
            source,
        })?;
    if report.format != REPORT_FORMAT {
        return Err(CallgrindError::BadOutput {
            path: path.to_owned(),
            reason: format!(
                "report format `{}`, expected `{REPORT_FORMAT}`",
                report.format
            ),
        });
    }
    Ok(report)
}

// The symbol is unmangled so that callgrind's `--toggle-collect` and
// `--dump-after` can name it exactly; never inlined, so it exists to be found.
#[unsafe(no_mangle)]
#[inline(never)]
fn proflab_callgrind_measured(benchmark: &dyn Fn()) {
    benchmark();
}

type Benchmark = Box<dyn Fn()>;

/// The benchmarks of one bench target, in the order they run and are reported.
#[derive(Default)]
pub struct Harness {
    benches: Vec<(String, Benchmark)>,
}

/// Criterion's options that take a value: `cargo bench -- --save-baseline main`
/// reaches every bench target, and `main` must not be read as a filter here.
const CRITERION_OPTIONS_WITH_VALUE: &[&str] = &[
    "--baseline",
    "--baseline-lenient",
    "--color",
    "--confidence-level",
    "--format",
    "--load-baseline",
    "--measurement-time",
    "--noise-threshold",
    "--nresamples",
    "--output-format",
    "--plotting-backend",
    "--profile-time",
    "--sample-size",
    "--save-baseline",
    "--significance-level",
    "--warm-up-time",
    "-c",
];

/// What the command line asked for: Cargo passes `--bench` (and `cargo test`
/// nothing); a bare word filters benchmark ids by substring, as Criterion's does.
struct Arguments {
    /// Under `cargo bench`, counts are compared with the last report and saved;
    /// under `cargo test` (an unoptimized build) they are only printed.
    bench: bool,
    list: bool,
    filter: Option<String>,
}

impl Arguments {
    fn parse(args: impl Iterator<Item = String>) -> Arguments {
        let mut arguments = Arguments {
            bench: false,
            list: false,
            filter: None,
        };
        let mut args = args;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => arguments.bench = true,
                "--list" => arguments.list = true,
                option if CRITERION_OPTIONS_WITH_VALUE.contains(&option) => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                word => arguments.filter = Some(word.to_owned()),
            }
        }
        arguments
    }
}

impl Harness {
    #[must_use]
    pub fn new() -> Harness {
        Harness::default()
    }

    /// Adds a benchmark; its result goes through `black_box` so that the
    /// optimizer cannot drop the work. Set-up belongs outside the closure.
    pub fn bench<R>(&mut self, id: impl Into<String>, run: impl Fn() -> R + 'static) -> &mut Self {
        self.benches.push((
            id.into(),
            Box::new(move || {
                black_box(run());
            }),
        ));
        self
    }

    /// The bench target's `main`: under valgrind, runs the benchmarks; else
    /// starts itself under valgrind, then prints and saves the counts.
    #[must_use]
    pub fn main(self) -> ExitCode {
        let arguments = Arguments::parse(std::env::args().skip(1));
        let selected: Vec<&(String, Benchmark)> = self
            .benches
            .iter()
            .filter(|(id, _)| arguments.filter.as_ref().is_none_or(|f| id.contains(f)))
            .collect();
        if arguments.list {
            for (id, _) in &selected {
                println!("{id}: instructions");
            }
            return ExitCode::SUCCESS;
        }
        if std::env::var_os(CHILD_ENV).is_some() {
            for (_, benchmark) in &selected {
                // The first call pays for lazy initialisation (allocator
                // arenas, thread-locals); only the second one is counted.
                benchmark();
                proflab_callgrind_measured(benchmark);
            }
            return ExitCode::SUCCESS;
        }
        let ids: Vec<&str> = selected.iter().map(|(id, _)| id.as_str()).collect();
        match measure_and_report(&ids, arguments.bench) {
            Ok(()) => ExitCode::SUCCESS,
            // Instruction counts are an optional second metric: a machine
            // without valgrind (every Mac, most laptops) still runs the rest
            // of `cargo bench` and `cargo test`.
            Err(CallgrindError::NoValgrind(error))
                if error.kind() == std::io::ErrorKind::NotFound =>
            {
                eprintln!("{}", skipped_note(&target_name()));
                ExitCode::SUCCESS
            }
            Err(error) => {
                let mut message = format!("error: {error}");
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    message.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                eprintln!("{message}");
                ExitCode::FAILURE
            }
        }
    }
}

/// The one line a bench target prints when valgrind is not on PATH.
fn skipped_note(target: &str) -> String {
    format!(
        "{target}: skipped: valgrind not found on PATH; instruction counts need it \
         (e.g. `apt-get install valgrind`), every other bench target runs without it"
    )
}

/// Runs this executable under callgrind and returns one count per id, in order.
fn measure(ids: &[&str]) -> Result<Vec<InstructionCount>, CallgrindError> {
    let program = std::env::current_exe().map_err(io_error(Path::new("current executable")))?;
    let scratch = tempfile::tempdir().map_err(io_error(&std::env::temp_dir()))?;
    let out_file = scratch.path().join("callgrind.out");
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .args(["--collect-atstart=no", "--dump-instr=no", "--dump-line=no"])
        .arg(format!("--toggle-collect={MARKER}"))
        .arg(format!("--dump-after={MARKER}"))
        .arg(&program)
        .args(std::env::args().skip(1))
        .env(CHILD_ENV, "1")
        .output()
        .map_err(CallgrindError::NoValgrind)?;
    if !output.status.success() {
        return Err(CallgrindError::ValgrindFailed {
            program,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    // `--dump-after` writes one numbered part per call of the marker, in order.
    ids.iter()
        .enumerate()
        .map(|(index, id)| {
            let part = PathBuf::from(format!("{}.{}", out_file.display(), index + 1));
            let dump = std::fs::read_to_string(&part).map_err(io_error(&part))?;
            let instructions = parse_totals(&dump).ok_or_else(|| CallgrindError::BadOutput {
                path: part.clone(),
                reason: "no `totals:` line".into(),
            })?;
            Ok(InstructionCount {
                id: (*id).to_owned(),
                instructions,
            })
        })
        .collect()
}

/// Where Cargo puts build output: `CARGO_TARGET_DIR`, else three levels above
/// the bench executable (`target/<profile>/deps/<name>-<hash>`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || {
            std::env::current_exe()
                .ok()
                .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_owned()))
                .unwrap_or_else(|| PathBuf::from("target"))
        },
        PathBuf::from,
    )
}

/// The bench target's name: the executable's without Cargo's `-<hash>`.
fn target_name() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem,
    }
}

fn measure_and_report(ids: &[&str], save: bool) -> Result<(), CallgrindError> {
    let counts = measure(ids)?;
    if !save {
        let mut stdout = std::io::stdout().lock();
        for count in &counts {
            let _ = writeln!(
                stdout,
                "{}: {} instructions (test mode, unoptimized: not saved)",
                count.id, count.instructions
            );
        }
        return Ok(());
    }
    let dir = target_dir().join(REPORT_DIR);
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let path = dir.join(format!("{}.json", target_name()));
    // A previous report that cannot be read only loses the comparison column
    // and the counts of benchmarks this run did not select.
    let mut merged: Vec<InstructionCount> = read_report(&path)
        .map(|report| report.benchmarks)
        .unwrap_or_default();
    let previous: HashMap<&str, u64> = merged
        .iter()
        .map(|count| (count.id.as_str(), count.instructions))
        .collect();
    let width = ids.iter().map(|id| id.len()).max().unwrap_or(0);
    let mut stdout = std::io::stdout().lock();
    for count in &counts {
        let change = previous.get(count.id.as_str()).map_or_else(
            || "(no previous run)".to_owned(),
            |&before| {
                format!(
                    "({:+.2}% vs previous run)",
                    (count.instructions as f64 / before as f64 - 1.0) * 100.0
                )
            },
        );
        let _ = writeln!(
            stdout,
            "{:<width$}  {:>14} instructions  {change}",
            count.id, count.instructions
        );
    }
    // A filtered run updates its benchmarks and keeps the others' last counts.
    merged.retain(|old| counts.iter().all(|new| new.id != old.id));
    merged.extend(counts);
    let report = InstructionReport {
        format: REPORT_FORMAT.into(),
        benchmarks: merged,
    };
    let json = serde_json::to_string_pretty(&report).map_err(|source| CallgrindError::Json {
        path: path.clone(),
        source,
    })?;
    // Written whole or not at all: an interrupted run leaves the old report whole.
    proflab_output::write(&path, json).map_err(io_error(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_take_a_filter_and_ignore_cargo_flags() {
        let parsed = Arguments::parse(
            ["--bench", "concat", "--nocapture"]
                .map(String::from)
                .into_iter(),
        );
        assert_eq!(parsed.filter.as_deref(), Some("concat"));
        assert!(parsed.bench && !parsed.list);
        assert!(Arguments::parse(["--list"].map(String::from).into_iter()).list);
        let criterion_flags = [
            "--bench",
            "--save-baseline",
            "main",
            "--warm-up-time",
            "1",
            "sqrt",
        ];
        let parsed = Arguments::parse(criterion_flags.map(String::from).into_iter());
        assert_eq!(
            parsed.filter.as_deref(),
            Some("sqrt"),
            "option values are not filters"
        );
    }

    #[test]
    fn totals_come_from_the_totals_or_summary_line() {
        assert_eq!(parse_totals("events: Ir\nsummary: 77\n"), Some(77));
        assert_eq!(parse_totals("events: Ir Dr\ntotals: 5 9\n"), Some(5));
        assert_eq!(parse_totals("totals: many\n"), None);
    }

    #[test]
    fn reports_of_another_format_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, r#"{"format":"other/9","benchmarks":[]}"#).unwrap();
        let error = read_report(&path).unwrap_err().to_string();
        assert!(
            error.contains("other/9") && error.contains("r.json"),
            "{error}"
        );
        std::fs::write(&path, "{").unwrap();
        assert!(matches!(
            read_report(&path),
            Err(CallgrindError::Json { .. })
        ));
    }
}
