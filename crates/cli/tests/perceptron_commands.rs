//! Runs the real `proflab` binary: dataset generation, cross-validation and
//! the hill climb, end to end, and every bad-input case's exit code and
//! message.

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn proflab() -> Command {
    Command::cargo_bin("proflab").expect("the proflab binary is built")
}

fn write_file(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write test input");
    path
}

#[test]
fn make_classification_writes_the_requested_csv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data.csv");
    proflab()
        .args([
            "make-classification",
            "--samples",
            "200",
            "--features",
            "5",
            "--informative",
            "2",
        ])
        .args(["--redundant", "1", "--seed", "1", "-o"])
        .arg(&path)
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).expect("csv written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("x0,x1,x2,x3,x4,y"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 200);
    assert!(rows.iter().all(|row| row.split(',').count() == 6));
    assert!(!dir.path().join("data.csv.partial").exists());
}

#[test]
fn cv_json_reports_thirty_scores_and_their_mean_and_std() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data.csv");
    proflab()
        .args(["make-classification", "-o"])
        .arg(&path)
        .assert()
        .success();
    let output = proflab()
        .args([
            "cv", "--eta0", "1.0", "--alpha", "0.0001", "--json", "--data",
        ])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    let scores: Vec<f64> = json["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .map(|s| s.as_f64().expect("number"))
        .collect();
    assert_eq!(scores.len(), 30);
    let mean = scores.iter().sum::<f64>() / 30.0;
    assert!((json["mean"].as_f64().expect("mean") - mean).abs() < 1e-12);
    assert!(mean > 0.6, "mean accuracy {mean}");
    assert!(json["std"].as_f64().expect("std") >= 0.0);
}

#[test]
fn cv_gives_the_same_scores_sequential_and_parallel() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data.csv");
    proflab()
        .args(["make-classification", "-o"])
        .arg(&path)
        .assert()
        .success();
    let run = |jobs: &str| {
        proflab()
            .args([
                "cv", "--eta0", "0.1", "--alpha", "0", "--json", "--jobs", jobs, "--data",
            ])
            .arg(&path)
            .output()
            .expect("runs")
            .stdout
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn hillclimb_prints_the_tutorials_lines() {
    let output = proflab()
        .args(["hillclimb", "--n-iter", "10", "--seed", "1"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    let step = regex_lite(r">\d+, cfg=\[[0-9.e-]+, [0-9.e-]+\] 0\.\d{5}");
    for line in &lines[..lines.len() - 2] {
        assert!(step(line), "not a step line: {line}");
    }
    assert_eq!(lines[lines.len() - 2], "Done!");
    assert!(
        lines[lines.len() - 1].starts_with("cfg=["),
        "{}",
        lines[lines.len() - 1]
    );
    assert!(
        predicate::str::is_match(r": Mean Accuracy: 0\.\d{6}$")
            .expect("regex")
            .eval(lines[lines.len() - 1])
    );
}

#[test]
fn hillclimb_json_holds_the_same_search() {
    let run = |extra: &[&str]| {
        let output = proflab()
            .args(["hillclimb", "--n-iter", "10", "--seed", "1"])
            .args(extra)
            .output()
            .expect("runs");
        assert!(output.status.success());
        String::from_utf8(output.stdout).expect("utf-8")
    };
    let text = run(&[]);
    let json: serde_json::Value = serde_json::from_str(&run(&["--json"])).expect("JSON");
    let accepted = json["accepted"].as_array().expect("steps");
    assert_eq!(
        accepted.len(),
        text.lines().count() - 2,
        "one object per accepted step"
    );
    let last = text.lines().last().expect("result line");
    let score = json["score"].as_f64().expect("score");
    assert!(
        last.ends_with(&format!("Mean Accuracy: {score:.6}")),
        "{last} vs {score}"
    );
}

/// A line matcher built on predicates' regex support.
fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
    let predicate = predicate::str::is_match(format!("^{pattern}$")).expect("valid regex");
    move |line| predicate.eval(line)
}

#[test]
fn hillclimb_is_reproducible_and_independent_of_jobs() {
    let run = |jobs: &str| {
        proflab()
            .args(["hillclimb", "--n-iter", "5", "--jobs", jobs])
            .output()
            .expect("runs")
            .stdout
    };
    let one = run("1");
    assert_eq!(one, run("1"));
    assert_eq!(one, run("2"));
}

#[test]
fn bad_datasets_fail_with_a_message_naming_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "ragged.csv",
            "a,b,y\n1,2,0\n3,1\n",
            "line 3: expected 3 fields like the header, found 2",
        ),
        (
            "text.csv",
            "a,b,y\n1,2,0\n3,oops,1\n",
            "line 3, column 2 (b): \"oops\" is not a number",
        ),
        (
            "nan.csv",
            "a,y\n1,0\nNaN,1\n",
            "line 3, column 1 (a): NaN is not a finite number",
        ),
        (
            "inf.csv",
            "a,y\n1,0\ninf,1\n",
            "line 3, column 1 (a): inf is not a finite number",
        ),
        (
            "one-class.csv",
            "a,y\n1,0\n2,0\n",
            "a classifier needs exactly two",
        ),
        ("empty.csv", "", "the file is empty"),
        (
            "few.csv",
            "a,y\n1,0\n2,0\n3,0\n4,1\n5,1\n6,1\n",
            "n_splits = 10 is more than the 3 member(s) of the smallest class",
        ),
    ];
    for (name, text, message) in cases {
        let path = write_file(&dir, name, text);
        proflab()
            .args(["cv", "--eta0", "1", "--alpha", "0", "--data"])
            .arg(&path)
            .assert()
            .code(2)
            .stderr(contains(message).and(contains("panicked").not()));
    }
    proflab()
        .args(["hillclimb", "--data"])
        .arg(dir.path().join("missing.csv"))
        .assert()
        .code(2)
        .stderr(contains("missing.csv"));
}

#[test]
fn inconsistent_generator_parameters_are_usage_errors() {
    proflab()
        .args([
            "make-classification",
            "--features",
            "2",
            "--informative",
            "2",
            "--redundant",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(contains("must not exceed n_features (2)"));
}
