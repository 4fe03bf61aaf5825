//! The SQLite store. Invariants: one transaction per `record` (a failed import
//! leaves nothing behind); WAL and a busy timeout so that concurrent `record`
//! processes queue instead of failing; `PRAGMA user_version` is the schema
//! version, migrated forward on open and refused when newer than [`MIGRATIONS`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, params};
use serde::Serialize;

use crate::model::{CommitSeries, PairedBenchmark, PairedRound, PairedSeries, RunSeries};
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
    // Version 3: instruction counts beside times.
    "ALTER TABLE results ADD COLUMN metric TEXT NOT NULL DEFAULT 'time_ns';",
    // Version 4: a `track run` is a batch; its runs are paired only with each
    // other, by round and side. The value columns hold counts too now, so
    // their names lose the unit.
    "CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        a_commit TEXT NOT NULL,
        b_commit TEXT NOT NULL,
        time INTEGER NOT NULL,
        settings TEXT NOT NULL
    );
    ALTER TABLE runs ADD COLUMN batch_id INTEGER REFERENCES batches(id);
    ALTER TABLE runs ADD COLUMN round INTEGER;
    ALTER TABLE runs ADD COLUMN side INTEGER;
    CREATE INDEX runs_by_batch ON runs(batch_id);
    ALTER TABLE results RENAME COLUMN criterion_mean_ns TO summary;
    ALTER TABLE results RENAME COLUMN samples_ns TO samples;",
];

/// Where history lives unless `--db` says otherwise: `<repo root>/.proflab/history.sqlite`,
/// outside `target/` so that `cargo clean` keeps it.
pub fn default_db_path(repo_root: &Path) -> PathBuf {
    repo_root.join(".proflab").join("history.sqlite")
}

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
    /// The `track run` this run belongs to, if any.
    pub batch: Option<i64>,
    /// Its round in that batch (0 holds instruction counts).
    pub round: Option<i64>,
}

/// Where a run of a batch sits: which batch, which round, which side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSlot {
    pub batch: i64,
    pub round: i64,
    pub side: Side,
}

/// The baseline (A) or the candidate (B) of a paired run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

impl Side {
    fn stored(self) -> i64 {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
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
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let found = schema_version(&tx, path)?;
        for migration in &MIGRATIONS[found..] {
            tx.execute_batch(migration).map_err(db)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(History {
            conn,
            path: path.to_owned(),
        })
    }

    /// Opens an existing database for reading only: nothing is created,
    /// migrated or written, so a database on a read-only disk (or another
    /// user's) can be listed, compared and exported. A database at an older
    /// schema is refused with the command that upgrades it.
    pub fn open_read_only(path: &Path) -> Result<History, TrackError> {
        let db = |source| TrackError::Db {
            path: path.to_owned(),
            source,
        };
        if !path.is_file() {
            return Err(TrackError::NoDatabase {
                path: path.to_owned(),
            });
        }
        let open = |uri_query: &str| -> Result<Connection, rusqlite::Error> {
            let mut uri = url_path(path);
            uri.push_str(uri_query);
            let conn = Connection::open_with_flags(
                uri,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
            )?;
            conn.busy_timeout(Duration::from_secs(30))?;
            conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))?;
            Ok(conn)
        };
        // Without a write-ahead log beside it, no writer is at work and the
        // file is the whole database: `immutable` reads it without creating
        // the -wal and -shm files a WAL reader otherwise needs (which a
        // read-only folder would refuse). With one, read through it.
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let conn = if Path::new(&wal).exists() {
            open("?mode=ro")
        } else {
            open("?mode=ro&immutable=1")
        }
        .map_err(db)?;
        let found = schema_version(&conn, path)?;
        if found < MIGRATIONS.len() {
            return Err(TrackError::OlderSchema {
                path: path.to_owned(),
                found: found as i64,
            });
        }
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

    /// Stores one run that belongs to no batch (`track record`) and all its
    /// benchmarks atomically; returns the run id.
    pub fn record(
        &mut self,
        context: &RunContext,
        machine: &Machine,
        benches: &[Benchmark],
    ) -> Result<i64, TrackError> {
        self.insert_run(context, machine, benches, None)
    }

    /// Starts a batch: the runs of one `track run` of `a` against `b`,
    /// paired only with each other. `settings` says how they were measured.
    pub fn begin_batch(&mut self, a: &str, b: &str, settings: &str) -> Result<i64, TrackError> {
        self.conn
            .execute(
                "INSERT INTO batches (a_commit, b_commit, time, settings) VALUES (?1, ?2, ?3, ?4)",
                params![a, b, crate::environment::unix_seconds_now(), settings],
            )
            .map_err(|e| self.db_error(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Stores one side of one round of a batch atomically; returns the run id.
    pub fn record_round(
        &mut self,
        slot: BatchSlot,
        context: &RunContext,
        machine: &Machine,
        benches: &[Benchmark],
    ) -> Result<i64, TrackError> {
        self.insert_run(context, machine, benches, Some(slot))
    }

    fn insert_run(
        &mut self,
        context: &RunContext,
        machine: &Machine,
        benches: &[Benchmark],
        slot: Option<BatchSlot>,
    ) -> Result<i64, TrackError> {
        // Validated at the door: what a later read would reject never gets in.
        for bench in benches {
            bench.validate()?;
        }
        let mut ids: Vec<&str> = benches.iter().map(|b| b.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(TrackError::DuplicateBenchmark {
                id: pair[0].to_owned(),
            });
        }
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
            "INSERT INTO runs (commit_sha, dirty, branch, time, machine, batch_id, round, side)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                context.commit,
                context.dirty,
                context.branch,
                context.time,
                machine.fingerprint(),
                slot.map(|s| s.batch),
                slot.map(|s| s.round),
                slot.map(|s| s.side.stored()),
            ],
        )
        .map_err(db)?;
        let run_id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare("INSERT INTO results (run_id, bench_id, summary, samples, metric) VALUES (?1, ?2, ?3, ?4, ?5)")
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
                        (SELECT COUNT(*) FROM results WHERE run_id = r.id), r.batch_id, r.round
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
                    batch: r.get(7)?,
                    round: r.get(8)?,
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
            .prepare("SELECT DISTINCT commit_sha FROM runs WHERE substr(commit_sha, 1, length(?1)) = ?1 LIMIT 3")
            .map_err(|e| self.db_error(e))?;
        let found = stmt
            .query_map([reference], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))?;
        match found.as_slice() {
            [] => Err(unknown()),
            [one] => Ok(one.clone()),
            several => Err(TrackError::AmbiguousCommit {
                reference: reference.to_owned(),
                candidates: several.to_vec(),
            }),
        }
    }

    /// The newest batch that measured `a` against `b` (in either order).
    pub fn latest_batch(&self, a: &str, b: &str) -> Result<Option<i64>, TrackError> {
        self.conn
            .query_row(
                "SELECT MAX(id) FROM batches
                 WHERE (a_commit = ?1 AND b_commit = ?2) OR (a_commit = ?2 AND b_commit = ?1)",
                params![a, b],
                |r| r.get(0),
            )
            .map_err(|e| self.db_error(e))
    }

    /// The two commits of batch `batch`, A first.
    pub fn batch_commits(&self, batch: i64) -> Result<(String, String), TrackError> {
        self.conn
            .query_row(
                "SELECT a_commit, b_commit FROM batches WHERE id = ?1",
                [batch],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.db_error(e))?
            .ok_or_else(|| TrackError::UnknownBatch {
                batch,
                path: self.path.clone(),
            })
    }

    /// Every run recorded for `commit`, plain or in a batch, as independent runs.
    pub fn commit_series(&self, commit: &str) -> Result<CommitSeries, TrackError> {
        let rows = self.result_rows(
            "SELECT r.id, res.bench_id, res.metric, res.samples, r.machine, 0, 0
             FROM results res JOIN runs r ON r.id = res.run_id
             WHERE r.commit_sha = ?1 ORDER BY r.id",
            params![commit],
        )?;
        let mut series = CommitSeries {
            commit: commit.to_owned(),
            machines: BTreeSet::new(),
            benchmarks: BTreeMap::new(),
        };
        for row in rows {
            series.machines.insert(row.machine);
            series
                .benchmarks
                .entry(row.bench_id)
                .or_insert_with(|| RunSeries {
                    metric: row.metric,
                    runs: Vec::new(),
                })
                .runs
                .push(row.values);
        }
        Ok(series)
    }

    /// The runs of batch `batch`, paired round by round.
    pub fn paired_series(&self, batch: i64) -> Result<PairedSeries, TrackError> {
        let (a, b) = self.batch_commits(batch)?;
        let rows = self.result_rows(
            "SELECT r.id, res.bench_id, res.metric, res.samples, r.machine, r.round, r.side
             FROM results res JOIN runs r ON r.id = res.run_id
             WHERE r.batch_id = ?1 ORDER BY r.round, r.id",
            params![batch],
        )?;
        let mut machines = BTreeSet::new();
        let mut sides: [BTreeMap<String, SideRounds>; 2] = Default::default();
        for row in rows {
            machines.insert(row.machine);
            let side = usize::from(row.side == Side::B.stored());
            sides[side]
                .entry(row.bench_id)
                .or_insert_with(|| (row.metric, BTreeMap::new()))
                .1
                .insert(row.round, row.values);
        }
        let [mut on_a, on_b] = sides;
        let only_b = on_b
            .keys()
            .filter(|id| !on_a.contains_key(*id))
            .cloned()
            .collect();
        let mut only_a = Vec::new();
        let mut benchmarks = BTreeMap::new();
        for (id, (metric, mut b_rounds)) in on_b {
            let Some((_, a_rounds)) = on_a.remove(&id) else {
                continue;
            };
            let rounds: Vec<PairedRound> = a_rounds
                .into_iter()
                .filter_map(|(round, a)| {
                    b_rounds.remove(&round).map(|b| PairedRound { round, a, b })
                })
                .collect();
            if !rounds.is_empty() {
                benchmarks.insert(id, PairedBenchmark { metric, rounds });
            }
        }
        only_a.extend(on_a.into_keys());
        Ok(PairedSeries {
            batch,
            a,
            b,
            machines,
            benchmarks,
            only_a,
            only_b,
        })
    }

    /// Reads result rows `(run, bench, metric, samples, machine, round, side)`.
    /// Values that older versions could store but that no analysis can use
    /// (JSON `null` for an infinite time, a negative or NaN value) are
    /// dropped as the row is read; a row left with nothing is skipped.
    fn result_rows(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<ResultRow>, TrackError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.db_error(e))?;
        let raw = stmt
            .query_map(params, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.db_error(e))?;
        let mut rows = Vec::with_capacity(raw.len());
        for (run, bench_id, metric, samples, machine, round, side) in raw {
            let stored: Vec<Option<f64>> =
                serde_json::from_str(&samples).map_err(|source| TrackError::Json {
                    path: self.path.join(format!("run {run}, benchmark {bench_id}")),
                    source,
                })?;
            let values: Vec<f64> = stored
                .into_iter()
                .flatten()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .collect();
            if values.is_empty() {
                continue;
            }
            rows.push(ResultRow {
                bench_id,
                metric: Metric::from_stored(&metric),
                values,
                machine,
                round: round.unwrap_or(0),
                side: side.unwrap_or(0),
            });
        }
        Ok(rows)
    }
}

/// One benchmark's rounds on one side of a batch, by round number.
type SideRounds = (Metric, BTreeMap<i64, Vec<f64>>);

struct ResultRow {
    bench_id: String,
    metric: Metric,
    values: Vec<f64>,
    machine: String,
    round: i64,
    side: i64,
}

/// The schema version stored in `user_version`, refused when this proflab
/// cannot read it (newer, or not a version any proflab wrote).
fn schema_version(conn: &Connection, path: &Path) -> Result<usize, TrackError> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|source| TrackError::Db {
            path: path.to_owned(),
            source,
        })?;
    let supported = MIGRATIONS.len() as i64;
    match usize::try_from(found) {
        Ok(version) if found <= supported => Ok(version),
        Ok(_) => Err(TrackError::NewerSchema {
            path: path.to_owned(),
            found,
            supported,
        }),
        Err(_) => Err(TrackError::CorruptSchema {
            path: path.to_owned(),
            found,
        }),
    }
}

/// `path` as an SQLite `file:` URI (percent-encoding what URIs reserve).
fn url_path(path: &Path) -> String {
    let mut uri = String::from("file:");
    for byte in path.as_os_str().as_encoded_bytes() {
        match byte {
            b'?' | b'#' | b'%' | 0x80.. => uri.push_str(&format!("%{byte:02X}")),
            _ => uri.push(char::from(*byte)),
        }
    }
    uri
}
