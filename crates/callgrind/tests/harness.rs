//! Runs this very binary as a bench target under valgrind (with `--bench`,
//! into a scratch target folder) and checks what it printed and saved.

use std::hint::black_box;
use std::process::Command;

/// `steps` dependent additions that the optimizer cannot fold.
fn count_up(steps: u64) -> u64 {
    (0..steps).fold(0, |sum, i| black_box(sum + i))
}

fn run(target: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .env("PROFLAB_HARNESS_TEST_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

fn main() -> std::process::ExitCode {
    if std::env::var_os("PROFLAB_HARNESS_TEST_CHILD").is_some() {
        let mut harness = proflab_callgrind::Harness::new();
        harness.bench("steps/1000", || count_up(black_box(1000)));
        harness.bench("steps/2000", || count_up(black_box(2000)));
        return harness.main();
    }
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
    println!("harness: ok");
    std::process::ExitCode::SUCCESS
}
