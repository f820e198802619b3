//! One-time enrollment tokens: a device holding one may enroll once, for the subject and
//! under the profile the token names, until it expires (`mutual token create`,
//! `POST /api/v1/enroll`).
//!
//! A token reads `mtk_<id>_<secret>`: the id (16 hex digits) is public and names the token
//! in the audit trail; the secret (32 random bytes, base64url) is shown once, when the token
//! is made. The store keeps only the secret's SHA-256, so reading the database does not let
//! anyone enroll. A plain hash is enough: the secret has 256 bits of entropy, nothing to
//! guess; slow password hashes are for low-entropy secrets.
//!
//! Spending a token is one guarded `UPDATE`: unused, unexpired, the secret's hash and the
//! subject matching. Of many redemptions at once exactly one matches; a wrong secret or
//! subject matches nothing, so it never burns the token.

use std::fmt;
use std::str::FromStr;

use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use super::{Backend, Store, StoreError, on_backend};
use crate::profile::{ProfileKind, Profiles};

/// What every token starts with, so it is recognisable in a config or a leak scanner.
pub const TOKEN_PREFIX: &str = "mtk_";
/// The shortest life a token may be given: time to copy it to the device.
pub const MIN_TOKEN_TTL: Duration = Duration::minutes(1);
/// The longest: a token is a bearer credential, not a standing one.
pub const MAX_TOKEN_TTL: Duration = Duration::days(30);
/// ub-common-name (RFC 5280 Appendix A): the subject is the certificate's common name.
const MAX_SUBJECT_LEN: usize = 64;

const ID_BYTES: usize = 8;
const ID_LEN: usize = 2 * ID_BYTES;
const SECRET_BYTES: usize = 32;
/// 32 bytes in unpadded base64url.
const SECRET_LEN: usize = 43;

/// A token as its holder has it: the id and the secret. The secret is never printed by
/// `Debug` and is wiped from memory when the value is dropped.
pub struct EnrollmentToken {
    id: String,
    secret: Zeroizing<String>,
}

impl EnrollmentToken {
    /// A fresh token from the system's random generator.
    pub fn generate() -> Result<Self, TokenError> {
        let mut id = [0u8; ID_BYTES];
        let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
        aws_lc_rs::rand::fill(&mut id).map_err(|_| TokenError::Random)?;
        aws_lc_rs::rand::fill(secret.as_mut_slice()).map_err(|_| TokenError::Random)?;
        Ok(Self {
            id: hex(&id),
            secret: base64url(secret.as_slice()),
        })
    }

    /// The public half: it names the token in the store and the audit trail.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Lower-case hex SHA-256 of the secret: what the store keeps instead of it.
    pub fn secret_sha256(&self) -> String {
        hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.secret.as_bytes()).as_ref())
    }

    /// The whole token, `mtk_<id>_<secret>`, to hand to its holder once.
    pub fn expose(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{TOKEN_PREFIX}{}_{}",
            self.id,
            self.secret.as_str()
        ))
    }
}

impl fmt::Debug for EnrollmentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollmentToken")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl FromStr for EnrollmentToken {
    type Err = TokenError;

    /// Parses `mtk_<16 hex digits>_<43 base64url characters>`, surrounding white space
    /// ignored. The error never quotes the input: it may be a real token, mistyped.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = |detail| TokenError::Malformed { detail };
        let rest = text
            .trim()
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(malformed("it does not start with `mtk_`"))?;
        // The id is hex, so the first `_` ends it; the secret may contain `_` itself.
        let (id, secret) = rest
            .split_once('_')
            .ok_or(malformed("it has no `_` between the id and the secret"))?;
        if id.len() != ID_LEN || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(malformed("its id is not 16 lower-case hex digits"));
        }
        if secret.len() != SECRET_LEN
            || !secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(malformed("its secret is not 43 base64url characters"));
        }
        Ok(Self {
            id: id.to_owned(),
            secret: Zeroizing::new(secret.to_owned()),
        })
    }
}

/// What a token allows, checked: a profile the CA issues leaf certificates under, a subject
/// that can be a common name, a life within [`MIN_TOKEN_TTL`]..=[`MAX_TOKEN_TTL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub profile: ProfileKind,
    pub subject: String,
    pub ttl: Duration,
}

impl TokenGrant {
    /// Checks a request for a token against the CA's profiles (`profile` by name, as the
    /// command line and the API take it).
    pub fn new(
        profiles: &Profiles,
        profile: &str,
        subject: &str,
        ttl: Duration,
    ) -> Result<Self, TokenError> {
        let kind: ProfileKind = profile.parse().map_err(|_| TokenError::UnknownProfile {
            name: profile.to_owned(),
        })?;
        if kind == ProfileKind::OcspSigner {
            return Err(TokenError::ProfileNotEnrollable { profile: kind });
        }
        if !profiles.get(kind).enabled {
            return Err(TokenError::ProfileDisabled { profile: kind });
        }
        let invalid = |why| TokenError::InvalidSubject {
            subject: subject.to_owned(),
            why,
        };
        if subject.trim().is_empty() {
            return Err(invalid("it is empty"));
        }
        if subject.trim() != subject {
            return Err(invalid("it starts or ends with white space"));
        }
        if subject.chars().count() > MAX_SUBJECT_LEN {
            return Err(invalid("a common name has at most 64 characters"));
        }
        if subject.chars().any(char::is_control) {
            return Err(invalid("it contains control characters"));
        }
        if !(MIN_TOKEN_TTL..=MAX_TOKEN_TTL).contains(&ttl) {
            return Err(TokenError::TtlOutOfRange { ttl });
        }
        Ok(Self {
            profile: kind,
            subject: subject.to_owned(),
            ttl,
        })
    }
}

/// A token to record. The fields are public so a test can record one that expired already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: String,
    pub secret_sha256: String,
    pub profile: ProfileKind,
    pub subject: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// `admin:<sha256 fingerprint>` or `local:<user>`.
    pub created_by: String,
}

impl NewToken {
    pub fn new(
        token: &EnrollmentToken,
        grant: &TokenGrant,
        created_by: &str,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: token.id().to_owned(),
            secret_sha256: token.secret_sha256(),
            profile: grant.profile,
            subject: grant.subject.clone(),
            created_at: now,
            expires_at: now + grant.ttl,
            created_by: created_by.to_owned(),
        }
    }
}

/// A token as stored (without its secret's hash). Times are whole seconds, UTC.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRecord {
    pub id: String,
    #[serde(serialize_with = "profile_name")]
    pub profile: ProfileKind,
    pub subject: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub created_by: String,
    /// When a redemption claimed it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub used_at: Option<OffsetDateTime>,
    /// The certificate it was spent on, once recorded.
    pub used_serial: Option<String>,
}

fn profile_name<S: serde::Serializer>(profile: &ProfileKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(profile.as_str())
}

/// Why a token could not be made or used. Each variant carries the evidence; none carries
/// the secret.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the token is malformed: {detail}; expected `mtk_<id>_<secret>` as `mutual token create` prints it"
    )]
    Malformed { detail: &'static str },
    #[error("no enrollment token {id} exists")]
    Unknown { id: String },
    #[error("the secret of enrollment token {id} is wrong")]
    WrongSecret { id: String },
    #[error(
        "enrollment token {id} was already used at {}{}",
        rfc3339(used_at),
        serial.as_ref().map(|s| format!(" for certificate {s}")).unwrap_or_else(|| " (its certificate is being issued)".to_owned())
    )]
    Used {
        id: String,
        used_at: OffsetDateTime,
        serial: Option<String>,
    },
    #[error("enrollment token {id} expired at {}", rfc3339(expired_at))]
    Expired {
        id: String,
        expired_at: OffsetDateTime,
    },
    #[error("enrollment token {id} is for subject `{expected}`, not `{found}`")]
    SubjectMismatch {
        id: String,
        expected: String,
        found: String,
    },
    #[error("`{name}` is not a profile: expected client, server, server-client or admin")]
    UnknownProfile { name: String },
    #[error(
        "the {profile} profile is the service's own; enrollment tokens are for client, server, server-client or admin"
    )]
    ProfileNotEnrollable { profile: ProfileKind },
    #[error(
        "the {profile} profile is disabled; enable it in mutual.toml ([profiles.{profile}] enabled = true) to enroll under it"
    )]
    ProfileDisabled { profile: ProfileKind },
    #[error("`{subject}` cannot be a token's subject: {why}")]
    InvalidSubject { subject: String, why: &'static str },
    #[error(
        "a token lifetime of {}: expected between {} and {}",
        human(*ttl),
        human(MIN_TOKEN_TTL),
        human(MAX_TOKEN_TTL)
    )]
    TtlOutOfRange { ttl: Duration },
    #[error("the system's random generator failed")]
    Random,
    #[error("enrollment token {id} changed under {attempts} redemption attempts in a row")]
    Contended { id: String, attempts: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TokenError {
    /// The stable snake_case name of the problem.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "token_malformed",
            Self::Unknown { .. } => "token_unknown",
            Self::WrongSecret { .. } => "token_wrong_secret",
            Self::Used { .. } => "token_used",
            Self::Expired { .. } => "token_expired",
            Self::SubjectMismatch { .. } => "token_subject_mismatch",
            Self::UnknownProfile { .. } => "unknown_profile",
            Self::ProfileNotEnrollable { .. } => "profile_not_enrollable",
            Self::ProfileDisabled { .. } => "profile_disabled",
            Self::InvalidSubject { .. } => "invalid_subject",
            Self::TtlOutOfRange { .. } => "ttl_out_of_range",
            Self::Random => "random_failed",
            Self::Contended { .. } => "token_contended",
            Self::Store(e) => e.code(),
        }
    }

    /// True when the one asking can fix it (a bad profile, subject, lifetime or token).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Self::Random | Self::Contended { .. } | Self::Store(_))
    }
}

/// Judges a token against its row (if any) at `now`, and against the subject it is being
/// spent on when given. Does not change anything.
pub(super) fn judge(
    found: Option<(TokenRecord, String)>,
    token: &EnrollmentToken,
    subject: Option<&str>,
    now: OffsetDateTime,
) -> Result<TokenRecord, TokenError> {
    let Some((record, stored_sha256)) = found else {
        return Err(TokenError::Unknown {
            id: token.id().to_owned(),
        });
    };
    // The hashes are of a secret the caller supplies: compare without an early exit.
    if aws_lc_rs::constant_time::verify_slices_are_equal(
        token.secret_sha256().as_bytes(),
        stored_sha256.as_bytes(),
    )
    .is_err()
    {
        return Err(TokenError::WrongSecret { id: record.id });
    }
    if let Some(used_at) = record.used_at {
        return Err(TokenError::Used {
            id: record.id,
            used_at,
            serial: record.used_serial,
        });
    }
    if record.expires_at <= now {
        return Err(TokenError::Expired {
            id: record.id,
            expired_at: record.expires_at,
        });
    }
    if let Some(found) = subject
        && found != record.subject
    {
        return Err(TokenError::SubjectMismatch {
            id: record.id,
            expected: record.subject,
            found: found.to_owned(),
        });
    }
    Ok(record)
}

impl Store {
    /// Records a new token (committed when this returns).
    pub async fn create_token(&self, new: &NewToken) -> Result<TokenRecord, StoreError> {
        on_backend!(self, store => store.create_token(new).await)
    }

    /// The token with this id, if recorded.
    pub async fn find_token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        on_backend!(self, store => store
                .find_token(id)
                .await
                .map(|found| found.map(|(record, _)| record)))
    }

    /// Whether `token` would be accepted at `now`, without spending it: its row, or why not
    /// (unknown, wrong secret, used, expired).
    pub async fn check_token(
        &self,
        token: &EnrollmentToken,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, TokenError> {
        let found = on_backend!(self, store => store.find_token(token.id()).await?);
        judge(found, token, None, now)
    }

    /// Spends `token` on a certificate for `subject`: marks it used at `now` and returns its
    /// row, in one statement that only matches an unused, unexpired token with this secret
    /// and subject — so of many calls at once exactly one succeeds, and a wrong secret or
    /// subject leaves the token as it was. A failure says why, with the evidence.
    ///
    /// Follow with [`Store::complete_token`] once the certificate is recorded, or
    /// [`Store::release_token`] if it could not be issued.
    pub async fn redeem_token(
        &self,
        token: &EnrollmentToken,
        subject: &str,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, TokenError> {
        on_backend!(self, store => store.redeem_token(token, subject, now).await)
    }

    /// Notes the certificate a redeemed token was spent on.
    pub async fn complete_token(&self, id: &str, serial: &str) -> Result<(), StoreError> {
        on_backend!(self, store => store.complete_token(id, serial).await)
    }

    /// Gives back a token whose redemption at `used_at` issued nothing (the issuance failed
    /// after the token was claimed), so its holder can try again.
    pub async fn release_token(&self, id: &str, used_at: OffsetDateTime) -> Result<(), StoreError> {
        on_backend!(self, store => store.release_token(id, used_at).await)
    }
}

fn rfc3339(time: &OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.to_string())
}

/// `90s`, `15m`, `1h`, `1h30m`, `30d`: a duration as people write it.
pub fn human(duration: Duration) -> String {
    let mut seconds = duration.whole_seconds();
    if seconds == 0 {
        return "0s".to_owned();
    }
    let mut text = String::new();
    if seconds < 0 {
        text.push('-');
        seconds = -seconds;
    }
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if seconds >= size {
            text.push_str(&format!("{}{unit}", seconds / size));
            seconds %= size;
        }
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Unpadded base64url (RFC 4648 §5): safe in URLs, file names and shell words.
fn base64url(bytes: &[u8]) -> Zeroizing<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = Zeroizing::new(String::with_capacity(bytes.len().div_ceil(3) * 4));
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            text.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()).as_str(), output);
        }
        assert_eq!(base64url(&[0xfb, 0xff]).as_str(), "-_8");
    }

    #[test]
    fn a_token_round_trips_through_its_text() {
        let token = EnrollmentToken::generate().unwrap();
        let text = token.expose();
        assert!(text.starts_with("mtk_"), "{}", text.as_str());
        assert_eq!(text.len(), 4 + 16 + 1 + 43);
        let parsed: EnrollmentToken = text.parse().unwrap();
        assert_eq!(parsed.id(), token.id());
        assert_eq!(parsed.secret_sha256(), token.secret_sha256());
        assert_eq!(parsed.secret_sha256().len(), 64);
        // Debug never shows the secret.
        let secret = &text[TOKEN_PREFIX.len() + ID_LEN + 1..];
        assert_eq!(secret.len(), SECRET_LEN);
        assert!(!format!("{parsed:?}").contains(&secret[..20]));
    }

    #[test]
    fn malformed_tokens_are_refused_without_quoting_them() {
        let good = EnrollmentToken::generate().unwrap().expose();
        let cases = [
            String::new(),
            good.replacen("mtk_", "mtx_", 1),
            good[..good.len() - 1].to_owned(),
            format!("{}A", good.as_str()),
            good.replacen("mtk_", "mtk_Z", 1),
            format!("{}!", &good[..good.len() - 1]),
            "mtk_0123456789abcdef".to_owned(),
        ];
        for case in cases {
            let error = case.parse::<EnrollmentToken>().unwrap_err();
            assert_eq!(error.code(), "token_malformed", "{case}");
            if case.len() > 10 {
                assert!(!error.to_string().contains(&case[4..]), "{error}");
            }
        }
    }

    #[test]
    fn grants_are_bounded() {
        let profiles = Profiles::default();
        let ok = TokenGrant::new(&profiles, "client", "device-123", Duration::hours(1)).unwrap();
        assert_eq!(ok.profile, ProfileKind::Client);
        let code = |profile: &str, subject: &str, ttl| {
            TokenGrant::new(&profiles, profile, subject, ttl)
                .unwrap_err()
                .code()
        };
        assert_eq!(code("bogus", "a", Duration::hours(1)), "unknown_profile");
        assert_eq!(
            code("ocsp-signer", "a", Duration::hours(1)),
            "profile_not_enrollable"
        );
        assert_eq!(
            code("server-client", "a", Duration::hours(1)),
            "profile_disabled"
        );
        assert_eq!(code("client", "", Duration::hours(1)), "invalid_subject");
        assert_eq!(code("client", " a", Duration::hours(1)), "invalid_subject");
        assert_eq!(
            code("client", &"x".repeat(65), Duration::hours(1)),
            "invalid_subject"
        );
        assert_eq!(
            code("client", "a\nb", Duration::hours(1)),
            "invalid_subject"
        );
        assert_eq!(
            code("client", "a", Duration::seconds(59)),
            "ttl_out_of_range"
        );
        assert_eq!(
            code("client", "a", Duration::days(30) + Duration::seconds(1)),
            "ttl_out_of_range"
        );
        TokenGrant::new(&profiles, "admin", "ops", Duration::days(30)).unwrap();
        TokenGrant::new(&profiles, "server", "host.example", Duration::minutes(1)).unwrap();
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::minutes(1)), "1m");
        assert_eq!(human(Duration::days(30)), "30d");
        assert_eq!(human(Duration::seconds(5430)), "1h30m30s");
        assert_eq!(human(Duration::seconds(-60)), "-1m");
    }

    /// 2026-01-01T00:00:00Z: times are passed in, never read from the clock.
    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
    }

    async fn store_with_token(
        subject: &str,
        ttl: Duration,
    ) -> (tempfile::TempDir, Store, EnrollmentToken, TokenRecord) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("store.sqlite"))
            .await
            .unwrap();
        let token = EnrollmentToken::generate().unwrap();
        let grant = TokenGrant::new(&Profiles::default(), "client", subject, ttl).unwrap();
        let record = store
            .create_token(&NewToken::new(&token, &grant, "local:test", now()))
            .await
            .unwrap();
        (dir, store, token, record)
    }

    /// The same id with another secret: what a guesser who saw the id in a log holds.
    fn with_wrong_secret(token: &EnrollmentToken) -> EnrollmentToken {
        let other = EnrollmentToken::generate().unwrap().expose();
        let secret = &other[TOKEN_PREFIX.len() + ID_LEN + 1..];
        format!("{TOKEN_PREFIX}{}_{secret}", token.id())
            .parse()
            .unwrap()
    }

    #[tokio::test]
    async fn a_token_is_recorded_without_its_secret_and_spent_once() {
        let (_dir, store, token, record) = store_with_token("device-123", Duration::hours(1)).await;
        assert_eq!(record.subject, "device-123");
        assert_eq!(record.expires_at, now() + Duration::hours(1));
        assert_eq!(
            (record.used_at, record.used_serial.as_deref()),
            (None, None)
        );
        let checked = store.check_token(&token, now()).await.unwrap();
        assert_eq!(checked, record);

        let later = now() + Duration::minutes(5);
        let spent = store
            .redeem_token(&token, "device-123", later)
            .await
            .unwrap();
        assert_eq!(spent.used_at, Some(later));
        store.complete_token(token.id(), "0A1B").await.unwrap();
        match store.redeem_token(&token, "device-123", later).await {
            Err(TokenError::Used {
                id,
                used_at,
                serial,
            }) => {
                assert_eq!((id.as_str(), used_at), (token.id(), later));
                assert_eq!(serial.as_deref(), Some("0A1B"));
            }
            other => panic!("{other:?}"),
        }
        let error = store.check_token(&token, later).await.unwrap_err();
        assert_eq!(error.code(), "token_used");
        assert!(
            error.to_string().contains("for certificate 0A1B"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_wrong_secret_or_subject_does_not_burn_the_token() {
        let (_dir, store, token, _) = store_with_token("device-123", Duration::hours(1)).await;
        let wrong = with_wrong_secret(&token);
        for _ in 0..3 {
            let error = store
                .redeem_token(&wrong, "device-123", now())
                .await
                .unwrap_err();
            assert!(matches!(error, TokenError::WrongSecret { .. }), "{error:?}");
        }
        match store.redeem_token(&token, "device-999", now()).await {
            Err(TokenError::SubjectMismatch {
                expected, found, ..
            }) => {
                assert_eq!(
                    (expected.as_str(), found.as_str()),
                    ("device-123", "device-999")
                );
            }
            other => panic!("{other:?}"),
        }
        let unknown = EnrollmentToken::generate().unwrap();
        let error = store
            .redeem_token(&unknown, "device-123", now())
            .await
            .unwrap_err();
        assert_eq!(error.code(), "token_unknown");
        // Still there for its holder.
        store
            .redeem_token(&token, "device-123", now())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_expired_token_says_when() {
        let (_dir, store, token, record) =
            store_with_token("device-123", Duration::minutes(1)).await;
        // Expiry is exclusive: at expires_at the token is already dead.
        match store
            .redeem_token(&token, "device-123", record.expires_at)
            .await
        {
            Err(TokenError::Expired { expired_at, .. }) => {
                assert_eq!(expired_at, record.expires_at)
            }
            other => panic!("{other:?}"),
        }
        let error = store
            .check_token(&token, record.expires_at)
            .await
            .unwrap_err();
        assert_eq!(error.code(), "token_expired");
        store
            .redeem_token(
                &token,
                "device-123",
                record.expires_at - Duration::seconds(1),
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn of_many_concurrent_redemptions_exactly_one_wins() {
        for _ in 0..5 {
            let (_dir, store, token, _) = store_with_token("device-123", Duration::hours(1)).await;
            let text = token.expose();
            let attempts: Vec<_> = (0..16)
                .map(|_| {
                    let store = store.clone();
                    let token: EnrollmentToken = text.parse().unwrap();
                    tokio::spawn(
                        async move { store.redeem_token(&token, "device-123", now()).await },
                    )
                })
                .collect();
            let mut won = 0;
            for attempt in attempts {
                match attempt.await.unwrap() {
                    Ok(_) => won += 1,
                    Err(TokenError::Used { .. }) => {}
                    Err(other) => panic!("{other:?}"),
                }
            }
            assert_eq!(won, 1);
        }
    }

    #[tokio::test]
    async fn a_released_token_can_be_redeemed_again_and_a_completed_one_cannot_be_released() {
        let (_dir, store, token, _) = store_with_token("device-123", Duration::hours(1)).await;
        let claimed = store
            .redeem_token(&token, "device-123", now())
            .await
            .unwrap();
        store
            .release_token(token.id(), claimed.used_at.unwrap())
            .await
            .unwrap();
        let claimed = store
            .redeem_token(&token, "device-123", now())
            .await
            .unwrap();
        store.complete_token(token.id(), "01").await.unwrap();
        store
            .release_token(token.id(), claimed.used_at.unwrap())
            .await
            .unwrap();
        let error = store
            .redeem_token(&token, "device-123", now())
            .await
            .unwrap_err();
        assert_eq!(error.code(), "token_used");
    }
}
