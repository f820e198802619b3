//! Counting the inventory in SQLite: one grouped scan, two range counts on the
//! `not_after` index.

use time::{Duration, OffsetDateTime};

use super::{SqliteStore, database};
use crate::store::census::Census;
use crate::store::{StatusFilter, StoreError};

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
            let count: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM certificates WHERE status = 'valid' \
                 AND not_after >= $1 AND not_after <= $2",
            )
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
