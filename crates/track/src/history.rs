//! The SQLite store. Invariants: one transaction per `record` (a failed import
//! leaves nothing behind); WAL and a busy timeout so that concurrent `record`
//! processes queue instead of failing; `PRAGMA user_version` is the schema
//! version, migrated forward on open and refused when newer than [`MIGRATIONS`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior, params};
use serde::Serialize;

use crate::{Benchmark, Machine, Metric, RunContext, TrackError};

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only:
/// a released database may be at any earlier version.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        commit_sha TEXT NOT NULL,
        dirty INTEGER NOT NULL,
        branch TEXT NOT NULL,
        time INTEGER NOT NULL,
        machine TEXT NOT NULL
    );
    CREATE TABLE results (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        bench_id TEXT NOT NULL,
        criterion_mean_ns REAL NOT NULL,
        samples_ns TEXT NOT NULL,
        PRIMARY KEY (run_id, bench_id)
    );",
    // Version 2: look-ups by commit prefix and per-benchmark history stay fast as runs accumulate.
    "CREATE INDEX runs_by_commit ON runs(commit_sha);
     CREATE INDEX results_by_bench ON results(bench_id);",
    // Version 3: instruction counts beside times; `criterion_mean_ns` and
    // `samples_ns` then hold the count.
    "ALTER TABLE results ADD COLUMN metric TEXT NOT NULL DEFAULT 'time_ns';",
];

/// Where history lives unless `--db` says otherwise: `<repo root>/.proflab/history.sqlite`,
/// outside `target/` so that `cargo clean` keeps it.
pub fn default_db_path(repo_root: &Path) -> PathBuf {
    repo_root.join(".proflab").join("history.sqlite")
}

/// Per-iteration times in nanoseconds (or instruction counts), by benchmark id.
pub type Samples = BTreeMap<String, Vec<f64>>;

/// Per-iteration times in nanoseconds (or instruction counts), by benchmark id, one vector per run.
pub type RunSamples = BTreeMap<String, Vec<Vec<f64>>>;

/// One recorded run, as `history` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub commit: String,
    pub dirty: bool,
    pub branch: String,
    pub time: i64,
    pub machine: String,
    pub benchmarks: i64,
}

/// An open history database.
pub struct History {
    conn: Connection,
    path: PathBuf,
}

impl History {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<History, TrackError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| TrackError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        let db = |source| TrackError::Db {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        let supported = MIGRATIONS.len() as i64;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let found: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db)?;
        if found > supported {
            return Err(TrackError::NewerSchema {
                path: path.to_owned(),
                found,
                supported,
            });
        }
        for migration in &MIGRATIONS[found as usize..] {
            tx.execute_batch(migration).map_err(db)?;
        }
        tx.pragma_update(None, "user_version", supported)
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(History {
            conn,
            path: path.to_owned(),
        })
    }

    fn db_error(&self, source: rusqlite::Error) -> TrackError {
        TrackError::Db {
            path: self.path.clone(),
            source,
        }
    }

    /// Stores one run and all its benchmarks atomically; returns the run id.
    pub fn record(
        &mut self,
        context: &RunContext,
        machine: &Machine,
        benches: &[Benchmark],
    ) -> Result<i64, TrackError> {
        let path = self.path.clone();
        let db = |source| TrackError::Db {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.execute(
            "INSERT INTO runs (commit_sha, dirty, branch, time, machine) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                context.commit,
                context.dirty,
                context.branch,
                context.time,
                machine.fingerprint()
            ],
        )
        .map_err(db)?;
        let run_id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare("INSERT INTO results (run_id, bench_id, criterion_mean_ns, samples_ns, metric) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(db)?;
            for bench in benches {
                let samples = serde_json::to_string(&bench.values)
                    .map_err(|e| db(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
                insert
                    .execute(params![
                        run_id,
                        bench.id,
                        bench.summary,
                        samples,
                        bench.metric.as_str()
                    ])
                    .map_err(db)?;
            }
        }
        tx.commit().map_err(db)?;
        Ok(run_id)
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunSummary>, TrackError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.commit_sha, r.dirty, r.branch, r.time, r.machine,
                        (SELECT COUNT(*) FROM results WHERE run_id = r.id)
                 FROM runs r ORDER BY r.time, r.id",
            )
            .map_err(|e| self.db_error(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RunSummary {
                    id: r.get(0)?,
                    commit: r.get(1)?,
                    dirty: r.get(2)?,
                    branch: r.get(3)?,
                    time: r.get(4)?,
                    machine: r.get(5)?,
                    benchmarks: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))?;
        Ok(rows)
    }

    /// The full commit SHA that `reference` (a SHA or unique prefix) names among recorded runs.
    pub fn resolve(&self, reference: &str) -> Result<String, TrackError> {
        let unknown = || TrackError::UnknownCommit {
            reference: reference.to_owned(),
            path: self.path.clone(),
        };
        if reference.is_empty() {
            return Err(unknown());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT commit_sha FROM runs WHERE substr(commit_sha, 1, length(?1)) = ?1 LIMIT 2")
            .map_err(|e| self.db_error(e))?;
        let found = stmt
            .query_map([reference], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(unknown()),
        }
    }

    /// The pooled per-iteration samples of every benchmark recorded for `commit`
    /// (all its runs, e.g. the K rounds of a paired run), and the machines they came from.
    pub fn samples(&self, commit: &str) -> Result<(Samples, Vec<String>), TrackError> {
        let (runs, machines) = self.samples_by_run(commit)?;
        let pooled = runs
            .into_iter()
            .map(|(id, runs)| (id, runs.concat()))
            .collect();
        Ok((pooled, machines))
    }

    /// What each recorded benchmark measures, by id.
    pub fn metrics(&self) -> Result<BTreeMap<String, Metric>, TrackError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT bench_id, metric FROM results")
            .map_err(|e| self.db_error(e))?;
        stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Metric::from_stored(&r.get::<_, String>(1)?),
            ))
        })
        .and_then(|rows| rows.collect::<Result<BTreeMap<_, _>, _>>())
        .map_err(|e| self.db_error(e))
    }

    /// Like [`History::samples`], but each run's samples kept apart, in
    /// recording order: the rounds that a paired comparison needs.
    pub fn samples_by_run(&self, commit: &str) -> Result<(RunSamples, Vec<String>), TrackError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT res.bench_id, res.samples_ns FROM results res JOIN runs r ON r.id = res.run_id
                 WHERE r.commit_sha = ?1 ORDER BY r.id",
            )
            .map_err(|e| self.db_error(e))?;
        let rows = stmt
            .query_map([commit], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))?;
        let mut by_run: RunSamples = BTreeMap::new();
        for (id, json) in rows {
            let samples: Vec<f64> =
                serde_json::from_str(&json).map_err(|source| TrackError::Json {
                    path: self.path.join(format!("results[{id}]")),
                    source,
                })?;
            by_run.entry(id).or_default().push(samples);
        }
        let mut machines_stmt = self
            .conn
            .prepare("SELECT DISTINCT machine FROM runs WHERE commit_sha = ?1")
            .map_err(|e| self.db_error(e))?;
        let machines = machines_stmt
            .query_map([commit], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))?;
        Ok((by_run, machines))
    }
}
