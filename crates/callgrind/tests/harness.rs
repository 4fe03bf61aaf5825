//! Runs this very binary as a bench target: first with valgrind missing from
//! PATH (it must skip with a note and exit 0), then under valgrind (with
//! `--bench`, into a scratch target folder), checking what it printed and saved.

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Output};

/// `steps` dependent additions that the optimizer cannot fold.
fn count_up(steps: u64) -> u64 {
    (0..steps).fold(0, |sum, i| black_box(sum + i))
}

fn run_with(target: &Path, args: &[&str], path_env: Option<&Path>) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .env("PROFLAB_HARNESS_TEST_CHILD", "1");
    if let Some(path_env) = path_env {
        command.env("PATH", path_env);
    }
    command.output().unwrap()
}

fn run(target: &Path, args: &[&str]) -> String {
    let output = run_with(target, args, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Without valgrind, `cargo bench` and `cargo test` both get one line and exit 0.
fn skips_without_valgrind() {
    let target = tempfile::tempdir().unwrap();
    let empty_path = tempfile::tempdir().unwrap();
    for args in [&["--bench"][..], &[]] {
        let output = run_with(target.path(), args, Some(empty_path.path()));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().collect::<Vec<_>>(),
            [
                "harness: skipped: valgrind not found on PATH; instruction counts need it \
              (e.g. `apt-get install valgrind`), every other bench target runs without it"
            ],
            "{args:?}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    assert!(
        !target.path().join("proflab-instructions").exists(),
        "nothing saved without counts"
    );
    // Listing needs no valgrind: `proflab track run` asks every target.
    let listed = run_with(target.path(), &["--list"], Some(empty_path.path()));
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "steps/1000: instructions\nsteps/2000: instructions\n"
    );
}

fn counts_under_valgrind() {
    let target = tempfile::tempdir().unwrap();
    let first = run(target.path(), &["--bench"]);
    assert!(
        first.contains("steps/1000") && first.contains("(no previous run)"),
        "{first}"
    );
    let report_path = target.path().join("proflab-instructions/harness.json");
    let report = proflab_callgrind::read_report(&report_path).unwrap();
    let counts: Vec<u64> = report.benchmarks.iter().map(|b| b.instructions).collect();
    assert_eq!(report.benchmarks.len(), 2, "{report:?}");
    // Twice the steps, twice the instructions, up to the fixed cost of a call.
    let per_step = (counts[1] - counts[0]) as f64 / 1000.0;
    assert!(
        per_step >= 1.0 && counts[0] as f64 >= 1000.0 * per_step,
        "{counts:?}"
    );

    // Counts are deterministic: the same binary again changes nothing.
    let second = run(target.path(), &["--bench", "steps/2000"]);
    assert!(
        second.contains("(+0.00% vs previous run)") && !second.contains("steps/1000"),
        "{second}"
    );
    let kept = proflab_callgrind::read_report(&report_path).unwrap();
    assert_eq!(
        kept, report,
        "a filtered run keeps the other benchmarks' counts"
    );

    let listed = run(target.path(), &["--list"]);
    assert_eq!(
        listed,
        "steps/1000: instructions\nsteps/2000: instructions\n"
    );
}

fn main() -> std::process::ExitCode {
    if std::env::var_os("PROFLAB_HARNESS_TEST_CHILD").is_some() {
        let mut harness = proflab_callgrind::Harness::new();
        harness.bench("steps/1000", || count_up(black_box(1000)));
        harness.bench("steps/2000", || count_up(black_box(2000)));
        return harness.main();
    }
    skips_without_valgrind();
    println!("harness: skips without valgrind: ok");
    if proflab_testkit::tool_or_skip(
        "harness (counts under valgrind)",
        &["valgrind"],
        "apt-get install valgrind",
    )
    .is_some()
    {
        counts_under_valgrind();
        println!("harness: counts under valgrind: ok");
    }
    std::process::ExitCode::SUCCESS
}
