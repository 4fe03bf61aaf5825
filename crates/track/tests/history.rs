//! End-to-end behaviour of the library on Criterion trees written the way
//! Criterion writes them. The store tests run twice, from one body: on SQLite
//! (`on_sqlite::…`) and on a real PostgreSQL server (`on_postgres::…`), each
//! in a fresh database (a temporary file, or a schema of its own dropped
//! afterwards). The server is the one `PROFLAB_TEST_PG` names (.ci/run starts
//! one: postgres://proflab:proflab@localhost/proflab_test); without it the
//! PostgreSQL variants skip with a note, unless `CI` is set, where they fail.

use std::cell::RefCell;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use proflab_track::{
    BatchSlot, Benchmark, CompareOptions, ComparisonReport, Database, History, Machine, Metric,
    RunContext, Side, TableStyle, TrackError, Verdict, compare, import_criterion_dir,
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

/// Where one test's databases live. Each name a test asks for is a fresh
/// database: `<tempdir>/<name>.sqlite`, or a new PostgreSQL schema reached
/// through the URL's `search_path`, so that tests running at once never see
/// each other's rows.
struct Store {
    /// Criterion trees, and the SQLite files.
    dir: tempfile::TempDir,
    /// The server's URL when testing PostgreSQL.
    postgres: Option<String>,
    /// Schemas created so far, by database name, dropped with the store.
    schemas: RefCell<Vec<(String, String)>>,
}

impl Store {
    fn sqlite() -> Store {
        Store {
            dir: tempfile::tempdir().unwrap(),
            postgres: None,
            schemas: RefCell::default(),
        }
    }

    /// The PostgreSQL store, or `None` after a note when no server is
    /// configured and `CI` is unset.
    fn postgres(test: &str) -> Option<Store> {
        let url = postgres_url_or_skip(test)?;
        Some(Store {
            dir: tempfile::tempdir().unwrap(),
            postgres: Some(url),
            schemas: RefCell::default(),
        })
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The database called `name` in this test, created empty on first use.
    fn db(&self, name: &str) -> Database {
        let Some(url) = &self.postgres else {
            return Database::Sqlite(self.dir().join(format!("{name}.sqlite")));
        };
        if let Some((_, schema)) = self.schemas.borrow().iter().find(|(n, _)| n == name) {
            return Database::Postgres(with_schema(url, schema));
        }
        let schema = fresh_schema_name();
        let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap();
        self.schemas
            .borrow_mut()
            .push((name.to_owned(), schema.clone()));
        Database::Postgres(with_schema(url, &schema))
    }

    fn open(&self, name: &str) -> History {
        History::open(self.db(name)).unwrap()
    }

    /// Runs `statement` on database `name` behind the store's back, as a
    /// careless user or an older proflab could have.
    fn tamper(&self, name: &str, statement: &str) {
        match self.db(name) {
            Database::Sqlite(path) => {
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute_batch(statement)
                    .unwrap();
            }
            Database::Postgres(url) => {
                postgres::Client::connect(&url, postgres::NoTls)
                    .unwrap()
                    .batch_execute(statement)
                    .unwrap();
            }
        }
    }

    /// Sets the schema version where each backend keeps it.
    fn set_schema_version(&self, name: &str, version: i64) {
        if self.postgres.is_some() {
            self.tamper(
                name,
                &format!("UPDATE proflab_schema SET version = {version}"),
            );
        } else {
            self.tamper(name, &format!("PRAGMA user_version = {version}"));
        }
    }

    /// The schema version, read behind the store's back.
    fn schema_version(&self, name: &str) -> i64 {
        match self.db(name) {
            Database::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap(),
            Database::Postgres(url) => postgres::Client::connect(&url, postgres::NoTls)
                .unwrap()
                .query_one("SELECT version FROM proflab_schema", &[])
                .unwrap()
                .get(0),
        }
    }

    /// Whether anything was created for database `name`.
    fn exists(&self, name: &str) -> bool {
        match self.db(name) {
            Database::Sqlite(path) => path.exists(),
            Database::Postgres(url) => {
                postgres::Client::connect(&url, postgres::NoTls)
                    .unwrap()
                    .query_one(
                        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                        &[],
                    )
                    .unwrap()
                    .get::<_, i64>(0)
                    > 0
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let (Some(url), schemas) = (&self.postgres, self.schemas.get_mut()) else {
            return;
        };
        if schemas.is_empty() {
            return;
        }
        // Best effort: a test that failed still drops what it made.
        if let Ok(mut admin) = postgres::Client::connect(url, postgres::NoTls) {
            for (_, schema) in schemas.iter() {
                let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// `url` with `search_path` set to `schema` for every session it opens.
fn with_schema(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

/// A schema name no other test, or test process, uses at the same time.
fn fresh_schema_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "proflab_test_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `PROFLAB_TEST_PG`, or `None` after a note (written past libtest's capture,
/// so that `cargo test` shows it) when it is unset and `CI` is not.
///
/// # Panics
/// When it is unset and `CI` is set: CI must test the PostgreSQL backend.
fn postgres_url_or_skip(test: &str) -> Option<String> {
    if let Some(url) = std::env::var("PROFLAB_TEST_PG")
        .ok()
        .filter(|url| !url.is_empty())
    {
        return Some(url);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    assert!(
        !ci,
        "{test}: PROFLAB_TEST_PG is not set and CI is: CI must test the PostgreSQL backend \
         (.ci/run starts a server and sets it)"
    );
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED {test}: PROFLAB_TEST_PG is not set \
         (e.g. postgres://proflab:proflab@localhost/proflab_test, as .ci/run sets up); \
         with CI set this fails"
    );
    None
}

/// Runs each named `fn(&Store)` as two tests, `on_sqlite::NAME` and `on_postgres::NAME`.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[test]
                fn $test() {
                    super::$test(&super::Store::sqlite());
                }
            )*
        }
        mod on_postgres {
            $(
                #[test]
                fn $test() {
                    if let Some(store) =
                        super::Store::postgres(concat!("on_postgres::", stringify!($test)))
                    {
                        super::$test(&store);
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    refuses_a_database_from_a_newer_schema_and_leaves_it_alone,
    unknown_commit_is_named,
    an_exact_label_wins_over_longer_ones_it_begins,
    a_five_percent_slowdown_is_flagged_and_nothing_else,
    a_one_percent_change_stays_under_the_two_percent_threshold,
    different_machines_are_refused_unless_allowed,
    batches_pair_only_their_own_runs,
    an_interrupted_batch_is_left_out_unless_named,
    nothing_a_later_read_rejects_is_stored,
    schema_versions_no_proflab_wrote_are_refused,
    an_ambiguous_prefix_names_the_candidates,
    a_read_only_open_writes_nothing,
    markdown_comment_matches_its_golden_file,
    writers_opening_a_fresh_database_at_once_all_get_in,
    the_dashboard_reads_its_line_and_batches_from_the_store,
);

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

/// Criterion 0.3.0-0.3.2 wrote `sample.json` as `[[iters], [times]]` and
/// `estimates.json` with capitalised keys (read from Criterion's source at
/// those tags); both shapes import alike.
#[test]
fn criterion_0_3_early_json_shapes_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("g/f/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(
        new.join("benchmark.json"),
        r#"{"group_id":"g","function_id":"f","value_str":null,"throughput":null,"full_id":"g/f","directory_name":"g/f","title":"g/f"}"#,
    )
    .unwrap();
    std::fs::write(new.join("sample.json"), "[[1.0,2.0,3.0],[10.0,22.0,30.0]]").unwrap();
    let estimate = r#"{"confidence_interval":{"confidence_level":0.95,"lower_bound":9.0,"upper_bound":11.0},"point_estimate":10.5,"standard_error":0.5}"#;
    std::fs::write(
        new.join("estimates.json"),
        format!(r#"{{"Mean":{estimate},"Median":{estimate},"MedianAbsDev":{estimate},"Slope":{estimate},"StdDev":{estimate}}}"#),
    )
    .unwrap();
    let benches = import_criterion_dir(dir.path()).unwrap();
    assert_eq!(benches.len(), 1);
    assert_eq!(benches[0].id, "g/f");
    assert_eq!(benches[0].values, [10.0, 11.0, 10.0]);
    assert_eq!(benches[0].summary, 10.5);
}

fn refuses_a_database_from_a_newer_schema_and_leaves_it_alone(store: &Store) {
    drop(store.open("h"));
    store.set_schema_version("h", 99);
    let err = History::open(store.db("h"))
        .err()
        .expect("newer schema must be refused");
    assert!(
        matches!(err, TrackError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains(&store.db("h").to_string()),
        "{err}"
    );
    assert_eq!(store.schema_version("h"), 99, "left alone");
}

fn unknown_commit_is_named(store: &Store) {
    let history = store.open("h");
    let err = compare(&history, "abc", "def", &CompareOptions::default()).unwrap_err();
    assert!(
        matches!(&err, TrackError::UnknownCommit { reference, .. } if reference == "abc"),
        "{err}"
    );
}

/// Issue 35, item 14: `v1` beside `v1-tuned` was "ambiguous".
fn an_exact_label_wins_over_longer_ones_it_begins(store: &Store) {
    let root = store.dir().join("crit");
    write_bench(&root, "g/f", &noisy(100.0, 1));
    let benches = import_criterion_dir(&root).unwrap();
    let mut history = store.open("h");
    for label in ["v1-tuned", "v1", "v1-tuned-again"] {
        history
            .record(&context(label), &machine(), &benches)
            .unwrap();
    }
    assert_eq!(history.resolve("v1").unwrap(), "v1");
    assert!(matches!(
        history.resolve("v1-t"),
        Err(TrackError::AmbiguousCommit { .. })
    ));
}

/// Records twelve benchmarks for commits `aaaa` and `bbbb`, slowing `slowed` by `factor` in B.
fn two_commits(store: &Store, slowed: &str, factor: f64) -> History {
    let mut history = store.open("h");
    for (commit, seed_base) in [("aaaa", 0), ("bbbb", 1000)] {
        let criterion = store.dir().join(commit);
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
    history
}

fn a_five_percent_slowdown_is_flagged_and_nothing_else(store: &Store) {
    let history = two_commits(store, "g/f03", 1.05);
    let rows = compare(&history, "aaaa", "bbbb", &CompareOptions::default())
        .unwrap()
        .benchmarks;
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

fn a_one_percent_change_stays_under_the_two_percent_threshold(store: &Store) {
    let history = two_commits(store, "g/f03", 1.01);
    let rows = compare(&history, "aaaa", "bbbb", &CompareOptions::default())
        .unwrap()
        .benchmarks;
    assert!(
        rows.iter().all(|r| r.verdict == Verdict::Unchanged),
        "{rows:?}"
    );
}

fn different_machines_are_refused_unless_allowed(store: &Store) {
    write_bench(store.dir(), "g/f", &noisy(1.0, 1));
    let benches = import_criterion_dir(store.dir()).unwrap();
    let mut history = store.open("h");
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
        compare(&history, "aaaa", "bbbb", &allowed)
            .unwrap()
            .benchmarks
            .len(),
        1
    );
}

/// Records one batch of `rounds` paired rounds of twelve benchmarks into
/// `history`: round `r` of every benchmark drifts by the same amount on both
/// sides, and B's `slowed` benchmark is `factor` slower. Returns the batch id;
/// the batch is complete, as a `track run` that ended leaves it.
fn record_batch(
    history: &mut History,
    a: &str,
    b: &str,
    slowed: &str,
    factor: f64,
    seed: u64,
) -> i64 {
    let batch = record_unfinished_batch(history, a, b, slowed, factor, seed);
    history.finish_batch(batch).unwrap();
    batch
}

/// [`record_batch`]'s rounds without the end: what an interrupted run leaves.
fn record_unfinished_batch(
    history: &mut History,
    a: &str,
    b: &str,
    slowed: &str,
    factor: f64,
    seed: u64,
) -> i64 {
    let batch = history.begin_batch(a, b, "{}").unwrap();
    for round in 1..=5 {
        for (side, commit) in [(Side::A, a), (Side::B, b)] {
            let benches: Vec<Benchmark> = (0..12)
                .map(|i| {
                    let id = format!("g/f{i:02}");
                    let slow = if side == Side::B && id == slowed {
                        factor
                    } else {
                        1.0
                    };
                    let drift = 1.0 + 0.004 * ((seed + round as u64 * 7 + i) % 5) as f64;
                    let values = noisy(100.0 * drift * slow, seed * 1000 + round as u64 * 100 + i);
                    Benchmark {
                        id,
                        metric: Metric::TimeNs,
                        summary: values[0],
                        values,
                    }
                })
                .collect();
            let slot = BatchSlot { batch, round, side };
            history
                .record_round(slot, &context(commit), &machine(), &benches)
                .unwrap();
        }
    }
    batch
}

/// An interrupted `track run` (issue 35, item 12): its batch is never judged
/// in place of the complete one before it, and the comparison says so; named
/// with `--batch` it can still be read.
fn an_interrupted_batch_is_left_out_unless_named(store: &Store) {
    let mut history = store.open("h");
    let options = CompareOptions::default();
    let complete = record_batch(&mut history, "aaaa", "bbbb", "g/f03", 1.05, 3);
    let interrupted = record_unfinished_batch(&mut history, "aaaa", "bbbb", "g/f05", 1.2, 4);
    let report = compare(&history, "aaaa", "bbbb", &options).unwrap();
    assert_eq!(report.batch, Some(complete));
    assert_eq!(report.skipped_incomplete, [interrupted]);
    let regressed: Vec<&str> = report
        .benchmarks
        .iter()
        .filter(|c| c.verdict == Verdict::Regressed)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(regressed, ["g/f03"]);
    let mut table = Vec::new();
    proflab_track::write_table(&mut table, &report, &TableStyle::default()).unwrap();
    let table = String::from_utf8(table).unwrap();
    assert!(
        table.contains(&format!(
            "batch {interrupted} of these commits was interrupted"
        )),
        "{table}"
    );
    let named = CompareOptions {
        batch: Some(interrupted),
        ..CompareOptions::default()
    };
    let report = compare(&history, "aaaa", "bbbb", &named).unwrap();
    assert_eq!(report.batch, Some(interrupted));
    assert!(report.skipped_incomplete.is_empty());
    // With no complete batch at all, the runs are judged as independent ones.
    let mut alone = store.open("alone");
    record_unfinished_batch(&mut alone, "aaaa", "bbbb", "g/f05", 1.2, 4);
    let report = compare(&alone, "aaaa", "bbbb", &options).unwrap();
    assert_eq!(report.batch, None);
    assert_eq!(report.skipped_incomplete.len(), 1);
}

fn verdicts(report: &ComparisonReport) -> Vec<(String, Verdict, f64, f64)> {
    report
        .benchmarks
        .iter()
        .map(|c| (c.id.clone(), c.verdict, c.ci_low, c.ci_high))
        .collect()
}

fn batches_pair_only_their_own_runs(store: &Store) {
    let options = CompareOptions::default();
    // One database: an A/A (aaaa against aaa2), then an A/B (aaaa against bbbb).
    let mut shared = store.open("shared");
    record_batch(&mut shared, "aaaa", "aaa2", "", 1.0, 1);
    record_batch(&mut shared, "aaaa", "bbbb", "g/f03", 1.05, 2);
    // The same two runs in two fresh databases.
    let mut alone_aa = store.open("aa");
    record_batch(&mut alone_aa, "aaaa", "aaa2", "", 1.0, 1);
    let mut alone_ab = store.open("ab");
    record_batch(&mut alone_ab, "aaaa", "bbbb", "g/f03", 1.05, 2);

    let shared_aa = compare(&shared, "aaaa", "aaa2", &options).unwrap();
    let shared_ab = compare(&shared, "aaaa", "bbbb", &options).unwrap();
    assert_eq!(
        verdicts(&shared_aa),
        verdicts(&compare(&alone_aa, "aaaa", "aaa2", &options).unwrap())
    );
    assert_eq!(
        verdicts(&shared_ab),
        verdicts(&compare(&alone_ab, "aaaa", "bbbb", &options).unwrap())
    );
    assert_eq!((shared_aa.batch, shared_ab.batch), (Some(1), Some(2)));
    assert!(
        shared_aa
            .benchmarks
            .iter()
            .all(|c| c.verdict == Verdict::Unchanged && c.rounds == 5)
    );
    for c in &shared_ab.benchmarks {
        let expected = if c.id == "g/f03" {
            Verdict::Regressed
        } else {
            Verdict::Unchanged
        };
        assert_eq!(c.verdict, expected, "{c:?}");
    }
    // Plain `record` runs of the same commits never join a batch's rounds.
    let benches = import_criterion_dir(&{
        let criterion = store.dir().join("plain");
        write_bench(&criterion, "g/f03", &noisy(300.0, 9));
        criterion
    })
    .unwrap();
    shared
        .record(&context("bbbb"), &machine(), &benches)
        .unwrap();
    let again = compare(&shared, "aaaa", "bbbb", &options).unwrap();
    assert_eq!(verdicts(&again), verdicts(&shared_ab));
    // A batch can be asked for by number, and the plain runs judged on their own.
    let first = CompareOptions {
        batch: Some(1),
        ..CompareOptions::default()
    };
    assert!(matches!(
        compare(&shared, "aaaa", "bbbb", &first),
        Err(TrackError::BatchMismatch { batch: 1, .. })
    ));
    let reversed = compare(&shared, "bbbb", "aaaa", &options).unwrap();
    let f03 = reversed
        .benchmarks
        .iter()
        .find(|c| c.id == "g/f03")
        .unwrap();
    assert_eq!(
        f03.verdict,
        Verdict::Improved,
        "the batch read from B's side"
    );
}

/// Issue 11: what a careless or hostile user can put in front of the store.
fn nothing_a_later_read_rejects_is_stored(store: &Store) {
    let mut history = store.open("h");
    let bench = |id: &str, values: Vec<f64>| Benchmark {
        id: id.to_owned(),
        metric: Metric::TimeNs,
        summary: 1.0,
        values,
    };
    // Case 2: `t / n` infinite (1e10 / 1e-320) never reaches the database.
    let criterion = store.dir().join("criterion");
    write_bench(&criterion, "g/ok", &noisy(100.0, 1));
    let bad = criterion.join("g/bad/new");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::copy(
        criterion.join("g/ok/new/benchmark.json"),
        bad.join("benchmark.json"),
    )
    .unwrap();
    std::fs::copy(
        criterion.join("g/ok/new/estimates.json"),
        bad.join("estimates.json"),
    )
    .unwrap();
    std::fs::write(
        bad.join("sample.json"),
        r#"{"iters":[1e-320,1e-320],"times":[1e10,1e10]}"#,
    )
    .unwrap();
    let err = import_criterion_dir(&criterion).unwrap_err();
    assert!(err.to_string().contains("g/bad"), "{err}");
    for (benches, expected) in [
        (
            vec![bench("g/a", vec![f64::INFINITY])],
            "not a time per iteration or count",
        ),
        (vec![bench("g/a", vec![])], "no values"),
        (
            vec![bench("g/a", vec![1.0; 2_000_000])],
            "more than the 10000",
        ),
        (
            vec![bench("g/a", vec![1.0]), bench("g/a", vec![2.0])],
            "appears twice",
        ),
    ] {
        let err = history
            .record(&context("aaaa"), &machine(), &benches)
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    assert!(history.runs().unwrap().is_empty(), "nothing half-written");
    // What an older proflab stored (JSON null for an infinite time) is read past.
    history
        .record(
            &context("aaaa"),
            &machine(),
            &[bench("g/a", vec![1.0, 2.0]), bench("g/b", vec![3.0])],
        )
        .unwrap();
    drop(history);
    store.tamper(
        "h",
        "UPDATE results SET samples = '[null, 5.0]' WHERE bench_id = 'g/a';
         UPDATE results SET samples = '[null]' WHERE bench_id = 'g/b';",
    );
    let history = store.open("h");
    let series = history.commit_series("aaaa").unwrap();
    assert_eq!(series.benchmarks["g/a"].runs, vec![vec![5.0]]);
    assert!(
        !series.benchmarks.contains_key("g/b"),
        "nothing usable left"
    );
    proflab_track::export(
        &history,
        "aaaa",
        proflab_track::ExportFormat::Bmf,
        &mut Vec::new(),
    )
    .unwrap();
    // Case 11: a non-ASCII commit and markup in it: listed, and never markup
    // in the dashboard (a batch shows it; its data is JSON with `<` escaped).
    store.tamper("h", "UPDATE runs SET commit_sha = 'ééééééé<b>ééééééé'");
    let runs = history.runs().unwrap();
    assert_eq!(
        proflab_track::short_sha(&runs[0].commit, 12),
        "ééééééé<b>éé"
    );
    drop(history);
    let mut history = store.open("h");
    record_batch(&mut history, "ééééééé<b>ééééééé", "<i>b", "", 1.0, 1);
    let index = proflab_track::write_report(
        &history,
        &proflab_track::ReportOptions {
            output: store.dir().join("report"),
            ..proflab_track::ReportOptions::default()
        },
    )
    .unwrap();
    let html = std::fs::read_to_string(index).unwrap();
    assert!(!html.contains("<b>") && !html.contains("<i>"));
    assert!(
        html.contains("ééééééé\\u003cb>ééééééé"),
        "the commit, escaped"
    );
}

/// `git -C dir ARGS` by a fixed author; its output.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The page's model, as its script reads it.
fn dashboard_model(html: &str) -> serde_json::Value {
    let data = html
        .split_once(r#"<script id="data" type="application/json">"#)
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .expect("the model is in the page")
        .0;
    serde_json::from_str(data).unwrap()
}

/// `track report` on either store: main's two commits on the line, the step
/// between them paired by their batch, and the pull request's batch (main's
/// tip against a side branch) listed but never on the line.
fn the_dashboard_reads_its_line_and_batches_from_the_store(store: &Store) {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "one"]);
    let c1 = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["checkout", "-q", "-b", "side"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "side"]);
    let side = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "two"]);
    let c2 = git(dir, &["rev-parse", "HEAD"]);
    let mut history = store.open("h");
    record_batch(&mut history, &c1, &c2, "g/f03", 1.05, 1);
    record_batch(&mut history, &c2, &side, "g/f05", 1.05, 2);
    let index = proflab_track::write_report(
        &history,
        &proflab_track::ReportOptions {
            output: store.dir().join("report"),
            repo: Some(dir.to_owned()),
            ..proflab_track::ReportOptions::default()
        },
    )
    .unwrap();
    let model = dashboard_model(&std::fs::read_to_string(index).unwrap());
    let dashboard = &model["dashboard"];
    assert_eq!(dashboard["branch"], "main", "the checked-out branch");
    let line: Vec<&str> = dashboard["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap())
        .collect();
    assert_eq!(line, [c1.as_str(), c2.as_str()], "never the side's commit");
    let benchmarks = dashboard["machines"][0]["benchmarks"].as_array().unwrap();
    assert_eq!(benchmarks.len(), 12);
    for bench in benchmarks {
        assert_eq!(bench["points"].as_array().unwrap().len(), 2, "{bench}");
        let step = &bench["steps"][0];
        assert_eq!(step["batch"], 1, "paired by the batch of c1 and c2: {step}");
        let expected = if bench["id"] == "g/f03" {
            "regressed"
        } else {
            "unchanged"
        };
        assert_eq!(step["verdict"], expected, "{step}");
    }
    let batches: Vec<(i64, &str)> = dashboard["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["id"].as_i64().unwrap(),
                b["report"]["b"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        batches,
        [(2, side.as_str()), (1, c2.as_str())],
        "newest first"
    );
    let pull_request = &dashboard["batches"][0]["report"]["benchmarks"];
    assert_eq!(pull_request[0]["id"], "g/f05", "its regression first");
    assert_eq!(pull_request[0]["verdict"], "regressed");
}

fn schema_versions_no_proflab_wrote_are_refused(store: &Store) {
    drop(store.open("h"));
    store.set_schema_version("h", -1);
    for result in [
        History::open(store.db("h")),
        History::open_read_only(store.db("h")),
    ] {
        let err = result.err().expect("refused");
        assert!(
            matches!(err, TrackError::CorruptSchema { found: -1, .. }),
            "{err}"
        );
    }
}

fn an_ambiguous_prefix_names_the_candidates(store: &Store) {
    let mut history = store.open("h");
    let benches = [Benchmark {
        id: "g/a".into(),
        metric: Metric::TimeNs,
        summary: 1.0,
        values: vec![1.0],
    }];
    for commit in ["abc1111", "abc2222", "abd_%"] {
        history
            .record(&context(commit), &machine(), &benches)
            .unwrap();
    }
    let err = history.resolve("abc").unwrap_err();
    assert!(matches!(err, TrackError::AmbiguousCommit { .. }), "{err}");
    assert!(err.to_string().contains("abc1111, abc2222"), "{err}");
    assert_eq!(history.resolve("abc2").unwrap(), "abc2222");
    // A prefix is matched as text, not as a pattern, and with its case.
    assert_eq!(history.resolve("abd_").unwrap(), "abd_%");
    assert!(matches!(
        history.resolve("ab_"),
        Err(TrackError::UnknownCommit { .. })
    ));
    assert!(matches!(
        history.resolve("ABC2"),
        Err(TrackError::UnknownCommit { .. })
    ));
}

/// One timed benchmark with two samples: what the read-only tests store.
fn one_benchmark() -> [Benchmark; 1] {
    [Benchmark {
        id: "g/a".into(),
        metric: Metric::TimeNs,
        summary: 1.0,
        values: vec![1.0, 1.1],
    }]
}

fn a_read_only_open_writes_nothing(store: &Store) {
    let benches = one_benchmark();
    store
        .open("h")
        .record(&context("aaaa"), &machine(), &benches)
        .unwrap();
    let mut history = History::open_read_only(store.db("h")).unwrap();
    assert_eq!(history.runs().unwrap().len(), 1);
    proflab_track::export(
        &history,
        "aaaa",
        proflab_track::ExportFormat::Bmf,
        &mut Vec::new(),
    )
    .unwrap();
    // The database itself refuses a write through a read-only open.
    assert!(matches!(
        history.record(&context("bbbb"), &machine(), &benches),
        Err(TrackError::Db { .. })
    ));
    assert!(matches!(
        history.begin_batch("aaaa", "bbbb", "{}"),
        Err(TrackError::Db { .. })
    ));
    drop(history);
    assert_eq!(store.open("h").runs().unwrap().len(), 1);
    let missing = History::open_read_only(store.db("none")).err().unwrap();
    assert!(
        matches!(missing, TrackError::NoDatabase { .. }),
        "{missing}"
    );
    assert!(!store.exists("none"), "nothing created");
}

/// SQLite only: a read-only open leaves the file's bytes as they were and
/// makes no -wal or -shm file beside it.
#[test]
fn a_read_only_sqlite_open_leaves_the_files_alone() {
    let store = Store::sqlite();
    let benches = one_benchmark();
    store
        .open("h")
        .record(&context("aaaa"), &machine(), &benches)
        .unwrap();
    let Database::Sqlite(path) = store.db("h") else {
        unreachable!("an SQLite store")
    };
    let before = std::fs::read(&path).unwrap();
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let listed = files();
    let history = History::open_read_only(&path).unwrap();
    assert_eq!(history.runs().unwrap().len(), 1);
    drop(history);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(files(), listed, "no -wal or -shm left behind");
}

/// `--format markdown`, the pull-request comment, against its golden file
/// (`PROFLAB_UPDATE_GOLDEN=1` rewrites it after a deliberate change). The same
/// file on both backends: what they store reads back identically.
fn markdown_comment_matches_its_golden_file(store: &Store) {
    let mut history = store.open("h");
    record_batch(&mut history, "aaaa", "bbbb", "g/f03", 1.05, 2);
    let mut report = compare(&history, "aaaa", "bbbb", &CompareOptions::default()).unwrap();
    report.added.push("g/new".to_owned());
    let mut markdown = Vec::new();
    proflab_track::write_markdown(&mut markdown, &report).unwrap();
    let markdown = String::from_utf8(markdown).unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/compare.md");
    if std::env::var_os("PROFLAB_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &markdown).unwrap();
    }
    assert_eq!(markdown, std::fs::read_to_string(&golden).unwrap());
    assert!(
        markdown.starts_with(":x: **1 regressed**, 0 improved, 11 unchanged, 1 added, 0 removed")
    );
}

/// Eight writers open one fresh database at the same moment (each migrates
/// it, or finds it migrated) and record: all get in, each run whole. On
/// PostgreSQL this needs the advisory lock around migrations: without it two
/// sessions both create `proflab_schema` and one fails.
fn writers_opening_a_fresh_database_at_once_all_get_in(store: &Store) {
    const WRITERS: usize = 8;
    let db = store.db("h");
    let start = std::sync::Barrier::new(WRITERS);
    let ids: Vec<i64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (db, start) = (db.clone(), &start);
                scope.spawn(move || {
                    start.wait();
                    let mut history = History::open(db).unwrap();
                    let benches: Vec<Benchmark> = (0..20)
                        .map(|i| Benchmark {
                            id: format!("g/f{i:02}"),
                            metric: Metric::TimeNs,
                            summary: 1.0,
                            values: noisy(10.0 * (writer + 1) as f64, i),
                        })
                        .collect();
                    history
                        .record(&context(&format!("c{writer}")), &machine(), &benches)
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), WRITERS, "{ids:?}");
    let history = History::open_read_only(&db).unwrap();
    let runs = history.runs().unwrap();
    assert_eq!(runs.len(), WRITERS);
    assert!(runs.iter().all(|r| r.benchmarks == 20), "{runs:?}");
    for writer in 0..WRITERS {
        let series = history.commit_series(&format!("c{writer}")).unwrap();
        assert_eq!(series.benchmarks.len(), 20);
        let [stored] = &series.benchmarks["g/f03"].runs[..] else {
            panic!("one run of g/f03 at c{writer}");
        };
        // Within an ulp: serde_json (without its `float_roundtrip` feature)
        // may read a stored sample back one ulp off.
        let written = noisy(10.0 * (writer + 1) as f64, 3);
        assert_eq!(stored.len(), written.len());
        assert!(
            stored
                .iter()
                .zip(&written)
                .all(|(s, w)| (s - w).abs() <= 4.0 * f64::EPSILON * w),
            "c{writer}: {stored:?} != {written:?}"
        );
    }
    assert_eq!(store.schema_version("h"), 5);
}

/// PostgreSQL only: a connection the server dropped between two transactions
/// (a restart, an idle timeout; here `pg_terminate_backend`) is opened again
/// before the next one, and a read-only open stays read-only.
#[test]
fn a_dropped_connection_is_opened_again() {
    let Some(store) = Store::postgres("a_dropped_connection_is_opened_again") else {
        return;
    };
    let Database::Postgres(url) = store.db("h") else {
        unreachable!("a PostgreSQL store")
    };
    // A name of its own, so that only this test's sessions are terminated.
    let name = fresh_schema_name();
    let url = format!("{url}&application_name={name}");
    let terminate = || {
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let sessions = admin
            .query(
                "SELECT pid FROM pg_stat_activity
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
                &[&name],
            )
            .unwrap();
        assert_eq!(sessions.len(), 1, "one session to end");
        let pid: i32 = sessions[0].get(0);
        // Waits up to 5 s for the session to end (PostgreSQL 14 and later).
        let ended: bool = admin
            .query_one("SELECT pg_terminate_backend($1, 5000)", &[&pid])
            .unwrap()
            .get(0);
        assert!(ended);
    };
    let benches = [Benchmark {
        id: "g/a".into(),
        metric: Metric::TimeNs,
        summary: 1.0,
        values: vec![1.0],
    }];
    let mut history = History::open(Database::Postgres(url.clone())).unwrap();
    history
        .record(&context("aaaa"), &machine(), &benches)
        .unwrap();
    terminate();
    history
        .record(&context("bbbb"), &machine(), &benches)
        .unwrap();
    assert_eq!(history.runs().unwrap().len(), 2);
    drop(history);

    let mut reader = History::open_read_only(Database::Postgres(url.clone())).unwrap();
    terminate();
    assert_eq!(reader.runs().unwrap().len(), 2);
    assert!(matches!(
        reader.record(&context("cccc"), &machine(), &benches),
        Err(TrackError::Db { .. })
    ));
    assert_eq!(reader.runs().unwrap().len(), 2);
}

/// Issue 35, item 2: another application's SQLite file was taken over (our
/// tables added, `user_version` set, the file switched to WAL). Now it is
/// refused and left byte for byte as it was; a history from before the mark
/// still opens, and gets it.
#[test]
fn another_applications_sqlite_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    for (name, setup) in [
        ("notes", "CREATE TABLE notes (text TEXT);"),
        (
            "runs-of-its-own",
            "CREATE TABLE runs (id INTEGER, laps INTEGER);",
        ),
        ("marked", "PRAGMA application_id = 42;"),
    ] {
        let path = dir.path().join(format!("{name}.sqlite"));
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(setup)
            .unwrap();
        let before = std::fs::read(&path).unwrap();
        let opens: [fn(Database) -> Result<History, TrackError>; 2] =
            [|db| History::open(db), |db| History::open_read_only(db)];
        for open in opens {
            let err = open(Database::Sqlite(path.clone()))
                .err()
                .expect("a foreign file is refused");
            assert!(
                matches!(err, TrackError::ForeignDatabase { .. }),
                "{name}: {err}"
            );
            assert!(err.to_string().contains("not a proflab history"), "{err}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), before, "{name} changed");
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        assert!(!Path::new(&wal).exists(), "{name} got a write-ahead log");
    }

    let legacy = dir.path().join("legacy.sqlite");
    drop(History::open(Database::Sqlite(legacy.clone())).unwrap());
    let application_id = |path: &Path| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .unwrap()
    };
    assert_ne!(application_id(&legacy), 0, "a new history is marked");
    rusqlite::Connection::open(&legacy)
        .unwrap()
        .execute_batch("PRAGMA application_id = 0;")
        .unwrap();
    drop(History::open_read_only(Database::Sqlite(legacy.clone())).unwrap());
    drop(History::open(Database::Sqlite(legacy.clone())).unwrap());
    assert_ne!(application_id(&legacy), 0, "an old history gets the mark");
}

/// Issue 35, items 4 and 6: ids an older proflab stored unchecked (a
/// newline, a terminal escape, a `|` and backticks, 70 000 bytes) made
/// `compare` panic or print fake lines and Markdown. Each printer now
/// shows them escaped, one row per benchmark, and never panics.
#[test]
fn ids_stored_unchecked_are_printed_escaped_and_never_panic() {
    let store = Store::sqlite();
    let root = store.dir().join("crit");
    write_bench(&root, "g/f", &noisy(100.0, 1));
    let benches = import_criterion_dir(&root).unwrap();
    let mut history = store.open("h");
    history
        .record(&context("a1"), &machine(), &benches)
        .unwrap();
    history
        .record(&context("b2"), &machine(), &benches)
        .unwrap();
    drop(history);
    let long = "x".repeat(70_000);
    for id in [
        "g/f\nrecorded run 999: fake".to_owned(),
        "g/f\u{1b}[31m | ``tick``\n# Heading".to_owned(),
        long.clone(),
    ] {
        store.tamper(
            "h",
            &format!("UPDATE results SET bench_id = '{}'", id.replace('\'', "''")),
        );
        let history = History::open_read_only(store.db("h")).unwrap();
        let report = compare(&history, "a1", "b2", &CompareOptions::default()).unwrap();
        let mut table = Vec::new();
        proflab_track::write_table(&mut table, &report, &TableStyle::default()).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert_eq!(table.lines().count(), 2, "{table:.300}");
        assert!(!table.contains('\u{1b}'), "{table:.300}");
        let mut markdown = Vec::new();
        proflab_track::write_markdown(&mut markdown, &report).unwrap();
        let markdown = String::from_utf8(markdown).unwrap();
        let rows: Vec<&str> = markdown.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(rows.len(), 1, "{markdown:.500}");
        assert!(
            !markdown.lines().any(|l| l.starts_with("# ")),
            "{markdown:.500}"
        );
        assert_eq!(
            rows[0].matches(" | ").count(),
            7,
            "one cell per column: {:.300}",
            rows[0]
        );
    }
}

/// Issue 35, item 16: `--db //tmp/x.sqlite` was written, then every read
/// failed with `invalid uri authority: tmp`.
#[test]
fn a_path_beginning_with_two_slashes_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut doubled = std::ffi::OsString::from("/");
    doubled.push(dir.path().join("h.sqlite"));
    let db = Database::Sqlite(doubled.into());
    drop(History::open(db.clone()).unwrap());
    assert!(
        History::open_read_only(db)
            .unwrap()
            .runs()
            .unwrap()
            .is_empty()
    );
}

/// A TCP proxy on 127.0.0.1 in front of the PostgreSQL server `url` names,
/// which can be frozen: it then still accepts connections and reads what
/// clients send (the kernel acknowledges it, as for a stopped process) but
/// forwards nothing either way. Returns its port and its switch.
fn frozen_proxy(url: &str) -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::io::{Read as _, Write as _};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let config: postgres::Config = url.parse().unwrap();
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(host) => host.clone(),
        postgres::config::Host::Unix(_) => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = listener.local_addr().unwrap().port();
    let frozen = Arc::new(AtomicBool::new(false));
    let switch = Arc::clone(&frozen);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect((host.as_str(), port)) else {
                return;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                let frozen = Arc::clone(&frozen);
                std::thread::spawn(move || {
                    let mut buffer = [0; 8192];
                    while let Ok(n) = from.read(&mut buffer) {
                        while frozen.load(Ordering::SeqCst) {
                            std::thread::sleep(std::time::Duration::from_millis(50));
                        }
                        if n == 0 || to.write_all(&buffer[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        }
    });
    (proxy_port, switch)
}

/// `url` through 127.0.0.1:`port`, with these libpq parameters added.
fn through_proxy(url: &str, port: u16, parameters: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
    let path = &rest[rest.find(['/', '?']).unwrap_or(rest.len())..];
    let at = if credentials.is_empty() { "" } else { "@" };
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{scheme}://{credentials}{at}127.0.0.1:{port}{path}{separator}{parameters}")
}

/// Issue 35, item 9: a server that stops answering hung `record` and
/// `history` forever, even with `?connect_timeout=3`. Through a frozen
/// proxy, opening fails within the connect timeout, and a read on an open
/// history within the statement timeout plus it, each saying so.
#[test]
fn a_server_that_stops_answering_fails_within_the_timeouts() {
    let Some(url) = postgres_url_or_skip("a_server_that_stops_answering_fails_within_the_timeouts")
    else {
        return;
    };
    let store = Store::postgres("frozen").unwrap();
    let Database::Postgres(with_schema) = store.db("h") else {
        unreachable!()
    };
    let schema = with_schema
        .rsplit_once("search_path%3D")
        .unwrap()
        .1
        .to_owned();
    let (port, frozen) = frozen_proxy(&url);
    let options = format!(
        "connect_timeout=2&options=-c%20search_path%3D{schema}%20-c%20statement_timeout%3D1000"
    );
    let db = Database::Postgres(through_proxy(&url, port, &options));

    let mut history = History::open(db.clone()).unwrap();
    let root = store.dir().join("crit");
    write_bench(&root, "g/f", &noisy(100.0, 1));
    let benches = import_criterion_dir(&root).unwrap();
    history
        .record(&context("a1"), &machine(), &benches)
        .unwrap();

    frozen.store(true, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let err = history.runs().unwrap_err();
    let waited = started.elapsed();
    assert!(err.to_string().contains("history database"), "{err}");
    let cause = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(cause.contains("did not answer within"), "{cause}");
    assert!(waited < std::time::Duration::from_secs(15), "{waited:?}");

    let started = std::time::Instant::now();
    let err = History::open_read_only(db).err().expect("a frozen server");
    let waited = started.elapsed();
    let cause = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        cause.contains("did not answer within 2 s"),
        "{err}: {cause}"
    );
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
}
