//! End-to-end behaviour of the library on Criterion trees written the way Criterion writes them.

use std::path::Path;

use proflab_track::{
    CompareOptions, History, Machine, RunContext, TrackError, Verdict, compare,
    import_criterion_dir,
};

/// Writes `<root>/<dir>/new/{benchmark,estimates,sample}.json` for per-iteration times `per_iter`.
fn write_bench(root: &Path, dir: &str, per_iter: &[f64]) {
    let new = root.join(dir).join("new");
    std::fs::create_dir_all(&new).unwrap();
    let parts: Vec<&str> = dir.split('/').collect();
    let value = parts
        .get(2)
        .map_or("null".to_owned(), |v| format!("\"{v}\""));
    std::fs::write(
        new.join("benchmark.json"),
        format!(
            r#"{{"group_id":"{}","function_id":"{}","value_str":{value},"throughput":null,"full_id":"{dir}","directory_name":"{dir}","title":"{dir}"}}"#,
            parts[0], parts[1]
        ),
    )
    .unwrap();
    let iters: Vec<f64> = (1..=per_iter.len()).map(|i| (i * 10) as f64).collect();
    let times: Vec<f64> = per_iter.iter().zip(&iters).map(|(t, n)| t * n).collect();
    std::fs::write(
        new.join("sample.json"),
        serde_json::json!({"sampling_mode": "Linear", "iters": iters, "times": times}).to_string(),
    )
    .unwrap();
    let est = serde_json::json!({"point_estimate": per_iter[0], "standard_error": 0.1,
        "confidence_interval": {"confidence_level": 0.95, "lower_bound": 0.0, "upper_bound": 1.0}});
    std::fs::write(
        new.join("estimates.json"),
        serde_json::json!({"mean": est, "median": est, "median_abs_dev": est, "slope": null, "std_dev": est}).to_string(),
    )
    .unwrap();
}

/// Deterministic noisy samples around `center`: a skewed, machine-like spread.
fn noisy(center: f64, seed: u64) -> Vec<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..100)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            center * (1.0 + 0.03 * u * u)
        })
        .collect()
}

fn context(commit: &str) -> RunContext {
    RunContext {
        commit: commit.to_owned(),
        dirty: false,
        branch: "main".to_owned(),
        time: 0,
    }
}

fn machine() -> Machine {
    Machine {
        cpu_model: "test cpu".into(),
        cores: 2,
        os: "linux".into(),
        rustc: "rustc 1.0".into(),
    }
}

#[test]
fn imports_groups_with_and_without_values_and_skips_baselines() {
    let dir = tempfile::tempdir().unwrap();
    write_bench(dir.path(), "concat/push_str/1000", &noisy(10.0, 1));
    write_bench(dir.path(), "sqrt/f64_sqrt", &noisy(5.0, 2));
    // Criterion keeps the previous run in `base/` and named baselines beside `new/`.
    let bench_dir = dir.path().join("concat/push_str/1000");
    std::fs::create_dir_all(bench_dir.join("base")).unwrap();
    std::fs::copy(
        bench_dir.join("new/benchmark.json"),
        bench_dir.join("base/benchmark.json"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("report")).unwrap();
    let benches = import_criterion_dir(dir.path()).unwrap();
    let ids: Vec<&str> = benches.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["concat/push_str/1000", "sqrt/f64_sqrt"]);
    assert!((benches[1].values[0] - noisy(5.0, 2)[0]).abs() < 1e-9);
}

#[test]
fn bad_criterion_input_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    assert!(
        matches!(import_criterion_dir(&missing), Err(TrackError::NoCriterionDir { path }) if path == missing)
    );

    write_bench(dir.path(), "g/f", &noisy(1.0, 1));
    let sample = dir.path().join("g/f/new/sample.json");
    std::fs::write(
        &sample,
        r#"{"sampling_mode":"Linear","iters":[1.0,2.0],"ti"#,
    )
    .unwrap();
    let err = import_criterion_dir(dir.path()).unwrap_err();
    assert!(err.to_string().contains("g/f/new/sample.json"), "{err}");

    std::fs::write(&sample, r#"{"name": "not criterion"}"#).unwrap();
    let err = import_criterion_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, TrackError::Json { path, .. } if path == &sample),
        "{err}"
    );

    std::fs::write(&sample, r#"{"iters":[1.0,0.0],"times":[1.0,2.0]}"#).unwrap();
    assert!(matches!(
        import_criterion_dir(dir.path()),
        Err(TrackError::BadSample { .. })
    ));
}

#[test]
fn refuses_a_database_from_a_newer_schema_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    drop(History::open(&path).unwrap());
    rusqlite_free_bump(&path);
    let err = History::open(&path)
        .err()
        .expect("newer schema must be refused");
    assert!(
        matches!(err, TrackError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("h.sqlite"));
}

/// Sets `user_version` to 99 through the sqlite3 file header (offset 60), without a SQLite dependency here.
fn rusqlite_free_bump(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn unknown_commit_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(&dir.path().join("h.sqlite")).unwrap();
    let err = compare(&history, "abc", "def", &CompareOptions::default()).unwrap_err();
    assert!(
        matches!(&err, TrackError::UnknownCommit { reference, .. } if reference == "abc"),
        "{err}"
    );
}

/// Records twelve benchmarks for commits `aaaa` and `bbbb`, slowing `slowed` by `factor` in B.
fn two_commits(slowed: &str, factor: f64) -> (tempfile::TempDir, History) {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
    for (commit, seed_base) in [("aaaa", 0), ("bbbb", 1000)] {
        let criterion = dir.path().join(commit);
        for i in 0..12 {
            let id = format!("g/f{i:02}");
            let slow = if commit == "bbbb" && id == slowed {
                factor
            } else {
                1.0
            };
            write_bench(
                &criterion,
                &id,
                &noisy(100.0 * (i + 1) as f64 * slow, seed_base + i),
            );
        }
        let benches = import_criterion_dir(&criterion).unwrap();
        history
            .record(&context(commit), &machine(), &benches)
            .unwrap();
    }
    (dir, history)
}

#[test]
fn a_five_percent_slowdown_is_flagged_and_nothing_else() {
    let (_dir, history) = two_commits("g/f03", 1.05);
    let rows = compare(&history, "aaaa", "bbbb", &CompareOptions::default()).unwrap();
    assert_eq!(rows.len(), 12);
    for row in &rows {
        let expected = if row.id == "g/f03" {
            Verdict::Regressed
        } else {
            Verdict::Unchanged
        };
        assert_eq!(row.verdict, expected, "{row:?}");
    }
}

#[test]
fn a_one_percent_change_stays_under_the_two_percent_threshold() {
    let (_dir, history) = two_commits("g/f03", 1.01);
    let rows = compare(&history, "aaaa", "bbbb", &CompareOptions::default()).unwrap();
    assert!(
        rows.iter().all(|r| r.verdict == Verdict::Unchanged),
        "{rows:?}"
    );
}

#[test]
fn different_machines_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    write_bench(dir.path(), "g/f", &noisy(1.0, 1));
    let benches = import_criterion_dir(dir.path()).unwrap();
    let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
    history
        .record(&context("aaaa"), &machine(), &benches)
        .unwrap();
    let other = Machine {
        cores: 64,
        ..machine()
    };
    history.record(&context("bbbb"), &other, &benches).unwrap();
    let err = compare(&history, "aaaa", "bbbb", &CompareOptions::default()).unwrap_err();
    assert!(matches!(err, TrackError::DifferentMachines { .. }), "{err}");
    let allowed = CompareOptions {
        allow_different_machines: true,
        ..CompareOptions::default()
    };
    assert_eq!(
        compare(&history, "aaaa", "bbbb", &allowed).unwrap().len(),
        1
    );
}
