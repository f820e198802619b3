//! The audit table in SQLite.

use sqlx::{QueryBuilder, Sqlite};
use time::OffsetDateTime;

use super::{SqliteStore, database};
use crate::store::StoreError;
use crate::store::audit::{AuditEntry, AuditQuery, NewAuditEntry};

type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

impl SqliteStore {
    pub(in crate::store) async fn audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit (at, actor, action, serial, subject, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entry.at.unix_timestamp())
        .bind(&entry.actor)
        .bind(entry.action.as_str())
        .bind(entry.serial.as_deref())
        .bind(entry.subject.as_deref())
        .bind(&entry.detail)
        .execute(&self.pool)
        .await
        .map_err(database("writing the audit trail"))?;
        Ok(())
    }

    pub(in crate::store) async fn audit_log(
        &self,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "SELECT id, at, actor, action, serial, subject, detail FROM audit WHERE 1 = 1",
        );
        if let Some(action) = query.action {
            sql.push(" AND action = ").push_bind(action.as_str());
        }
        if let Some(since) = query.since {
            sql.push(" AND at >= ").push_bind(since.unix_timestamp());
        }
        if let Some(before) = query.before {
            sql.push(" AND id < ").push_bind(before);
        }
        sql.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(query.limit.clamp(1, 10_000)));
        let rows: Vec<Row> = sql
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(database("reading the audit trail"))?;
        rows.into_iter()
            .map(|(id, at, actor, action, serial, subject, detail)| {
                Ok(AuditEntry {
                    id,
                    at: OffsetDateTime::from_unix_timestamp(at).map_err(|_| {
                        StoreError::CorruptRow {
                            id,
                            column: "audit.at",
                            found: at.to_string(),
                        }
                    })?,
                    actor,
                    action: action.parse()?,
                    serial,
                    subject,
                    detail,
                })
            })
            .collect()
    }
}
