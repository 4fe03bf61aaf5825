//! `track run`: the paired design, in phases ([`run_paired`]). Each commit is
//! checked out in its own git worktree under a temporary folder (the user's
//! checkout is never touched), built once and smoke-tested once; bench
//! executables whose code is identical on both sides are left out
//! ([`identical`]); then each benchmark is run on both sides back to back (A
//! B, then B A in its next round, ...) by calling the bench executables
//! directly with Criterion's `--exact ID`, so that drift of the machine over
//! seconds (thermal, other tenants) hits both sides alike.
//!
//! Each round runs executables laid out afresh: relinked with a random code
//! layout ([`layout`]), or where that cannot apply fresh copies of Cargo's
//! ([`fresh_copies`]); each process gets a random environment padding, which
//! moves its stack. Rounds adapt ([`schedule`]): after `min_rounds`, a
//! benchmark whose verdict is settled stops, and so does one that the rounds
//! left could not flag as a change; within a budget the benchmarks that go on
//! share the time left equally. After each round every benchmark is judged
//! again, stopped ones included, and one that the others' rounds have
//! unsettled is measured again. Every run of one call is one batch in the
//! history: its rounds are paired only with each other.
//!
//! Cleanup invariant: a [`Worktrees`] guard removes the worktrees on every exit
//! path; SIGINT, SIGTERM and SIGHUP only record the signal (the running
//! benchmark child is killed and waited for), so the guard's `Drop` still
//! runs, and the error says what the run kept ([`Interruption`]).

mod bench;
mod build;
mod identical;
mod layout;
mod process;
mod schedule;
mod summary;
mod worktree;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand_pcg::Pcg64;
use rand_pcg::rand_core::{Rng as _, SeedableRng as _};

use self::bench::{BenchBinary, asked_seconds, bench_command, criterion_flags, fresh_copies};
use self::build::{
    build_benches, clean_builds_of_other_checkouts, record_built_from, seed_target, shell_quote,
};
use self::identical::{ChangedFiles, LoadedCode, compiled_sources};
pub use self::layout::LayoutMode;
use self::layout::{LinkCommand, LinkRecorder};
pub use self::process::Interruption;
use self::process::{clear_interruption, run_checked};
use self::schedule::{Candidate, next_round};
pub use self::schedule::{rounds_left, wants_another_round};
pub use self::summary::run_summary;
pub(crate) use self::worktree::Worktrees;
pub use self::worktree::{MissingSubmodule, WORKING_TREE};
use self::worktree::{add_worktree, populate_submodules};
use crate::compare::compare_paired;
use crate::environment::{commit_sha, git, rustc_version, short_sha, unix_seconds_now};
use crate::history::{BatchSlot, Side};
use crate::{
    CompareOptions, History, INSTRUCTION_REPORT_DIR, Machine, RunContext, TrackError,
    import_criterion_dir, import_instruction_dir,
};

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
    /// Folder holding one Cargo target folder per side (`a/`, `b/`), locked while a run
    /// uses it; a fresh one inside the temporary folder when `None` or when another run
    /// holds it. Reusing one across runs (the CLI's default, [`default_target_dir`]) saves
    /// rebuilding the dependencies every time.
    pub target_dir: Option<PathBuf>,
    /// Folder for the two worktrees (`a/`, `b/`), kept between runs and moved to each
    /// run's commits with `git checkout`, which rewrites only the files that differ, so
    /// Cargo rebuilds only what changed; temporary ones, removed afterwards, when `None`.
    pub worktree_dir: Option<PathBuf>,
    /// Build both sides with every function starting on a 64-byte boundary
    /// (`ALIGN_FUNCTIONS`; on by default).
    pub align_functions: bool,
    /// Relink the executables of each round with a fresh random code layout
    /// (on by default; [`layout`]). Off, or where it cannot apply, every
    /// round runs the layout Cargo linked.
    pub random_layouts: bool,
    /// Measure the benchmarks of executables whose code is identical on both
    /// sides too (off by default: they are reported as identical code).
    pub measure_identical: bool,
    /// Seed of the layouts and of the environment paddings; a random one,
    /// recorded in the batch's settings, when `None`.
    pub seed: Option<u64>,
    /// Refuse to run when a commit records a submodule that the local clone
    /// lacks (by default it is left out, and the smoke test names it if a
    /// bench fails on a path inside it).
    pub require_submodules: bool,
}

/// The rustc flag behind [`PairedOptions::align_functions`]. A change to one
/// function moves every function linked after it; with the usual 16-byte
/// alignment their hot loops then straddle cache lines and fetch blocks
/// differently, and an untouched benchmark of the same binary runs a few
/// percent faster or slower for real, which a paired run rightly flags: in
/// this repository `format/write/1000` measured 1.029 [1.020, 1.038] when
/// `format_push_str` alone did 5% more work, and 1.000 [0.991, 1.010] with
/// this flag, the slowed benchmark still 1.044 (docs/TRACKING.md). Aligning
/// every function to a cache line keeps an unchanged function's place in
/// its cache lines as it was; random layouts ([`layout`]) then move
/// everything else (order, page offsets) from round to round.
pub(super) const ALIGN_FUNCTIONS: &str = "-Cllvm-args=-align-all-functions=6";

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
            // (docs/experiments/notebook-2026-11-to-12.md, "The balanced rule, live").
            max_rounds: 60,
            // The budget keeps those 60 rounds from the benchmarks whose rounds
            // are dear: the whole suite took over 20 minutes without it
            // (docs/experiments/notebook-2026-11-to-12.md, "track run over the whole suite").
            budget: Some(Duration::from_secs_f64(DEFAULT_BUDGET_MINUTES * 60.0)),
            filter: None,
            benches: Vec::new(),
            warm_up_seconds: 0.03,
            measurement_seconds: 0.05,
            criterion_args: Vec::new(),
            target_dir: None,
            worktree_dir: None,
            align_functions: true,
            random_layouts: true,
            measure_identical: false,
            seed: None,
            require_submodules: false,
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
    /// Benchmarks not measured: their executable's code is the same on both sides.
    pub identical_code: Vec<String>,
    /// Why benchmarks of identical code were measured all the same, if they were.
    pub identical_measured_because: Option<String>,
    pub layouts: LayoutSummary,
    /// Submodules left out of the worktrees: the local clone lacks them.
    pub missing_submodules: Vec<MissingSubmodule>,
}

/// How the rounds' executables were laid out.
#[derive(Debug, Clone)]
pub struct LayoutSummary {
    /// Random where it applied on both sides; otherwise fixed, with why.
    pub mode: LayoutMode,
    /// Distinct layouts each side ran (A, B).
    pub sampled: [usize; 2],
    /// Wall-clock seconds of one relink, on average.
    pub seconds_per_link: f64,
    /// The seed of the layouts and environment paddings.
    pub seed: u64,
}

/// What a paired run tells its caller as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// A phase begins: building or smoke-testing a side, counting instructions.
    Phase(&'a str),
    /// Round `round` begins with the `benchmarks` still undecided, with
    /// `time_left` of the budget.
    Round {
        round: i64,
        benchmarks: usize,
        time_left: Option<Duration>,
    },
    /// Benchmark `id` is measured on both sides, the `done`th of the
    /// round's `of` (0-based).
    Pair { done: usize, of: usize, id: &'a str },
    /// Something the user should know about the whole run, said once.
    Notice(&'a str),
}

/// One side of the comparison: its commit, worktree, target folder and binaries.
struct SideBuild {
    commit: String,
    worktree: PathBuf,
    target: PathBuf,
    binaries: Vec<BenchBinary>,
    /// Each executable's recorded link command, by executable, when layouts are random.
    links: Result<BTreeMap<PathBuf, LinkCommand>, String>,
}

/// Where a run works: the temporary folder (removed, with the worktrees, when dropped).
struct Workspace {
    /// Removes the worktrees it lists when dropped; it knows the repository.
    worktrees: Worktrees,
    root: PathBuf,
    /// `--worktree-dir`, absolute.
    kept: Option<PathBuf>,
    targets_root: PathBuf,
    /// Held while the run uses a kept target folder ([`lock_kept_target`]).
    _target_lock: Option<std::fs::File>,
    /// Submodules that could not be cloned from the local clone, either side.
    missing_submodules: Vec<MissingSubmodule>,
}

/// Builds `a` and `b` of the repository at `repo`, smoke-tests every bench
/// once, then measures them in paired rounds recorded as one batch of
/// `history`; instruction-count targets are run once per side afterwards.
/// `compare` gives the threshold the adaptive rounds aim at. `progress` is
/// told each phase, round and pair as it begins ([`Progress`]).
///
/// Interrupted, it fails with [`TrackError::Interrupted`], which says what
/// is kept: the rounds recorded so far, the worktrees and target folders
/// the options named.
pub fn run_paired(
    repo: &Path,
    a: &str,
    b: &str,
    options: &PairedOptions,
    compare: &CompareOptions,
    history: &mut History,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<PairedRun, TrackError> {
    let started = Instant::now();
    clear_interruption();
    let sha = |reference: &str| {
        if reference == WORKING_TREE {
            return Ok(WORKING_TREE.to_owned());
        }
        commit_sha(repo, reference)
    };
    let commits = [sha(a)?, sha(b)?];
    let mut workspace = Workspace::prepare(repo, options, progress)?;
    let nothing_recorded = |error| say_what_is_kept(error, options, None);
    let sides = build_sides(&mut workspace, &commits, options, compare, progress)
        .map_err(nothing_recorded)?;
    smoke_test(&sides, &workspace, options, progress).map_err(nothing_recorded)?;
    let plan = plan_rounds(repo, &sides, options)?;
    let settings = serde_json::json!({
        "min_rounds": options.min_rounds,
        "max_rounds": options.max_rounds,
        "budget_seconds": options.budget.map(|b| b.as_secs_f64()),
        "warm_up_seconds": options.warm_up_seconds,
        "measurement_seconds": options.measurement_seconds,
        "criterion_args": options.criterion_args,
        "threshold": compare.threshold,
        "layouts": match &plan.layouts {
            LayoutMode::Random => "random".to_owned(),
            LayoutMode::Fixed(reason) => format!("fixed: {reason}"),
        },
        "seed": plan.seed,
        "identical_code": plan.identical,
    });
    let batch = history.begin_batch(&commits[0], &commits[1], &settings.to_string())?;
    let context = |commit: &String| RunContext {
        commit: commit.clone(),
        dirty: commit == WORKING_TREE,
        branch: format!("run {a}..{b}"),
        time: unix_seconds_now(),
    };
    let machine = Machine::current();
    let mut rounds = Rounds {
        sides: &sides,
        machine: &machine,
        plan: &plan,
        options,
        root: &workspace.root,
        started,
        batch,
        rounds_run: BTreeMap::new(),
        pair_seconds: BTreeMap::new(),
        layouts_sampled: [0, 0],
        link_time: Duration::ZERO,
        rounds_recorded: 0,
        overrun_said: false,
    };
    let budget_exhausted = rounds
        .measure(compare, history, &context, progress)
        .and_then(|exhausted| {
            count_instructions(
                &sides, &machine, options, history, batch, &context, progress,
            )?;
            Ok(exhausted)
        })
        .map_err(|error| say_what_is_kept(error, options, Some((batch, rounds.rounds_recorded))))?;
    // Only now: an interrupted run leaves a batch that comparisons skip.
    history.finish_batch(batch)?;
    let links = rounds.layouts_sampled.iter().sum::<usize>();
    let layouts = LayoutSummary {
        mode: plan.layouts.clone(),
        sampled: rounds.layouts_sampled,
        seconds_per_link: rounds.link_time.as_secs_f64() / links.max(1) as f64,
        seed: plan.seed,
    };
    let rounds_run = rounds.rounds_run;
    let missing_submodules = workspace.missing_submodules.clone();
    drop(workspace);
    let [a, b] = commits;
    Ok(PairedRun {
        a,
        b,
        batch,
        rounds: rounds_run,
        budget_exhausted,
        elapsed: started.elapsed(),
        identical_code: plan.identical,
        identical_measured_because: plan.identical_measured_because,
        layouts,
        missing_submodules,
    })
}

/// An interruption's error, saying what the run leaves behind: the rounds
/// recorded in `batch` (`(batch, rounds)`; none before the batch began),
/// and the worktrees and builds when the options keep them. Other errors
/// pass unchanged.
fn say_what_is_kept(
    error: TrackError,
    options: &PairedOptions,
    batch: Option<(i64, i64)>,
) -> TrackError {
    let TrackError::Interrupted { signal, .. } = error else {
        return error;
    };
    let mut kept = vec![match batch {
        None | Some((_, 0)) => "nothing was recorded".to_owned(),
        Some((batch, rounds)) => format!(
            "batch {batch} keeps the {rounds} round(s) measured in full, marked \
             incomplete: `track compare` leaves it out unless named with --batch {batch}"
        ),
    }];
    kept.push(match &options.worktree_dir {
        Some(dir) => format!("the worktrees stay in {} (--worktree-dir)", dir.display()),
        None => "the temporary worktrees are removed".to_owned(),
    });
    if let Some(dir) = &options.target_dir {
        kept.push(format!(
            "the builds stay in {} (--target-dir)",
            dir.display()
        ));
    }
    TrackError::Interrupted {
        signal,
        kept: kept.join("; "),
    }
}

impl Workspace {
    /// The temporary folder and where the target folders go; no worktree yet.
    fn prepare(
        repo: &Path,
        options: &PairedOptions,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Workspace, TrackError> {
        let dir = tempfile::Builder::new()
            .prefix("proflab-run-")
            .tempdir()
            .map_err(|source| TrackError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let root = dir.path().to_owned();
        // Relative folders mean the caller's directory: git and cargo run
        // elsewhere (in the repository, in each worktree).
        let absolute = |path: &PathBuf| {
            std::path::absolute(path).map_err(|source| TrackError::Io {
                path: path.clone(),
                source,
            })
        };
        let (targets_root, target_lock) = match &options.target_dir {
            Some(dir) => match lock_kept_target(&absolute(dir)?)? {
                Some((dir, lock)) => (dir, Some(lock)),
                None => {
                    progress(Progress::Notice(&format!(
                        "another `track run` is building in {}: this run builds in a \
                         temporary folder, from scratch",
                        dir.display()
                    )));
                    (root.join("target"), None)
                }
            },
            None => (root.join("target"), None),
        };
        Ok(Workspace {
            worktrees: Worktrees {
                repo: repo.to_owned(),
                paths: Vec::new(),
                _dir: dir,
            },
            root,
            kept: options.worktree_dir.as_ref().map(absolute).transpose()?,
            targets_root,
            _target_lock: target_lock,
            missing_submodules: Vec::new(),
        })
    }

    /// Checks `commit` out for `side` (the working tree itself for
    /// [`WORKING_TREE`]; the kept worktree of `--worktree-dir`, moved to it)
    /// and returns its folder, and whether its files are all new (a worktree
    /// added now). Called just before that side is built: Cargo
    /// calls a unit fresh when its sources are older than its last build,
    /// and B's target folder, the first time, starts as a copy of A's, so
    /// B's files must then be written after A was built.
    fn check_out(
        &mut self,
        side: &str,
        commit: &str,
        options: &PairedOptions,
    ) -> Result<(PathBuf, bool), TrackError> {
        let repo = self.worktrees.repo.clone();
        if commit == WORKING_TREE {
            return Ok((repo, false));
        }
        let kept = self.kept.as_ref().map(|kept| kept.join(side));
        if let Some(path) = &kept
            && path.join(".git").exists()
        {
            git(
                path,
                &["checkout", "--quiet", "--force", "--detach", commit],
            )?;
            return Ok((path.clone(), false));
        }
        let path = kept.unwrap_or_else(|| {
            let path = self.root.join(side);
            self.worktrees.paths.push(path.clone());
            path
        });
        add_worktree(&repo, &path, commit)?;
        for missing in populate_submodules(&repo, &path, commit, options.require_submodules)? {
            if !self.missing_submodules.contains(&missing) {
                self.missing_submodules.push(missing);
            }
        }
        Ok((path, true))
    }

    /// Shell commands that enter a checkout of `commit` as `side` was
    /// built, one that outlasts the run: the working tree or the kept
    /// worktree itself, else a new worktree (the run removes its own).
    fn rebuild_checkout(&self, side: &str, commit: &str) -> String {
        let repo = &self.worktrees.repo;
        if commit == WORKING_TREE {
            return format!("cd {}", shell_quote(&repo.to_string_lossy()));
        }
        if let Some(kept) = &self.kept {
            return format!("cd {}", shell_quote(&kept.join(side).to_string_lossy()));
        }
        let fresh = std::env::temp_dir().join(format!("proflab-build-{}", short_sha(commit, 12)));
        let fresh = shell_quote(&fresh.to_string_lossy());
        format!(
            "git -C {} worktree add --detach {fresh} {commit} && cd {fresh}",
            shell_quote(&repo.to_string_lossy())
        )
    }
}

/// Where `track run` keeps its builds between runs unless told otherwise:
/// `.proflab/target` beside the default history, so the next run rebuilds
/// the crates that changed, not the registry's.
#[must_use]
pub fn default_target_dir(repo_root: &Path) -> PathBuf {
    repo_root.join(".proflab").join("target")
}

/// Creates the kept target folder `dir` if needed and locks it for this
/// run: `None` when another run holds it. Two runs building and relinking
/// in one folder would overwrite each other's executables between rounds
/// (Cargo's own lock covers its builds, not our relinks). A folder made
/// here gets a `.gitignore` of `*`, so the default inside `.proflab/` (or
/// any folder in the user's repository) stays out of `git status`.
fn lock_kept_target(dir: &Path) -> Result<Option<(PathBuf, std::fs::File)>, TrackError> {
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| TrackError::Write { path, source }
    };
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(write_error(dir))?;
        let ignore = dir.join(".gitignore");
        std::fs::write(&ignore, "*\n").map_err(write_error(&ignore))?;
    }
    let lock_path = dir.join("proflab-run.lock");
    let lock = std::fs::File::create(&lock_path).map_err(write_error(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => Ok(Some((dir.to_owned(), lock))),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(source)) => Err(TrackError::Write {
            path: lock_path,
            source,
        }),
    }
}

/// Builds both sides, each with the link recorder where layouts are to be
/// random, and refuses two toolchains unless the comparison allows
/// different machines. The first time, B's target folder starts as a copy
/// of A's, so the registry's crates build once, and B waits for A. Once B's
/// folder exists (a kept target folder from the second run on), the two
/// sides build at once: what each rebuilds is mostly the repository's own
/// crates, a chain of compiles that Cargo cannot spread over the cores.
fn build_sides(
    workspace: &mut Workspace,
    commits: &[String; 2],
    options: &PairedOptions,
    compare: &CompareOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<SideBuild>, TrackError> {
    // Never for the working tree: its files were written before A was
    // built, so Cargo would take A's copies for B's ([`Workspace::check_out`]).
    let seeded_from_a = !workspace.targets_root.join("b").exists() && commits[1] != WORKING_TREE;
    let a = prepare_side(workspace, "a", &commits[0], options, None, progress)?;
    let (a, b) = if seeded_from_a {
        let a = a.build(options)?;
        let b = prepare_side(
            workspace,
            "b",
            &commits[1],
            options,
            Some(&a.build.target),
            progress,
        )?;
        (a, b.build(options)?)
    } else {
        let b = prepare_side(workspace, "b", &commits[1], options, None, progress)?;
        let (a, b) = std::thread::scope(|scope| {
            let b = scope.spawn(|| b.build(options));
            let a = a.build(options);
            (a, b.join())
        });
        let b = b.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a?, b?)
    };
    if a.toolchain != b.toolchain && !compare.allow_different_machines {
        return Err(TrackError::DifferentMachines {
            a: a.toolchain,
            b: b.toolchain,
        });
    }
    Ok(vec![a.build, b.build])
}

/// One side checked out and ready to build: its target folder cleaned of
/// another checkout's builds, the link recorder in place.
struct PreparedSide {
    commit: String,
    worktree: PathBuf,
    target: PathBuf,
    recorder: Result<LinkRecorder, String>,
    /// The shell command that builds it again after the run ([`Workspace::rebuild_checkout`]).
    rebuild_checkout: String,
    toolchain: String,
}

/// A side built, and the toolchain that built it (`rustc -V`).
struct BuiltSide {
    build: SideBuild,
    toolchain: String,
}

/// Checks `commit` out for `side` and readies its target folder: a copy of
/// `seed` when given and the folder does not exist yet.
fn prepare_side(
    workspace: &mut Workspace,
    side: &str,
    commit: &str,
    options: &PairedOptions,
    seed: Option<&Path>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<PreparedSide, TrackError> {
    let (worktree, new_files) = workspace.check_out(side, commit, options)?;
    let toolchain = rustc_version(&worktree).map_err(|source| TrackError::Spawn {
        command: "rustc -V".to_owned(),
        source,
    })?;
    progress(Progress::Phase(&format!(
        "building {} ({})",
        short_sha(commit, 12),
        side.to_uppercase()
    )));
    // One target folder per side: the same package at two paths gets the
    // same binary name, so a single folder would hold only the last side built.
    let target = workspace.targets_root.join(side);
    if let Some(seed) = seed {
        seed_target(seed, &target);
    }
    clean_builds_of_other_checkouts(&worktree, &target, new_files, commit)?;
    // Recorded whatever the layouts: the build is then the same for
    // `--layouts fixed`, so one `--target-dir` serves both. The recorder's
    // path is part of every unit's fingerprint (Cargo passes the linker to
    // each rustc), so it is one path for both sides and every run.
    let recorder = LinkRecorder::install(
        &workspace.targets_root.join("proflab-linker"),
        &target.join("proflab-links"),
        &worktree,
    );
    Ok(PreparedSide {
        commit: commit.to_owned(),
        rebuild_checkout: workspace.rebuild_checkout(side, commit),
        worktree,
        target,
        recorder,
        toolchain,
    })
}

impl PreparedSide {
    fn build(self, options: &PairedOptions) -> Result<BuiltSide, TrackError> {
        let binaries = build_benches(
            &self.worktree,
            &self.target,
            options,
            self.recorder.as_ref().ok(),
            &self.commit,
            &self.rebuild_checkout,
        )?;
        record_built_from(&self.worktree, &self.target)?;
        let links = self.recorder.and_then(|recorder| {
            binaries
                .iter()
                .filter(|binary| !binary.ids.is_empty())
                .map(|binary| {
                    let command = recorder.command_of(&binary.executable)?;
                    Ok((binary.executable.clone(), command))
                })
                .collect()
        });
        Ok(BuiltSide {
            build: SideBuild {
                commit: self.commit,
                worktree: self.worktree,
                target: self.target,
                binaries,
                links,
            },
            toolchain: self.toolchain,
        })
    }
}

/// Fails fast: every benchmark once in Criterion's test mode, both sides,
/// before any round, so a bench that panics costs seconds, not the run. A
/// failure whose output names a path inside a submodule left out of the
/// worktrees says so.
fn smoke_test(
    sides: &[SideBuild],
    workspace: &Workspace,
    options: &PairedOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), TrackError> {
    for side in sides {
        progress(Progress::Phase(&format!(
            "smoke test {}",
            short_sha(&side.commit, 12)
        )));
        for binary in side.binaries.iter().filter(|b| !b.ids.is_empty()) {
            let mut cmd = bench_command(binary, &workspace.root.join("smoke"));
            cmd.arg("--test").args(options.filter.as_slice());
            run_checked(cmd, &side.commit).map_err(|failure| {
                let TrackError::BenchFailed { stderr, .. } = &failure else {
                    return failure;
                };
                match workspace
                    .missing_submodules
                    .iter()
                    .find(|missing| stderr.contains(&format!("{}/", missing.path)))
                {
                    Some(missing) => TrackError::BenchNeedsSubmodule {
                        path: missing.path.clone(),
                        commit: missing.commit.clone(),
                        failure: Box::new(failure),
                    },
                    None => failure,
                }
            })?;
        }
    }
    Ok(())
}

/// What the rounds measure and how.
struct RoundPlan {
    /// Every benchmark of either side, sorted.
    ids: Vec<String>,
    /// Those left out: their executable's code is identical on both sides.
    identical: Vec<String>,
    identical_measured_because: Option<String>,
    layouts: LayoutMode,
    seed: u64,
}

fn plan_rounds(
    repo: &Path,
    sides: &[SideBuild],
    options: &PairedOptions,
) -> Result<RoundPlan, TrackError> {
    let mut ids: Vec<String> = sides
        .iter()
        .flat_map(|side| &side.binaries)
        .flat_map(|binary| binary.ids.iter().cloned())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut identical = identical_code(&sides[0], &sides[1])?;
    let mut identical_measured_because = None;
    if !identical.is_empty() {
        let changed = changed_files(repo, &sides[0].commit, &sides[1].commit)?;
        let compiled: BTreeSet<String> = sides
            .iter()
            .flat_map(|side| compiled_sources(&side.target, &side.worktree))
            .collect();
        let read = changed.read_at_run_time(&compiled);
        if options.measure_identical {
            identical_measured_because = Some("--measure-identical".to_owned());
        } else if !read.is_empty() {
            identical_measured_because = Some(format!(
                "{} changed and a bench may read it while it runs",
                read.join(", ")
            ));
        }
        if identical_measured_because.is_some() {
            identical.clear();
        }
    }
    let layouts = match (&sides[0].links, &sides[1].links) {
        _ if !options.random_layouts => LayoutMode::Fixed("--layouts fixed".to_owned()),
        (Ok(_), Ok(_)) => LayoutMode::Random,
        (Err(reason), _) | (_, Err(reason)) => LayoutMode::Fixed(reason.clone()),
    };
    let seed = options.seed.unwrap_or_else(|| {
        use std::hash::{BuildHasher as _, Hasher as _};
        // A fresh SipHash key is the standard library's own random seed.
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    });
    ids.retain(|id| !identical.contains(id));
    Ok(RoundPlan {
        ids,
        identical,
        identical_measured_because,
        layouts,
        seed,
    })
}

/// The benchmarks of executables whose loaded code is the same on both sides
/// (matched by file name, with the same benchmarks).
fn identical_code(a: &SideBuild, b: &SideBuild) -> Result<Vec<String>, TrackError> {
    let mut identical = Vec::new();
    for binary in a.binaries.iter().filter(|binary| !binary.ids.is_empty()) {
        let name = binary.executable.file_name();
        let Some(other) = b
            .binaries
            .iter()
            .find(|other| other.executable.file_name() == name && other.ids == binary.ids)
        else {
            continue;
        };
        if LoadedCode::read(&binary.executable)? == LoadedCode::read(&other.executable)? {
            identical.extend(binary.ids.iter().cloned());
        }
    }
    identical.sort_unstable();
    Ok(identical)
}

/// The files that differ between the two sides: `git diff` between two
/// commits, or between a commit and the working tree with its untracked files.
fn changed_files(repo: &Path, a: &str, b: &str) -> Result<ChangedFiles, TrackError> {
    let listed = |args: &[&str]| -> Result<Vec<String>, TrackError> {
        Ok(git(repo, args)?
            .split('\0')
            .filter(|path| !path.is_empty())
            .map(str::to_owned)
            .collect())
    };
    let diff = ["diff", "--name-only", "--no-renames", "-z"];
    let paths = match (a == WORKING_TREE, b == WORKING_TREE) {
        (false, false) => listed(&[&diff[..], &[a, b]].concat())?,
        (true, true) => Vec::new(),
        (true, false) | (false, true) => {
            let commit = if a == WORKING_TREE { b } else { a };
            let mut paths = listed(&[&diff[..], &[commit]].concat())?;
            paths.extend(listed(&[
                "ls-files",
                "--others",
                "--exclude-standard",
                "-z",
            ])?);
            paths
        }
    };
    Ok(ChangedFiles::new(paths))
}

/// The rounds of one batch and what they have measured so far.
struct Rounds<'run> {
    sides: &'run [SideBuild],
    /// Where the rounds run, recorded with each of them.
    machine: &'run Machine,
    plan: &'run RoundPlan,
    options: &'run PairedOptions,
    root: &'run Path,
    started: Instant,
    batch: i64,
    rounds_run: BTreeMap<String, usize>,
    /// Wall-clock seconds of each benchmark's pairs so far, both processes.
    pair_seconds: BTreeMap<String, f64>,
    /// Executables relinked with a new layout, each side.
    layouts_sampled: [usize; 2],
    link_time: Duration,
    /// Rounds recorded in the batch so far.
    rounds_recorded: i64,
    /// Whether a process that ran far longer than asked was reported.
    overrun_said: bool,
}

impl Rounds<'_> {
    /// Measures round after round until no benchmark wants another (or the
    /// budget is spent: then `Ok(true)`), recording each round in `history`.
    fn measure(
        &mut self,
        compare: &CompareOptions,
        history: &mut History,
        context: &dyn Fn(&String) -> RunContext,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<bool, TrackError> {
        let mut active: Vec<&str> = self.plan.ids.iter().map(String::as_str).collect();
        let mut round: i64 = 0;
        while !active.is_empty() {
            round += 1;
            progress(Progress::Round {
                round,
                benchmarks: active.len(),
                time_left: self.time_left(),
            });
            let outputs = ["a", "b"].map(|side| self.root.join(format!("round-{round}-{side}")));
            let executables = self.root.join(format!("round-{round}-executables"));
            let budget_exhausted =
                self.run_round(round, &active, &outputs, &executables, progress)?;
            for (side, (build, output)) in self.sides.iter().zip(&outputs).enumerate() {
                let home = output.join("criterion");
                if !home.is_dir() {
                    continue;
                }
                let benches = import_criterion_dir(&home)?;
                let slot = BatchSlot {
                    batch: self.batch,
                    round,
                    side: if side == 0 { Side::A } else { Side::B },
                };
                history.record_round(slot, &context(&build.commit), self.machine, &benches)?;
            }
            self.rounds_recorded = round;
            // Best effort: the temporary folder's guard removes whatever is left.
            let _ = std::fs::remove_dir_all(&executables);
            if budget_exhausted {
                return Ok(true);
            }
            if round < self.options.min_rounds as i64 {
                continue;
            }
            // Judge what is there; keep measuring only what is not yet decided
            // and could still be within the rounds left. Every benchmark is a
            // candidate again, not only those measured this round: its verdict
            // rests on the others' rounds too (the moderation's prior, the
            // correction over all benchmarks), so one that stopped as a change
            // can be short of it once the others are measured further (a +5%
            // stopped flagged on five rounds, then read 1.034 [1.019, 1.050]).
            let report = compare_paired(&history.paired_series(self.batch)?, compare);
            let time_left = self.time_left();
            let candidates: Vec<Candidate<'_>> = report
                .benchmarks
                .iter()
                .map(|comparison| {
                    let rounds_run = self.rounds_run.get(&comparison.id).copied().unwrap_or(0);
                    Candidate {
                        comparison,
                        rounds_run,
                        seconds_a_round: self
                            .pair_seconds
                            .get(&comparison.id)
                            .copied()
                            .unwrap_or(0.0)
                            / rounds_run.max(1) as f64,
                    }
                })
                .collect();
            let undecided = next_round(&candidates, time_left, self.options, compare);
            active = self
                .plan
                .ids
                .iter()
                .map(String::as_str)
                .filter(|id| undecided.contains(id))
                .collect();
        }
        Ok(false)
    }

    /// What is left of the budget, if there is one.
    fn time_left(&self) -> Option<Duration> {
        self.options
            .budget
            .map(|budget| budget.saturating_sub(self.started.elapsed()))
    }

    /// One round: each `active` benchmark once on each side, A B or B A by
    /// turns, from executables laid out for this round. `Ok(true)` when the
    /// budget ran out before every benchmark was measured.
    fn run_round(
        &mut self,
        round: i64,
        active: &[&str],
        outputs: &[PathBuf; 2],
        executables: &Path,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<bool, TrackError> {
        let mut round_binaries = Vec::new();
        for (side, build) in self.sides.iter().enumerate() {
            round_binaries.push(self.lay_out(side, build, round, active, executables)?);
        }
        for (index, id) in active.iter().enumerate() {
            if self
                .options
                .budget
                .is_some_and(|budget| self.started.elapsed() >= budget)
            {
                return Ok(true);
            }
            progress(Progress::Pair {
                done: index,
                of: active.len(),
                id,
            });
            let pair_started = Instant::now();
            let pairs_run = self.rounds_run.get(*id).copied().unwrap_or(0);
            let order = if pairs_run.is_multiple_of(2) {
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
                    cmd.env(
                        ENVIRONMENT_PADDING,
                        environment_padding(self.plan.seed, round, side, id),
                    )
                    .args(criterion_flags(self.options, binary.dialect))
                    .args(binary.dialect.select(id));
                    let process_started = Instant::now();
                    let finished = run_checked(cmd, &self.sides[side].commit)?;
                    if !self.overrun_said
                        && let Some(notice) = overrun_notice(
                            id,
                            process_started.elapsed(),
                            asked_seconds(self.options, binary.dialect),
                            &finished.stderr,
                            active.len(),
                            self.time_left(),
                        )
                    {
                        self.overrun_said = true;
                        progress(Progress::Notice(&notice));
                    }
                }
            }
            *self.rounds_run.entry((*id).to_owned()).or_default() += 1;
            *self.pair_seconds.entry((*id).to_owned()).or_default() +=
                pair_started.elapsed().as_secs_f64();
        }
        Ok(false)
    }

    /// `build`'s binaries for one round, those that run benchmarks of
    /// `active` in fresh files under `executables/<side>`: relinked with
    /// this round's layout where layouts are random, copied otherwise
    /// ([`fresh_copies`]).
    fn lay_out(
        &mut self,
        side: usize,
        build: &SideBuild,
        round: i64,
        active: &[&str],
        executables: &Path,
    ) -> Result<Vec<BenchBinary>, TrackError> {
        let dir = executables.join(["a", "b"][side]);
        let (LayoutMode::Random, Ok(links)) = (&self.plan.layouts, &build.links) else {
            return fresh_copies(&build.binaries, active, &dir);
        };
        std::fs::create_dir_all(&dir).map_err(|source| TrackError::Io {
            path: dir.clone(),
            source,
        })?;
        let seed = layout_seed(self.plan.seed, round, side);
        let mut binaries = build.binaries.clone();
        for binary in &mut binaries {
            let Some(link) = links.get(&binary.executable) else {
                continue;
            };
            if !binary.ids.iter().any(|id| active.contains(&id.as_str())) {
                continue;
            }
            let relinked = dir.join(binary.executable.file_name().unwrap_or_default());
            self.link_time += link.link(&relinked, Some(seed))?;
            self.layouts_sampled[side] += 1;
            binary.executable = relinked;
        }
        Ok(binaries)
    }
}

/// How much longer than Criterion's warm-up and measurement time a
/// benchmark process may run before it is said to set its own times:
/// beyond the times asked, a process starts, analyses its samples
/// (Criterion's bootstrap) and writes its files, under a second in all
/// for this repository's benches at the defaults, even on a busy machine.
const OVERRUN_FACTOR: f64 = 3.0;
const OVERRUN_SLACK_SECONDS: f64 = 2.0;

/// The notice for benchmark `id`'s process when it took `took`, far
/// longer than the `asked` seconds of `--warm-up` + `--measurement`: why
/// (Criterion's own warning in `stderr` when an iteration is too slow for
/// the sample size, else times set in the bench's code, as base64's
/// groups set `measurement_time(3 s)`), and what it costs a round of the
/// `benchmarks` and the budget (`time_left`). `None` when it did not.
fn overrun_notice(
    id: &str,
    took: Duration,
    asked: f64,
    stderr: &str,
    benchmarks: usize,
    time_left: Option<Duration>,
) -> Option<String> {
    let took = took.as_secs_f64();
    if took <= asked * OVERRUN_FACTOR + OVERRUN_SLACK_SECONDS {
        return None;
    }
    let why = match stderr
        .lines()
        .find(|line| line.contains("Unable to complete"))
    {
        Some(warning) => format!(
            "an iteration is too slow for Criterion's sample size, so it measured longer \
             (\"{}\"); fewer samples shorten it: --criterion-arg=--sample-size \
             --criterion-arg=10",
            warning.trim()
        ),
        None => "the bench sets its own times in code (Criterion's `warm_up_time`, \
                 `measurement_time` or `sample_size`, which override the command line), so \
                 --warm-up and --measurement cannot shorten it"
            .to_owned(),
    };
    // Both sides, every benchmark of the round, if the others take as long.
    let round = took * 2.0 * benchmarks as f64;
    let budget = match time_left {
        Some(left) => format!(
            "; the {:.0} s left of the budget buy about {} such rounds",
            left.as_secs_f64(),
            (left.as_secs_f64() / round).floor()
        ),
        None => String::new(),
    };
    Some(format!(
        "`{id}` ran {took:.1} s in one process where --warm-up + --measurement ask for \
         {asked:.2} s: {why}. At that pace a round of {benchmarks} benchmark(s) takes about \
         {round:.0} s{budget}."
    ))
}

/// The environment variable whose random length moves the stack's start
/// from process to process: the kernel copies the environment to the top
/// of the stack, so every frame below it moves by as many bytes.
const ENVIRONMENT_PADDING: &str = "PROFLAB_ENVIRONMENT_PADDING";

/// The padding one benchmark process gets: 0 to 4095 bytes (a page, so that
/// every offset of the stack within its page is reached), drawn from the
/// batch's seed, the round, the side and the benchmark, so that it is
/// recorded by the seed alone.
fn environment_padding(seed: u64, round: i64, side: usize, id: &str) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (seed, round, side, id).hash(&mut hasher);
    // 4096 divides 2^64: every length is equally likely.
    let length = Pcg64::seed_from_u64(hasher.finish()).next_u64() % 4096;
    "x".repeat(length as usize)
}

/// The layout seed of one side's executables in one round.
fn layout_seed(seed: u64, round: i64, side: usize) -> u64 {
    let stream = (round as u64) << 1 | side as u64;
    Pcg64::new(u128::from(seed), u128::from(stream)).next_u64()
}

/// Counts do not drift: one run per side, recorded as round 0 of the batch.
fn count_instructions(
    sides: &[SideBuild],
    machine: &Machine,
    options: &PairedOptions,
    history: &mut History,
    batch: i64,
    context: &dyn Fn(&String) -> RunContext,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), TrackError> {
    for (side, build) in sides.iter().enumerate() {
        let counters: Vec<&BenchBinary> = build
            .binaries
            .iter()
            .filter(|binary| binary.counts_instructions)
            .collect();
        if counters.is_empty() {
            continue;
        }
        progress(Progress::Phase(&format!(
            "instruction counts: {}",
            short_sha(&build.commit, 12)
        )));
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
        history.record_round(slot, &context(&build.commit), machine, &counts)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{default_target_dir, lock_kept_target};

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?} failed");
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn the_kept_target_folder_stays_out_of_git_and_serves_one_run_at_a_time() {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        let dir = default_target_dir(repo.path());
        let (locked_dir, first) = lock_kept_target(&dir).unwrap().unwrap();
        assert_eq!(locked_dir, dir);
        std::fs::create_dir_all(dir.join("a/release")).unwrap();
        std::fs::write(dir.join("a/release/bench"), "built").unwrap();
        assert_eq!(git(repo.path(), &["status", "--porcelain"]), "");
        // A second run finds it held, and is told so (it then builds elsewhere).
        assert!(lock_kept_target(&dir).unwrap().is_none());
        drop(first);
        assert!(lock_kept_target(&dir).unwrap().is_some());
        // A path that cannot be a folder is an error naming it, not a panic.
        let file = repo.path().join("plain-file");
        std::fs::write(&file, "").unwrap();
        let error = lock_kept_target(&file.join("target")).unwrap_err();
        assert!(error.to_string().contains("plain-file"), "{error}");
    }
}
