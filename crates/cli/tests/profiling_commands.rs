//! Runs the real `proflab` binary with `--profile` and `proflab stats`: the
//! tutorial's `python -m cProfile -s ncalls` and `-o` workflows, end to end.

use std::process::Command as Process;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn proflab() -> Command {
    Command::cargo_bin("proflab").expect("the proflab binary is built")
}

/// The table row of `name`, split into its columns.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.ends_with(&format!("({name})")))
        .unwrap_or_else(|| panic!("no row for {name} in\n{table}"));
    line.split_whitespace().collect()
}

#[test]
fn profiled_hillclimb_counts_101_objective_calls() {
    let output = proflab()
        .args(["hillclimb", "--profile", "-s", "ncalls"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(stdout.contains("Done!"), "{stdout}");
    assert!(stdout.contains("   Ordered by: call count"), "{stdout}");
    assert_eq!(row(&stdout, "objective")[0], "101");
    assert_eq!(row(&stdout, "cross_val_score")[0], "101");
    // One row per fit: the fits are trained interleaved, and each calls
    // finish_fit as it leaves its lane (docs/PROFILING.md).
    assert_eq!(row(&stdout, "finish_fit")[0], "3030");
    assert_eq!(row(&stdout, "hill_climb")[0], "1");
    assert_eq!(row(&stdout, "step")[0], "100");
}

#[test]
fn saved_stats_open_in_python_pstats_and_in_our_browser() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hillclimb.prof");
    let svg = dir.path().join("hillclimb.svg");
    let dot = dir.path().join("hillclimb.dot");
    proflab()
        .args(["hillclimb", "--n-iter", "10", "-o"])
        .arg(&path)
        .arg("--flamegraph")
        .arg(&svg)
        .arg("--callgraph")
        .arg(&dot)
        .assert()
        .success()
        // With -o the table is saved, not printed, as with cProfile.
        .stdout(contains("function calls").not());

    let python = Process::new("python3")
        .args(["-c", "import pstats, sys; pstats.Stats(sys.argv[1]).strip_dirs().sort_stats('ncalls').print_stats()"])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    let table = String::from_utf8(python.stdout).expect("utf-8");
    assert_eq!(row(&table, "objective")[0], "11");
    assert_eq!(row(&table, "finish_fit")[0], "330");

    let browsed = proflab()
        .arg("stats")
        .arg(&path)
        .write_stdin("strip\nsort ncalls\nstats objective\ncallers finish_fit\nquit\n")
        .output()
        .expect("runs");
    assert!(browsed.status.success());
    let browsed = String::from_utf8(browsed.stdout).expect("utf-8");
    assert!(
        browsed.contains(&format!("{}% ", path.display())),
        "{browsed}"
    );
    assert_eq!(row(&browsed, "objective")[0], "11");
    assert!(browsed.contains("was called by..."), "{browsed}");
    assert!(browsed.ends_with("Goodbye.\n"), "{browsed}");

    let svg = std::fs::read_to_string(&svg).expect("flamegraph written");
    assert!(
        svg.contains("<svg") && svg.contains("objective"),
        "flamegraph lacks the objective frame"
    );
    let dot = std::fs::read_to_string(&dot).expect("call graph written");
    assert!(
        dot.starts_with("digraph profile {") && dot.contains("-> f") && dot.contains("11 calls"),
        "{dot}"
    );
}

#[test]
fn stats_json_exports_every_function() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("run.prof");
    proflab()
        .args(["hillclimb", "--n-iter", "3", "-o"])
        .arg(&path)
        .assert()
        .success();
    let output = proflab()
        .args(["stats", "--json"])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let objective = json["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .find(|f| f["name"] == "objective")
        .expect("objective");
    assert_eq!(objective["ncalls"], 4);
}

#[test]
fn memory_columns_count_allocations() {
    let output = proflab()
        .args(["hillclimb", "--n-iter", "2", "--memory"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        stdout.contains("  allocs      bytes filename:lineno(function)"),
        "{stdout}"
    );
    let make = row(&stdout, "make_classification");
    let (allocations, bytes): (u64, u64) = (
        make[5].parse().expect("count"),
        make[6].parse().expect("bytes"),
    );
    // The 1000 x 5 dataset alone is 40 000 bytes.
    assert!(allocations > 0 && bytes >= 40_000, "{make:?}");
}

#[test]
fn bad_sort_keys_and_bad_files_are_usage_errors() {
    proflab()
        .args(["hillclimb", "--n-iter", "1", "-s", "bogus"])
        .assert()
        .code(2)
        .stderr(contains("unknown or ambiguous sort key \"bogus\"").and(contains("cumulative")))
        .stdout(contains("Done!").not());
    let dir = tempfile::tempdir().expect("temp dir");
    let corrupt = dir.path().join("corrupt.prof");
    std::fs::write(&corrupt, b"{)\x03z").expect("write");
    proflab()
        .arg("stats")
        .arg(&corrupt)
        .write_stdin("quit\n")
        .assert()
        .code(2)
        .stderr(contains("not a cProfile stats file"));
    proflab()
        .arg("stats")
        .arg(dir.path().join("missing.prof"))
        .assert()
        .code(2)
        .stderr(contains("missing.prof"));
}
