//! `proflab track` against a shared history: many `record` processes at once,
//! a writer killed mid-transaction (both on PostgreSQL and, for comparison,
//! on SQLite), and databases that cannot be opened.
//!
//! The PostgreSQL tests use the server `PROFLAB_TEST_PG` names (.ci/run
//! starts one: postgres://proflab:proflab@localhost/proflab_test), each in a
//! schema of its own that is dropped afterwards. Without it they skip with a
//! note, unless `CI` is set, where they fail.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use proflab_track::{Database, History};

mod common;
use common::{commit_empty, git};

fn proflab(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_proflab"));
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PROFLAB_DB")
        .env_remove("PROFLAB_MACHINE")
        .env_remove("PROFLAB_TEST_PAUSE_IN_RECORD");
    cmd
}

/// A checkout with one commit named `message` (so each checkout's SHA differs),
/// and a Criterion tree of `benches` benchmarks around `center` ns in `crit/`.
fn checkout(message: &str, benches: usize, center: f64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    commit_empty(dir.path(), message);
    for b in 0..benches {
        let id = format!("g/f{b:02}");
        let new = dir.path().join("crit").join(&id).join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            format!(r#"{{"full_id":"{id}"}}"#),
        )
        .unwrap();
        let iters: Vec<f64> = (1..=30).map(f64::from).collect();
        let times: Vec<f64> = iters
            .iter()
            .map(|n| n * center * (1.0 + 0.01 * ((n * 7.0) % 5.0)))
            .collect();
        std::fs::write(
            new.join("sample.json"),
            serde_json::json!({"iters": iters, "times": times}).to_string(),
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            format!(r#"{{"mean":{{"point_estimate":{center}}}}}"#),
        )
        .unwrap();
    }
    dir
}

fn head(dir: &Path) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn record(dir: &Path, db: &str) -> Command {
    let mut cmd = proflab(dir);
    cmd.args(["track", "--db", db, "record", "--criterion-dir", "crit"]);
    cmd
}

fn history_json(dir: &Path, db: &str) -> Vec<serde_json::Value> {
    let out = proflab(dir)
        .args(["track", "--db", db, "history", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fresh schema in the test server, dropped when this value is.
struct Schema {
    server: String,
    name: String,
}

impl Schema {
    /// `None` after a note when `PROFLAB_TEST_PG` is unset and `CI` is not.
    ///
    /// # Panics
    /// When it is unset and `CI` is set: CI must test the PostgreSQL backend.
    fn create(test: &str) -> Option<Schema> {
        let Some(server) = std::env::var("PROFLAB_TEST_PG")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
            assert!(
                !ci,
                "{test}: PROFLAB_TEST_PG is not set and CI is: CI must test the PostgreSQL \
                 backend (.ci/run starts a server and sets it)"
            );
            // Past libtest's capture, so that `cargo test` shows it.
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED {test}: PROFLAB_TEST_PG is not set \
                 (e.g. postgres://proflab:proflab@localhost/proflab_test, as .ci/run sets up); \
                 with CI set this fails"
            );
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("proflab_cli_test_{}_{nanos}", std::process::id());
        postgres::Client::connect(&server, postgres::NoTls)
            .unwrap()
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap();
        Some(Schema { server, name })
    }

    /// The URL whose sessions use this schema.
    fn url(&self) -> String {
        let separator = if self.server.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.server, self.name
        )
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// Eight CI runners (eight checkouts, eight machine names) record into one
/// history at the same moment, each holding its transaction open for `pause`
/// seconds after its run row (on PostgreSQL all eight then overlap; SQLite
/// queues them): every run and every result arrives once, series stay per
/// machine, and comparing two runners is refused unless allowed.
fn eight_writers_from_eight_checkouts_lose_nothing(url: &str, pause: &str) {
    const WRITERS: usize = 8;
    const BENCHES: usize = 40;
    let database = Database::parse(url.as_ref()).unwrap();
    let checkouts: Vec<_> = (0..WRITERS)
        .map(|w| checkout(&format!("runner {w}"), BENCHES, 100.0 * (w + 1) as f64))
        .collect();
    let children: Vec<_> = checkouts
        .iter()
        .enumerate()
        .map(|(w, dir)| {
            // The way a CI runner is configured: the environment, no flag.
            let mut cmd = proflab(dir.path());
            cmd.args(["track", "record", "--criterion-dir", "crit", "--json"])
                .env("PROFLAB_DB", url)
                .env("PROFLAB_MACHINE", format!("runner-{w}"))
                .env("PROFLAB_TEST_PAUSE_IN_RECORD", pause)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut recorded = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["benchmarks"], BENCHES);
        // Named as `Display` shows it: the password replaced by `***`.
        assert_eq!(report["database"], database.to_string());
        recorded.push(report["run"].as_i64().unwrap());
    }
    recorded.sort_unstable();
    recorded.dedup();
    assert_eq!(recorded.len(), WRITERS, "eight distinct run ids");

    let runs = history_json(checkouts[0].path(), url);
    assert_eq!(runs.len(), WRITERS, "{runs:?}");
    for (w, dir) in checkouts.iter().enumerate() {
        let sha = head(dir.path());
        let mine: Vec<_> = runs
            .iter()
            .filter(|r| r["commit"] == sha.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "runner {w} recorded once: {runs:?}");
        assert_eq!(mine[0]["benchmarks"], BENCHES);
        assert!(
            mine[0]["machine"]
                .as_str()
                .unwrap()
                .starts_with(&format!("runner-{w} x")),
            "{:?}",
            mine[0]
        );
    }
    // Every value arrived as written: runner w's benchmarks sit around 100·(w+1) ns.
    let history = History::open_read_only(&database).unwrap();
    for (w, dir) in checkouts.iter().enumerate() {
        let series = history.commit_series(&head(dir.path())).unwrap();
        assert_eq!(series.benchmarks.len(), BENCHES);
        for run in series.benchmarks.values() {
            assert_eq!(run.runs.len(), 1);
            assert_eq!(run.runs[0].len(), 30);
            let center = 100.0 * (w + 1) as f64;
            assert!(
                run.runs[0]
                    .iter()
                    .all(|v| (center..center * 1.05).contains(v))
            );
        }
    }

    let (a, b) = (head(checkouts[0].path()), head(checkouts[1].path()));
    let out = proflab(checkouts[0].path())
        .args(["track", "--db", url, "compare", &a, &b])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("recorded on different machines"),
        "{}",
        stderr(&out)
    );
    let out = proflab(checkouts[0].path())
        .args([
            "track",
            "--db",
            url,
            "compare",
            &a,
            &b,
            "--allow-different-machines",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["benchmarks"].as_array().unwrap().len(), BENCHES);
}

#[test]
fn eight_writers_from_eight_checkouts_lose_nothing_on_postgres() {
    let Some(schema) =
        Schema::create("eight_writers_from_eight_checkouts_lose_nothing_on_postgres")
    else {
        return;
    };
    eight_writers_from_eight_checkouts_lose_nothing(&schema.url(), "1");
}

#[test]
fn eight_writers_from_eight_checkouts_lose_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    eight_writers_from_eight_checkouts_lose_nothing(path.to_str().unwrap(), "0.2");
}

/// A `record` killed (SIGKILL, nothing caught) inside its transaction, after
/// its run row and before its results: the history shows no trace of it, and
/// the next writer gets in.
fn killed_writer_leaves_no_partial_run(db: &str) {
    let dir = checkout("one", 30, 100.0);
    let out = record(dir.path(), db).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let mut child = record(dir.path(), db)
        .env("PROFLAB_TEST_PAUSE_IN_RECORD", "600")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let paused = lines
        .find_map(|line| {
            let line = line.unwrap();
            line.contains("PROFLAB_TEST_PAUSE_IN_RECORD")
                .then_some(line)
        })
        .expect("the writer reached its pause");
    let killed_run: i64 = paused
        .split("run ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a run id in {paused:?}"));
    child.kill().unwrap();
    child.wait().unwrap();

    let runs = history_json(dir.path(), db);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_ne!(runs[0]["id"], killed_run);
    assert_eq!(runs[0]["benchmarks"], 30);

    let out = record(dir.path(), db).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = history_json(dir.path(), db);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|r| r["benchmarks"] == 30), "{runs:?}");
}

#[test]
fn killed_writer_leaves_no_partial_run_on_postgres() {
    let Some(schema) = Schema::create("killed_writer_leaves_no_partial_run_on_postgres") else {
        return;
    };
    killed_writer_leaves_no_partial_run(&schema.url());
}

#[test]
fn killed_writer_leaves_no_partial_run_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    killed_writer_leaves_no_partial_run(dir.path().join("h.sqlite").to_str().unwrap());
}

/// Exit 2 with a message naming the database, its password hidden, and no panic.
fn refused(out: &Output, expected: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for text in expected {
        assert!(err.contains(text), "{text:?} in {err}");
    }
    assert!(!err.contains("s3cret"), "the password is hidden: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Needs no server: nothing listens on port 1.
#[test]
fn unreachable_or_malformed_databases_are_named_without_the_password() {
    let dir = checkout("one", 1, 100.0);
    let refused_port = "postgres://ci:s3cret@127.0.0.1:1/bench";
    for command in [&["history"][..], &["record", "--criterion-dir", "crit"]] {
        let out = proflab(dir.path())
            .args(["track", "--db", refused_port])
            .args(command)
            .output()
            .unwrap();
        refused(
            &out,
            &[
                "history database postgres://ci:***@127.0.0.1:1/bench",
                "error connecting to server",
            ],
        );
    }
    // PROFLAB_DB is read when --db is absent.
    let out = proflab(dir.path())
        .args(["track", "history"])
        .env("PROFLAB_DB", refused_port)
        .output()
        .unwrap();
    refused(&out, &["postgres://ci:***@127.0.0.1:1/bench"]);
    let out = proflab(dir.path())
        .args([
            "track",
            "--db",
            "postgresql://ci:s3cret@localhost:port/bench",
            "history",
        ])
        .output()
        .unwrap();
    refused(
        &out,
        &[
            "postgresql://ci:***@localhost:port/bench",
            "invalid connection string",
        ],
    );
    let out = proflab(dir.path())
        .args(["track", "--db", "mysql://root:s3cret@db/bench", "history"])
        .output()
        .unwrap();
    refused(&out, &["`mysql://…` is not a history database"]);
    assert!(!dir.path().join("mysql:").exists(), "not taken for a path");
}

#[test]
fn a_wrong_password_is_refused_without_showing_it() {
    let Some(schema) = Schema::create("a_wrong_password_is_refused_without_showing_it") else {
        return;
    };
    let url = schema.url();
    // postgres://USER:PASSWORD@… with the password swapped for a wrong one.
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, location) = rest.rsplit_once('@').unwrap();
    let user = credentials.split(':').next().unwrap();
    let wrong = format!("{scheme}://{user}:s3cret-wrong@{location}");
    let dir = checkout("one", 1, 100.0);
    let out = proflab(dir.path())
        .args(["track", "--db", &wrong, "history"])
        .output()
        .unwrap();
    refused(
        &out,
        &[
            &format!("{scheme}://{user}:***@"),
            "password authentication failed",
        ],
    );
}
