//! The values that go in and come out of the store.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use super::{AuditNote, StoreError, identifier};

/// A certificate the CA has just signed, to be recorded before anyone receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCertificate {
    /// Upper-case hex without colons, as `openssl x509 -serial` prints it; other spellings
    /// are normalised to that.
    pub serial: String,
    /// Hex of the issuer's subject key identifier.
    pub issuer_key_id: String,
    /// RFC 4514.
    pub issuer: String,
    /// RFC 4514.
    pub subject: String,
    /// Display forms: `DNS:example.com`, `IP:10.0.0.1`, `email:a@b`, `URI:spiffe://...`.
    pub sans: Vec<String>,
    /// Stored to the second, as X.509 times are.
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// The profile that decided the certificate: `server`, `client`, `intermediate`, ...
    pub profile: String,
    /// Who asked (a local user, an API token): free text.
    pub requester: Option<String>,
    /// SHA-256 of the DER, upper-case colon hex as `openssl x509 -fingerprint -sha256` prints it.
    pub fingerprint_sha256: String,
    /// The certificate, PEM.
    pub pem: String,
    /// The audit trail's entry for this issuance, committed with the certificate.
    pub audit: Option<AuditNote>,
}

/// A certificate as the store holds it. Times are whole seconds, UTC.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// The store's own number for the row; stable, never reused.
    pub id: i64,
    pub serial: String,
    pub issuer_key_id: String,
    pub issuer: String,
    pub subject: String,
    /// As issued, in the order given.
    pub sans: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub profile: String,
    pub requester: Option<String>,
    pub fingerprint_sha256: String,
    pub pem: String,
    pub status: Status,
    pub revoked_at: Option<OffsetDateTime>,
    pub revocation_reason: Option<RevocationReason>,
    /// When the store recorded it.
    pub created_at: OffsetDateTime,
}

impl CertificateRecord {
    /// What `list --status` would call this certificate at `now`: revoked wins over expired.
    pub fn status_at(&self, now: OffsetDateTime) -> StatusFilter {
        match self.status {
            Status::Revoked => StatusFilter::Revoked,
            // notAfter is the last second of validity (RFC 5280 4.1.2.5).
            Status::Valid if self.not_after < now => StatusFilter::Expired,
            Status::Valid => StatusFilter::Valid,
        }
    }
}

/// The stored status. Expiry is not stored: it follows from `not_after` and the time asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Valid,
    Revoked,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Revoked => "revoked",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `list --status` selects, at [`Query::now`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusFilter {
    /// Not revoked and `not_after` not yet passed.
    Valid,
    /// Revoked, whether or not it has expired since.
    Revoked,
    /// Not revoked and `not_after` passed.
    Expired,
}

impl StatusFilter {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for StatusFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StatusFilter {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Valid, Self::Revoked, Self::Expired]
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| StoreError::InvalidStatus {
                input: s.to_owned(),
            })
    }
}

/// RFC 5280 5.3.1 CRLReason. `removeFromCRL` (8) is left out: it only has a meaning in
/// delta CRLs, not as the reason a certificate was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    CertificateHold,
    PrivilegeWithdrawn,
    AaCompromise,
}

impl RevocationReason {
    pub const ALL: [Self; 9] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::CaCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
        Self::CertificateHold,
        Self::PrivilegeWithdrawn,
        Self::AaCompromise,
    ];

    /// The CRLReason enumeration value.
    pub const fn code(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::KeyCompromise => 1,
            Self::CaCompromise => 2,
            Self::AffiliationChanged => 3,
            Self::Superseded => 4,
            Self::CessationOfOperation => 5,
            Self::CertificateHold => 6,
            Self::PrivilegeWithdrawn => 9,
            Self::AaCompromise => 10,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// The name in RFC 5280's ASN.1 module: `keyCompromise`, `cACompromise`, ...
    pub const fn rfc_name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "cACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
            Self::AaCompromise => "aACompromise",
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rfc_name())
    }
}

/// Accepts the RFC names in any case and with `-` or `_` between words, so `keyCompromise`,
/// `key-compromise` and `caCompromise` all parse.
impl FromStr for RevocationReason {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect();
        Self::ALL
            .into_iter()
            .find(|reason| reason.rfc_name().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| StoreError::InvalidRevocationReason {
                input: s.to_owned(),
            })
    }
}

/// A revocation as `revoke` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// When the CA revoked it (the CRL entry's revocationDate).
    pub at: OffsetDateTime,
    pub reason: RevocationReason,
    /// Since when the certificate is known or suspected to be invalid, if earlier (the CRL
    /// entry's invalidityDate), e.g. when a laptop was lost.
    pub invalid_since: Option<OffsetDateTime>,
    /// Who revoked it: a local user, an administrator's certificate fingerprint.
    pub by: Option<String>,
}

/// One entry of a CRL: a revoked certificate of one issuing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedSerial {
    /// Upper-case hex, as stored.
    pub serial: String,
    pub revoked_at: OffsetDateTime,
    pub reason: RevocationReason,
    pub invalid_since: Option<OffsetDateTime>,
    pub not_after: OffsetDateTime,
}

/// How one certificate is named. Serials and fingerprints may be spelled in upper or lower
/// case, with or without colons.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// A serial alone: an error if two issuers used the same serial.
    Serial(String),
    /// SHA-256 of the DER.
    Fingerprint(String),
    /// A serial under one issuing key: what a CRL or OCSP request names.
    IssuerSerial {
        issuer_key_id: String,
        serial: String,
    },
}

impl Lookup {
    /// The same lookup with its values in their stored spelling.
    pub(crate) fn normalised(&self) -> Result<Self, StoreError> {
        Ok(match self {
            Self::Serial(serial) => Self::Serial(identifier::serial(serial)?),
            Self::Fingerprint(fingerprint) => {
                Self::Fingerprint(identifier::fingerprint(fingerprint)?)
            }
            Self::IssuerSerial {
                issuer_key_id,
                serial,
            } => Self::IssuerSerial {
                issuer_key_id: identifier::key_id(issuer_key_id)?,
                serial: identifier::serial(serial)?,
            },
        })
    }
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serial(serial) => write!(f, "serial {serial}"),
            Self::Fingerprint(fingerprint) => write!(f, "SHA-256 fingerprint {fingerprint}"),
            Self::IssuerSerial {
                issuer_key_id,
                serial,
            } => write!(f, "serial {serial} under issuer key {issuer_key_id}"),
        }
    }
}

/// What `mutual show SERIAL|FINGERPRINT` accepts: 64 hex digits are a fingerprint (a serial
/// has at most 40), anything else must be a serial. The result is normalised.
impl FromStr for Lookup {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if identifier::looks_like_fingerprint(s) {
            identifier::fingerprint(s).map(Self::Fingerprint)
        } else {
            identifier::serial(s).map(Self::Serial)
        }
    }
}

/// The filters of `list`. Build one with [`Query::new`] and set the fields wanted.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The time `status` and `expiring_within` are judged at.
    pub now: OffsetDateTime,
    pub profile: Option<String>,
    pub status: Option<StatusFilter>,
    /// Not revoked, with `not_after` between `now` and `now + d`, both included.
    pub expiring_within: Option<time::Duration>,
    /// Certificates naming this SAN: a display form (`DNS:host.example`, `IP:10.0.0.1`) or a
    /// bare value matched against any kind. DNS names match case-insensitively.
    pub san: Option<String>,
    /// Certificates whose subject common name starts with this, ignoring case (the whole
    /// RFC 4514 subject for a subject without one). Combined with the other filters.
    pub subject: Option<String>,
    /// One search box: certificates that [`Query::san`] would select for this term, or
    /// whose common name starts with it as [`Query::subject`] matches.
    pub search: Option<String>,
    /// The order of the pages.
    pub order: Order,
    /// Continue after this point: the `next` of the previous page, listed in the same
    /// [`Query::order`] (a cursor of another order is [`StoreError::CursorOrderMismatch`]).
    pub after: Option<Cursor>,
    /// Records per page, at least 1 and at most [`Query::MAX_LIMIT`].
    pub limit: u32,
}

impl Query {
    pub const DEFAULT_LIMIT: u32 = 100;
    pub const MAX_LIMIT: u32 = 1000;

    /// Every certificate, judged at `now`, [`Query::DEFAULT_LIMIT`] per page.
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            now,
            profile: None,
            status: None,
            expiring_within: None,
            san: None,
            subject: None,
            search: None,
            order: Order::ExpirySoonest,
            after: None,
            limit: Self::DEFAULT_LIMIT,
        }
    }

    pub(crate) fn effective_limit(&self) -> u32 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }
}

/// How many valid certificates of one profile expire in one period of
/// [`Store::expiry_counts`](super::Store::expiry_counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryCount {
    /// The period, from 0: `not_after` in `[now + bucket * width, now + (bucket + 1) * width)`.
    pub bucket: u32,
    pub profile: String,
    pub count: u64,
}

/// The orders `list` pages through, each backed by an index and broken by the row's `id`,
/// so keyset pagination sees every record once even when many share the sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// `not_after` ascending: what expires next first.
    #[default]
    ExpirySoonest,
    /// `not_after` descending.
    ExpiryLatest,
    /// Newest recorded first (the store's row order, which is issuance order).
    Newest,
    /// By common name, case-insensitively (the whole subject when it has none).
    Subject,
}

impl Order {
    pub const ALL: [Self; 4] = [
        Self::ExpirySoonest,
        Self::ExpiryLatest,
        Self::Newest,
        Self::Subject,
    ];

    /// The word of `--sort` and of the dashboard's `sort=`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ExpirySoonest => "expiry",
            Self::ExpiryLatest => "expiry-desc",
            Self::Newest => "newest",
            Self::Subject => "subject",
        }
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Order {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|order| order.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| StoreError::InvalidOrder {
                input: s.to_owned(),
            })
    }
}

/// One page of `list`, in the query's [`Order`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub records: Vec<CertificateRecord>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<Cursor>,
}

/// A position in one `list` order: the order, the last row's sort key and its id. Its text
/// form (`Display`/`FromStr`) is short enough for a command line and an address; its
/// contents are not part of the API. The expiry order keeps the form it always had
/// (`NOT_AFTER-ID`); the others are `ORDER:ID:KEY`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub(crate) order: Order,
    pub(crate) key: CursorKey,
    pub(crate) id: i64,
}

/// The sort key a cursor carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CursorKey {
    /// `not_after`, Unix seconds.
    Time(i64),
    /// The case-folded common name the subject order sorts by.
    Name(String),
    /// The id alone is the key.
    Id,
}

impl Cursor {
    /// After `record` in `order`; `name` is the record's subject sort key.
    pub(crate) fn after(order: Order, record: &CertificateRecord, name: String) -> Self {
        let key = match order {
            Order::ExpirySoonest | Order::ExpiryLatest => {
                CursorKey::Time(record.not_after.unix_timestamp())
            }
            Order::Newest => CursorKey::Id,
            Order::Subject => CursorKey::Name(name),
        };
        Self {
            order,
            key,
            id: record.id,
        }
    }

    /// The order this cursor pages through.
    pub fn order(&self) -> Order {
        self.order
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.order, &self.key) {
            (Order::ExpirySoonest, CursorKey::Time(not_after)) => {
                write!(f, "{not_after}-{}", self.id)
            }
            (order, CursorKey::Time(not_after)) => write!(f, "{order}:{}:{not_after}", self.id),
            (order, CursorKey::Name(name)) => write!(f, "{order}:{}:{name}", self.id),
            (order, CursorKey::Id) => write!(f, "{order}:{}:", self.id),
        }
    }
}

impl FromStr for Cursor {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || StoreError::InvalidCursor {
            input: s.to_owned(),
        };
        let Some((order, rest)) = s.split_once(':') else {
            // rsplit: not_after may be negative (a notAfter before 1970), the id never is.
            let (not_after, id) = s.trim().rsplit_once('-').ok_or_else(invalid)?;
            let not_after = not_after.parse().map_err(|_| invalid())?;
            let id = id.parse().map_err(|_| invalid())?;
            return Ok(Self {
                order: Order::ExpirySoonest,
                key: CursorKey::Time(not_after),
                id,
            });
        };
        let order: Order = order.parse().map_err(|_| invalid())?;
        // The key last: a common name may hold colons.
        let (id, key) = rest.split_once(':').ok_or_else(invalid)?;
        let id = id.parse().map_err(|_| invalid())?;
        let key = match order {
            Order::ExpirySoonest | Order::ExpiryLatest => {
                CursorKey::Time(key.parse().map_err(|_| invalid())?)
            }
            Order::Newest if key.is_empty() => CursorKey::Id,
            Order::Newest => return Err(invalid()),
            Order::Subject => CursorKey::Name(key.to_owned()),
        };
        Ok(Self { order, key, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocation_reasons_have_rfc_codes_and_names() {
        let codes: Vec<u8> = RevocationReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 9, 10]);
        for reason in RevocationReason::ALL {
            assert_eq!(RevocationReason::from_code(reason.code()), Some(reason));
            assert_eq!(
                reason.rfc_name().parse::<RevocationReason>().unwrap(),
                reason
            );
        }
        assert_eq!(RevocationReason::from_code(7), None);
        assert_eq!(RevocationReason::from_code(8), None);
        for spelling in [
            "cACompromise",
            "caCompromise",
            "ca-compromise",
            "CA_COMPROMISE",
        ] {
            assert_eq!(
                spelling.parse::<RevocationReason>().unwrap(),
                RevocationReason::CaCompromise
            );
        }
        let err = "removeFromCRL".parse::<RevocationReason>().unwrap_err();
        assert_eq!(err.code(), "invalid_revocation_reason");
    }

    #[test]
    fn cursor_round_trips_through_text() {
        let cursor = |order, key| Cursor { order, key, id: 42 };
        for cursor in [
            cursor(Order::ExpirySoonest, CursorKey::Time(1_767_225_600)),
            cursor(Order::ExpirySoonest, CursorKey::Time(-86_400)),
            cursor(Order::ExpiryLatest, CursorKey::Time(-86_400)),
            cursor(Order::Newest, CursorKey::Id),
            cursor(Order::Subject, CursorKey::Name("a:b, c-d".into())),
            cursor(Order::Subject, CursorKey::Name(String::new())),
        ] {
            assert_eq!(cursor.to_string().parse::<Cursor>().unwrap(), cursor);
        }
        // The expiry order's text is the one cursors always had.
        assert_eq!(
            cursor(Order::ExpirySoonest, CursorKey::Time(7)).to_string(),
            "7-42"
        );
        for input in [
            "",
            "12",
            "a-1",
            "1-",
            "1-b",
            "sideways:1:2",
            "subject:x:name",
            "subject:1",
            "newest:1:2",
            "expiry-desc:1:soon",
        ] {
            assert_eq!(
                input.parse::<Cursor>().unwrap_err().code(),
                "invalid_cursor"
            );
        }
    }

    #[test]
    fn lookup_tells_fingerprints_from_serials() {
        let fingerprint = ["0F"; 32].join(":");
        assert_eq!(
            fingerprint
                .to_lowercase()
                .replace(':', "")
                .parse::<Lookup>()
                .unwrap(),
            Lookup::Fingerprint(fingerprint)
        );
        assert_eq!(
            "0a:1b".parse::<Lookup>().unwrap(),
            Lookup::Serial("0A1B".into())
        );
        assert_eq!("zz".parse::<Lookup>().unwrap_err().code(), "invalid_serial");
    }

    #[test]
    fn orders_parse_their_words() {
        for order in Order::ALL {
            assert_eq!(order.as_str().parse::<Order>().unwrap(), order);
        }
        assert_eq!("up".parse::<Order>().unwrap_err().code(), "invalid_order");
    }

    #[test]
    fn status_filter_parses_cli_words() {
        assert_eq!(
            "Expired".parse::<StatusFilter>().unwrap(),
            StatusFilter::Expired
        );
        assert_eq!(
            "gone".parse::<StatusFilter>().unwrap_err().code(),
            "invalid_status"
        );
    }

    #[test]
    fn limit_is_clamped() {
        let mut query = Query::new(OffsetDateTime::UNIX_EPOCH);
        query.limit = 0;
        assert_eq!(query.effective_limit(), 1);
        query.limit = 5000;
        assert_eq!(query.effective_limit(), Query::MAX_LIMIT);
    }
}
