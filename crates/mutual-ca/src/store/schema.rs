//! `mutual db status`: which schema migrations a store has, without changing it.

use std::path::Path;

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{Database, StoreError};

/// One migration: its version and what it does (its file name).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Migration {
    pub version: i64,
    pub description: String,
}

/// What a store has applied beside what this build knows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaStatus {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Where it is, any password redacted.
    pub database: String,
    /// False for a SQLite file not created yet (the first open creates it).
    pub exists: bool,
    pub applied: Vec<Migration>,
    /// Known to this build and not applied: `mutual db migrate` (or any command that opens
    /// the store) applies them.
    pub pending: Vec<Migration>,
    /// Applied by a newer build: this one refuses to open the store.
    pub unknown: Vec<i64>,
}

impl SchemaStatus {
    /// The highest version this build knows.
    pub fn latest_known(&self) -> i64 {
        self.applied
            .iter()
            .chain(&self.pending)
            .map(|m| m.version)
            .filter(|v| !self.unknown.contains(v))
            .max()
            .unwrap_or(0)
    }
}

/// The highest schema version this build knows (the same on both databases: their
/// migrations are numbered alike, which `tests::both_backends_number_migrations_alike`
/// holds them to).
pub fn known_version() -> i64 {
    super::sqlite::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// Reads the migrations table of `database` (opening SQLite read-only) and compares it
/// with this build's migrations for that backend.
pub async fn status(database: &Database) -> Result<SchemaStatus, StoreError> {
    let open_error = |source| StoreError::Open {
        database: database.clone(),
        source,
    };
    let (backend, migrator, applied): (_, &Migrator, Option<Vec<(i64, String)>>) = match database {
        Database::Sqlite(path) => {
            let applied = if Path::new(path).exists() {
                let mut connection = SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true)
                    .connect()
                    .await
                    .map_err(open_error)?;
                let applied = applied_sqlite(&mut connection).await;
                let _ = connection.close().await;
                Some(applied.map_err(open_error)?)
            } else {
                None
            };
            ("sqlite", &super::sqlite::MIGRATOR, applied)
        }
        Database::Postgres(url) => {
            let options: sqlx::postgres::PgConnectOptions =
                url.expose().parse().map_err(open_error)?;
            let mut connection = options.connect().await.map_err(open_error)?;
            let applied = applied_postgres(&mut connection).await;
            let _ = connection.close().await;
            (
                "postgres",
                &super::postgres::MIGRATOR,
                Some(applied.map_err(open_error)?),
            )
        }
    };
    let exists = applied.is_some();
    let applied = applied.unwrap_or_default();
    let known = |version: i64| migrator.iter().any(|m| m.version == version);
    Ok(SchemaStatus {
        backend,
        database: database.to_string(),
        exists,
        pending: migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
            .map(|m| Migration {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect(),
        unknown: applied
            .iter()
            .map(|(v, _)| *v)
            .filter(|v| !known(*v))
            .collect(),
        applied: applied
            .into_iter()
            .map(|(version, description)| Migration {
                version,
                description,
            })
            .collect(),
    })
}

/// Whether sqlx's bookkeeping table exists, asked each database's way.
const SQLITE_TABLE: &str =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'";
const POSTGRES_TABLE: &str = "SELECT COUNT(*) FROM pg_catalog.pg_tables \
     WHERE schemaname = current_schema() AND tablename = '_sqlx_migrations'";

const APPLIED: &str =
    "SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version";

/// The successful migrations recorded in `_sqlx_migrations`, none when it does not exist.
async fn applied_sqlite(
    connection: &mut sqlx::SqliteConnection,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let tables: i64 = sqlx::query_scalar(SQLITE_TABLE)
        .fetch_one(&mut *connection)
        .await?;
    if tables == 0 {
        return Ok(Vec::new());
    }
    sqlx::query_as(APPLIED).fetch_all(&mut *connection).await
}

async fn applied_postgres(
    connection: &mut sqlx::PgConnection,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let tables: i64 = sqlx::query_scalar(POSTGRES_TABLE)
        .fetch_one(&mut *connection)
        .await?;
    if tables == 0 {
        return Ok(Vec::new());
    }
    sqlx::query_as(APPLIED).fetch_all(&mut *connection).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_number_migrations_alike() {
        let list = |migrator: &sqlx::migrate::Migrator| {
            migrator
                .iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            list(&super::super::sqlite::MIGRATOR),
            list(&super::super::postgres::MIGRATOR)
        );
        assert_eq!(super::known_version(), 8);
    }
}
