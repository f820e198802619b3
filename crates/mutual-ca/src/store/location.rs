//! Where the certificate store lives: a SQLite file on this machine, or a PostgreSQL
//! database shared by several CA nodes.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The certificate store's database, as named on the command line (`--database`), in
/// `mutual.toml` (`database = "..."`) or by default (the home's `mutual.sqlite`).
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file, created when missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:password@host:port/db?sslmode=...`);
    /// the database must exist, its tables are created on first open.
    Postgres(PostgresUrl),
}

/// A `postgres://` URL. Shown without its password wherever it is displayed or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl PostgresUrl {
    /// The URL as given, password included: for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
                None => self.0.clone(),
            },
            None => self.0.clone(),
        }
    }
}

/// A `--database` or `database =` value that names no database this build can use.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{input}` is not a database: expected postgres://USER@HOST:PORT/DB (or postgresql://), \
     sqlite://PATH, or the path of a SQLite file"
)]
pub struct DatabaseError {
    /// What was given, password redacted.
    pub input: String,
}

impl FromStr for Database {
    type Err = DatabaseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let refuse = |input: &str| DatabaseError {
            input: PostgresUrl(input.to_owned()).redacted(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(refuse(input));
        }
        if let Some(rest) = trimmed
            .strip_prefix("postgres://")
            .or_else(|| trimmed.strip_prefix("postgresql://"))
        {
            // A host (or a socket directory in the query) and no whitespace; the rest is
            // for the driver to judge when it connects.
            if rest.is_empty() || trimmed.contains(char::is_whitespace) {
                return Err(refuse(input));
            }
            return Ok(Database::Postgres(PostgresUrl(trimmed.to_owned())));
        }
        if let Some(path) = trimmed
            .strip_prefix("sqlite://")
            .or_else(|| trimmed.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(refuse(input));
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        // Another scheme is a mistake, not a file name.
        if trimmed.contains("://") {
            return Err(refuse(input));
        }
        Ok(Database::Sqlite(PathBuf::from(trimmed)))
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&url.redacted()),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Database::Postgres(url) => f.debug_tuple("Postgres").field(&url.redacted()).finish(),
        }
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart() {
        let parse = |s: &str| s.parse::<Database>();
        assert!(matches!(
            parse("postgres://ca@db.internal:5432/mutual"),
            Ok(Database::Postgres(_))
        ));
        assert!(matches!(
            parse("postgresql://ca@127.0.0.1/mutual?sslmode=require"),
            Ok(Database::Postgres(_))
        ));
        assert_eq!(
            parse("sqlite:///var/lib/mutual/mutual.sqlite").ok(),
            Some(Database::Sqlite("/var/lib/mutual/mutual.sqlite".into()))
        );
        assert_eq!(
            parse("data/mutual.sqlite").ok(),
            Some(Database::Sqlite("data/mutual.sqlite".into()))
        );
        for bad in ["", "  ", "mysql://root@db/mutual", "postgres://", "sqlite:"] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_password_is_never_shown() {
        let database: Database = "postgres://ca:s3cret@db.internal:5432/mutual?sslmode=require"
            .parse()
            .expect("url");
        for shown in [database.to_string(), format!("{database:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("ca:***@db.internal:5432/mutual"), "{shown}");
        }
        let error = "mysql://root:hunter2@db/x"
            .parse::<Database>()
            .expect_err("refused");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
