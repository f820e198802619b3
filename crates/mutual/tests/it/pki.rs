//! The CA most whole-command tests start from, made by the real binary.

use std::path::PathBuf;

use crate::{mutual, s};

/// A CA made by the real binary in a temporary directory (`home`, intermediates unencrypted,
/// passphrase in `pass.txt`), whose certificates are issued into the directory itself.
pub(crate) struct Pki {
    pub(crate) dir: tempfile::TempDir,
}

impl Pki {
    /// The CA and a server certificate for `localhost`.
    pub(crate) fn with_server() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        pki.init("home");
        pki.issue("home", &["server", "localhost"]);
        pki
    }

    /// [`Pki::with_server`] and two clients: alice (with a SPIFFE URI and an email) and bob.
    pub(crate) fn new() -> Pki {
        let pki = Pki::with_server();
        pki.issue(
            "home",
            &[
                "client",
                "alice",
                "--uri",
                "spiffe://acme.internal/user/alice",
                "--email",
                "alice@acme.example",
            ],
        );
        pki.issue("home", &["client", "bob"]);
        pki
    }

    pub(crate) fn init(&self, home: &str) {
        let pass = self.path("pass.txt");
        std::fs::write(&pass, "correct horse battery staple\n").unwrap();
        mutual()
            .args([
                "init",
                "--home",
                s(&self.path(home)),
                "--passphrase-file",
                s(&pass),
            ])
            .arg("--unencrypted-intermediate")
            .assert()
            .success();
    }

    pub(crate) fn issue(&self, home: &str, args: &[&str]) {
        mutual()
            .args(["issue"])
            .args(args)
            .args([
                "--home",
                s(&self.path(home)),
                "--out-dir",
                s(self.dir.path()),
            ])
            .assert()
            .success();
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.path("home")
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.path("home/ca/root.pem")
    }

    pub(crate) fn client_ca(&self) -> PathBuf {
        self.path("home/ca/client-ca.pem")
    }
}
