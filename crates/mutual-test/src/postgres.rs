//! A database of its own per test on the throwaway PostgreSQL server `scripts/with-postgres`
//! (and so `scripts/test`) starts: created with `psql`, dropped when the test ends.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::tools::require_tool;

/// The variable that names the test server: a URL to its maintenance database with a user
/// allowed to create databases, e.g. `postgres://mutual@127.0.0.1:54321/postgres`.
const SERVER_VARIABLE: &str = "MUTUAL_TEST_POSTGRES";

/// A fresh, empty database; dropped (connections and all) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// Creates a database with a name no other test uses. Panics, saying how to get one,
    /// when no test server is configured: PostgreSQL tests never skip.
    pub fn create() -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let admin_url = std::env::var(SERVER_VARIABLE).unwrap_or_else(|_| {
            panic!(
                "${SERVER_VARIABLE} is not set: the PostgreSQL tests need a server. Run them \
                 through scripts/test, or `scripts/with-postgres cargo test ...`, which starts \
                 a throwaway one"
            )
        });
        let name = format!(
            "mutual_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let (base, _) = admin_url
            .rsplit_once('/')
            .unwrap_or_else(|| panic!("${SERVER_VARIABLE} `{admin_url}` has no /DATABASE"));
        TestDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        }
    }

    /// Its `postgres://` URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` in this database as the test server's user (to arrange a state the
    /// program under test would not make: a newer schema, a refusing trigger...).
    pub fn execute(&self, sql: &str) -> String {
        psql(&self.url, sql)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort: the server is thrown away after the run anyway.
        let _ = Command::new("psql")
            .args([
                self.admin_url.as_str(),
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

/// Runs `sql` with `psql` against `url`; panics with its stderr when it fails.
fn psql(url: &str, sql: &str) -> String {
    let psql = require_tool("psql");
    let output = Command::new(psql)
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-At", "-c", sql])
        .output()
        .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
    assert!(
        output.status.success(),
        "psql `{sql}` against {url} failed with {}:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
