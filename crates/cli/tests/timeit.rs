//! Runs the real `proflab timeit`: a snippet is compiled in the cache (never
//! in the working directory), timed, and reported in CPython's format;
//! compile errors point at the user's own lines.

use assert_cmd::Command;
use predicates::prelude::*;

fn proflab(cache: &tempfile::TempDir, work: &tempfile::TempDir) -> Command {
    let mut command = Command::cargo_bin("proflab").expect("the proflab binary is built");
    command
        .env("PROFLAB_CACHE_DIR", cache.path())
        .current_dir(work.path());
    command
}

#[test]
fn times_a_snippet_reports_like_python_and_leaves_the_project_untouched() {
    let (cache, work) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    proflab(&cache, &work)
        .args([
            "timeit",
            "-n",
            "1000",
            "-r",
            "3",
            "-s",
            "let v: Vec<u64> = (0..100).collect();",
        ])
        .args(["let s: u64 = v.iter().sum();", "s"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"^1000 loops, best of 3: [0-9.e+]+ (nsec|usec|msec|sec) per loop\n$",
            )
            .expect("regex"),
        );
    assert_eq!(
        std::fs::read_dir(work.path()).expect("readable").count(),
        0,
        "files landed in the working directory"
    );
    assert!(
        cache.path().join("target").is_dir(),
        "the build went to the cache"
    );
    // The same snippet again, cached, as JSON.
    let out = proflab(&cache, &work)
        .args(["timeit", "-n", "1000", "-r", "3", "--json"])
        .args(["-s", "let v: Vec<u64> = (0..100).collect();"])
        .args(["let s: u64 = v.iter().sum();", "s"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(results[0]["loops"], 1000);
    assert_eq!(
        results[0]["repetition_seconds"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(results[0]["ratio_to_fastest"], 1.0);
}

#[test]
fn compile_errors_point_at_the_snippet_and_compare_prints_ratios() {
    let (cache, work) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    proflab(&cache, &work)
        .args(["timeit", "-n", "10", "let x = 1;", "y + x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error[E0425]: cannot find value `y` in this scope",
        ))
        .stderr(predicate::str::contains("--> <stmt>:2:1"))
        .stderr(predicate::str::contains("| y + x"));
    let output = proflab(&cache, &work)
        .args([
            "timeit",
            "--compare",
            "-n",
            "1000",
            "-r",
            "3",
            "-e",
            "black_box(2.0f64).sqrt()",
            "-e",
            "black_box(2.0f64).powf(0.5)",
        ])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        stdout.contains("black_box(2.0f64).sqrt(): 1000 loops, best of 3:"),
        "{stdout}"
    );
    let ratios: Vec<f64> = stdout
        .lines()
        .filter_map(|line| {
            line.trim()
                .split_once("x  ")
                .and_then(|(ratio, _)| ratio.parse().ok())
        })
        .collect();
    assert_eq!(ratios.len(), 2, "{stdout}");
    assert!(
        ratios.contains(&1.0),
        "the fastest is the 1.00x reference: {stdout}"
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    let (cache, work) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    proflab(&cache, &work)
        .args(["timeit", "--dep", "not a crate", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("name=version"));
    proflab(&cache, &work)
        .args(["timeit", "--compare", "-e", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least two"));
}
