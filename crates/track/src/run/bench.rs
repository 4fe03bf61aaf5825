//! One bench executable: how to list, select and time its benchmarks.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::PairedOptions;
use crate::TrackError;

/// One bench executable of one side, as Cargo built it.
#[derive(Clone)]
pub(super) struct BenchBinary {
    pub(super) executable: PathBuf,
    /// The package folder: Cargo runs benches from there, so relative paths hold.
    pub(super) package_dir: PathBuf,
    /// Its Criterion benchmarks, timed round by round.
    pub(super) ids: Vec<String>,
    /// Whether it is a `proflab-callgrind` target, counted once per side.
    pub(super) counts_instructions: bool,
    /// What its Criterion version accepts.
    pub(super) dialect: Dialect,
}

/// The command-line differences between Criterion versions that `track run`
/// meets (read from Criterion's `configure_from_args` at each release):
/// `--exact` exists from 0.5.0, and `--warm-up-time`/`--measurement-time`
/// take fractional seconds from 0.4.0 (0.3 parses integers and exits on
/// `0.5`). From 0.5 `--list` says `ID: benchmark` (before, `ID: bench`);
/// 0.3 and 0.4 are told apart by their `--help` (0.5 and later may be built
/// without clap's help).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Dialect {
    exact: bool,
    fractional_seconds: bool,
}

impl Dialect {
    pub(super) const MODERN: Dialect = Dialect {
        exact: true,
        fractional_seconds: true,
    };

    /// Reads the dialect from a Criterion bench binary's `--help` text.
    pub(super) fn from_help(help: &str) -> Dialect {
        Dialect {
            exact: help.contains("--exact"),
            // `--discard-baseline` and `--quick` came with 0.4.0, as fractional seconds did.
            fractional_seconds: help.contains("--discard-baseline") || help.contains("--quick"),
        }
    }

    /// The arguments that select exactly the benchmark `id`: `--exact`, or
    /// before 0.5 an anchored, escaped regex (the filter is a regex from 0.3.1).
    pub(super) fn select(self, id: &str) -> Vec<String> {
        if self.exact {
            vec!["--exact".to_owned(), id.to_owned()]
        } else {
            vec![format!("^{}$", regex::escape(id))]
        }
    }

    /// `seconds` as this version parses it: whole seconds (at least one) before 0.4.
    pub(super) fn seconds(self, seconds: f64) -> String {
        self.rounded(seconds).to_string()
    }

    fn rounded(self, seconds: f64) -> f64 {
        if self.fractional_seconds {
            seconds
        } else {
            seconds.ceil().max(1.0)
        }
    }
}

/// The bench executable in bench mode (without `--bench` every Criterion
/// version only tests), run from its package folder, writing its results
/// under `output/criterion`: Criterion 0.3.3 and later read `CRITERION_HOME`,
/// 0.3.0-0.3.2 `$CARGO_TARGET_DIR/criterion`; `proflab-callgrind` writes
/// under `CARGO_TARGET_DIR` too. `CARGO_CRITERION_PORT` would send the
/// results to cargo-criterion instead of the disk.
pub(super) fn bench_command(binary: &BenchBinary, output: &Path) -> Command {
    let mut cmd = Command::new(&binary.executable);
    cmd.current_dir(&binary.package_dir)
        .env("CARGO_TARGET_DIR", output)
        .env("CRITERION_HOME", output.join("criterion"))
        .env_remove("CARGO_CRITERION_PORT")
        .arg("--bench");
    cmd
}

/// `binaries` for one round: those that run benchmarks of `active` with their
/// executables copied into fresh files under `dir`, the others as they are.
///
/// A process runs its executable's code from the page cache's pages of that
/// file, the same physical pages for every process while the file stays
/// cached, and caches from L2 on are indexed by physical address. So one
/// file can run a benchmark a few percent slower than another with the same
/// bytes for a whole batch: in an A/A of this repository whose two
/// executables had identical code, `format_copy/10` read B/A 0.939 [0.916,
/// 0.963] over 9 rounds, B faster in all; run again from the same two files,
/// 12 of 12 pairs had B slower (1.086), and with both files copied afresh
/// before each pair, 3 of 12 (0.987; docs/experiments/notebook-2026-11-to-12.md,
/// "One file's cached pages"). A fresh copy a round
/// gets fresh pages, so where a file lands is noise the rounds average out,
/// not a bias one side keeps. The copies keep their names, so both sides'
/// paths stay as long as each other.
pub(super) fn fresh_copies(
    binaries: &[BenchBinary],
    active: &[&str],
    dir: &Path,
) -> Result<Vec<BenchBinary>, TrackError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TrackError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    binaries
        .iter()
        .map(|binary| {
            let mut round_binary = binary.clone();
            if binary.ids.iter().any(|id| active.contains(&id.as_str())) {
                round_binary.executable =
                    dir.join(binary.executable.file_name().unwrap_or_default());
                std::fs::copy(&binary.executable, &round_binary.executable)
                    .map_err(io(&round_binary.executable))?;
            }
            Ok(round_binary)
        })
        .collect()
}

/// The seconds of warm-up and measurement a process is asked for, as
/// `dialect` rounds them.
pub(super) fn asked_seconds(options: &PairedOptions, dialect: Dialect) -> f64 {
    dialect.rounded(options.warm_up_seconds) + dialect.rounded(options.measurement_seconds)
}

/// How many resamples each benchmark process's own analysis draws. `track`
/// reads the samples and the mean (a point estimate, the same whatever the
/// count), never Criterion's bootstrap intervals; at Criterion's default of
/// 100,000 that bootstrap took 75% of a process at `track run`'s defaults
/// (410 ms of a process asked for 80 ms, AMD EPYC VM). 1001: from 1000 down,
/// some versions print a warning.
const CRITERION_RESAMPLES: &str = "1001";

/// Criterion's timing flags for one measured process, as `dialect` takes
/// them, and [`CRITERION_RESAMPLES`] unless the user passes their own.
pub(super) fn criterion_flags(options: &PairedOptions, dialect: Dialect) -> Vec<String> {
    let mut flags = vec![
        "--noplot".to_owned(),
        "--warm-up-time".to_owned(),
        dialect.seconds(options.warm_up_seconds),
        "--measurement-time".to_owned(),
        dialect.seconds(options.measurement_seconds),
    ];
    if !options
        .criterion_args
        .iter()
        .any(|arg| arg.starts_with("--nresamples"))
    {
        flags.extend(["--nresamples".to_owned(), CRITERION_RESAMPLES.to_owned()]);
    }
    flags.extend(options.criterion_args.iter().cloned());
    flags
}

#[cfg(test)]
mod tests {
    use super::{BenchBinary, Dialect, fresh_copies};

    #[test]
    fn each_round_runs_fresh_copies_of_the_executables_it_needs() {
        use std::os::unix::fs::MetadataExt as _;
        let dir = tempfile::tempdir().unwrap();
        let binary = |name: &str, id: &str| {
            let executable = dir.path().join(name);
            std::fs::write(&executable, name.repeat(1000)).unwrap();
            BenchBinary {
                executable,
                package_dir: dir.path().to_owned(),
                ids: vec![id.to_owned()],
                counts_instructions: false,
                dialect: Dialect::MODERN,
            }
        };
        let binaries = [binary("timed-1", "g/f"), binary("idle-2", "g/h")];
        let round = dir.path().join("round-1-executables").join("a");
        let copies = fresh_copies(&binaries, &["g/f"], &round).unwrap();
        assert_eq!(copies[0].executable, round.join("timed-1"));
        assert_eq!(copies[0].ids, binaries[0].ids);
        assert_eq!(
            std::fs::read(&copies[0].executable).unwrap(),
            std::fs::read(&binaries[0].executable).unwrap()
        );
        let inode = |path: &std::path::Path| std::fs::metadata(path).unwrap().ino();
        assert_ne!(inode(&copies[0].executable), inode(&binaries[0].executable));
        // A binary with no benchmark in the round is neither copied nor moved.
        assert_eq!(copies[1].executable, binaries[1].executable);
        assert!(!round.join("idle-2").exists());
    }

    #[test]
    fn criterion_draws_few_resamples_unless_told_otherwise() {
        let dialect = Dialect::from_help("--discard-baseline\n--quick\n--exact\n--list");
        let resamples = |args: &[&str]| {
            let options = crate::PairedOptions {
                criterion_args: args.iter().map(|&arg| arg.to_owned()).collect(),
                ..crate::PairedOptions::default()
            };
            let flags = super::criterion_flags(&options, dialect);
            flags
                .iter()
                .enumerate()
                .filter(|(_, flag)| flag.starts_with("--nresamples"))
                .map(|(at, flag)| match flag.split_once('=') {
                    Some((_, count)) => count.to_owned(),
                    None => flags[at + 1].clone(),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(resamples(&[]), ["1001"]);
        assert_eq!(resamples(&["--nresamples", "50000"]), ["50000"]);
        assert_eq!(resamples(&["--nresamples=7"]), ["7"]);
    }

    #[test]
    fn old_criterion_gets_an_anchored_regex_and_whole_seconds() {
        // Flag lists as the `--help` of Criterion 0.3.6, 0.4.0 and 0.5.1 name them.
        let v03 =
            Dialect::from_help("--save-baseline <save-baseline>\n--baseline <baseline>\n--list");
        let v04 = Dialect::from_help("--discard-baseline\n--quick\n--list");
        let v05 = Dialect::from_help("--discard-baseline\n--quick\n--exact\n--list");
        assert_eq!(v03.select("g/f(x)/1.5"), ["^g/f\\(x\\)/1\\.5$"]);
        assert_eq!(v03.seconds(0.3), "1");
        assert_eq!(v03.seconds(2.5), "3");
        assert_eq!(v04.seconds(0.3), "0.3");
        assert_eq!(v04.select("g/f"), ["^g/f$"]);
        assert_eq!(v05.select("g/f"), ["--exact", "g/f"]);
        assert_eq!(v05, Dialect::MODERN);
    }
}
