//! `track run`: the paired design. Each commit is checked out in its own git
//! worktree under a temporary folder (the user's checkout is never touched),
//! built once and smoke-tested once, then each benchmark is run on both sides
//! back to back (A B, then B A in its next round, ...) by calling the bench
//! executables directly with Criterion's `--exact ID`, so that drift of the
//! machine over seconds (thermal, other tenants) hits both sides alike.
//!
//! Rounds adapt: after `min_rounds`, a benchmark whose verdict is settled
//! stops ([`CompareOptions::settles`]), and so does one that the rounds left
//! could not flag as a change ([`CompareOptions::could_flag`]); one whose
//! interval could still cross the threshold, or that lost a round to one bad
//! process ([`crate::spoiled_rounds`]), gets another round, up to
//! `max_rounds` and the time budget. Within a budget the benchmarks that go
//! on share the time left equally, as Criterion gives each benchmark the
//! same measurement time: a benchmark whose rounds are costly is given up on
//! when its share cannot buy the rounds a change would need
//! ([`next_round`]), so the cheap ones keep the time. After each round every
//! benchmark is judged again, stopped ones included, and one that the
//! others' rounds have unsettled is measured again. Each round runs fresh
//! copies of the bench executables ([`fresh_copies`]). Every run of one
//! call is one batch in the history: its rounds are paired only with each
//! other.
//!
//! Cleanup invariant: a [`Worktrees`] guard removes the worktrees on every exit
//! path; SIGINT, SIGTERM and SIGHUP only set a flag (the running benchmark
//! child is killed and waited for), so the guard's `Drop` still runs.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::compare::{Comparison, compare_paired};
use crate::environment::{commit_sha, git, rustc_version, short_sha, unix_seconds_now};
use crate::history::{BatchSlot, Side};
use crate::{
    CompareOptions, History, INSTRUCTION_REPORT_DIR, Machine, RunContext, TrackError, Verdict,
    import_criterion_dir, import_instruction_dir,
};

/// Rounds a benchmark gets (at most `max_rounds`) before a change is called
/// ([`CompareOptions::settles`]): three rounds of a benchmark that switches
/// between two levels from process to process agree by chance too often.
/// Settling "unchanged", and giving up on a benchmark that the rounds left
/// could not flag ([`CompareOptions::could_flag`]), may happen from
/// `min_rounds` on: the predicted chance keeps measuring a slowdown whose
/// first rounds read low (a 4.9% one once measured 1.030, 1.047, 1.004).
const ROUNDS_TO_FLAG: usize = 5;

/// Minutes a paired run takes at most, builds included, unless told otherwise:
/// the 15 minutes this repository's whole suite is to fit in on a 2-core machine.
pub const DEFAULT_BUDGET_MINUTES: f64 = 15.0;

/// Settings of a paired run.
#[derive(Debug, Clone)]
pub struct PairedOptions {
    /// Rounds every benchmark gets before it may stop (at least 2).
    pub min_rounds: usize,
    /// Rounds no benchmark exceeds, set-aside ones included.
    pub max_rounds: usize,
    /// Wall-clock time for the whole run, builds included: the benchmarks
    /// that go on share what is left of it ([`next_round`]), and no new pair
    /// starts once it is spent; what was measured is kept.
    pub budget: Option<Duration>,
    /// Criterion's filter regex, passed through.
    pub filter: Option<String>,
    /// `--bench NAME` targets; all benches when empty.
    pub benches: Vec<String>,
    /// Criterion's warm-up and measurement time per benchmark process, in seconds.
    pub warm_up_seconds: f64,
    pub measurement_seconds: f64,
    /// Extra Criterion flags, e.g. `--sample-size 20`.
    pub criterion_args: Vec<String>,
    /// Folder holding one Cargo target folder per side (`a/`, `b/`); a fresh one inside the
    /// temporary folder when `None`.
    /// Reusing one across runs saves rebuilding the dependencies every time.
    pub target_dir: Option<PathBuf>,
    /// Folder for the two worktrees (`a/`, `b/`), kept between runs and moved to each
    /// run's commits with `git checkout`, which rewrites only the files that differ, so
    /// Cargo rebuilds only what changed; temporary ones, removed afterwards, when `None`.
    pub worktree_dir: Option<PathBuf>,
    /// Build both sides with every function starting on a 64-byte boundary
    /// (`ALIGN_FUNCTIONS`; on by default).
    pub align_functions: bool,
}

/// The rustc flag behind [`PairedOptions::align_functions`]. A change to one
/// function moves every function linked after it; with the usual 16-byte
/// alignment their hot loops then straddle cache lines and fetch blocks
/// differently, and an untouched benchmark of the same binary runs a few
/// percent faster or slower for real, which a paired run rightly flags: in
/// this repository `format/write/1000` measured 1.029 [1.020, 1.038] when
/// `format_push_str` alone did 5% more work, and 1.000 [0.991, 1.010] with
/// this flag, the slowed benchmark still 1.044 (docs/RESULTS.md). Aligning
/// every function to a cache line keeps an unchanged function's layout as
/// it was, so a verdict is about the code that changed.
const ALIGN_FUNCTIONS: &str = "-Cllvm-args=-align-all-functions=6";

impl Default for PairedOptions {
    fn default() -> Self {
        PairedOptions {
            min_rounds: 3,
            // Many short rounds: the noise that matters is between processes
            // (layout, allocator, scheduling), about as large a round at
            // 0.03 + 0.05 s as at 0.1 + 0.2 s, and a +5% change of real work
            // needs 20 or more rounds on a noisy day. Up to 60 of them flagged
            // it in 19 of 20 trials on ten benchmarks, against 14 of 20 for up
            // to 10 rounds of 0.1 + 0.2 s, in the same time
            // (docs/RESULTS.md, "The balanced rule, live").
            max_rounds: 60,
            // The budget keeps those 60 rounds from the benchmarks whose rounds
            // are dear: the whole suite took over 20 minutes without it
            // (docs/RESULTS.md, "track run over the whole suite").
            budget: Some(Duration::from_secs_f64(DEFAULT_BUDGET_MINUTES * 60.0)),
            filter: None,
            benches: Vec::new(),
            warm_up_seconds: 0.03,
            measurement_seconds: 0.05,
            criterion_args: Vec::new(),
            target_dir: None,
            worktree_dir: None,
            align_functions: true,
        }
    }
}

/// What a paired run did.
#[derive(Debug, Clone)]
pub struct PairedRun {
    pub a: String,
    pub b: String,
    /// The batch its runs were recorded in.
    pub batch: i64,
    /// Rounds run, by benchmark (timed ones only).
    pub rounds: BTreeMap<String, usize>,
    /// Whether the budget ran out before every benchmark was decided.
    pub budget_exhausted: bool,
    pub elapsed: Duration,
}

/// Removes the worktrees it holds, and the temporary folder around them,
/// when dropped, whatever happened.
pub(crate) struct Worktrees {
    pub(crate) repo: PathBuf,
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) _dir: tempfile::TempDir,
}

impl Drop for Worktrees {
    fn drop(&mut self) {
        // Deleted first, then pruned: `git worktree remove` refuses a
        // worktree that holds the submodule clones `populate_submodules` made.
        for path in &self.paths {
            let _ = std::fs::remove_dir_all(path);
        }
        let _ = git(&self.repo, &["worktree", "prune"]);
    }
}

/// The name `track run` takes, on either side, for the working tree as it
/// is, uncommitted changes included: it is built and run in place.
pub const WORKING_TREE: &str = "WORKTREE";

fn add_worktree(repo: &Path, path: &Path, commit: &str) -> Result<(), TrackError> {
    git(
        repo,
        &[
            "worktree",
            "add",
            "--detach",
            &path.to_string_lossy(),
            commit,
        ],
    )
    .map(drop)
}

/// Gives the worktree at `worktree` (checked out at `commit` of `repo`) the
/// submodules that commit records, cloned from the ones checked out in
/// `repo` (`--shared`: their objects are borrowed, nothing is copied or
/// fetched), recursively. A submodule whose commit the local clone lacks is
/// named, with how to get it: `track run` uses no network.
fn populate_submodules(repo: &Path, worktree: &Path, commit: &str) -> Result<(), TrackError> {
    let tree = git(repo, &["ls-tree", "-r", commit])?;
    for line in tree.lines() {
        let Some((meta, path)) = line.split_once('\t') else {
            continue;
        };
        let mut fields = meta.split_whitespace();
        let (Some("160000"), Some("commit"), Some(sha)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let source = repo.join(path);
        let present = git(&source, &["rev-parse", "--show-toplevel"])
            .is_ok_and(|top| Path::new(&top) == source.canonicalize().unwrap_or_default())
            && git(&source, &["cat-file", "-e", &format!("{sha}^{{commit}}")]).is_ok();
        if !present {
            return Err(TrackError::MissingSubmodule {
                path: path.to_owned(),
                commit: sha.to_owned(),
            });
        }
        let target = worktree.join(path);
        git(
            worktree,
            &[
                "clone",
                "--quiet",
                "--shared",
                "--no-checkout",
                &source.to_string_lossy(),
                &target.to_string_lossy(),
            ],
        )?;
        git(&target, &["checkout", "--quiet", "--detach", sha])?;
        populate_submodules(&source, &target, sha)?;
    }
    Ok(())
}

/// Set by the SIGINT/SIGTERM/SIGHUP handler, read while a benchmark runs
/// and between runs. Global because a signal handler can reach nothing
/// else; installed once per process.
fn interrupted_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let for_handler = Arc::clone(&flag);
        // If another handler is already installed the flag stays false and
        // the default behaviour applies; the guard still cleans up on errors.
        let _ = ctrlc::set_handler(move || for_handler.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}

/// One bench executable of one side, as Cargo built it.
#[derive(Clone)]
struct BenchBinary {
    executable: PathBuf,
    /// The package folder: Cargo runs benches from there, so relative paths hold.
    package_dir: PathBuf,
    /// Its Criterion benchmarks, timed round by round.
    ids: Vec<String>,
    /// Whether it is a `proflab-callgrind` target, counted once per side.
    counts_instructions: bool,
    /// What its Criterion version accepts.
    dialect: Dialect,
}

/// The command-line differences between Criterion versions that `track run`
/// meets (read from Criterion's `configure_from_args` at each release):
/// `--exact` exists from 0.5.0, and `--warm-up-time`/`--measurement-time`
/// take fractional seconds from 0.4.0 (0.3 parses integers and exits on
/// `0.5`). From 0.5 `--list` says `ID: benchmark` (before, `ID: bench`);
/// 0.3 and 0.4 are told apart by their `--help` (0.5 and later may be built
/// without clap's help).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dialect {
    exact: bool,
    fractional_seconds: bool,
}

impl Dialect {
    const MODERN: Dialect = Dialect {
        exact: true,
        fractional_seconds: true,
    };

    /// Reads the dialect from a Criterion bench binary's `--help` text.
    fn from_help(help: &str) -> Dialect {
        Dialect {
            exact: help.contains("--exact"),
            // `--discard-baseline` and `--quick` came with 0.4.0, as fractional seconds did.
            fractional_seconds: help.contains("--discard-baseline") || help.contains("--quick"),
        }
    }

    /// The arguments that select exactly the benchmark `id`: `--exact`, or
    /// before 0.5 an anchored, escaped regex (the filter is a regex from 0.3.1).
    fn select(self, id: &str) -> Vec<String> {
        if self.exact {
            vec!["--exact".to_owned(), id.to_owned()]
        } else {
            vec![format!("^{}$", regex::escape(id))]
        }
    }

    /// `seconds` as this version parses it: whole seconds (at least one) before 0.4.
    fn seconds(self, seconds: f64) -> String {
        if self.fractional_seconds {
            seconds.to_string()
        } else {
            seconds.ceil().max(1.0).to_string()
        }
    }
}

/// One side of the comparison: its commit, worktree, target folder and binaries.
struct SideBuild {
    commit: String,
    target: PathBuf,
    binaries: Vec<BenchBinary>,
}

/// Builds the bench targets of the worktree and returns their executables
/// (from Cargo's JSON messages), listing each one's benchmarks.
/// Starts side B's empty target folder as a copy of side A's: the
/// dependencies from the registry are the same on both sides, so Cargo then
/// rebuilds only the workspace's own crates (24 s instead of minutes for this
/// repository's `string_concat`). `cp -a` keeps the modification times Cargo's
/// freshness checks compare; where it is missing or fails, B is built from
/// scratch as before, only slower.
fn seed_target(built: &Path, empty: &Path) {
    if empty.exists() || !built.exists() {
        return;
    }
    let copied = Command::new("cp")
        .arg("-a")
        .arg(built)
        .arg(empty)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !copied {
        // A partial copy would only mislead Cargo's freshness checks.
        let _ = std::fs::remove_dir_all(empty);
    }
}

/// Adds `flag` to the flags Cargo gives rustc, keeping the caller's: Cargo
/// takes the first of `CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS` and the config
/// files' `rustflags`, so the flag joins whichever is in force (`--config`
/// arrays are appended to the config files' own).
fn add_rustflag(cmd: &mut Command, flag: &str) {
    if let Ok(encoded) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        let joined = if encoded.is_empty() {
            flag.to_owned()
        } else {
            format!("{encoded}\u{1f}{flag}")
        };
        cmd.env("CARGO_ENCODED_RUSTFLAGS", joined);
    } else if let Ok(plain) = std::env::var("RUSTFLAGS") {
        cmd.env("RUSTFLAGS", format!("{plain} {flag}"));
    } else {
        cmd.arg("--config")
            .arg(format!("build.rustflags=[\"{flag}\"]"));
    }
}

fn build_benches(
    worktree: &Path,
    target: &Path,
    options: &PairedOptions,
    commit: &str,
) -> Result<Vec<BenchBinary>, TrackError> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(worktree)
        .env("CARGO_TARGET_DIR", target)
        .args([
            "bench",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ]);
    for bench in &options.benches {
        cmd.args(["--bench", bench]);
    }
    if options.align_functions {
        add_rustflag(&mut cmd, ALIGN_FUNCTIONS);
    }
    let stdout = run_checked(cmd, commit)?;
    let mut binaries = Vec::new();
    for line in stdout.lines() {
        let Ok(message) = serde_json::from_str::<CargoMessage>(line) else {
            continue;
        };
        if let (Some(executable), true) = (
            message.executable,
            message
                .target
                .is_some_and(|t| t.kind.iter().any(|k| k == "bench")),
        ) {
            let package_dir = message
                .manifest_path
                .as_deref()
                .and_then(Path::parent)
                .map_or_else(|| worktree.to_owned(), Path::to_owned);
            binaries.push(BenchBinary {
                executable,
                package_dir,
                ids: Vec::new(),
                counts_instructions: false,
                dialect: Dialect::MODERN,
            });
        }
    }
    let scratch = target.join("proflab-scratch");
    for binary in &mut binaries {
        let mut list = bench_command(binary, &scratch);
        list.arg("--list");
        if let Some(filter) = &options.filter {
            list.arg(filter);
        }
        // Criterion lists `ID: benchmark` (`ID: bench` before 0.5), proflab-callgrind
        // `ID: instructions`; other harnesses print nothing of either form.
        let listed = run_checked(list, commit)?;
        let modern: Vec<String> = listed
            .lines()
            .filter_map(|line| line.strip_suffix(": benchmark"))
            .map(str::to_owned)
            .collect();
        binary.counts_instructions = listed.lines().any(|line| line.ends_with(": instructions"));
        if modern.is_empty() {
            binary.ids = listed
                .lines()
                .filter_map(|line| line.strip_suffix(": bench"))
                .map(str::to_owned)
                .collect();
            // Before 0.5: ask `--help` whether it is 0.3 or 0.4 (0.5 and later
            // may be built without clap's help, and are known from `--list`).
            if !binary.ids.is_empty() {
                let mut help = bench_command(binary, &scratch);
                help.arg("--help");
                binary.dialect = Dialect::from_help(&run_checked(help, commit)?);
            }
        } else {
            binary.ids = modern;
        }
    }
    Ok(binaries)
}

#[derive(serde::Deserialize)]
struct CargoMessage {
    executable: Option<PathBuf>,
    manifest_path: Option<PathBuf>,
    target: Option<CargoTarget>,
}

#[derive(serde::Deserialize)]
struct CargoTarget {
    kind: Vec<String>,
}

/// The bench executable in bench mode (without `--bench` every Criterion
/// version only tests), run from its package folder, writing its results
/// under `output/criterion`: Criterion 0.3.3 and later read `CRITERION_HOME`,
/// 0.3.0-0.3.2 `$CARGO_TARGET_DIR/criterion`; `proflab-callgrind` writes
/// under `CARGO_TARGET_DIR` too. `CARGO_CRITERION_PORT` would send the
/// results to cargo-criterion instead of the disk.
fn bench_command(binary: &BenchBinary, output: &Path) -> Command {
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
/// before each pair, 3 of 12 (0.987; docs/RESULTS.md). A fresh copy a round
/// gets fresh pages, so where a file lands is noise the rounds average out,
/// not a bias one side keeps. The copies keep their names, so both sides'
/// paths stay as long as each other.
fn fresh_copies(
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

/// Criterion's timing flags for one measured process, as `dialect` takes them.
fn criterion_flags(options: &PairedOptions, dialect: Dialect) -> Vec<String> {
    let mut flags = vec![
        "--noplot".to_owned(),
        "--warm-up-time".to_owned(),
        dialect.seconds(options.warm_up_seconds),
        "--measurement-time".to_owned(),
        dialect.seconds(options.measurement_seconds),
    ];
    flags.extend(options.criterion_args.iter().cloned());
    flags
}

/// Runs `cmd` to completion and returns its stdout; fails naming the command,
/// the commit and the end of its stderr unless it succeeds. An interrupt
/// (SIGINT, SIGTERM, SIGHUP) kills the child and fails with `Interrupted`.
fn run_checked(mut cmd: Command, commit: &str) -> Result<String, TrackError> {
    let command = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| TrackError::Spawn {
            command: command.clone(),
            source,
        })?;
    let stdout = child.stdout.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            text
        })
    });
    // Keep only the end of stderr: enough to say why a bench failed.
    let stderr = child.stderr.take().map(|pipe| {
        std::thread::spawn(move || {
            let mut tail = std::collections::VecDeque::new();
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tail.len() == 40 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
            Vec::from(tail).join("\n")
        })
    });
    let interrupted = interrupted_flag();
    let status = loop {
        if interrupted.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TrackError::Interrupted);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(source) => {
                return Err(TrackError::Spawn { command, source });
            }
        }
    };
    let stdout = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    if !status.success() {
        return Err(TrackError::BenchFailed {
            command,
            commit: commit.to_owned(),
            stderr,
        });
    }
    Ok(stdout)
}

/// Builds `a` and `b` of the repository at `repo`, smoke-tests every bench
/// once, then measures them in paired rounds recorded as one batch of
/// `history`; instruction-count targets are run once per side afterwards.
/// `compare` gives the threshold the adaptive rounds aim at. `progress` is
/// told each step: (steps done, steps planned, what runs now).
pub fn run_paired(
    repo: &Path,
    a: &str,
    b: &str,
    options: &PairedOptions,
    compare: &CompareOptions,
    history: &mut History,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<PairedRun, TrackError> {
    let started = Instant::now();
    let interrupted = interrupted_flag();
    interrupted.store(false, Ordering::SeqCst);
    let sha = |reference: &str| {
        if reference == WORKING_TREE {
            return Ok(WORKING_TREE.to_owned());
        }
        commit_sha(repo, reference)
    };
    let commits = [sha(a)?, sha(b)?];
    let dir = tempfile::Builder::new()
        .prefix("proflab-run-")
        .tempdir()
        .map_err(|source| TrackError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let mut guard = Worktrees {
        repo: repo.to_owned(),
        paths: Vec::new(),
        _dir: dir,
    };
    let root = guard._dir.path().to_owned();
    let machine = Machine::current();
    // One target folder per side: the same package at two paths gets the same
    // binary name, so a single folder would hold only the last side built.
    // Relative folders mean the caller's directory: git and cargo run
    // elsewhere (in the repository, in each worktree).
    let absolute = |path: &PathBuf| {
        std::path::absolute(path).map_err(|source| TrackError::Io {
            path: path.clone(),
            source,
        })
    };
    let targets_root = match &options.target_dir {
        Some(dir) => absolute(dir)?,
        None => root.join("target"),
    };
    let kept_worktrees = options.worktree_dir.as_ref().map(absolute).transpose()?;
    let mut sides: Vec<SideBuild> = Vec::new();
    let mut toolchains = Vec::new();
    for (side, commit) in ["a", "b"].iter().zip(&commits) {
        let path = if commit == WORKING_TREE {
            repo.to_owned()
        } else if let Some(kept) = &kept_worktrees {
            let path = kept.join(side);
            if path.join(".git").exists() {
                git(
                    &path,
                    &["checkout", "--quiet", "--force", "--detach", commit],
                )?;
            } else {
                add_worktree(repo, &path, commit)?;
                populate_submodules(repo, &path, commit)?;
            }
            path
        } else {
            let path = root.join(side);
            guard.paths.push(path.clone());
            add_worktree(repo, &path, commit)?;
            populate_submodules(repo, &path, commit)?;
            path
        };
        toolchains.push(rustc_version(&path).map_err(|source| TrackError::Spawn {
            command: "rustc -V".to_owned(),
            source,
        })?);
        progress(
            sides.len(),
            2,
            &format!("building {}", short_sha(commit, 12)),
        );
        let target = targets_root.join(side);
        if let Some(built) = sides.last() {
            seed_target(&built.target, &target);
        }
        let binaries = build_benches(&path, &target, options, commit)?;
        sides.push(SideBuild {
            commit: commit.clone(),
            target,
            binaries,
        });
    }
    if toolchains[0] != toolchains[1] && !compare.allow_different_machines {
        return Err(TrackError::DifferentMachines {
            a: toolchains[0].clone(),
            b: toolchains[1].clone(),
        });
    }
    // Fail fast: every benchmark once in Criterion's test mode, both sides,
    // before any round, so a bench that panics costs seconds, not the run.
    for side in &sides {
        progress(0, 1, &format!("smoke test {}", short_sha(&side.commit, 12)));
        for binary in side.binaries.iter().filter(|b| !b.ids.is_empty()) {
            let mut cmd = bench_command(binary, &root.join("smoke"));
            cmd.arg("--test").args(options.filter.as_slice());
            run_checked(cmd, &side.commit)?;
        }
    }
    let mut ids: Vec<&str> = sides
        .iter()
        .flat_map(|side| &side.binaries)
        .flat_map(|binary| binary.ids.iter().map(String::as_str))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let settings = serde_json::json!({
        "min_rounds": options.min_rounds,
        "max_rounds": options.max_rounds,
        "budget_seconds": options.budget.map(|b| b.as_secs_f64()),
        "warm_up_seconds": options.warm_up_seconds,
        "measurement_seconds": options.measurement_seconds,
        "criterion_args": options.criterion_args,
        "threshold": compare.threshold,
    });
    let batch = history.begin_batch(&commits[0], &commits[1], &settings.to_string())?;
    let run_context = |commit: &String| RunContext {
        commit: commit.clone(),
        dirty: commit == WORKING_TREE,
        branch: format!("run {a}..{b}"),
        time: unix_seconds_now(),
    };
    let mut rounds_run: BTreeMap<String, usize> = BTreeMap::new();
    // Wall-clock seconds of each benchmark's pairs so far, both processes.
    let mut pair_seconds: BTreeMap<String, f64> = BTreeMap::new();
    let mut active: Vec<&str> = ids.clone();
    let mut budget_exhausted = false;
    let mut round: i64 = 0;
    while !active.is_empty() {
        round += 1;
        let outputs = ["a", "b"].map(|side| root.join(format!("round-{round}-{side}")));
        let round_executables = root.join(format!("round-{round}-executables"));
        let mut round_binaries = Vec::new();
        for (side, build) in ["a", "b"].iter().zip(&sides) {
            round_binaries.push(fresh_copies(
                &build.binaries,
                &active,
                &round_executables.join(side),
            )?);
        }
        for (index, id) in active.iter().enumerate() {
            if options
                .budget
                .is_some_and(|budget| started.elapsed() >= budget)
            {
                budget_exhausted = true;
                break;
            }
            progress(
                index,
                active.len(),
                &format!("round {round}: {id} ({} left)", active.len() - index),
            );
            let pair_started = Instant::now();
            let done = rounds_run.entry((*id).to_owned()).or_default();
            let order = if done.is_multiple_of(2) {
                [0, 1]
            } else {
                [1, 0]
            };
            for side in order {
                for binary in round_binaries[side]
                    .iter()
                    .filter(|b| b.ids.iter().any(|i| i == id))
                {
                    let mut cmd = bench_command(binary, &outputs[side]);
                    cmd.args(criterion_flags(options, binary.dialect))
                        .args(binary.dialect.select(id));
                    run_checked(cmd, &sides[side].commit)?;
                }
            }
            *done += 1;
            *pair_seconds.entry((*id).to_owned()).or_default() +=
                pair_started.elapsed().as_secs_f64();
        }
        for (side, (build, output)) in sides.iter().zip(&outputs).enumerate() {
            let home = output.join("criterion");
            if !home.is_dir() {
                continue;
            }
            let benches = import_criterion_dir(&home)?;
            let slot = BatchSlot {
                batch,
                round,
                side: if side == 0 { Side::A } else { Side::B },
            };
            history.record_round(slot, &run_context(&build.commit), &machine, &benches)?;
        }
        // Best effort: the temporary folder's guard removes whatever is left.
        let _ = std::fs::remove_dir_all(&round_executables);
        if budget_exhausted {
            break;
        }
        if round < options.min_rounds as i64 {
            continue;
        }
        // Judge what is there; keep measuring only what is not yet decided
        // and could still be within the rounds left. Every benchmark is a
        // candidate again, not only those measured this round: its verdict
        // rests on the others' rounds too (the moderation's prior, the
        // correction over all benchmarks), so one that stopped as a change
        // can be short of it once the others are measured further (a +5%
        // stopped flagged on five rounds, then read 1.034 [1.019, 1.050]).
        let report = compare_paired(&history.paired_series(batch)?, compare);
        let time_left = options
            .budget
            .map(|budget| budget.saturating_sub(started.elapsed()));
        let candidates: Vec<Candidate<'_>> = report
            .benchmarks
            .iter()
            .map(|comparison| {
                let rounds_run = rounds_run.get(&comparison.id).copied().unwrap_or(0);
                Candidate {
                    comparison,
                    rounds_run,
                    seconds_a_round: pair_seconds.get(&comparison.id).copied().unwrap_or(0.0)
                        / rounds_run.max(1) as f64,
                }
            })
            .collect();
        let undecided = next_round(&candidates, time_left, options, compare);
        active = ids
            .iter()
            .copied()
            .filter(|id| undecided.contains(id))
            .collect();
    }
    // Counts do not drift: one run per side, recorded as round 0 of the batch.
    for (side, build) in sides.iter().enumerate() {
        let counters: Vec<&BenchBinary> = build
            .binaries
            .iter()
            .filter(|binary| binary.counts_instructions)
            .collect();
        if counters.is_empty() {
            continue;
        }
        progress(
            1,
            1,
            &format!("instruction counts: {}", short_sha(&build.commit, 12)),
        );
        for binary in counters {
            let mut cmd = bench_command(binary, &build.target);
            cmd.args(options.filter.as_slice());
            run_checked(cmd, &build.commit)?;
        }
        let counts = import_instruction_dir(&build.target.join(INSTRUCTION_REPORT_DIR))?;
        let slot = BatchSlot {
            batch,
            round: 0,
            side: if side == 0 { Side::A } else { Side::B },
        };
        history.record_round(slot, &run_context(&build.commit), &machine, &counts)?;
    }
    drop(guard);
    let [a, b] = commits;
    Ok(PairedRun {
        a,
        b,
        batch,
        rounds: rounds_run,
        budget_exhausted,
        elapsed: started.elapsed(),
    })
}

/// Rounds of an equal share of `time_left` among `sharing` undecided
/// benchmarks that one whose pair of processes takes `pair_seconds` can
/// still buy. Equal time, not equal rounds: in this repository one pair of
/// `format_copy/100000` costs what 90 pairs of a cheap benchmark do, and
/// rounds of the cheap ones are where a change of a few percent is found.
#[must_use]
pub fn affordable_rounds(time_left: Duration, sharing: usize, pair_seconds: f64) -> usize {
    let share = time_left.as_secs_f64() / sharing.max(1) as f64;
    if pair_seconds > 0.0 {
        // Whole rounds only; a float past usize::MAX saturates.
        (share / pair_seconds).floor() as usize
    } else {
        usize::MAX
    }
}

/// A benchmark still measured, as the plan of the next round sees it.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// Its verdict on the rounds so far.
    pub comparison: &'a Comparison,
    pub rounds_run: usize,
    /// Wall-clock seconds of one of its pairs of processes, on average.
    pub seconds_a_round: f64,
}

/// The ids of `candidates` measured once more ([`wants_another_round`]).
/// Within a budget (`time_left`) the time left is shared equally by the
/// benchmarks that go on, not by all still measured: from those that want a
/// round by `max_rounds` alone, the ones whose share cannot buy the rounds a
/// change would need are given up on, which grows the others' shares, until
/// every one left can use its share. A change seen is confirmed on
/// `ROUNDS_TO_FLAG` rounds whatever they cost: cut short, a benchmark that
/// switches levels from process to process would be flagged.
#[must_use]
pub fn next_round<'a>(
    candidates: &[Candidate<'a>],
    time_left: Option<Duration>,
    options: &PairedOptions,
    compare: &CompareOptions,
) -> Vec<&'a str> {
    let wants = |candidate: &Candidate<'_>, sharing: Option<usize>| {
        let affordable = time_left
            .zip(sharing)
            .filter(|_| candidate.comparison.verdict == Verdict::Unchanged)
            .map(|(left, sharing)| affordable_rounds(left, sharing, candidate.seconds_a_round));
        wants_another_round(
            candidate.comparison,
            rounds_left(candidate.rounds_run, options, affordable),
            options,
            compare,
        )
    };
    let mut going: Vec<&Candidate<'a>> = candidates.iter().filter(|c| wants(c, None)).collect();
    if time_left.is_some() {
        // Each pass only removes benchmarks, so this ends.
        loop {
            let sharing = going.len();
            going.retain(|c| wants(c, Some(sharing)));
            if going.len() == sharing {
                break;
            }
        }
    }
    going.iter().map(|c| c.comparison.id.as_str()).collect()
}

/// Rounds a benchmark with `rounds_run` rounds may still get: up to
/// `max_rounds`, and no more than its share of a budget buys (`affordable`).
#[must_use]
pub fn rounds_left(rounds_run: usize, options: &PairedOptions, affordable: Option<usize>) -> usize {
    let left = options.max_rounds.saturating_sub(rounds_run);
    affordable.map_or(left, |affordable| left.min(affordable))
}

/// Whether a benchmark judged as `comparison`, with `left` rounds it may
/// still get ([`rounds_left`]), is measured once more: some are left, and
/// it has fewer than `min_rounds` usable rounds, or it is neither settled
/// ([`CompareOptions::settles`]) nor given up on
/// ([`CompareOptions::could_flag`] in the rounds left).
#[must_use]
pub fn wants_another_round(
    comparison: &Comparison,
    left: usize,
    options: &PairedOptions,
    compare: &CompareOptions,
) -> bool {
    let rounds_to_flag = ROUNDS_TO_FLAG.min(options.max_rounds);
    left > 0
        && (comparison.rounds < options.min_rounds
            || (!compare.settles(comparison, rounds_to_flag)
                && compare.could_flag(comparison, left)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{
        BenchBinary, Candidate, Dialect, PairedOptions, affordable_rounds, fresh_copies,
        next_round, rounds_left, wants_another_round,
    };
    use crate::Verdict;
    use crate::compare::Comparison;
    use crate::compare::tests::unchanged_paired;
    use crate::stats::t_interval_df;
    use crate::{CompareOptions, VariancePrior, t_interval};

    /// A benchmark judged "unchanged" on these per-round ratios, its
    /// variance moderated as this repository's suite does (other
    /// benchmarks' rounds spread about 2%, worth six degrees of freedom).
    fn judged(ratios: &[f64]) -> Comparison {
        let prior = Some(VariancePrior {
            d0: 6.0,
            s0_squared: 0.02f64.powi(2),
            pooled_df: 200.0,
        });
        let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
        unchanged_paired(
            t_interval(&logs, prior),
            ratios.len(),
            t_interval_df(ratios.len(), prior),
        )
    }

    /// Up to ten rounds, the rules' earlier default, which these tests were written for.
    fn ten_rounds() -> (PairedOptions, CompareOptions) {
        let options = PairedOptions {
            max_rounds: 10,
            ..PairedOptions::default()
        };
        (options, CompareOptions::default())
    }

    #[test]
    fn three_rounds_give_up_on_what_the_rounds_left_could_not_flag() {
        let (options, compare) = ten_rounds();
        let seven_left = rounds_left(3, &options, None);
        assert_eq!(seven_left, 7);
        // A real 4.9% slowdown whose first rounds read low: measured on.
        assert!(wants_another_round(
            &judged(&[1.030, 1.047, 1.004]),
            seven_left,
            &options,
            &compare
        ));
        // Centred on 1 and about ±8% a round: seven more rounds could
        // neither bring the interval within ±2% nor likely find a change.
        assert!(!wants_another_round(
            &judged(&[1.08, 0.93, 1.0]),
            seven_left,
            &options,
            &compare
        ));
        // Already equivalent: settled.
        assert!(!wants_another_round(
            &judged(&[1.001, 0.999, 1.0]),
            seven_left,
            &options,
            &compare
        ));
        // Never past `max_rounds`.
        assert!(!wants_another_round(
            &judged(&[1.030, 1.047, 1.004]),
            rounds_left(10, &options, None),
            &options,
            &compare
        ));
    }

    #[test]
    fn within_a_budget_a_costly_benchmark_is_given_up_before_a_cheap_one() {
        let (options, compare) = ten_rounds();
        // Five minutes left, shared by 100 undecided benchmarks: 3 s each.
        let time_left = Duration::from_secs(300);
        let cheap = affordable_rounds(time_left, 100, 0.25);
        let costly = affordable_rounds(time_left, 100, 22.0);
        assert_eq!((cheap, costly), (12, 0));
        let slowdown = judged(&[1.030, 1.047, 1.004]);
        assert!(wants_another_round(
            &slowdown,
            rounds_left(3, &options, Some(cheap)),
            &options,
            &compare
        ));
        assert!(!wants_another_round(
            &slowdown,
            rounds_left(3, &options, Some(costly)),
            &options,
            &compare
        ));
        // A share can only shorten the rounds `max_rounds` leaves.
        assert_eq!(rounds_left(3, &options, Some(cheap)), 7);
        assert_eq!(affordable_rounds(Duration::ZERO, 0, 0.0), usize::MAX);
    }

    #[test]
    fn the_time_left_is_shared_by_the_benchmarks_that_go_on() {
        let options = PairedOptions {
            max_rounds: 60,
            ..PairedOptions::default()
        };
        let compare = CompareOptions::default();
        let slowdown = judged(&[1.030, 1.047, 1.004]);
        let settled = judged(&[1.001, 0.999, 1.0]);
        let candidate = |comparison, seconds_a_round| Candidate {
            comparison,
            rounds_run: 3,
            seconds_a_round,
        };
        // One slowdown among 99 settled benchmarks: its share is all the time left,
        // not a hundredth of it, so ten seconds buy the 40 rounds of 0.25 s it may need.
        let mut candidates = vec![candidate(&slowdown, 0.25)];
        candidates.extend((0..99).map(|_| candidate(&settled, 0.25)));
        let ten_seconds = Some(Duration::from_secs(10));
        assert_eq!(
            next_round(&candidates, ten_seconds, &options, &compare).len(),
            1
        );
        assert_eq!(affordable_rounds(Duration::from_secs(10), 100, 0.25), 0);
        // Two slowdowns, one dear: it cannot use its half, so the cheap one
        // gets it all and goes on alone.
        let candidates = [candidate(&slowdown, 0.25), candidate(&slowdown, 22.0)];
        let chosen = next_round(&candidates, ten_seconds, &options, &compare);
        assert_eq!(chosen.len(), 1);
        // Without a budget both go on.
        assert_eq!(next_round(&candidates, None, &options, &compare).len(), 2);
        // A change seen goes on whatever it costs, until confirmed.
        let seen = Comparison {
            verdict: Verdict::Regressed,
            ..judged(&[1.06, 1.05, 1.07])
        };
        let dear = [candidate(&seen, 22.0)];
        assert_eq!(next_round(&dear, ten_seconds, &options, &compare).len(), 1);
    }

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
