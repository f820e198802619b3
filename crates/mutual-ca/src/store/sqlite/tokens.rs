//! The enrollment tokens table in SQLite.

use time::OffsetDateTime;

use super::{SqliteStore, database};
use crate::profile::ProfileKind;
use crate::store::StoreError;
use crate::store::tokens::{EnrollmentToken, NewToken, TokenError, TokenRecord, judge};

/// Redemptions retried when the row changed between the guarded UPDATE and the read that
/// explains its failure (a claim given back in between): rare, and bounded.
const REDEEM_ATTEMPTS: u32 = 3;

macro_rules! token_columns {
    () => {
        "id, profile, subject, created_at, expires_at, created_by, used_at, used_serial, secret_sha256"
    };
}

#[derive(sqlx::FromRow)]
struct RawToken {
    id: String,
    profile: String,
    subject: String,
    created_at: i64,
    expires_at: i64,
    created_by: String,
    used_at: Option<i64>,
    used_serial: Option<String>,
    secret_sha256: String,
}

impl RawToken {
    /// The record, and the stored hash kept apart so it never leaves the store module.
    fn decode(self) -> Result<(TokenRecord, String), StoreError> {
        let corrupt = |column, found: String| StoreError::CorruptRow {
            id: 0,
            column,
            found,
        };
        let time = |column, seconds: i64| {
            OffsetDateTime::from_unix_timestamp(seconds)
                .map_err(|_| corrupt(column, seconds.to_string()))
        };
        let profile: ProfileKind = self
            .profile
            .parse()
            .map_err(|_| corrupt("enrollment_tokens.profile", self.profile.clone()))?;
        Ok((
            TokenRecord {
                profile,
                created_at: time("enrollment_tokens.created_at", self.created_at)?,
                expires_at: time("enrollment_tokens.expires_at", self.expires_at)?,
                used_at: self
                    .used_at
                    .map(|at| time("enrollment_tokens.used_at", at))
                    .transpose()?,
                id: self.id,
                subject: self.subject,
                created_by: self.created_by,
                used_serial: self.used_serial,
            },
            self.secret_sha256,
        ))
    }
}

impl SqliteStore {
    pub(in crate::store) async fn create_token(
        &self,
        new: &NewToken,
    ) -> Result<TokenRecord, StoreError> {
        let raw: RawToken = sqlx::query_as(concat!(
            "INSERT INTO enrollment_tokens (id, secret_sha256, profile, subject, created_at, \
             expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
            token_columns!()
        ))
        .bind(&new.id)
        .bind(&new.secret_sha256)
        .bind(new.profile.as_str())
        .bind(&new.subject)
        .bind(new.created_at.unix_timestamp())
        .bind(new.expires_at.unix_timestamp())
        .bind(&new.created_by)
        .fetch_one(&self.pool)
        .await
        .map_err(database("recording an enrollment token"))?;
        raw.decode().map(|(record, _)| record)
    }

    pub(in crate::store) async fn find_token(
        &self,
        id: &str,
    ) -> Result<Option<(TokenRecord, String)>, StoreError> {
        let raw: Option<RawToken> = sqlx::query_as(concat!(
            "SELECT ",
            token_columns!(),
            " FROM enrollment_tokens WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(database("looking an enrollment token up"))?;
        raw.map(RawToken::decode).transpose()
    }

    pub(in crate::store) async fn redeem_token(
        &self,
        token: &EnrollmentToken,
        subject: &str,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, TokenError> {
        let secret_sha256 = token.secret_sha256();
        for _ in 0..REDEEM_ATTEMPTS {
            // One statement: SQLite runs writes one at a time, so of racing redemptions the
            // first to run sets used_at and the others no longer match.
            let claimed: Option<RawToken> = sqlx::query_as(concat!(
                "UPDATE enrollment_tokens SET used_at = $1 \
                 WHERE id = $2 AND secret_sha256 = $3 AND subject = $4 \
                 AND used_at IS NULL AND expires_at > $1 RETURNING ",
                token_columns!()
            ))
            .bind(now.unix_timestamp())
            .bind(token.id())
            .bind(&secret_sha256)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(database("redeeming an enrollment token"))?;
            if let Some(raw) = claimed {
                return Ok(raw.decode()?.0);
            }
            // Nothing matched: read the row to say why.
            judge(
                self.find_token(token.id()).await?,
                token,
                Some(subject),
                now,
            )?;
        }
        Err(TokenError::Contended {
            id: token.id().to_owned(),
            attempts: REDEEM_ATTEMPTS,
        })
    }

    pub(in crate::store) async fn complete_token(
        &self,
        id: &str,
        serial: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE enrollment_tokens SET used_serial = $1 \
             WHERE id = $2 AND used_at IS NOT NULL AND used_serial IS NULL",
        )
        .bind(serial)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(database("noting the certificate a token was spent on"))?;
        Ok(())
    }

    pub(in crate::store) async fn release_token(
        &self,
        id: &str,
        used_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE enrollment_tokens SET used_at = NULL \
             WHERE id = $1 AND used_at = $2 AND used_serial IS NULL",
        )
        .bind(id)
        .bind(used_at.unix_timestamp())
        .execute(&self.pool)
        .await
        .map_err(database("giving an enrollment token back"))?;
        Ok(())
    }
}
