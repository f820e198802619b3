//! The inventory counted: certificates by profile and status, and how many expire soon —
//! what `/metrics` exports and a dashboard shows.

use time::OffsetDateTime;

use super::{Backend, StatusFilter, Store, StoreError, on_backend};

/// Counts at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    /// (profile, status, count), every combination that has at least one certificate.
    pub by_profile_status: Vec<(String, StatusFilter, u64)>,
    /// Valid (not revoked, not expired) certificates whose notAfter falls within 7 days.
    pub expiring_7_days: u64,
    /// ... within 30 days.
    pub expiring_30_days: u64,
}

impl Store {
    /// Counts the inventory as it stands at `now`.
    pub async fn census(&self, now: OffsetDateTime) -> Result<Census, StoreError> {
        on_backend!(self, store => store.census(now).await)
    }

    /// How many certificates were ever revoked: it only grows, so a change tells a cache
    /// of revocation status (the OCSP responder's) that it is stale.
    pub async fn revocations_ever(&self) -> Result<u64, StoreError> {
        on_backend!(self, store => store.revocations_ever().await)
    }
}
