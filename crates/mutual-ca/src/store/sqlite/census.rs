//! Counting the inventory in SQLite: one grouped scan, two range counts on the
//! `not_after` index.

use time::{Duration, OffsetDateTime};

use super::{SqliteStore, database};
use crate::store::census::Census;
use crate::store::{StatusFilter, StoreError};

/// Valid certificates whose `not_after` falls in [$1, $2]: every certificate in the range
/// less the revoked ones, two index-only counts (`certificates_not_after`, and the partial
/// index over revoked rows). Asking for `status = 'valid'` directly reads each row in the
/// range from the table, since migration 0003 left no index over the status of valid
/// rows: 50 ms instead of 1 ms for 25,000 certificates in range (sqlite3, 100,000 rows).
pub(super) const EXPIRING: &str = "SELECT \
     (SELECT COUNT(*) FROM certificates WHERE not_after >= $1 AND not_after <= $2) \
     - (SELECT COUNT(*) FROM certificates WHERE status = 'revoked' \
        AND not_after >= $1 AND not_after <= $2)";

impl SqliteStore {
    pub(in crate::store) async fn census(&self, now: OffsetDateTime) -> Result<Census, StoreError> {
        let now_s = now.unix_timestamp();
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT profile, CASE WHEN status = 'revoked' THEN 'revoked' \
             WHEN not_after < $1 THEN 'expired' ELSE 'valid' END AS state, COUNT(*) \
             FROM certificates GROUP BY profile, state ORDER BY profile, state",
        )
        .bind(now_s)
        .fetch_all(&self.pool)
        .await
        .map_err(database("counting certificates"))?;
        let mut census = Census::default();
        for (profile, state, count) in rows {
            let status: StatusFilter = state.parse()?;
            census
                .by_profile_status
                .push((profile, status, u64::try_from(count).unwrap_or(0)));
        }
        for (days, slot) in [
            (7, &mut census.expiring_7_days),
            (30, &mut census.expiring_30_days),
        ] {
            let count: i64 = sqlx::query_scalar(EXPIRING)
                .bind(now_s)
                .bind((now + Duration::days(days)).unix_timestamp())
                .fetch_one(&self.pool)
                .await
                .map_err(database("counting expiring certificates"))?;
            *slot = u64::try_from(count).unwrap_or(0);
        }
        Ok(census)
    }

    pub(in crate::store) async fn revocations_ever(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revocations")
            .fetch_one(&self.pool)
            .await
            .map_err(database("counting revocations"))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
