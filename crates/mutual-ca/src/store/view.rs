//! A record as every JSON output shows it (`mutual list`/`show --format json`, the
//! service's `/api/v1/certificates`), so scripts read one schema whichever they call.

use serde::Serialize;
use time::OffsetDateTime;

use super::CertificateRecord;

#[derive(Debug, Clone, Serialize)]
pub struct RecordView<'a> {
    pub serial: &'a str,
    pub profile: &'a str,
    /// `valid`, `revoked` or `expired`, judged at the time the view was made.
    pub status: &'static str,
    pub subject: &'a str,
    pub issuer: &'a str,
    pub sans: &'a [String],
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub fingerprint_sha256: &'a str,
    pub requester: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub revocation_reason: Option<&'static str>,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
}

impl CertificateRecord {
    /// The record as JSON outputs show it, its status judged at `now`.
    pub fn view(&self, now: OffsetDateTime) -> RecordView<'_> {
        RecordView {
            serial: &self.serial,
            profile: &self.profile,
            status: self.status_at(now).as_str(),
            subject: &self.subject,
            issuer: &self.issuer,
            sans: &self.sans,
            not_before: self.not_before,
            not_after: self.not_after,
            fingerprint_sha256: &self.fingerprint_sha256,
            requester: self.requester.as_deref(),
            revoked_at: self.revoked_at,
            revocation_reason: self.revocation_reason.map(|r| r.rfc_name()),
            issued_at: self.created_at,
        }
    }
}

/// A period as `--expiring` and `expiring_within=` take it: a number and a unit, `90m`,
/// `12h`, `30d`, `2w`.
pub fn parse_period(text: &str) -> Option<time::Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok()?;
    Some(match unit {
        "m" => time::Duration::minutes(n),
        "h" => time::Duration::hours(n),
        "d" => time::Duration::days(n),
        "w" => time::Duration::weeks(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_period;

    #[test]
    fn periods() {
        assert_eq!(parse_period("30d"), Some(time::Duration::days(30)));
        assert_eq!(parse_period("12h"), Some(time::Duration::hours(12)));
        assert_eq!(parse_period("2w"), Some(time::Duration::weeks(2)));
        assert_eq!(parse_period("90m"), Some(time::Duration::minutes(90)));
        for bad in ["", "d", "30", "30y", "-1d", "99999999999999999999d"] {
            assert_eq!(parse_period(bad), None, "{bad}");
        }
    }
}
