//! Validity periods said the way people think of them: "expires in 41 days".
//! The time to judge at is always passed in, never read from the clock here.

use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidityStatus {
    NotYetValid,
    Valid,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Validity {
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The whole lifetime in days (notAfter - notBefore), rounded down.
    pub lifetime_days: i64,
    /// The status at the time of inspection.
    pub status: ValidityStatus,
    /// `expires in 41 days`, `expired 3 days ago`, `becomes valid in 2 hours`.
    pub relative: String,
    /// The time this was judged at.
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
}

impl Validity {
    pub fn new(not_before: OffsetDateTime, not_after: OffsetDateTime, now: OffsetDateTime) -> Self {
        let (status, relative) = if now < not_before {
            (
                ValidityStatus::NotYetValid,
                format!("becomes valid in {}", span(not_before - now)),
            )
        } else if now > not_after {
            (
                ValidityStatus::Expired,
                format!("expired {} ago", span(now - not_after)),
            )
        } else {
            (
                ValidityStatus::Valid,
                format!("expires in {}", span(not_after - now)),
            )
        };
        Validity {
            not_before,
            not_after,
            lifetime_days: (not_after - not_before).whole_days(),
            status,
            relative,
            checked_at: now,
        }
    }
}

/// A duration in the largest unit that keeps it honest (days, else hours, else minutes),
/// rounded to the nearest: a certificate issued for 365 days a minute ago "expires in 365
/// days", as people say it.
fn span(duration: time::Duration) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    let seconds = duration.whole_seconds();
    let rounded = |unit: i64| (seconds + unit / 2) / unit;
    if seconds >= 86_400 {
        plural(rounded(86_400), "day")
    } else if seconds >= 3_600 {
        plural(rounded(3_600), "hour")
    } else {
        plural(rounded(60).max(1), "minute")
    }
}

/// The RFC 3339 form used in text output.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn says_it_in_days_hours_minutes() {
        let nb = datetime!(2026-01-01 0:00 UTC);
        let na = datetime!(2026-03-01 0:00 UTC);
        let v = Validity::new(nb, na, datetime!(2026-01-19 0:00 UTC));
        assert_eq!(
            (v.status, v.relative.as_str()),
            (ValidityStatus::Valid, "expires in 41 days")
        );
        assert_eq!(v.lifetime_days, 59);
        let v = Validity::new(nb, na, datetime!(2026-03-04 1:00 UTC));
        assert_eq!(
            (v.status, v.relative.as_str()),
            (ValidityStatus::Expired, "expired 3 days ago")
        );
        let v = Validity::new(nb, na, datetime!(2025-12-31 22:00 UTC));
        assert_eq!(v.relative, "becomes valid in 2 hours");
        let v = Validity::new(nb, na, datetime!(2026-02-28 23:59:30 UTC));
        assert_eq!(v.relative, "expires in 1 minute");
        let v = Validity::new(nb, na, datetime!(2026-01-01 0:01 UTC));
        assert_eq!(v.relative, "expires in 59 days", "rounded, not floored");
    }
}
