//! The PostgreSQL backend: one history that many CI runners write at once.
//! The server's MVCC lets concurrent `record`s insert side by side (each run
//! is one transaction, invisible to readers until it commits, rolled back if
//! its process dies); the schema version is the one row of `proflab_schema`,
//! and migrations run under a transaction-scoped advisory lock so that two
//! processes opening a fresh database at once do not both create the tables.

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::time::Duration;

use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, Config, IsolationLevel, NoTls, Statement, Transaction};

use super::{Dialect, MIGRATIONS, Row, Sql, StoreError, Value, check_version};
use crate::TrackError;

pub(super) const DIALECT: Dialect = Dialect {
    id: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    int: "BIGINT",
    real: "DOUBLE PRECISION",
};

/// The advisory lock key that serializes migrations: "proflab" in ASCII.
/// Held to the end of the opening transaction, released by the server if the
/// process dies.
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(x'70726f666c6162'::bigint)";

/// How long a connection attempt may take when the URL sets no
/// `connect_timeout`: a CI job with a wrong host should fail, not hang.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the liveness probe before each transaction waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Postgres {
    /// A `RefCell` because reads take `&self` (as `History`'s API does) while
    /// the client needs `&mut` to send anything. Nothing re-enters it: a
    /// closure given to `read` only sees the transaction.
    client: RefCell<Client>,
    /// Kept to connect again when the connection was lost between two
    /// transactions (see [`Postgres::live`]).
    url: String,
    read_only: bool,
}

impl Postgres {
    /// Connects and migrates.
    pub(super) fn open(url: &str, name: &str) -> Result<Postgres, TrackError> {
        let db = |source: ::postgres::Error| TrackError::Db {
            db: name.to_owned(),
            source: source.into(),
        };
        let mut client = connect(url).map_err(db)?;
        let mut tx = client.transaction().map_err(db)?;
        tx.batch_execute(MIGRATION_LOCK).map_err(db)?;
        let exists = schema_table_exists(&mut tx).map_err(db)?;
        // Created only when missing: `CREATE TABLE IF NOT EXISTS` would need
        // the CREATE privilege even on a database that is already set up.
        if !exists {
            tx.batch_execute(
                "CREATE TABLE proflab_schema (version BIGINT NOT NULL);
                 INSERT INTO proflab_schema (version) VALUES (0);",
            )
            .map_err(db)?;
        }
        let found = schema_version(&mut tx, name)?;
        if found < MIGRATIONS.len() {
            for migration in &MIGRATIONS[found..] {
                tx.batch_execute(&DIALECT.render(migration)).map_err(db)?;
            }
            tx.execute(
                "UPDATE proflab_schema SET version = $1",
                &[&(MIGRATIONS.len() as i64)],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(Postgres {
            client: RefCell::new(client),
            url: url.to_owned(),
            read_only: false,
        })
    }

    /// Connects in a session where every transaction is read-only, so that
    /// the server itself refuses any write; nothing is created or migrated.
    pub(super) fn open_read_only(url: &str, name: &str) -> Result<Postgres, TrackError> {
        let db = |source: ::postgres::Error| TrackError::Db {
            db: name.to_owned(),
            source: source.into(),
        };
        let mut client = connect_read_only(url).map_err(db)?;
        let mut tx = client.transaction().map_err(db)?;
        let exists = schema_table_exists(&mut tx).map_err(db)?;
        if !exists {
            return Err(TrackError::NoDatabase {
                db: name.to_owned(),
            });
        }
        let found = schema_version(&mut tx, name)?;
        tx.commit().map_err(db)?;
        if found < MIGRATIONS.len() {
            return Err(TrackError::OlderSchema {
                db: name.to_owned(),
                found: found as i64,
            });
        }
        Ok(Postgres {
            client: RefCell::new(client),
            url: url.to_owned(),
            read_only: true,
        })
    }

    /// The client, connected again first if the connection was lost since
    /// the last transaction: a `track run` holds its history open for many
    /// minutes, long enough for a server restart or a NAT's idle timeout to
    /// drop the connection between two rounds. One trivial round trip per
    /// transaction; nothing is retried once a transaction has begun.
    fn live(&self) -> Result<RefMut<'_, Client>, StoreError> {
        let mut client = self.client.borrow_mut();
        if client.is_valid(PROBE_TIMEOUT).is_err() {
            *client = if self.read_only {
                connect_read_only(&self.url)?
            } else {
                connect(&self.url)?
            };
        }
        Ok(client)
    }

    /// One read-only, repeatable-read transaction: the reads of one call see
    /// one snapshot while other runners keep committing.
    pub(super) fn read<T>(
        &self,
        reads: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.live()?;
        let mut tx = client
            .build_transaction()
            .read_only(true)
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()?;
        let value = reads(&mut Session::new(&mut tx))?;
        tx.commit()?;
        Ok(value)
    }

    /// One read-committed transaction. Concurrent writers do not conflict:
    /// each inserts its own rows, and ids come from the identity sequence.
    /// Dropped without commit (an error, or a killed process whose socket the
    /// server sees close), it rolls back.
    pub(super) fn write<T>(
        &mut self,
        writes: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.live()?;
        let mut tx = client.transaction()?;
        let value = writes(&mut Session::new(&mut tx))?;
        tx.commit()?;
        Ok(value)
    }
}

/// Parses `url` and connects without TLS (see docs/TRACKING.md: a server
/// that insists on TLS refuses the connection with its own message).
fn connect(url: &str) -> Result<Client, ::postgres::Error> {
    let mut config: Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("proflab");
    }
    config.connect(NoTls)
}

/// [`connect`], in a session where every transaction is read-only, so that
/// the server itself refuses any write.
fn connect_read_only(url: &str) -> Result<Client, ::postgres::Error> {
    let mut client = connect(url)?;
    client.batch_execute("SET SESSION default_transaction_read_only = on")?;
    Ok(client)
}

/// Whether the one-row table holding the schema version is there.
fn schema_table_exists(tx: &mut Transaction<'_>) -> Result<bool, ::postgres::Error> {
    tx.query_one("SELECT to_regclass('proflab_schema') IS NOT NULL", &[])
        .and_then(|row| row.try_get(0))
}

/// The version in `proflab_schema`, refused when this proflab cannot read it.
fn schema_version(tx: &mut Transaction<'_>, name: &str) -> Result<usize, TrackError> {
    let found: Option<i64> = tx
        .query_one("SELECT MAX(version) FROM proflab_schema", &[])
        .and_then(|row| row.try_get(0))
        .map_err(|source| TrackError::Db {
            db: name.to_owned(),
            source: source.into(),
        })?;
    check_version(found.unwrap_or(0), name)
}

/// A transaction, with the statements it has prepared: a run's result rows
/// share one insert statement instead of preparing it per row. Statements
/// live as long as the transaction, so none outlives a failed one.
struct Session<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    statements: HashMap<String, Statement>,
}

impl<'a, 'b> Session<'a, 'b> {
    fn new(tx: &'a mut Transaction<'b>) -> Session<'a, 'b> {
        Session {
            tx,
            statements: HashMap::new(),
        }
    }
}

impl Sql for Session<'_, '_> {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let statement = match self.statements.get(sql) {
            Some(statement) => statement.clone(),
            None => {
                let statement = self.tx.prepare(sql)?;
                self.statements.insert(sql.to_owned(), statement.clone());
                statement
            }
        };
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(parameter).collect();
        let rows = self.tx.query(&statement, &params)?;
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
