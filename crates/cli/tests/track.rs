//! `proflab track` run as a user would: in a git checkout, on Criterion output.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt as _;

mod common;
use common::{commit_empty, git};

/// The full SHA git gives `rev` in `dir`.
fn rev_parse(dir: &Path, rev: &str) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", rev])
        .output()
        .unwrap();
    assert!(out.status.success(), "git rev-parse {rev}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A checkout with one commit; returns its directory.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    commit_empty(dir.path(), "one");
    dir
}

/// Writes a minimal Criterion tree: `benches` benchmarks, the first one `slowdown` times slower.
fn criterion_tree(root: &Path, benches: usize, slowdown: f64) {
    for b in 0..benches {
        let id = format!("g/f{b}");
        let new = root.join(&id).join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            format!(r#"{{"full_id":"{id}"}}"#),
        )
        .unwrap();
        let factor = if b == 0 { slowdown } else { 1.0 };
        let iters: Vec<f64> = (1..=50).map(|i| i as f64).collect();
        let times: Vec<f64> = iters
            .iter()
            .map(|n| n * 100.0 * factor * (1.0 + 0.01 * ((n * 7.0) % 5.0)))
            .collect();
        std::fs::write(
            new.join("sample.json"),
            serde_json::json!({"iters": iters, "times": times}).to_string(),
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"mean":{"point_estimate":100.0}}"#,
        )
        .unwrap();
    }
}

fn proflab(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("proflab").unwrap();
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

fn record(dir: &Path, criterion: &Path) -> std::process::Output {
    proflab(dir)
        .args(["track", "record", "--criterion-dir"])
        .arg(criterion)
        .output()
        .unwrap()
}

#[test]
fn concurrent_records_lose_no_rows() {
    let repo = repo();
    let criterion = repo.path().join("crit");
    criterion_tree(&criterion, 30, 1.0);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (dir, crit) = (repo.path().to_owned(), criterion.clone());
            std::thread::spawn(move || {
                for _ in 0..8 {
                    let out = record(&dir, &crit);
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let out = proflab(repo.path())
        .args(["track", "history", "--json"])
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 16);
    assert!(runs.iter().all(|r| r["benchmarks"] == 30), "{runs:?}");
    assert!(
        repo.path().join(".proflab/history.sqlite").is_file(),
        "default path"
    );
}

#[test]
fn ci_gate_exit_codes() {
    let repo = repo();
    let (before, after) = (repo.path().join("before"), repo.path().join("after"));
    criterion_tree(&before, 5, 1.0);
    criterion_tree(&after, 5, 1.10);
    assert!(record(repo.path(), &before).status.success());
    commit_empty(repo.path(), "two");
    assert!(record(repo.path(), &after).status.success());

    let out = proflab(repo.path())
        .args(["track", "compare", "HEAD~1", "no-such-ref"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`no-such-ref`"));
    let out = proflab(repo.path())
        .args(["track", "compare", "HEAD~1", "HEAD", "--fail-on-regression"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "git revisions resolve to recorded runs"
    );

    let (a, b) = (
        rev_parse(repo.path(), "HEAD~1"),
        rev_parse(repo.path(), "HEAD"),
    );
    let out = proflab(repo.path())
        .args(["track", "compare", &a[..8], &b[..8], "--fail-on-regression"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("g/f0 ") && l.ends_with("regressed")),
        "{table}"
    );
    assert_eq!(table.matches("unchanged").count(), 4, "{table}");
    assert!(!table.contains('\x1b'), "no color when piped");

    let out = proflab(repo.path())
        .args(["track", "compare", &a, &a, "--fail-on-regression"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// A checkout whose two commits are recorded, the second with `g/f0` 10% slower.
fn two_recorded_commits() -> tempfile::TempDir {
    let repo = repo();
    let (before, after) = (repo.path().join("before"), repo.path().join("after"));
    criterion_tree(&before, 5, 1.0);
    criterion_tree(&after, 5, 1.10);
    assert!(record(repo.path(), &before).status.success());
    commit_empty(repo.path(), "two");
    assert!(record(repo.path(), &after).status.success());
    repo
}

/// Writes one bench target's instruction report, as `proflab-callgrind` does.
fn instruction_report(dir: &Path, counts: &[(&str, u64)]) {
    std::fs::create_dir_all(dir).unwrap();
    let benchmarks: Vec<_> = counts
        .iter()
        .map(|(id, n)| serde_json::json!({"id": id, "instructions": n}))
        .collect();
    std::fs::write(
        dir.join("counts.json"),
        serde_json::json!({"format": "proflab-instructions/1", "benchmarks": benchmarks})
            .to_string(),
    )
    .unwrap();
}

#[test]
fn instruction_counts_are_a_second_metric() {
    let repo = repo();
    let record_counts = |counts: &[(&str, u64)], criterion: &str| {
        let instructions = repo.path().join("instructions");
        instruction_report(&instructions, counts);
        proflab(repo.path())
            .args([
                "track",
                "record",
                "--criterion-dir",
                criterion,
                "--instructions-dir",
            ])
            .arg(&instructions)
            .output()
            .unwrap()
    };
    criterion_tree(&repo.path().join("crit"), 2, 1.0);
    let out = record_counts(&[("steps/a", 1000), ("steps/b", 50_000)], "crit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("4 benchmarks (2 instruction counts)"));
    commit_empty(repo.path(), "two");
    // Counts alone, without any Criterion folder, are a complete record.
    let out = record_counts(&[("steps/a", 1000), ("steps/b", 52_000)], "no-such-dir");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = proflab(repo.path())
        .args(["track", "compare", "HEAD~1", "HEAD", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["benchmarks"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "only what both commits have: {rows:?}");
    let row = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap();
    let b = row("counts/steps/b");
    assert_eq!(b["metric"], "instructions");
    assert!((b["ratio"].as_f64().unwrap() - 1.04).abs() < 1e-12, "{b}");
    assert_eq!(
        b["verdict"], "regressed",
        "a 4% count change is exact, not noise"
    );
    assert_eq!(row("counts/steps/a")["verdict"], "unchanged");
    let table = proflab(repo.path())
        .args(["track", "compare", "HEAD~1", "HEAD"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("50.00 KIr"));

    // A corrupt report is named, and nothing is recorded.
    std::fs::write(repo.path().join("instructions/counts.json"), "{\"format\":").unwrap();
    let out = proflab(repo.path())
        .args(["track", "record", "--instructions-dir", "instructions"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("counts.json"));
    let history = proflab(repo.path())
        .args(["track", "history", "--json"])
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 2);
}

/// A checkout of the sensitivity script's template crate (ten Criterion
/// benchmarks) plus a `proflab-callgrind` target counting `work/00`, with two
/// commits of the same code.
fn template_repo() -> tempfile::TempDir {
    let repo = repo();
    let template =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/track-sensitivity-template");
    for file in ["Cargo.toml", "src/lib.rs", "benches/suite.rs"] {
        let to = repo.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(template.join(file), to).unwrap();
    }
    let callgrind = Path::new(env!("CARGO_MANIFEST_DIR")).join("../callgrind");
    let mut manifest = std::fs::read_to_string(repo.path().join("Cargo.toml")).unwrap();
    // The fixture's own code at opt-level 1: `work/00` runs as fast as at
    // opt-level 3 (316 ns against 313 ns, AMD EPYC VM), and its library
    // and three benches build in 2.1 s instead of 4.3 s. Not 0: its
    // loop then keeps its state on the stack, and the environment padding
    // moved its time by up to 30% from process to process. Criterion and
    // the other dependencies at opt-level 0: most of what a process runs of them
    // (the timing loop, the analysis) is generic and compiled into the
    // benches at their level, and with `--nresamples 1001` the analysis is
    // a fraction of a process either way. Their first build (once per
    // fresh clone) went from about 56 s to 32 s (AMD EPYC VM, quiet).
    manifest.push_str(&format!(
        "\n[dev-dependencies.proflab-callgrind]\npath = {:?}\n\n[[bench]]\nname = \"counts\"\nharness = false\n\n\
         [[bench]]\nname = \"spoiled\"\nharness = false\n\n\
         [profile.bench.package.sensitivity-suite]\nopt-level = 1\n\n\
         [profile.bench.package.\"*\"]\nopt-level = 0\n",
        callgrind.canonicalize().unwrap()
    ));
    // One process of `spoiled/00` runs three times slower for its whole measurement: the
    // first measured one (`--exact`) to create the file `$SPOIL_ONCE`. With
    // `BREAK_BENCH` it panics; with `NEED_FILE` it needs that file (relative
    // to the package, as `cargo bench` runs it); with `CHECK_ALIGNED` it
    // panics unless three of its functions start on a 64-byte boundary; with
    // `OWN_MEASUREMENT` it sets its own measurement time (seconds), as
    // base64's groups do, overriding `--measurement`.
    std::fs::write(
        repo.path().join("benches/spoiled.rs"),
        "use criterion::{Criterion, criterion_group, criterion_main};\n\
         fn spoiled(c: &mut Criterion) {\n    \
         let mut group = c.benchmark_group(\"spoiled\");\n    \
         if let Some(seconds) = std::env::var_os(\"OWN_MEASUREMENT\") {\n        \
         group.measurement_time(std::time::Duration::from_secs_f64(seconds.to_str().unwrap().parse().unwrap()));\n    }\n    \
         let measured = std::env::args().any(|a| a == \"--exact\");\n    \
         let slow = measured && std::env::var_os(\"SPOIL_ONCE\").is_some_and(|path| {\n        \
         std::fs::OpenOptions::new().write(true).create_new(true).open(path).is_ok()\n    });\n    \
         let steps: u64 = if slow { 6000 } else { 2000 };\n    \
         group.bench_function(\"00\", |b| {\n        \
         if std::env::var_os(\"BREAK_BENCH\").is_some() { panic!(\"data/input.bin is missing\") }\n        \
         if let Some(data) = std::env::var_os(\"NEED_FILE\") { assert!(std::path::Path::new(&data).exists(), \"{data:?} is missing\") }\n        \
         if std::env::var_os(\"CHECK_ALIGNED\").is_some() {\n            \
         let starts = [spoiled as fn(&mut Criterion) as usize, sensitivity_suite::work as fn(u64, u64) -> u64 as usize, main as fn() as usize];\n            \
         assert!(starts.iter().all(|start| start % 64 == 0), \"functions start at {starts:x?}\")\n        }\n        \
         b.iter(|| sensitivity_suite::work(std::hint::black_box(steps), 0))\n    });\n    \
         group.finish();\n}\n\
         criterion_group!(benches, spoiled);\ncriterion_main!(benches);\n",
    )
    .unwrap();
    std::fs::write(repo.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::write(
        repo.path().join("benches/counts.rs"),
        "fn main() -> std::process::ExitCode {\n    let mut harness = proflab_callgrind::Harness::new();\n    \
         harness.bench(\"work/00\", || sensitivity_suite::work(std::hint::black_box(2000), 0));\n    \
         harness.main()\n}\n",
    )
    .unwrap();
    std::fs::write(
        repo.path().join("Cargo.lock"),
        TEMPLATE_LOCKFILE.get_or_init(|| {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(repo.path())
                .args(["generate-lockfile", "--quiet"])
                .status()
                .unwrap();
            assert!(status.success(), "cargo generate-lockfile");
            std::fs::read_to_string(repo.path().join("Cargo.lock")).unwrap()
        }),
    )
    .unwrap();
    git(repo.path(), &["add", "-A"]);
    commit_empty(repo.path(), "A");
    commit_empty(repo.path(), "B");
    repo
}

/// The template's `Cargo.lock`, resolved once per test binary and committed
/// in every template checkout, as an application's is: without one, Cargo
/// resolved the dependencies again at each side's build of each run, about
/// 0.35 s of a 2-3 s build (AMD EPYC VM).
static TEMPLATE_LOCKFILE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Gives the template's `work/00` `percent`% more work, in `repo`'s
/// working tree (its `SLOWDOWN_PERCENT` table, as the sensitivity script
/// edits it).
fn slow_down_work_00(repo: &Path, percent: u64) {
    let lib = repo.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let slowed = source.replacen(
        "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
        &format!("[{percent}, 0, 0, 0, 0, 0, 0, 0, 0, 0]"),
        1,
    );
    assert_ne!(slowed, source, "the template's SLOWDOWN_PERCENT table");
    std::fs::write(&lib, slowed).unwrap();
}

/// Held by each test that runs `quick_track`: they share its target folder,
/// and two runs writing one Criterion folder at once would read each other's files.
static TARGET_FOLDER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `proflab track ARGS` (a `run` or `bisect`) on quick Criterion settings,
/// printing JSON; one target folder under Cargo's test folder, shared by
/// every test (holding [`TARGET_FOLDER`]) and kept between test runs, so
/// Criterion builds once per side, not every time.
fn quick_track(repo: &Path, args: &[&str]) -> Command {
    let mut cmd = proflab(repo);
    // The template's two commits hold the same code, and these tests are
    // about the rounds: measured all the same.
    cmd.arg("track")
        .args(args)
        .args(["--measure-identical", "--json", "--target-dir"])
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("track-run"))
        .args(["--warm-up", "0.05", "--measurement", "0.1"])
        .args(["--criterion-arg=--sample-size", "--criterion-arg=10"]);
    cmd
}

/// `track run HEAD~1 HEAD` with `rounds` rounds of the benchmarks `filter`
/// selects in the bench target `bench`: building only that one of the
/// template's three saves two bench executables a side, each run.
fn paired_run(repo: &Path, rounds: &str, bench: &str, filter: &str) -> Command {
    quick_track(
        repo,
        &[
            "run",
            "HEAD~1",
            "HEAD",
            "--min-rounds",
            rounds,
            "--max-rounds",
            rounds,
            "--bench",
            bench,
            "--filter",
            filter,
        ],
    )
}

fn worktree_count(repo: &Path) -> usize {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["worktree", "list"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// `track run` end to end: two commits, three rounds of two benchmarks,
/// worktrees gone afterwards.
#[test]
fn paired_run_records_rounds_and_leaves_no_worktree() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Every bench target, as without `--bench`.
    let out = quick_track(
        repo.path(),
        &[
            "run",
            "HEAD~1",
            "HEAD",
            "--min-rounds",
            "3",
            "--max-rounds",
            "3",
            "--filter",
            "work/00",
        ],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Piped stderr is no terminal: a plain line as each phase and round begins.
    for line in [
        "] building ",
        "] smoke test ",
        "] round 1: 1 benchmark(s) left, ",
        " s of the budget left\n",
        "] round 3: 1 benchmark(s) left, ",
        "] instruction counts: ",
    ] {
        assert!(stderr.contains(line), "{line:?} in {stderr}");
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["benchmarks"].as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["counts/work/00", "work/00"]);
    // Each round a line of 80 columns at most, naming its batch by short SHAs.
    let table = proflab(repo.path())
        .args(["track", "history"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    let batch = format!(
        "#1 {}..{}",
        &rev_parse(repo.path(), "HEAD~1")[..8],
        &rev_parse(repo.path(), "HEAD")[..8]
    );
    let lines: Vec<&str> = table.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 9, "a header and eight runs: {table}");
    assert!(
        lines[1..].iter().all(|l| l.contains(&batch)) && lines.iter().all(|l| l.len() <= 80),
        "{table}"
    );
    assert_eq!(rows[0]["metric"], "instructions");
    assert_eq!(rows[0]["ratio"], 1.0, "the same code counts the same");
    let history = proflab(repo.path())
        .args(["track", "history", "--json"])
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(
        runs.as_array().unwrap().len(),
        8,
        "three timed rounds and one count a side"
    );
    assert_eq!(worktree_count(repo.path()), 1);
}

/// Relative `--worktree-dir` and `--target-dir` mean the caller's folder,
/// though git and cargo run in others (the repository, each worktree).
#[test]
fn relative_folders_are_the_callers() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let caller = repo.path().join("scratch");
    std::fs::create_dir(&caller).unwrap();
    let out = paired_run(repo.path(), "2", "suite", "^work/00$")
        .current_dir(&caller)
        .args(["--worktree-dir", "kept"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for side in ["a", "b"] {
        assert!(
            caller.join("kept").join(side).join(".git").exists(),
            "{side}"
        );
    }
    assert!(!repo.path().join("kept").exists());
}

/// Both sides are built with every function on a 64-byte boundary, so a
/// change to one function leaves the others' layout as it was. Three
/// functions of rustc's usual 16-byte alignment would all pass by chance
/// one time in 64.
#[test]
fn functions_are_built_aligned() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let out = paired_run(repo.path(), "2", "spoiled", "^spoiled/00$")
        .env("CHECK_ALIGNED", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
}

/// One benchmark process of one round runs slow (as 12 of 140 did on a busy
/// machine, by 15-58%): the round is set aside and measured again, and the
/// verdict and interval are those of the clean rounds. The slow process runs
/// three times slower: under CI's load (other tests compiling beside it) a
/// 50% slow one was once not an outlier among rounds that were themselves
/// 5-10% apart, and was kept.
#[test]
fn a_spoiled_round_is_set_aside_and_measured_again() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let marker = repo.path().join("spoiled-once");
    let out = quick_track(
        repo.path(),
        &[
            "run",
            "HEAD~1",
            "HEAD",
            // Five rounds at least: from three on, a benchmark whose one spoiled
            // round was not yet recognised can be given up on as "unchanged"
            // with a wide interval (seen once in CI); this tests the setting aside.
            "--min-rounds",
            "5",
            "--max-rounds",
            "8",
            "--filter",
            "^(work/0[0-3]|spoiled/00)$",
            "--bench",
            "suite",
            "--bench",
            "spoiled",
        ],
    )
    .env("SPOIL_ONCE", &marker)
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(marker.exists(), "one process ran slow");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |report: &serde_json::Value| {
        report["benchmarks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "spoiled/00")
            .cloned()
            .unwrap()
    };
    let spoiled = row(&report);
    // At least the spoiled round; on a busy machine another tenant may spoil more.
    assert!(spoiled["set_aside"].as_u64().unwrap() >= 1, "{spoiled}");
    assert!(
        spoiled["rounds"].as_u64().unwrap() >= 3,
        "measured again: {spoiled}"
    );
    // The clean rounds judge the same code alike: no flag, a ratio near 1.
    // Whether four clean rounds of 0.1 s also rule out 1% is the machine's
    // noise, not the setting aside: quiet, on an AMD EPYC VM beside the
    // other tests, they read 0.994 [0.925, 1.069], "inconclusive".
    assert!(
        ["unchanged", "inconclusive"].contains(&spoiled["verdict"].as_str().unwrap()),
        "{spoiled}"
    );
    assert!(
        (0.95..1.05).contains(&spoiled["ratio"].as_f64().unwrap()),
        "{spoiled}"
    );
    let width =
        |r: &serde_json::Value| r["ci_high"].as_f64().unwrap() - r["ci_low"].as_f64().unwrap();
    // The same batch with the spoiled round kept: the interval is far wider.
    let kept = proflab(repo.path())
        .args([
            "track",
            "compare",
            "HEAD~1",
            "HEAD",
            "--json",
            "--keep-outliers",
        ])
        .output()
        .unwrap();
    let kept = row(&serde_json::from_slice(&kept.stdout).unwrap());
    assert!(
        width(&kept) > 2.0 * width(&spoiled),
        "kept {kept}, set aside {spoiled}"
    );
    assert_eq!(worktree_count(repo.path()), 1);
}

/// A bench that panics fails the run before any round, saying why.
#[test]
fn a_failing_bench_fails_fast_with_its_stderr() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let out = paired_run(repo.path(), "3", "spoiled", "spoiled")
        .env("BREAK_BENCH", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("failed in the worktree of"), "{stderr}");
    assert!(
        stderr.contains("data/input.bin is missing"),
        "the bench's own words: {stderr}"
    );
    assert!(
        stderr.contains("--test"),
        "the smoke test, before any round: {stderr}"
    );
    assert_eq!(worktree_count(repo.path()), 1);
    let history = proflab(repo.path())
        .args(["track", "history", "--json"])
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 0, "nothing recorded");
}

/// A foreign crate's first run. An older commit's `#![deny(warnings)]` meets
/// a lint of today's rustc: built all the same (`--cap-lints=warn`, which
/// changes no code). A commit that does not compile fails the run with the
/// compiler's first error, its file and line, and a command that builds it
/// again in a checkout of its own (the run's worktrees are gone by then).
#[test]
fn lints_stop_no_build_and_a_failed_build_can_be_rerun() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let tmp = tempfile::tempdir().unwrap();
    let lib = repo.path().join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        format!("#![deny(warnings)]\n{source}\nfn never_called() {{}}\n"),
    )
    .unwrap();
    git(repo.path(), &["add", "-A"]);
    commit_empty(repo.path(), "denies warnings, and has one");
    std::fs::write(
        &lib,
        format!("{source}\npub fn broken() -> u64 {{\n    \"not a number\"\n}}\n"),
    )
    .unwrap();
    git(repo.path(), &["add", "-A"]);
    commit_empty(repo.path(), "does not compile");
    let broken = rev_parse(repo.path(), "HEAD");
    let out = paired_run(repo.path(), "2", "spoiled", "spoiled")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("building {broken} failed"))
            && stderr.contains("mismatched types")
            && stderr.contains("--> src/lib.rs:"),
        "B's error with its file and line, A built: {stderr}"
    );
    let rebuild = stderr
        .lines()
        .find_map(|line| line.strip_prefix("to build it again: "))
        .unwrap_or_else(|| panic!("no command to build again: {stderr}"));
    let steps: Vec<&str> = rebuild.split(" && ").collect();
    assert!(
        steps.len() == 3
            && steps[1].starts_with("cd ")
            && steps[2].starts_with("cargo bench --no-run --bench spoiled")
            && steps[2].contains("--cap-lints=warn"),
        "{rebuild}"
    );
    // Its checkout step works after the run, and checks out B.
    let checkout = Command::new("sh")
        .args(["-c", &format!("{} && {}", steps[0], steps[1])])
        .output()
        .unwrap();
    assert!(
        checkout.status.success(),
        "{rebuild}: {}",
        String::from_utf8_lossy(&checkout.stderr)
    );
    let checked_out = tmp.path().join(format!("proflab-build-{}", &broken[..12]));
    assert!(
        std::fs::read_to_string(checked_out.join("src/lib.rs"))
            .unwrap()
            .contains("not a number")
    );
    git(
        repo.path(),
        &[
            "worktree",
            "remove",
            "--force",
            &checked_out.to_string_lossy(),
        ],
    );
    assert_eq!(worktree_count(repo.path()), 1);
}

/// A bench that sets its own measurement time in code (base64's groups set
/// 3 s) runs far longer than `--warm-up` + `--measurement` ask: said once,
/// with why and what it costs the budget.
#[test]
fn a_bench_that_sets_its_own_times_is_named_once() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let out = paired_run(repo.path(), "2", "spoiled", "spoiled")
        .env("OWN_MEASUREMENT", "3")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("note: ").count(), 1, "once: {stderr}");
    assert!(
        stderr.contains("note: `spoiled/00` ran ")
            && stderr.contains("ask for 0.15 s: the bench sets its own times in code")
            && stderr.contains("s left of the budget buy about "),
        "{stderr}"
    );
}

/// Ctrl-C in the middle of the rounds: the run stops with an error and takes
/// its worktrees with it, exiting 130 as a shell reports SIGINT.
#[test]
fn interrupted_run_leaves_no_worktree() {
    interrupt_run_with("INT", 130);
}

/// SIGTERM, what CI job timeouts send, and SIGHUP, a closed terminal: the
/// same, each with its own exit code (128 + the signal's number).
#[test]
fn terminated_run_leaves_no_worktree() {
    interrupt_run_with("TERM", 143);
    interrupt_run_with("HUP", 129);
}

fn interrupt_run_with(signal: &str, exit_code: i32) {
    let repo = template_repo();
    // The run's temporary folder goes here, to check that it is removed.
    let tmp = tempfile::tempdir().unwrap();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut child = paired_run(repo.path(), "50", "suite", "work/0")
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The signal comes once the rounds have begun, read off the run's
    // progress lines as they come (a fixed wait was either too short on a
    // busy machine or idle time on a quiet one).
    let (lines, progress) = std::sync::mpsc::channel();
    let pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(pipe)).map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match progress.recv_timeout(left) {
            Ok(line) if line.contains("] round 1:") => break,
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                panic!("the rounds never began: {}", reader.join().unwrap());
            }
        }
    }
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert_eq!(exit.code(), Some(exit_code), "{stderr}");
    // What is kept, as it is: the rounds measured in full. A round is stored
    // when it ends, so a run stopped in its first round records nothing, and
    // one that began round N keeps at most N rounds (N - 1 at least, unless
    // the signal came between a round's end and the next one's line).
    let rounds_begun = (1..)
        .take_while(|round| stderr.contains(&format!("] round {round}:")))
        .count();
    let interrupted = format!("interrupted by SIG{signal}; ");
    let kept = stderr
        .split_once(&format!("{interrupted}batch 1 keeps the "))
        .and_then(|(_, rest)| rest.split(' ').next()?.parse::<usize>().ok());
    match kept {
        Some(rounds) => assert!(
            (rounds_begun.saturating_sub(1).max(1)..=rounds_begun).contains(&rounds),
            "{rounds} rounds kept after {rounds_begun} begun: {stderr}"
        ),
        None => assert!(
            stderr.contains(&format!("{interrupted}nothing was recorded")) && rounds_begun <= 1,
            "nothing kept after {rounds_begun} rounds begun: {stderr}"
        ),
    }
    assert!(
        stderr.contains("the temporary worktrees are removed") && stderr.contains("(--target-dir)"),
        "{stderr}"
    );
    assert_eq!(worktree_count(repo.path()), 1);
    let leftover = std::fs::read_dir(repo.path().join(".git/worktrees"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(leftover, 0, "no worktree metadata or lock left in .git");
    // Only our folder: the builds inherit TMPDIR, and a linker killed with
    // the run leaves its own temporary files (gcc's cc*.o, cc*.res) there.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("proflab-run-")
        })
        .map(|entry| entry.path())
        .collect();
    assert!(
        left.is_empty(),
        "the proflab-run-* folder is removed: {left:?}"
    );
}

/// Issue 11, the CLI's door: numbers that would open the CI gate or make no
/// sense are refused before anything runs, and `record` outside a checkout
/// creates nothing.
#[test]
fn nonsense_options_and_places_are_refused() {
    let repo = two_recorded_commits();
    for (args, expected) in [
        (
            vec!["compare", "HEAD~1", "HEAD", "--threshold", "NaN"],
            "not a percentage",
        ),
        (
            vec!["compare", "HEAD~1", "HEAD", "--threshold=-5"],
            "not a percentage",
        ),
        (
            vec!["compare", "HEAD~1", "HEAD", "--threshold", "inf"],
            "not a percentage",
        ),
        (
            vec!["run", "HEAD~1", "HEAD", "--min-rounds", "0"],
            "0 is not in 2..=1000",
        ),
        (
            vec!["run", "HEAD~1", "HEAD", "--budget=-1"],
            "not a finite number above zero",
        ),
        (
            vec![
                "run",
                "HEAD~1",
                "HEAD",
                "--min-rounds",
                "5",
                "--max-rounds",
                "3",
            ],
            "below --min-rounds",
        ),
    ] {
        let out = proflab(repo.path())
            .arg("track")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let db = elsewhere.path().join("h.sqlite");
    let out = proflab(elsewhere.path())
        .args(["track", "--db"])
        .arg(&db)
        .arg("record")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("git checkout"));
    assert!(!db.exists(), "no database created outside a checkout");
    // `export` takes any revision, not only a recorded SHA prefix.
    let out = proflab(repo.path())
        .args(["track", "export", "--format", "bmf", "HEAD"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `record` takes what the latest `cargo bench` wrote and names what it left;
/// `compare` lists what one side lacks.
#[test]
fn stale_results_are_skipped_and_one_sided_benchmarks_listed() {
    let repo = repo();
    let criterion = repo.path().join("crit");
    criterion_tree(&criterion, 3, 1.0);
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(criterion.join("g/f2/new/sample.json"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = record(repo.path(), &criterion);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped 1 stale result") && stderr.contains("g/f2"),
        "{stderr}"
    );
    commit_empty(repo.path(), "two");
    let out = proflab(repo.path())
        .args(["track", "record", "--all", "--json", "--criterion-dir"])
        .arg(&criterion)
        .output()
        .unwrap();
    let recorded: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(recorded["benchmarks"], 3, "{recorded}");
    let out = proflab(repo.path())
        .args(["track", "compare", "HEAD~1", "HEAD", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["added"], serde_json::json!(["g/f2"]), "{report}");
    assert_eq!(report["removed"], serde_json::json!([]), "{report}");
    assert_eq!(report["benchmarks"].as_array().unwrap().len(), 2);
    let table = proflab(repo.path())
        .args(["track", "compare", "HEAD", "HEAD~1"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("removed in B (not compared): g/f2"),
        "{table}"
    );
}

/// A bench that reads a file from a git submodule: the worktrees get the
/// submodule from the local clone; without it, the run warns and goes on,
/// and fails naming it only if a bench needs it (or with
/// `--require-submodules`).
#[test]
fn submodules_come_from_the_local_clone_or_are_named() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let data = tempfile::tempdir().unwrap();
    git(data.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(data.path().join("input.txt"), "data").unwrap();
    git(data.path(), &["add", "-A"]);
    commit_empty(data.path(), "data");
    git(
        repo.path(),
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            &data.path().to_string_lossy(),
            "data",
        ],
    );
    commit_empty(repo.path(), "with data");
    commit_empty(repo.path(), "with data again");
    let out = paired_run(repo.path(), "2", "spoiled", "spoiled")
        .env("NEED_FILE", "data/input.txt")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(worktree_count(repo.path()), 1);
    git(repo.path(), &["submodule", "deinit", "-q", "-f", "data"]);
    // Not checked out, and not read: a warning, and the run goes on.
    let out = paired_run(repo.path(), "2", "spoiled", "spoiled")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: submodule `data`") && stderr.contains("not checked out"),
        "{stderr}"
    );
    // Read by the bench: the smoke test fails, naming the submodule.
    let out = paired_run(repo.path(), "2", "spoiled", "spoiled")
        .env("NEED_FILE", "data/input.txt")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("data/input.txt\" is missing")
            && stderr.contains("inside submodule `data`")
            && stderr.contains("git submodule update"),
        "{stderr}"
    );
    // The strict check refuses before building.
    let out = paired_run(repo.path(), "2", "spoiled", "spoiled")
        .arg("--require-submodules")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("submodule `data`") && stderr.contains("git submodule update"),
        "{stderr}"
    );
    assert_eq!(worktree_count(repo.path()), 1);
}

/// Identical bench executables on both sides: their benchmarks get no round
/// and are reported as identical code, unless a file the bench may read
/// changed too.
#[test]
fn identical_code_is_reported_not_measured() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let run = || {
        let mut cmd = proflab(repo.path());
        cmd.args([
            "track", "run", "HEAD~1", "HEAD", "--bench", "suite", "--filter",
        ])
        .args(["work/0[01]", "--json", "--target-dir"])
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("track-run"))
        .args([
            "--warm-up",
            "0.05",
            "--measurement",
            "0.1",
            "--max-rounds",
            "3",
        ]);
        cmd.output().unwrap()
    };
    // The template's B is an empty commit: the same code.
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["benchmarks"].as_array().unwrap().len(),
        0,
        "{report}"
    );
    assert_eq!(
        report["identical_code"],
        serde_json::json!(["work/00", "work/01"])
    );
    assert!(
        stderr.contains("0 benchmarks measured, 2 not (identical code"),
        "{stderr}"
    );
    // A data file a bench could read changes: measured after all, and said why.
    std::fs::write(repo.path().join("input.csv"), "1,2\n").unwrap();
    git(repo.path(), &["add", "-A"]);
    commit_empty(repo.path(), "data");
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["benchmarks"].as_array().unwrap().len(),
        2,
        "{report}"
    );
    assert!(
        stderr.contains("input.csv changed and a bench may read it"),
        "{stderr}"
    );
    // Documentation alone changes: identical again.
    std::fs::write(repo.path().join("NOTES.md"), "notes\n").unwrap();
    git(repo.path(), &["add", "-A"]);
    commit_empty(repo.path(), "notes");
    let report: serde_json::Value = serde_json::from_slice(&run().stdout).unwrap();
    assert_eq!(
        report["identical_code"].as_array().unwrap().len(),
        2,
        "{report}"
    );
}

/// A kept worktree (`--worktree-dir`) keeps its files' times between runs:
/// after a run that built the other commit in the same target folder, Cargo
/// would call the side fresh and measure that commit's code under this
/// one's name. Before `track run` cleaned a side's own packages built from
/// another checkout, this read B/A 0.49 for a B twice as slow with
/// `--layouts fixed`, and with random layouts failed relinking (the
/// recorded link ran in the other run's removed worktree). Before the
/// folder named no checkout while a build ran, a build from new worktrees
/// that failed halfway left B/A at 0.98 here.
#[test]
fn a_kept_worktree_is_not_measured_with_another_checkouts_build() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fast = rev_parse(repo.path(), "HEAD");
    slow_down_work_00(repo.path(), 100);
    git(repo.path(), &["add", "-A"]);
    commit_empty(repo.path(), "work/00 does twice the work");
    let slow = rev_parse(repo.path(), "HEAD");
    // `fast`'s library with a bench that does not compile.
    git(repo.path(), &["checkout", "-q", &fast]);
    let bench = repo.path().join("benches/suite.rs");
    let mut source = std::fs::read_to_string(&bench).unwrap();
    source.push_str("\nfn broken() -> u64 {\n    \"not a number\"\n}\n");
    std::fs::write(&bench, source).unwrap();
    git(repo.path(), &["add", "-A"]);
    commit_empty(repo.path(), "the bench does not compile");
    let broken = rev_parse(repo.path(), "HEAD");
    let kept = tempfile::tempdir().unwrap();
    let run = |a: &str, b: &str, kept_worktrees: Option<&Path>| {
        let mut cmd = quick_track(
            repo.path(),
            &[
                "run",
                a,
                b,
                "--min-rounds",
                "2",
                "--max-rounds",
                "2",
                "--bench",
                "suite",
                "--filter",
                "^work/00$",
            ],
        );
        if let Some(dir) = kept_worktrees {
            cmd.arg("--worktree-dir").arg(dir);
        }
        cmd.output().unwrap()
    };
    let ratio = |a: &str, b: &str, kept_worktrees: Option<&Path>| {
        let out = run(a, b, kept_worktrees);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["benchmarks"][0]["ratio"].as_f64().unwrap()
    };
    assert!(ratio(&fast, &slow, Some(kept.path())) > 1.4);
    // The same target folder's sides built from new worktrees, the other
    // way round, newer than every file of the kept ones.
    assert!(ratio(&slow, &fast, None) < 0.7);
    let again = ratio(&fast, &slow, Some(kept.path()));
    assert!(
        again > 1.4,
        "B/A {again:.2}: each side measured as built from its own checkout"
    );
    // A build that stops halfway in between (B's library built from `fast`,
    // its bench not): B's folder names no checkout after it, so the kept
    // worktree's packages are cleaned again.
    let failed = run(&fast, &broken, None);
    assert_eq!(
        failed.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    let after_failure = ratio(&fast, &slow, Some(kept.path()));
    assert!(
        after_failure > 1.4,
        "B/A {after_failure:.2} after a failed build from another checkout"
    );
}

/// `track run HEAD WORKTREE` measures uncommitted changes.
#[test]
fn the_working_tree_is_measured_as_it_is() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    slow_down_work_00(repo.path(), 100);
    let out = quick_track(
        repo.path(),
        &[
            "run",
            "HEAD",
            "WORKTREE",
            "--min-rounds",
            "3",
            "--max-rounds",
            "3",
            "--filter",
            "^work/0[01]$",
            "--bench",
            "suite",
        ],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["b"], "WORKTREE");
    let verdict = |id: &str| {
        report["benchmarks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["verdict"]
            .clone()
    };
    assert_eq!(verdict("work/00"), "regressed", "{report}");
    // Not flagged: "inconclusive" when three rounds leave it wider than ±2% both ways.
    assert!(
        ["unchanged", "inconclusive"].contains(&verdict("work/01").as_str().unwrap()),
        "{report}"
    );
    assert!(
        std::fs::read_to_string(repo.path().join("src/lib.rs"))
            .unwrap()
            .contains("[100,"),
        "left as it was"
    );
    assert_eq!(worktree_count(repo.path()), 1);
}

/// `record --baseline NAME --label NAME`: a saved Criterion baseline, recorded under a name.
#[test]
fn a_saved_baseline_is_recorded_under_a_label() {
    let repo = repo();
    let criterion = repo.path().join("crit");
    criterion_tree(&criterion, 2, 1.0);
    for bench in ["g/f0", "g/f1"] {
        let from = criterion.join(bench).join("new");
        let to = criterion.join(bench).join("tuned");
        std::fs::create_dir_all(&to).unwrap();
        for file in ["benchmark.json", "sample.json", "estimates.json"] {
            std::fs::copy(from.join(file), to.join(file)).unwrap();
        }
        std::fs::remove_dir_all(&from).unwrap();
    }
    let out = proflab(repo.path())
        .args([
            "track",
            "record",
            "--baseline",
            "tuned",
            "--label",
            "tuned-laptop",
            "--criterion-dir",
        ])
        .arg(&criterion)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = proflab(repo.path())
        .args(["track", "history", "--json"])
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs[0]["commit"], "tuned-laptop");
    assert_eq!(runs[0]["benchmarks"], 2);
    let out = proflab(repo.path())
        .args(["track", "record", "--label", "beef"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reads as a commit SHA"));
}

/// `track run` on crates that use older Criterion versions: 0.3 (no
/// `--exact`, whole seconds only, `ID: bench` in `--list`) and 0.4 (no
/// `--exact`). The sensitivity template's suite, with B doubling `work/00`.
/// It builds both Criterion versions and their dependencies in release from
/// cold, the longest single test (713 s on the busy 2-core Intel VM), so
/// `cargo test` leaves it to `.ci/run`, which runs it with `--ignored`.
#[test]
#[ignore = "builds Criterion 0.3 and 0.4 from cold; .ci/run runs it with --ignored"]
fn older_criterion_versions_are_run_and_read() {
    // The shared target folder: Criterion 0.3, 0.4 and 0.8 have most of
    // their dependencies in common (serde, regex, rayon), built once.
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (version, dependency) in [
        ("0.3", "criterion = \"0.3\""),
        (
            "0.4",
            "criterion = { version = \"0.4\", default-features = false, features = [\"cargo_bench_support\"] }",
        ),
    ] {
        let repo = repo();
        let template =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/track-sensitivity-template");
        for file in ["Cargo.toml", "src/lib.rs", "benches/suite.rs"] {
            let to = repo.path().join(file);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(template.join(file), to).unwrap();
        }
        let manifest = std::fs::read_to_string(repo.path().join("Cargo.toml")).unwrap();
        let manifest: String = manifest
            .lines()
            .map(|line| {
                if line.starts_with("criterion =") {
                    dependency
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(repo.path().join("Cargo.toml"), manifest).unwrap();
        git(repo.path(), &["add", "-A"]);
        commit_empty(repo.path(), "A");
        slow_down_work_00(repo.path(), 100);
        git(repo.path(), &["add", "-A"]);
        commit_empty(repo.path(), "B");
        let out = quick_track(
            repo.path(),
            &[
                "run",
                "HEAD~1",
                "HEAD",
                "--min-rounds",
                "3",
                "--max-rounds",
                "3",
                "--filter",
                "^work/0[01]$",
            ],
        )
        .output()
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "Criterion {version}: {stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let rows = report["benchmarks"].as_array().unwrap();
        let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            ["work/00", "work/01"],
            "Criterion {version}: each benchmark alone: {report}"
        );
        // The plumbing, not the statistics: B's work/00 does twice the steps.
        // Read from the estimate (each round's fastest samples), not the
        // pooled medians: with the other tests' benchmarks running beside
        // it, the medians once read B/A 1.22 while the rounds' fastest
        // samples said 2.09 [1.88, 2.31].
        let slowdown = rows[0]["ratio"].as_f64().unwrap();
        assert!(
            slowdown > 1.4,
            "Criterion {version}: B's work/00 read as {slowdown:.2}x: {report}"
        );
        assert_eq!(rows[0]["rounds"], 3);
        assert_eq!(worktree_count(repo.path()), 1);
    }
}

/// `track changes` on ten commits whose `g/f0` got 10% slower at the sixth;
/// the dashboard draws the change.
#[test]
fn a_level_shift_in_the_history_is_found() {
    let repo = repo();
    let mut shas = Vec::new();
    for i in 0..10 {
        if i > 0 {
            commit_empty(repo.path(), &format!("commit {i}"));
        }
        let criterion = repo.path().join(format!("crit{i}"));
        criterion_tree(&criterion, 2, if i >= 5 { 1.10 } else { 1.0 });
        assert!(record(repo.path(), &criterion).status.success());
        shas.push(rev_parse(repo.path(), "HEAD"));
    }
    let out = proflab(repo.path())
        .args(["track", "changes", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let changes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = changes.as_array().unwrap();
    assert_eq!(changes.len(), 1, "only g/f0 moved: {changes:?}");
    assert_eq!(changes[0]["id"], "g/f0");
    assert_eq!(changes[0]["before"], shas[4].as_str());
    assert_eq!(changes[0]["after"], shas[5].as_str());
    assert!(
        (changes[0]["ratio"].as_f64().unwrap() - 1.10).abs() < 0.01,
        "{changes:?}"
    );
    assert!(changes[0]["confidence"].as_f64().unwrap() > 0.95);
    let dir = repo.path().join("dash");
    let out = proflab(repo.path())
        .args(["track", "report", "-o"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    // The page's model, embedded as JSON for its script to draw.
    let data = html
        .split_once(r#"<script id="data" type="application/json">"#)
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .expect("the model is in the page")
        .0;
    let model: serde_json::Value = serde_json::from_str(data).unwrap();
    let shifted: Vec<(&str, usize)> = model["dashboard"]["machines"][0]["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap(),
                b["shifts"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        shifted,
        [("g/f0", 1), ("g/f1", 0)],
        "one change point, on g/f0"
    );
    let shift = &model["dashboard"]["machines"][0]["benchmarks"][0]["shifts"][0];
    let commits = &model["dashboard"]["commits"];
    assert_eq!(
        commits[shift["before"].as_u64().unwrap() as usize]["sha"],
        shas[4].as_str()
    );
    assert_eq!(
        commits[shift["after"].as_u64().unwrap() as usize]["sha"],
        shas[5].as_str()
    );
}

/// `track bisect` on eight commits after GOOD, `work/00` 60% slower from the
/// fifth of them on: the fifth is named. (CI once saw `work/01` flagged
/// falsely at the second step, which then misdirected the bisection; later
/// steps now measure only what regressed at BAD.)
#[test]
fn bisect_names_the_commit_that_regressed() {
    let repo = template_repo();
    let _target = TARGET_FOLDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let good = rev_parse(repo.path(), "HEAD");
    let mut culprit = String::new();
    for i in 1..=8 {
        if i == 5 {
            slow_down_work_00(repo.path(), 60);
            git(repo.path(), &["add", "-A"]);
        }
        commit_empty(repo.path(), &format!("step {i}"));
        if i == 5 {
            culprit = rev_parse(repo.path(), "HEAD");
        }
    }
    let out = quick_track(
        repo.path(),
        &[
            "bisect",
            &good,
            "HEAD",
            "--min-rounds",
            "3",
            "--max-rounds",
            "3",
            "--filter",
            "^work/0[0-2]$",
            "--bench",
            "suite",
        ],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["first_bad"], culprit.as_str(), "{outcome}");
    let steps = outcome["steps"].as_array().unwrap();
    for step in &steps[1..] {
        for id in step["regressed"].as_array().unwrap() {
            assert!(
                steps[0]["regressed"].as_array().unwrap().contains(id),
                "a later step judges only what regressed at BAD: {outcome}"
            );
        }
    }
    assert!(
        outcome["steps"].as_array().unwrap().len() <= 4,
        "log2(8) steps and BAD: {outcome}"
    );
    assert_eq!(worktree_count(repo.path()), 1);
}

/// `--color always|never` and `NO_COLOR` decide the verdicts' colour, not the terminal alone.
#[test]
fn colour_follows_the_flag_and_no_color() {
    let repo = two_recorded_commits();
    let table = |args: &[&str], no_color: bool| {
        let mut cmd = Command::cargo_bin("proflab").unwrap();
        cmd.current_dir(repo.path())
            .env_remove("NO_COLOR")
            .args(["track", "compare", "HEAD~1", "HEAD"])
            .args(args);
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(table(&["--color", "always"], false).contains("\x1b[31mregressed\x1b[0m"));
    assert!(!table(&["--color", "never"], false).contains('\x1b'));
    // Piped, `auto` has no terminal to colour for; NO_COLOR holds either way.
    assert!(!table(&[], false).contains('\x1b'));
    assert!(!table(&[], true).contains('\x1b'));
}
