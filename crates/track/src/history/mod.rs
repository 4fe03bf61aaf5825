//! The history store: one interface, [`History`], over two backends. An SQLite
//! file is the default, for one user (sqlite.rs); a PostgreSQL database is the
//! history many CI runners share (postgres.rs). [`Database`] says which.
//!
//! Invariants on both: one transaction per `record` (a failed or killed
//! import leaves nothing behind); the schema version is migrated forward on
//! open, in one transaction, and refused when newer than [`MIGRATIONS`]; a
//! read-only open never writes. Every query below is written once, in the SQL
//! both dialects share (`$1` placeholders, `RETURNING id`); what differs
//! (connecting, where the schema version lives, the column types in
//! [`MIGRATIONS`]) is in the backend modules.
//!
//! A third backend is one more module exposing the same four functions
//! (`open`, `open_read_only`, `read`, `write`) and one more [`Backend`]
//! variant; the compiler then points at every `match` to extend.

mod postgres;
mod sqlite;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::model::{CommitSeries, PairedBenchmark, PairedRound, PairedSeries, RunSeries};
use crate::{Benchmark, Machine, Metric, RunContext, TrackError};

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only:
/// a released database may be at any earlier version. `{id}`, `{int}` and
/// `{real}` stand for the column types each dialect spells its own way
/// ([`SqlDialect`]); SQLite's rendering is the text earlier releases ran.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE runs (
        id {id},
        commit_sha TEXT NOT NULL,
        dirty {int} NOT NULL,
        branch TEXT NOT NULL,
        time {int} NOT NULL,
        machine TEXT NOT NULL
    );
    CREATE TABLE results (
        run_id {int} NOT NULL REFERENCES runs(id),
        bench_id TEXT NOT NULL,
        criterion_mean_ns {real} NOT NULL,
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
        id {id},
        a_commit TEXT NOT NULL,
        b_commit TEXT NOT NULL,
        time {int} NOT NULL,
        settings TEXT NOT NULL
    );
    ALTER TABLE runs ADD COLUMN batch_id {int} REFERENCES batches(id);
    ALTER TABLE runs ADD COLUMN round {int};
    ALTER TABLE runs ADD COLUMN side {int};
    CREATE INDEX runs_by_batch ON runs(batch_id);
    ALTER TABLE results RENAME COLUMN criterion_mean_ns TO summary;
    ALTER TABLE results RENAME COLUMN samples_ns TO samples;",
    // Version 5: a batch is complete only once its run ended; an interrupted
    // one is not compared unless named. Batches from before cannot tell.
    "ALTER TABLE batches ADD COLUMN complete {int} NOT NULL DEFAULT 1;",
];

/// How one dialect spells the column types of [`MIGRATIONS`].
struct SqlDialect {
    /// A 64-bit key the database assigns on insert.
    id: &'static str,
    /// A 64-bit integer (PostgreSQL's `INTEGER` has 32 bits; SQLite's has 64).
    int: &'static str,
    /// A double (PostgreSQL's `REAL` is single precision).
    real: &'static str,
}

impl SqlDialect {
    fn render(&self, migration: &str) -> String {
        migration
            .replace("{id}", self.id)
            .replace("{int}", self.int)
            .replace("{real}", self.real)
    }
}

/// Where history lives unless `--db` says otherwise: `<repo root>/.proflab/history.sqlite`,
/// outside `target/` so that `cargo clean` keeps it.
pub fn default_db_path(repo_root: &Path) -> PathBuf {
    repo_root.join(".proflab").join("history.sqlite")
}

/// Which history to open: an SQLite file, or a PostgreSQL database that many
/// writers share. `Display` and `Debug` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A file, created (with its folder) by the first writing command.
    Sqlite(PathBuf),
    /// A connection URL, `postgres://user:password@host[:port]/database[?options]`.
    Postgres(String),
}

impl Database {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; any other URL scheme
    /// is refused (naming only the scheme: the rest may hold a password);
    /// everything else is an SQLite file path.
    ///
    /// ```
    /// use proflab_track::Database;
    /// let db = Database::parse("postgres://ci:s3cret@db.internal/bench".as_ref()).unwrap();
    /// assert_eq!(db.to_string(), "postgres://ci:***@db.internal/bench");
    /// assert!(matches!(Database::parse("h.sqlite".as_ref()), Ok(Database::Sqlite(_))));
    /// assert!(Database::parse("mysql://root:pw@host/db".as_ref()).is_err());
    /// ```
    pub fn parse(text: &OsStr) -> Result<Database, TrackError> {
        let Some(text_utf8) = text.to_str() else {
            return Ok(Database::Sqlite(PathBuf::from(text)));
        };
        if text_utf8.starts_with("postgres://") || text_utf8.starts_with("postgresql://") {
            return Ok(Database::Postgres(text_utf8.to_owned()));
        }
        if let Some((scheme, _)) = text_utf8.split_once("://")
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(TrackError::UnsupportedDatabase {
                scheme: scheme.to_owned(),
            });
        }
        Ok(Database::Sqlite(PathBuf::from(text)))
    }
}

impl From<&Path> for Database {
    fn from(path: &Path) -> Database {
        Database::Sqlite(path.to_owned())
    }
}

impl From<&PathBuf> for Database {
    fn from(path: &PathBuf) -> Database {
        Database::Sqlite(path.clone())
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Database {
        Database::Sqlite(path)
    }
}

impl From<&Database> for Database {
    fn from(db: &Database) -> Database {
        db.clone()
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// The redacted form, so that `{:?}` in a log or a panic cannot leak a password either.
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Database::Postgres(url) => f.debug_tuple("Postgres").field(&redact(url)).finish(),
        }
    }
}

/// Query parameters shown as given; any other (`password`, or a key spelt
/// with percent escapes) shows as `***`.
const SAFE_PARAMETERS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "user",
    "dbname",
    "options",
    "application_name",
    "sslmode",
    "connect_timeout",
    "target_session_attrs",
];

/// `url` with the password (user info after `:`, and any query parameter not
/// known to be harmless) replaced by `***`. The user info is taken to end at
/// the last `@`: a password holding an unescaped `@` is then still hidden,
/// at worst with the host.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    let mut out = format!("{scheme}://");
    let rest = match rest.rfind('@') {
        Some(at) => {
            match rest[..at].split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***@");
                }
                None => {
                    out.push_str(&rest[..=at]);
                }
            }
            &rest[at + 1..]
        }
        None => rest,
    };
    let Some((location, query)) = rest.split_once('?') else {
        out.push_str(rest);
        return out;
    };
    out.push_str(location);
    out.push('?');
    let parameters: Vec<String> = query
        .split('&')
        .map(|parameter| match parameter.split_once('=') {
            Some((key, value)) if SAFE_PARAMETERS.contains(&key) => format!("{key}={value}"),
            Some((key, _)) => format!("{key}=***"),
            None => parameter.to_owned(),
        })
        .collect();
    out.push_str(&parameters.join("&"));
    out
}

/// What a backend reported.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] ::postgres::Error),
    #[error("column {column} of a stored row holds {found}, not {expected}")]
    Column {
        column: usize,
        expected: &'static str,
        found: &'static str,
    },
    #[error("an insert returned no id")]
    NoId,
    #[error(
        "the server did not answer within {seconds} s (the connect timeout, or the session's statement timeout plus it); is it up and reachable?"
    )]
    NoAnswer { seconds: f64 },
    #[error("the connection to the server is gone (it did not answer earlier)")]
    NoConnection,
}

/// One SQL value as both backends bind and return it. The store keeps only
/// integers, doubles and text (booleans as 0/1, samples as JSON text), so
/// that one schema fits both.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a number",
            Value::Text(_) => "text",
        }
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::Int(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Int(i64::from(value))
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Value {
        Value::Real(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::Text(value.to_owned())
    }
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Value {
        value.map_or(Value::Null, Value::Int)
    }
}

/// One row a query returned.
struct Row(Vec<Value>);

impl Row {
    fn optional_int(&self, column: usize) -> Result<Option<i64>, StoreError> {
        match self.0.get(column) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Int(value)) => Ok(Some(*value)),
            Some(other) => Err(StoreError::Column {
                column,
                expected: "an integer",
                found: other.kind(),
            }),
        }
    }

    fn int(&self, column: usize) -> Result<i64, StoreError> {
        self.optional_int(column)?.ok_or(StoreError::Column {
            column,
            expected: "an integer",
            found: "NULL",
        })
    }

    fn text(&mut self, column: usize) -> Result<String, StoreError> {
        match self.0.get_mut(column) {
            Some(Value::Text(text)) => Ok(std::mem::take(text)),
            other => Err(StoreError::Column {
                column,
                expected: "text",
                found: other.map_or("nothing", |v| v.kind()),
            }),
        }
    }
}

/// A connection, or a transaction on one, that the store's queries run on.
/// `sql` uses `$1`, `$2`, … placeholders and no other `$`.
trait Sql {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
}

/// The open connection. An enum rather than `Box<dyn …>`: the backends are a
/// closed set known at compile time, `read` and `write` take generic closures
/// (which a trait object could not), and `History` stays one concrete type
/// whose signatures compare, report, paired runs and bisect already use.
enum Backend {
    Sqlite(sqlite::Sqlite),
    // Boxed: its client holds a runtime, three times the SQLite connection's size.
    Postgres(Box<postgres::Postgres>),
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

/// One `track run` as stored: its two commits, when it started, whether it
/// ended, and the settings it measured with (JSON, as `track run` wrote them).
#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    pub id: i64,
    pub a: String,
    pub b: String,
    pub time: i64,
    pub complete: bool,
    pub settings: String,
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

/// An open history database, SQLite or PostgreSQL; the analysis (compare,
/// report, changes, export) reads it through the same methods either way.
pub struct History {
    backend: Backend,
    /// The database as errors name it: a path, or the URL without its password.
    name: String,
}

impl History {
    /// Opens (creating if needed) the database and migrates it: a path (or
    /// [`Database::Sqlite`]) is an SQLite file, [`Database::Postgres`] a server.
    pub fn open(db: impl Into<Database>) -> Result<History, TrackError> {
        let db = db.into();
        let name = db.to_string();
        let backend = match &db {
            Database::Sqlite(path) => Backend::Sqlite(sqlite::Sqlite::open(path, &name)?),
            Database::Postgres(url) => {
                Backend::Postgres(Box::new(postgres::Postgres::open(url, &name)?))
            }
        };
        Ok(History { backend, name })
    }

    /// Opens an existing database for reading only: nothing is created,
    /// migrated or written, so a database on a read-only disk (or another
    /// user's, or a PostgreSQL role with SELECT only) can be listed, compared
    /// and exported. A database at an older schema is refused with the
    /// command that upgrades it.
    pub fn open_read_only(db: impl Into<Database>) -> Result<History, TrackError> {
        let db = db.into();
        let name = db.to_string();
        let backend = match &db {
            Database::Sqlite(path) => Backend::Sqlite(sqlite::Sqlite::open_read_only(path, &name)?),
            Database::Postgres(url) => {
                Backend::Postgres(Box::new(postgres::Postgres::open_read_only(url, &name)?))
            }
        };
        Ok(History { backend, name })
    }

    fn db_error(&self, source: StoreError) -> TrackError {
        TrackError::Db {
            db: self.name.clone(),
            source,
        }
    }

    /// Runs `reads` on a consistent view (on PostgreSQL, one read-only transaction).
    fn read<T>(
        &self,
        reads: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, TrackError> {
        match &self.backend {
            Backend::Sqlite(sqlite) => sqlite.read(reads),
            Backend::Postgres(postgres) => postgres.read(reads),
        }
        .map_err(|e| self.db_error(e))
    }

    /// Runs `writes` in one transaction: all of it is stored, or none.
    fn write<T>(
        &mut self,
        writes: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, TrackError> {
        match &mut self.backend {
            Backend::Sqlite(sqlite) => sqlite.write(writes),
            Backend::Postgres(postgres) => postgres.write(writes),
        }
        .map_err(|e| self.db_error(e))
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
        let time = crate::environment::unix_seconds_now();
        self.write(|sql| {
            inserted_id(sql.query(
                "INSERT INTO batches (a_commit, b_commit, time, settings, complete)
                 VALUES ($1, $2, $3, $4, 0) RETURNING id",
                &[a.into(), b.into(), time.into(), settings.into()],
            )?)
        })
    }

    /// Marks batch `batch` complete: its run ended, so its rounds are all
    /// there is ([`History::latest_batch`] picks only complete batches).
    pub fn finish_batch(&mut self, batch: i64) -> Result<(), TrackError> {
        self.write(|sql| {
            sql.query(
                "UPDATE batches SET complete = 1 WHERE id = $1",
                &[batch.into()],
            )
            .map(drop)
        })
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
        let pause = test_pause_inside_record();
        self.write(|sql| {
            let run_id = inserted_id(sql.query(
                "INSERT INTO runs (commit_sha, dirty, branch, time, machine, batch_id, round, side)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    context.commit.as_str().into(),
                    context.dirty.into(),
                    context.branch.as_str().into(),
                    context.time.into(),
                    machine.fingerprint().as_str().into(),
                    slot.map(|s| s.batch).into(),
                    slot.map(|s| s.round).into(),
                    slot.map(|s| s.side.stored()).into(),
                ],
            )?)?;
            if let Some(pause) = pause {
                eprintln!(
                    "proflab: PROFLAB_TEST_PAUSE_IN_RECORD: run {run_id} inserted, pausing {:.1} s before its results",
                    pause.as_secs_f64()
                );
                std::thread::sleep(pause);
            }
            for bench in benches {
                // Validated finite above, so every value is a JSON number.
                let samples = serde_json::Value::from(bench.values.clone()).to_string();
                sql.query(
                    "INSERT INTO results (run_id, bench_id, summary, samples, metric)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        run_id.into(),
                        bench.id.as_str().into(),
                        bench.summary.into(),
                        Value::Text(samples),
                        bench.metric.as_str().into(),
                    ],
                )?;
            }
            Ok(run_id)
        })
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunSummary>, TrackError> {
        let rows = self.read(|sql| {
            sql.query(
                "SELECT r.id, r.commit_sha, r.dirty, r.branch, r.time, r.machine,
                        (SELECT COUNT(*) FROM results WHERE run_id = r.id), r.batch_id, r.round
                 FROM runs r ORDER BY r.time, r.id",
                &[],
            )
        })?;
        rows.into_iter()
            .map(|mut r| -> Result<RunSummary, StoreError> {
                Ok(RunSummary {
                    id: r.int(0)?,
                    commit: r.text(1)?,
                    dirty: r.int(2)? != 0,
                    branch: r.text(3)?,
                    time: r.int(4)?,
                    machine: r.text(5)?,
                    benchmarks: r.int(6)?,
                    batch: r.optional_int(7)?,
                    round: r.optional_int(8)?,
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|e| self.db_error(e))
    }

    /// The full commit SHA that `reference` (a SHA or unique prefix) names among recorded runs.
    pub fn resolve(&self, reference: &str) -> Result<String, TrackError> {
        let unknown = || TrackError::UnknownCommit {
            reference: reference.to_owned(),
            db: self.name.clone(),
        };
        if reference.is_empty() {
            return Err(unknown());
        }
        // `substr`, not `LIKE`: a reference may hold `_` or `%`, and SQLite's
        // `LIKE` ignores case. The cast tells PostgreSQL the parameter's type.
        let rows = self.read(|sql| {
            sql.query(
                "SELECT commit_sha FROM runs
                 WHERE substr(commit_sha, 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT)
                 GROUP BY commit_sha ORDER BY length(commit_sha), commit_sha LIMIT 3",
                &[reference.into()],
            )
        })?;
        let found = rows
            .into_iter()
            .map(|mut r| r.text(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.db_error(e))?;
        match found.as_slice() {
            [] => Err(unknown()),
            // An exact match, the shortest, sorts first and wins over the
            // names it is a prefix of: label `v1` beside `v1-tuned`.
            [one, ..] if one == reference => Ok(one.clone()),
            [one] => Ok(one.clone()),
            several => Err(TrackError::AmbiguousCommit {
                reference: reference.to_owned(),
                candidates: several.to_vec(),
            }),
        }
    }

    /// The newest complete batch that measured `a` against `b` (in either order).
    pub fn latest_batch(&self, a: &str, b: &str) -> Result<Option<i64>, TrackError> {
        Ok(self
            .batches_of(a, b)?
            .into_iter()
            .filter(|(_, complete)| *complete)
            .map(|(batch, _)| batch)
            .max())
    }

    /// The batches that measured `a` against `b` (either way round), oldest
    /// first, each with whether its run ended.
    pub fn batches_of(&self, a: &str, b: &str) -> Result<Vec<(i64, bool)>, TrackError> {
        let rows = self.read(|sql| {
            sql.query(
                "SELECT id, complete FROM batches
                 WHERE (a_commit = $1 AND b_commit = $2) OR (a_commit = $2 AND b_commit = $1)
                 ORDER BY id",
                &[a.into(), b.into()],
            )
        })?;
        rows.into_iter()
            .map(|row| Ok((row.int(0)?, row.int(1)? != 0)))
            .collect::<Result<_, StoreError>>()
            .map_err(|e| self.db_error(e))
    }

    /// Every batch, oldest first.
    pub fn batches(&self) -> Result<Vec<BatchSummary>, TrackError> {
        let rows = self.read(|sql| {
            sql.query(
                "SELECT id, a_commit, b_commit, time, complete, settings FROM batches ORDER BY id",
                &[],
            )
        })?;
        rows.into_iter()
            .map(|mut row| {
                Ok(BatchSummary {
                    id: row.int(0)?,
                    a: row.text(1)?,
                    b: row.text(2)?,
                    time: row.int(3)?,
                    complete: row.int(4)? != 0,
                    settings: row.text(5)?,
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(|e| self.db_error(e))
    }

    /// The two commits of batch `batch`, A first.
    pub fn batch_commits(&self, batch: i64) -> Result<(String, String), TrackError> {
        let mut rows = self.read(|sql| {
            sql.query(
                "SELECT a_commit, b_commit FROM batches WHERE id = $1",
                &[batch.into()],
            )
        })?;
        let Some(mut row) = rows.pop() else {
            return Err(TrackError::UnknownBatch {
                batch,
                db: self.name.clone(),
            });
        };
        row.text(0)
            .and_then(|a| row.text(1).map(|b| (a, b)))
            .map_err(|e| self.db_error(e))
    }

    /// The benchmarks batch `batch` left out because their code was the same
    /// on both sides, as its settings record them (none in batches recorded
    /// before proflab looked).
    fn identical_code(&self, batch: i64) -> Result<Vec<String>, TrackError> {
        let mut rows = self.read(|sql| {
            sql.query(
                "SELECT settings FROM batches WHERE id = $1",
                &[batch.into()],
            )
        })?;
        let settings = match rows.pop() {
            Some(mut row) => row.text(0).map_err(|e| self.db_error(e))?,
            None => return Ok(Vec::new()),
        };
        #[derive(serde::Deserialize)]
        struct Settings {
            #[serde(default)]
            identical_code: Vec<String>,
        }
        Ok(serde_json::from_str::<Settings>(&settings)
            .map(|settings| settings.identical_code)
            .unwrap_or_default())
    }

    /// Every run recorded for `commit`, plain or in a batch, as independent runs.
    pub fn commit_series(&self, commit: &str) -> Result<CommitSeries, TrackError> {
        let mut series = CommitSeries {
            commit: commit.to_owned(),
            machines: BTreeSet::new(),
            benchmarks: BTreeMap::new(),
        };
        for row in self.commit_rows(commit)? {
            series.add(row);
        }
        Ok(series)
    }

    /// Every run recorded for `commit`, one series per machine (in machine
    /// order): the dashboard draws each machine's line apart, since times
    /// from two CPUs are not one history.
    pub fn commit_series_by_machine(&self, commit: &str) -> Result<Vec<CommitSeries>, TrackError> {
        let mut by_machine: BTreeMap<String, CommitSeries> = BTreeMap::new();
        for row in self.commit_rows(commit)? {
            by_machine
                .entry(row.machine.clone())
                .or_insert_with(|| CommitSeries {
                    commit: commit.to_owned(),
                    machines: BTreeSet::new(),
                    benchmarks: BTreeMap::new(),
                })
                .add(row);
        }
        Ok(by_machine.into_values().collect())
    }

    fn commit_rows(&self, commit: &str) -> Result<Vec<ResultRow>, TrackError> {
        self.result_rows(
            "SELECT r.id, res.bench_id, res.metric, res.samples, r.machine, 0, 0
             FROM results res JOIN runs r ON r.id = res.run_id
             WHERE r.commit_sha = $1 ORDER BY r.id",
            commit.into(),
        )
    }

    /// The runs of batch `batch`, paired round by round.
    pub fn paired_series(&self, batch: i64) -> Result<PairedSeries, TrackError> {
        let (a, b) = self.batch_commits(batch)?;
        let rows = self.result_rows(
            "SELECT r.id, res.bench_id, res.metric, res.samples, r.machine, r.round, r.side
             FROM results res JOIN runs r ON r.id = res.run_id
             WHERE r.batch_id = $1 ORDER BY r.round, r.id",
            batch.into(),
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
            identical_code: self.identical_code(batch)?,
            batch,
            a,
            b,
            machines,
            benchmarks,
            only_a,
            only_b,
        })
    }

    /// Reads result rows `(run, bench, metric, samples, machine, round, side)`
    /// selected by `sql` with one parameter. Values that older versions could
    /// store but that no analysis can use (JSON `null` for an infinite time, a
    /// value outside [`crate::criterion::VALUE_RANGE`]: zero, negative, NaN, 1e308) are
    /// dropped as the row is read; a row left with nothing is skipped.
    fn result_rows(&self, sql: &str, param: Value) -> Result<Vec<ResultRow>, TrackError> {
        let raw = self
            .read(|db| db.query(sql, &[param]))?
            .into_iter()
            .map(|mut row| -> Result<_, StoreError> {
                Ok((
                    row.int(0)?,
                    row.text(1)?,
                    row.text(2)?,
                    row.text(3)?,
                    row.text(4)?,
                    row.optional_int(5)?,
                    row.optional_int(6)?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.db_error(e))?;
        let mut rows = Vec::with_capacity(raw.len());
        for (run, bench_id, metric, samples, machine, round, side) in raw {
            let stored: Vec<Option<f64>> =
                serde_json::from_str(&samples).map_err(|source| TrackError::Json {
                    path: PathBuf::from(format!("{}: run {run}, benchmark {bench_id}", self.name)),
                    source,
                })?;
            let values: Vec<f64> = stored
                .into_iter()
                .flatten()
                .filter(|v| crate::criterion::VALUE_RANGE.contains(v))
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

/// The id an `INSERT … RETURNING id` gave back.
fn inserted_id(rows: Vec<Row>) -> Result<i64, StoreError> {
    rows.first().ok_or(StoreError::NoId)?.int(0)
}

/// The test hook, and the one environment variable the store reads:
/// `PROFLAB_TEST_PAUSE_IN_RECORD=SECONDS` holds every run's transaction open
/// that long after its run row is written and before its results, so that a
/// test can kill a writer mid-transaction, or make many writers overlap,
/// deterministically instead of by racing. Not for production use.
fn test_pause_inside_record() -> Option<Duration> {
    std::env::var("PROFLAB_TEST_PAUSE_IN_RECORD")
        .ok()
        .and_then(|seconds| seconds.parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map(Duration::from_secs_f64)
}

/// Refuses a schema version this proflab cannot read: newer than
/// [`MIGRATIONS`], or not a version any proflab wrote.
fn check_version(found: i64, db: &str) -> Result<usize, TrackError> {
    let supported = MIGRATIONS.len() as i64;
    match usize::try_from(found) {
        Ok(version) if found <= supported => Ok(version),
        Ok(_) => Err(TrackError::NewerSchema {
            db: db.to_owned(),
            found,
            supported,
        }),
        Err(_) => Err(TrackError::CorruptSchema {
            db: db.to_owned(),
            found,
        }),
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

impl CommitSeries {
    /// Adds one stored result row as one more run of its benchmark.
    fn add(&mut self, row: ResultRow) {
        self.machines.insert(row.machine);
        self.benchmarks
            .entry(row.bench_id)
            .or_insert_with(|| RunSeries {
                metric: row.metric,
                runs: Vec::new(),
            })
            .runs
            .push(row.values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        for (url, shown) in [
            (
                "postgres://ci:s3cret@db.internal:5433/bench",
                "postgres://ci:***@db.internal:5433/bench",
            ),
            ("postgresql://ci@db/bench", "postgresql://ci@db/bench"),
            ("postgres://db/bench", "postgres://db/bench"),
            // An unescaped `@` in the password: still hidden.
            ("postgres://ci:p@ss@db/bench", "postgres://ci:***@db/bench"),
            (
                "postgres://db/bench?user=ci&password=s3cret&options=-c%20search_path%3Dt",
                "postgres://db/bench?user=ci&password=***&options=-c%20search_path%3Dt",
            ),
            // A key spelt with escapes is not one we know is harmless.
            (
                "postgres://db/bench?pass%77ord=s3cret",
                "postgres://db/bench?pass%77ord=***",
            ),
        ] {
            let db = Database::parse(url.as_ref()).unwrap();
            assert_eq!(db.to_string(), shown);
            assert!(!format!("{db:?}").contains("s3cret"));
            assert!(!format!("{db:?}").contains("p@ss"));
        }
    }

    #[test]
    fn paths_and_unknown_schemes() {
        assert_eq!(
            Database::parse("dir/h.sqlite".as_ref()).unwrap(),
            Database::Sqlite("dir/h.sqlite".into())
        );
        let err = Database::parse("mysql://root:s3cret@db/x".as_ref()).unwrap_err();
        assert!(err.to_string().contains("`mysql://…`"), "{err}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn sqlite_renders_the_migrations_earlier_releases_ran() {
        let (sqlite, postgres) = (&super::sqlite::DIALECT, &super::postgres::DIALECT);
        let first = sqlite.render(MIGRATIONS[0]);
        assert!(first.contains("id INTEGER PRIMARY KEY,"), "{first}");
        assert!(first.contains("criterion_mean_ns REAL NOT NULL"), "{first}");
        for migration in MIGRATIONS {
            assert!(!sqlite.render(migration).contains('{'), "{migration}");
            assert!(!postgres.render(migration).contains('{'), "{migration}");
        }
    }
}
