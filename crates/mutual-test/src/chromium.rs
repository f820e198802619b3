//! A real browser presenting a client certificate: headless Chromium with its own `HOME`
//! (whose NSS database, `$HOME/.pki/nssdb`, is where Chromium on Linux keeps trust anchors
//! and client identities), the identity chosen by the `AutoSelectCertificateForUrls` policy
//! instead of a prompt. The recipe is in `notes/browser-mtls.md` of the team's notes.
//!
//! Chromium reads policies only from `/etc/chromium/policies/managed/`, shared by every
//! process on the machine: [`AutoSelectPolicy`] holds a process-wide lock for as long as its
//! file exists, so two tests never see each other's policy, and removes the file when
//! dropped, panics included.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::tools::require_tool;

/// Where Debian's Chromium reads mandatory policies.
const POLICY_DIR: &str = "/etc/chromium/policies/managed";

/// A page load may be slow on a loaded machine (Chromium starts several processes); a
/// browser that hangs is killed after this. (Without a policy that picks a certificate,
/// headless Chromium waits for a choice no one can make: that is a hang.)
const PAGE_LOAD: Duration = Duration::from_secs(120);

/// A browser profile: a temporary `HOME` with an NSS database, and a user-data directory.
#[derive(Debug)]
pub struct Browser {
    pub(crate) home: tempfile::TempDir,
}

/// What `chromium --dump-dom` printed: the page's DOM after load (empty when the load
/// failed) and its diagnostics.
#[derive(Debug)]
pub struct DumpedPage {
    pub dom: String,
    pub stderr: String,
    pub status: ExitStatus,
}

impl DumpedPage {
    /// The network error that stopped the page from loading (`net::ERR_...`), as headless
    /// Chromium reports it on stderr; it dumps an empty DOM then.
    pub fn load_error(&self) -> Option<&str> {
        let (_, rest) = self.stderr.split_once("Page load failed: ")?;
        rest.split_whitespace().next()
    }
}

impl Browser {
    /// A profile whose NSS database trusts `root` to identify servers.
    pub fn trusting(root: &Path) -> Browser {
        require_tool("chromium");
        let home = tempfile::tempdir().expect("creating the browser's HOME");
        let browser = Browser { home };
        fs::create_dir_all(browser.nss_dir()).expect("creating the NSS database directory");
        browser.nss("certutil", &["-N", "--empty-password"]);
        browser.nss(
            "certutil",
            &[
                "-A",
                "-n",
                "mutual-test-root",
                "-t",
                "C,,",
                "-i",
                root.to_str().expect("a UTF-8 path"),
            ],
        );
        browser
    }

    /// Imports a client identity (key, certificate and chain) from a PKCS#12 file.
    pub fn import_p12(&self, p12: &Path, password: &str) {
        self.nss(
            "pk12util",
            &["-i", p12.to_str().expect("a UTF-8 path"), "-W", password],
        );
    }

    /// The nicknames of the certificates in the NSS database, as `certutil -L` lists them.
    pub fn certificates(&self) -> String {
        self.nss("certutil", &["-L"])
    }

    /// `chromium --headless --dump-dom URL`, with `host` resolved to 127.0.0.1.
    pub fn dump_dom(&self, host: &str, url: &str) -> DumpedPage {
        let chromium = require_tool("chromium");
        let data = self.home.path().join("user-data");
        let (stdout_path, stderr_path) = (
            self.home.path().join("chromium.out"),
            self.home.path().join("chromium.err"),
        );
        let stdout = fs::File::create(&stdout_path).expect("creating chromium's output file");
        let stderr = fs::File::create(&stderr_path).expect("creating chromium's error file");
        let mut command = Command::new(chromium);
        command
            .env("HOME", self.home.path())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", data.display()))
            .arg(format!("--host-resolver-rules=MAP {host} 127.0.0.1"))
            .arg("--dump-dom")
            .arg(url)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        // Its own process group, so that a hung browser is killed with its helpers.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().expect("starting chromium");
        let deadline = Instant::now() + PAGE_LOAD;
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting for chromium") {
                break status;
            }
            if Instant::now() >= deadline {
                // `--` so that `-PGID` names the group rather than a signal.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                panic!(
                    "chromium did not finish loading {url} within {PAGE_LOAD:?}; it said:\n{}",
                    fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(50));
        };
        DumpedPage {
            dom: fs::read_to_string(&stdout_path).unwrap_or_default(),
            stderr: fs::read_to_string(&stderr_path).unwrap_or_default(),
            status,
        }
    }

    fn nss_dir(&self) -> PathBuf {
        self.home.path().join(".pki/nssdb")
    }

    /// Runs an NSS tool on this profile's database; its stdout, or a panic with everything.
    fn nss(&self, tool: &str, args: &[&str]) -> String {
        let program = require_tool(tool);
        let database = format!("sql:{}", self.nss_dir().display());
        let output = Command::new(&program)
            .arg("-d")
            .arg(&database)
            .args(args)
            .output()
            .unwrap_or_else(|error| panic!("starting `{tool}`: {error}"));
        assert!(
            output.status.success(),
            "`{tool} -d {database} {}` failed with {}\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// Held while a policy file exists: Chromium merges no lists across files, and a test
/// must not load pages under another test's policy.
static POLICY: Mutex<()> = Mutex::new(());

/// Chromium's `AutoSelectCertificateForUrls` policy in a file of its own under
/// `/etc/chromium/policies/managed/`, removed (and the lock released) when dropped.
#[derive(Debug)]
pub struct AutoSelectPolicy {
    path: PathBuf,
    /// The directories this policy created, deepest first, removed with it when empty.
    created: Vec<PathBuf>,
    _exclusive: MutexGuard<'static, ()>,
}

impl AutoSelectPolicy {
    /// Chromium presents, without asking, a certificate whose issuer's CN is `issuer_cn`
    /// to the sites that match `pattern` (e.g. `https://www.example.test:8443`). Needs
    /// root, as writing under `/etc` does.
    pub fn install(pattern: &str, issuer_cn: &str) -> AutoSelectPolicy {
        // A test that panicked while holding the lock has already removed its file.
        let exclusive = POLICY.lock().unwrap_or_else(PoisonError::into_inner);
        let mut created = Vec::new();
        let mut dir = Some(Path::new(POLICY_DIR));
        while let Some(d) = dir.filter(|d| !d.exists()) {
            created.push(d.to_path_buf());
            dir = d.parent();
        }
        fs::create_dir_all(POLICY_DIR).unwrap_or_else(|error| {
            panic!("creating {POLICY_DIR} (Chromium's policies; needs root): {error}")
        });
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = Path::new(POLICY_DIR).join(format!(
            "mutual-test-{}-{}.json",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let rule = serde_json::json!({
            "pattern": pattern,
            "filter": {"ISSUER": {"CN": issuer_cn}},
        });
        let policy = serde_json::json!({ "AutoSelectCertificateForUrls": [rule.to_string()] });
        // Owned before it is written: a failed write still gets the file removed.
        let installed = AutoSelectPolicy {
            path,
            created,
            _exclusive: exclusive,
        };
        fs::write(&installed.path, policy.to_string()).unwrap_or_else(|error| {
            panic!(
                "writing {} (Chromium's policies; needs root): {error}",
                installed.path.display()
            )
        });
        installed
    }
}

impl Drop for AutoSelectPolicy {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        for dir in &self.created {
            // Only when empty: another process may have put its own policy there.
            let _ = fs::remove_dir(dir);
        }
    }
}
