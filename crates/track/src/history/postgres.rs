//! The PostgreSQL backend: one history that many CI runners write at once.
//! The server's MVCC lets concurrent `record`s insert side by side (each run
//! is one transaction, invisible to readers until it commits, rolled back if
//! its process dies); the schema version is the one row of `proflab_schema`,
//! and migrations run under a transaction-scoped advisory lock so that two
//! processes opening a fresh database at once do not both create the tables.

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, Config, NoTls, Statement};

use super::{MIGRATIONS, Row, Sql, SqlDialect, StoreError, Value, check_version};
use crate::TrackError;

pub(super) const DIALECT: SqlDialect = SqlDialect {
    id: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    int: "BIGINT",
    real: "DOUBLE PRECISION",
};

/// The advisory lock key that serializes migrations: "proflab" in ASCII.
/// Held to the end of the opening transaction, released by the server if the
/// process dies.
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(x'70726f666c6162'::bigint)";

/// How long connecting (TCP, then the server's handshake) may take when the
/// URL sets no `connect_timeout`: a CI job with a wrong host should fail,
/// not hang.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the liveness probe before each transaction waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server-side `statement_timeout` of a session whose URL, role or
/// database sets none: a statement stuck behind a lock fails with the
/// server's own message instead of waiting forever.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The server-side `idle_in_transaction_session_timeout` of a session that
/// sets none: a writer frozen mid-transaction (stopped, not killed) releases
/// its locks. Far above the longest pause between two statements of a run.
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(600);

pub(super) struct Postgres {
    /// A `RefCell` because reads take `&self` (as `History`'s API does) while
    /// a connection needs `&mut` to send anything. Nothing re-enters it: a
    /// closure given to `read` only sees the session.
    connection: RefCell<Connection>,
    /// Kept to connect again when the connection was lost between two
    /// transactions (see [`Postgres::live`]).
    url: String,
    read_only: bool,
}

impl Postgres {
    /// Connects and migrates.
    pub(super) fn open(url: &str, name: &str) -> Result<Postgres, TrackError> {
        let db = |source: StoreError| TrackError::Db {
            db: name.to_owned(),
            source,
        };
        let mut connection = Connection::open(url, false).map_err(db)?;
        // An error below drops the connection: the server sees the socket
        // close and rolls the transaction back.
        connection.execute("BEGIN").map_err(db)?;
        connection.execute(MIGRATION_LOCK).map_err(db)?;
        // Created only when missing: `CREATE TABLE IF NOT EXISTS` would need
        // the CREATE privilege even on a database that is already set up.
        if !schema_table_exists(&mut connection).map_err(db)? {
            connection
                .execute(
                    "CREATE TABLE proflab_schema (version BIGINT NOT NULL);
                     INSERT INTO proflab_schema (version) VALUES (0);",
                )
                .map_err(db)?;
        }
        let found = schema_version(&mut connection, name)?;
        if found < MIGRATIONS.len() {
            for migration in &MIGRATIONS[found..] {
                connection.execute(&DIALECT.render(migration)).map_err(db)?;
            }
            connection
                .query(
                    "UPDATE proflab_schema SET version = $1",
                    &[Value::Int(MIGRATIONS.len() as i64)],
                )
                .map_err(db)?;
        }
        connection.execute("COMMIT").map_err(db)?;
        Ok(Postgres {
            connection: RefCell::new(connection),
            url: url.to_owned(),
            read_only: false,
        })
    }

    /// Connects in a session where every transaction is read-only, so that
    /// the server itself refuses any write; nothing is created or migrated.
    pub(super) fn open_read_only(url: &str, name: &str) -> Result<Postgres, TrackError> {
        let db = |source: StoreError| TrackError::Db {
            db: name.to_owned(),
            source,
        };
        let mut connection = Connection::open(url, true).map_err(db)?;
        if !schema_table_exists(&mut connection).map_err(db)? {
            return Err(TrackError::NoDatabase {
                db: name.to_owned(),
            });
        }
        let found = schema_version(&mut connection, name)?;
        if found < MIGRATIONS.len() {
            return Err(TrackError::OlderSchema {
                db: name.to_owned(),
                found: found as i64,
            });
        }
        Ok(Postgres {
            connection: RefCell::new(connection),
            url: url.to_owned(),
            read_only: true,
        })
    }

    /// The connection, opened again first if it was lost since the last
    /// transaction: a `track run` holds its history open for many minutes,
    /// long enough for a server restart or a NAT's idle timeout to drop the
    /// connection between two rounds. One trivial round trip per
    /// transaction; nothing is retried once a transaction has begun.
    fn live(&self) -> Result<RefMut<'_, Connection>, StoreError> {
        let mut connection = self.connection.borrow_mut();
        if connection.call(Request::Probe).is_err() {
            *connection = Connection::open(&self.url, self.read_only)?;
        }
        Ok(connection)
    }

    /// One read-only, repeatable-read transaction: the reads of one call see
    /// one snapshot while other runners keep committing.
    pub(super) fn read<T>(
        &self,
        reads: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut connection = self.live()?;
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let value = reads(&mut *connection);
        connection.finish(value)
    }

    /// One read-committed transaction. Concurrent writers do not conflict:
    /// each inserts its own rows, and ids come from the identity sequence.
    /// Rolled back on an error, and by the server when the process dies (its
    /// socket closes).
    pub(super) fn write<T>(
        &mut self,
        writes: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut connection = self.live()?;
        connection.execute("BEGIN")?;
        let value = writes(&mut *connection);
        connection.finish(value)
    }
}

/// What the caller asks of the connection's thread.
enum Request {
    /// SQL text without parameters or rows (`BEGIN`, `SET`, a migration).
    Execute(String),
    /// One statement with parameters, prepared once per connection.
    Query(String, Vec<Value>),
    /// The liveness probe.
    Probe,
}

type Answer = Result<Vec<Row>, StoreError>;

/// A connection owned by a thread of its own, so that every exchange with
/// the server has a deadline: the `postgres` crate's `connect_timeout`
/// bounds only the TCP connect, and nothing bounds an answer, so a server
/// (or a proxy in front of it) that stops answering hung `record` and
/// `history` forever. A thread stuck on such a server is abandoned, and the
/// error names how long the server was given.
struct Connection {
    requests: Sender<Request>,
    answers: Receiver<Answer>,
    /// How long one answer may take: the session's statement timeout plus
    /// the connect timeout, so that a live server cancels a slow statement
    /// with its own message first.
    deadline: Duration,
    /// Set once an answer is overdue: the thread may never answer again.
    stuck: bool,
}

impl Connection {
    /// Connects (the whole handshake within the URL's `connect_timeout`, or
    /// [`CONNECT_TIMEOUT`]) without TLS (see docs/TRACKING.md: a server that
    /// insists on TLS refuses the connection with its own message), then
    /// sets the session's timeouts where nothing else set them.
    fn open(url: &str, read_only: bool) -> Result<Connection, StoreError> {
        let mut config: Config = url.parse()?;
        let connect_timeout = config
            .get_connect_timeout()
            .copied()
            .unwrap_or(CONNECT_TIMEOUT);
        config.connect_timeout(connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("proflab");
        }
        let (requests, inbox) = mpsc::channel();
        let (outbox, answers) = mpsc::channel();
        std::thread::Builder::new()
            .name("proflab-postgres".into())
            .spawn(move || serve(&config, &inbox, &outbox))
            .map_err(|_| StoreError::NoConnection)?;
        let mut connection = Connection {
            requests,
            answers,
            deadline: connect_timeout,
            stuck: false,
        };
        // The thread's first answer says whether it connected.
        connection.wait()?;
        if read_only {
            connection.execute("SET SESSION default_transaction_read_only = on")?;
        }
        let statement_timeout = match connection.setting_ms("statement_timeout")? {
            0 => {
                connection.execute(&format!(
                    "SET statement_timeout = {}",
                    STATEMENT_TIMEOUT.as_millis()
                ))?;
                STATEMENT_TIMEOUT
            }
            ms => Duration::from_millis(ms.unsigned_abs()),
        };
        if connection.setting_ms("idle_in_transaction_session_timeout")? == 0 {
            connection.execute(&format!(
                "SET idle_in_transaction_session_timeout = {}",
                IDLE_IN_TRANSACTION_TIMEOUT.as_millis()
            ))?;
        }
        connection.deadline = statement_timeout + connect_timeout;
        Ok(connection)
    }

    /// A setting of the session, in milliseconds.
    fn setting_ms(&mut self, name: &str) -> Result<i64, StoreError> {
        let rows = self.query(
            "SELECT CAST(setting AS BIGINT) FROM pg_settings WHERE name = $1",
            &[Value::Text(name.to_owned())],
        )?;
        Ok(rows
            .first()
            .map(|row| row.optional_int(0))
            .transpose()?
            .flatten()
            .unwrap_or(0))
    }

    fn execute(&mut self, sql: &str) -> Result<(), StoreError> {
        self.call(Request::Execute(sql.to_owned())).map(drop)
    }

    fn call(&mut self, request: Request) -> Answer {
        if self.stuck || self.requests.send(request).is_err() {
            return Err(StoreError::NoConnection);
        }
        self.wait()
    }

    fn wait(&mut self) -> Answer {
        match self.answers.recv_timeout(self.deadline) {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Timeout) => {
                self.stuck = true;
                Err(StoreError::NoAnswer {
                    seconds: self.deadline.as_secs_f64(),
                })
            }
            Err(RecvTimeoutError::Disconnected) => Err(StoreError::NoConnection),
        }
    }

    /// Ends the transaction `value` came from: committed when it is a
    /// value, rolled back (as far as the server answers) when an error.
    fn finish<T>(&mut self, value: Result<T, StoreError>) -> Result<T, StoreError> {
        match value {
            Ok(value) => {
                self.execute("COMMIT")?;
                Ok(value)
            }
            Err(error) => {
                let _ = self.execute("ROLLBACK");
                Err(error)
            }
        }
    }
}

impl Sql for Connection {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.call(Request::Query(sql.to_owned(), params.to_vec()))
    }
}

/// The connection's thread: connects, answers that, then each request in
/// turn until the [`Connection`] is dropped.
fn serve(config: &Config, requests: &Receiver<Request>, answers: &Sender<Answer>) {
    let mut client = match config.connect(NoTls) {
        Ok(client) => client,
        Err(error) => {
            let _ = answers.send(Err(error.into()));
            return;
        }
    };
    if answers.send(Ok(Vec::new())).is_err() {
        return;
    }
    let mut statements = HashMap::new();
    for request in requests {
        let answer = match request {
            Request::Execute(sql) => client
                .batch_execute(&sql)
                .map(|()| Vec::new())
                .map_err(StoreError::from),
            Request::Query(sql, params) => query(&mut client, &mut statements, &sql, &params),
            Request::Probe => client
                .is_valid(PROBE_TIMEOUT)
                .map(|()| Vec::new())
                .map_err(StoreError::from),
        };
        if answers.send(answer).is_err() {
            return;
        }
    }
}

/// Whether the one-row table holding the schema version is there.
fn schema_table_exists(connection: &mut Connection) -> Result<bool, StoreError> {
    let rows = connection.query(
        "SELECT CASE WHEN to_regclass('proflab_schema') IS NULL THEN 0 ELSE 1 END",
        &[],
    )?;
    Ok(rows
        .first()
        .map(|row| row.optional_int(0))
        .transpose()?
        .flatten()
        == Some(1))
}

/// The version in `proflab_schema`, refused when this proflab cannot read it.
fn schema_version(connection: &mut Connection, name: &str) -> Result<usize, TrackError> {
    let found = connection
        .query("SELECT MAX(version) FROM proflab_schema", &[])
        .and_then(|rows| {
            Ok(rows
                .first()
                .map(|row| row.optional_int(0))
                .transpose()?
                .flatten())
        })
        .map_err(|source| TrackError::Db {
            db: name.to_owned(),
            source,
        })?;
    check_version(found.unwrap_or(0), name)
}

/// Runs one statement, prepared once per connection (a run's result rows
/// share one insert statement instead of preparing it per row).
fn query(
    client: &mut Client,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, StoreError> {
    let statement = match statements.get(sql) {
        Some(statement) => statement.clone(),
        None => {
            let statement = client.prepare(sql)?;
            statements.insert(sql.to_owned(), statement.clone());
            statement
        }
    };
    let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(parameter).collect();
    let rows = client.query(&statement, &params)?;
    rows.iter()
        .map(|row| -> Result<Row, StoreError> {
            let values = row
                .columns()
                .iter()
                .enumerate()
                .map(|(column, description)| -> Result<Value, StoreError> {
                    let ty = description.type_();
                    Ok(if *ty == Type::INT8 {
                        row.try_get::<_, Option<i64>>(column)?
                            .map_or(Value::Null, Value::Int)
                    } else if *ty == Type::INT4 {
                        row.try_get::<_, Option<i32>>(column)?
                            .map_or(Value::Null, |v| Value::Int(v.into()))
                    } else if *ty == Type::FLOAT8 {
                        row.try_get::<_, Option<f64>>(column)?
                            .map_or(Value::Null, Value::Real)
                    } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                        row.try_get::<_, Option<String>>(column)?
                            .map_or(Value::Null, Value::Text)
                    } else {
                        return Err(StoreError::Column {
                            column,
                            expected: "bigint, integer, double precision or text",
                            found: "another type",
                        });
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Row(values))
        })
        .collect()
}

/// `value` as the client binds it. The store binds NULL only to integer
/// columns (a plain run's batch, round and side), so a typed integer NULL fits.
fn parameter(value: &Value) -> &(dyn ToSql + Sync) {
    const NULL: Option<i64> = None;
    match value {
        Value::Null => &NULL,
        Value::Int(value) => value,
        Value::Real(value) => value,
        Value::Text(text) => text,
    }
}
