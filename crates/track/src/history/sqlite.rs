//! The SQLite backend: one file, for one user. WAL and a busy timeout so that
//! concurrent `record` processes on one machine queue instead of failing;
//! `PRAGMA user_version` is the schema version, `PRAGMA application_id` the
//! mark that the file is a proflab history: another application's file is
//! refused before anything in it changes.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{MIGRATIONS, Row, Sql, SqlDialect, StoreError, Value, check_version};
use crate::TrackError;

pub(super) const DIALECT: SqlDialect = SqlDialect {
    // The one spelling that makes the column an alias of the rowid.
    id: "INTEGER PRIMARY KEY",
    int: "INTEGER",
    real: "REAL",
};

pub(super) struct Sqlite {
    conn: Connection,
}

/// `PRAGMA application_id` of a proflab history: "PRFL" in ASCII.
const APPLICATION_ID: i32 = 0x5052_464C;

/// Every table some version of [`MIGRATIONS`] creates: a file with these
/// and no mark is a history from before the mark.
const OUR_TABLES: &[&str] = &["runs", "results", "batches"];

/// Refuses a file that is neither empty nor a proflab history, before
/// anything is written to it.
fn check_ours(conn: &Connection, name: &str) -> Result<(), TrackError> {
    let db = |source: rusqlite::Error| TrackError::Db {
        db: name.to_owned(),
        source: source.into(),
    };
    let application: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(db)?;
    if application == APPLICATION_ID {
        return Ok(());
    }
    let foreign = |reason: String| TrackError::ForeignDatabase {
        db: name.to_owned(),
        reason,
    };
    if application != 0 {
        return Err(foreign(format!(
            "its application_id is {application:#010x}"
        )));
    }
    let mut statement = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type <> 'index' ORDER BY name")
        .map_err(db)?;
    let tables = statement
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(Iterator::collect::<Result<Vec<String>, _>>)
        .map_err(db)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db)?;
    let strangers: Vec<&str> = tables
        .iter()
        .map(String::as_str)
        .filter(|table| !OUR_TABLES.contains(table))
        .collect();
    if !strangers.is_empty() {
        return Err(foreign(format!(
            "it holds tables proflab did not make: {}",
            strangers.join(", ")
        )));
    }
    match (tables.is_empty(), version) {
        // Empty, or a history from before the mark.
        (true, 0) => Ok(()),
        (false, 1..) if tables.iter().any(|table| table == "runs") => Ok(()),
        _ => Err(foreign(format!(
            "user_version {version} with tables {}",
            if tables.is_empty() {
                "none".to_owned()
            } else {
                tables.join(", ")
            }
        ))),
    }
}

/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Puts the file in write-ahead-log mode. The switch needs the file to
/// itself, and when several processes open a new file at once SQLite can
/// refuse it as busy at once, without waiting on the busy timeout (seen in CI
/// with eight `record`s on one new file); so it is retried, within that same
/// timeout.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

impl Sqlite {
    /// Opens (creating the file and its folder if needed) and migrates.
    pub(super) fn open(path: &Path, name: &str) -> Result<Sqlite, TrackError> {
        if path.is_dir() {
            return Err(TrackError::DatabaseIsFolder {
                db: name.to_owned(),
            });
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let created = !parent.exists();
            std::fs::create_dir_all(parent).map_err(|source| TrackError::Write {
                path: parent.to_owned(),
                source,
            })?;
            // A folder made for the history (the default `.proflab/` inside
            // the user's repository) keeps itself out of `git status`.
            if created {
                let ignore = parent.join(".gitignore");
                std::fs::write(&ignore, "*\n").map_err(|source| TrackError::Write {
                    path: ignore,
                    source,
                })?;
            }
        }
        let db = |source: rusqlite::Error| TrackError::Db {
            db: name.to_owned(),
            source: source.into(),
        };
        let mut conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        check_ours(&conn, name)?;
        switch_to_wal(&conn).map_err(db)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let found = schema_version(&tx, name)?;
        for migration in &MIGRATIONS[found..] {
            tx.execute_batch(&DIALECT.render(migration)).map_err(db)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
            .map_err(db)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Sqlite { conn })
    }

    /// Opens an existing file read-only; see [`super::History::open_read_only`].
    pub(super) fn open_read_only(path: &Path, name: &str) -> Result<Sqlite, TrackError> {
        if path.is_dir() {
            return Err(TrackError::DatabaseIsFolder {
                db: name.to_owned(),
            });
        }
        if !path.is_file() {
            return Err(TrackError::NoDatabase {
                db: name.to_owned(),
            });
        }
        let open = |uri_query: &str| -> Result<Connection, rusqlite::Error> {
            let mut uri = url_path(path);
            uri.push_str(uri_query);
            let conn = Connection::open_with_flags(
                uri,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
            )?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
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
        .map_err(|source| TrackError::Db {
            db: name.to_owned(),
            source: source.into(),
        })?;
        check_ours(&conn, name)?;
        let found = schema_version(&conn, name)?;
        if found < MIGRATIONS.len() {
            return Err(TrackError::OlderSchema {
                db: name.to_owned(),
                found: found as i64,
            });
        }
        Ok(Sqlite { conn })
    }

    /// Reads outside a transaction: each statement sees one snapshot, and a
    /// writer's run appears whole or not at all.
    pub(super) fn read<T>(
        &self,
        reads: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        reads(&mut Session(&self.conn))
    }

    /// `BEGIN IMMEDIATE`: the write lock is taken up front, so two writers
    /// queue on the busy timeout instead of one failing at its first insert.
    pub(super) fn write<T>(
        &mut self,
        writes: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = writes(&mut Session(&tx))?;
        tx.commit()?;
        Ok(value)
    }
}

/// A connection (or an open transaction on it, which derefs to one).
struct Session<'a>(&'a Connection);

impl Sql for Session<'_> {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        // `$N` is PostgreSQL's spelling of SQLite's `?N`; the store's SQL has no other `$`.
        let mut statement = self.0.prepare_cached(&sql.replace('$', "?"))?;
        let columns = statement.column_count();
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let values = (0..columns)
                .map(|column| -> Result<Value, StoreError> {
                    Ok(match row.get_ref(column)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(value) => Value::Int(value),
                        ValueRef::Real(value) => Value::Real(value),
                        ValueRef::Text(bytes) => Value::Text(
                            std::str::from_utf8(bytes)
                                .map_err(|_| StoreError::Column {
                                    column,
                                    expected: "text",
                                    found: "bytes that are not UTF-8",
                                })?
                                .to_owned(),
                        ),
                        ValueRef::Blob(_) => {
                            return Err(StoreError::Column {
                                column,
                                expected: "text or a number",
                                found: "a blob",
                            });
                        }
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.push(Row(values));
        }
        Ok(out)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::from(rusqlite::types::Null),
            Value::Int(value) => ToSqlOutput::from(*value),
            Value::Real(value) => ToSqlOutput::from(*value),
            Value::Text(text) => ToSqlOutput::from(text.as_str()),
        })
    }
}

/// The schema version stored in `user_version`, refused when this proflab
/// cannot read it.
fn schema_version(conn: &Connection, name: &str) -> Result<usize, TrackError> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|source| TrackError::Db {
            db: name.to_owned(),
            source: source.into(),
        })?;
    check_version(found, name)
}

/// `path` as an SQLite `file:` URI (percent-encoding what URIs reserve).
/// Always absolute with an empty authority (`file:///…`): a path that
/// begins `//` would otherwise read as `file://HOST/…`.
fn url_path(path: &Path) -> String {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut uri = String::from("file://");
    for byte in path.as_os_str().as_encoded_bytes() {
        match byte {
            b'?' | b'#' | b'%' | 0x80.. => uri.push_str(&format!("%{byte:02X}")),
            _ => uri.push(char::from(*byte)),
        }
    }
    uri
}
