//! A database of its own per test on the throwaway PostgreSQL server `scripts/with-postgres`
//! (and so `scripts/test`) starts: created with `psql`, dropped when the test ends.

use std::io::Write;
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

impl TestDatabase {
    /// Takes `table`'s ACCESS EXCLUSIVE lock in a session of its own and holds it until the
    /// returned guard is dropped: every query on the table waits meanwhile, as behind a slow
    /// migration or a database failing over. Returns once the lock is granted.
    pub fn lock_table(&self, table: &str) -> TableLock {
        let mut session = Command::new(require_tool("psql"))
            .args([self.url.as_str(), "-v", "ON_ERROR_STOP=1", "-q"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
        let mut input = session.stdin.take().expect("psql's stdin is piped");
        writeln!(input, "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;")
            .unwrap_or_else(|e| panic!("cannot talk to psql: {e}"));
        input
            .flush()
            .unwrap_or_else(|e| panic!("cannot talk to psql: {e}"));
        let granted = format!(
            "SELECT count(*) FROM pg_locks WHERE relation = '{table}'::regclass \
             AND mode = 'AccessExclusiveLock' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while psql(&self.url, &granted).trim() != "1" {
            assert!(
                std::time::Instant::now() < deadline,
                "the lock on {table} was not granted within 30 s"
            );
            if let Ok(Some(status)) = session.try_wait() {
                panic!("psql holding the lock on {table} exited with {status}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        TableLock {
            session,
            input: Some(input),
        }
    }
}

/// A table lock held by [`TestDatabase::lock_table`]: committed, so released, on drop.
#[derive(Debug)]
pub struct TableLock {
    session: std::process::Child,
    input: Option<std::process::ChildStdin>,
}

impl Drop for TableLock {
    fn drop(&mut self) {
        if let Some(mut input) = self.input.take() {
            let _ = writeln!(input, "COMMIT;");
        }
        let _ = self.session.wait();
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

/// A PostgreSQL server of its own, for a test that stops and starts it (an outage): a new
/// cluster in a temporary directory, owned by `postgres` when the tests run as root (the
/// server refuses to run as root), on a free loopback port; stopped and deleted on drop.
#[derive(Debug)]
pub struct PostgresServer {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
}

impl PostgresServer {
    /// initdb and start; panics with the server's log when either fails.
    pub fn start() -> PostgresServer {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max()
            .unwrap_or_else(|| {
                panic!(
                    "PostgreSQL is not installed: apt-get install postgresql, or run scripts/test"
                )
            });
        let dir = tempfile::tempdir().expect("a temporary directory");
        let server = PostgresServer {
            dir,
            bin,
            port: crate::free_port(),
        };
        if is_root() {
            run(Command::new("chmod").arg("755").arg(server.dir.path()));
            run(Command::new("install")
                .args(["-d", "-o", "postgres", "-g", "postgres", "-m", "700"])
                .arg(server.data()));
        }
        let initdb = server.as_owner(&server.bin.join("initdb"));
        let mut initdb = initdb;
        initdb.arg("-D").arg(server.data()).args([
            "-U",
            "mutual",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]);
        run(&mut initdb);
        server.resume();
        server
    }

    /// `postgres://mutual@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://mutual@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: connections are cut, as in an outage).
    pub fn stop(&self) {
        let mut stop = self.as_owner(&self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "stop"]);
        run(&mut stop);
    }

    /// Starts it (again), on the same port, and waits until it accepts connections.
    pub fn resume(&self) {
        let mut start = self.as_owner(&self.bin.join("pg_ctl"));
        start
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.data().join("server.log"))
            .args(["-w", "-t", "30", "-o"])
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {}",
                self.port,
                self.data().display()
            ))
            .arg("start");
        let output = start.output().expect("running pg_ctl");
        assert!(
            output.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.data().join("server.log")).unwrap_or_default()
        );
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn as_owner(&self, program: &std::path::Path) -> Command {
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let mut stop = self.as_owner(&self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"]);
        let _ = stop.output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
