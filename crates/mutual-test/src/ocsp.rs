//! `openssl ocsp` as an OCSP responder for tests: started on a port, ready before it is
//! returned, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::Server;
use crate::tools::require_tool;

/// A running `openssl ocsp -index ... -port ...` responder; the process is killed on drop.
/// OpenSSL 3.0 binds the port on every interface; clients use `http://127.0.0.1:PORT`. It
/// answers one request at a time, and a connection closed without a request wedges it for
/// good (an OpenSSL 3.0 bug), so a client must not probe it with a bare TCP connect.
#[derive(Debug)]
pub struct OcspResponder {
    server: Server,
}

/// Options for [`OcspResponder`]; start it with [`OcspResponderBuilder::start`].
#[derive(Clone, Debug)]
pub struct OcspResponderBuilder {
    index: PathBuf,
    ca: PathBuf,
    signer: PathBuf,
    signer_key: PathBuf,
    port: Option<u16>,
    days: u32,
}

impl OcspResponder {
    /// A responder answering for the certificates `ca` issued, from the `openssl ca` database
    /// `index` (`V` good, `R` revoked, absent unknown), signing with `signer` and `signer_key`
    /// (the CA itself or a delegated responder certificate it issued).
    pub fn builder(
        index: impl Into<PathBuf>,
        ca: impl Into<PathBuf>,
        signer: impl Into<PathBuf>,
        signer_key: impl Into<PathBuf>,
    ) -> OcspResponderBuilder {
        OcspResponderBuilder {
            index: index.into(),
            ca: ca.into(),
            signer: signer.into(),
            signer_key: signer_key.into(),
            port: None,
            days: 7,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `http://127.0.0.1:PORT`, the URL to put in an AIA or give `openssl ocsp -url`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// What the responder has written to stdout and stderr so far.
    pub fn output(&self) -> String {
        self.server.output()
    }
}

impl OcspResponderBuilder {
    /// Listen on `port` (one a certificate's AIA already names) instead of a free one; a
    /// port taken by another process is then a panic, not a retry.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Responses say the next update is `days` from now (`-ndays`, 7 unless set).
    pub fn days(mut self, days: u32) -> Self {
        self.days = days;
        self
    }

    /// Starts the responder and waits until it listens; panics with its output if it exits
    /// or is not ready within 10 s. Clients must send a request on every connection they open
    /// (see `wait_until_ready`).
    pub fn start(&self) -> OcspResponder {
        let program = require_tool("openssl");
        // Readiness is read from its output, not probed: OpenSSL 3.0's responder spins
        // forever at full CPU, answering nobody, after a client connects and closes
        // without sending a request.
        let server = Server::start(
            self.port,
            |port| self.command(&program, port),
            |server| server.output().contains(READY),
        );
        OcspResponder { server }
    }

    /// The arguments of `openssl ocsp` (without the program name) on `port`.
    pub(crate) fn args(&self, port: u16) -> Vec<String> {
        vec![
            "ocsp".into(),
            "-index".into(),
            path_arg(&self.index),
            "-CA".into(),
            path_arg(&self.ca),
            "-rsigner".into(),
            path_arg(&self.signer),
            "-rkey".into(),
            path_arg(&self.signer_key),
            "-port".into(),
            port.to_string(),
            "-ndays".into(),
            self.days.to_string(),
            // Keep serving after a bad request.
            "-ignore_err".into(),
        ]
    }

    fn command(&self, program: &Path, port: u16) -> (Command, String) {
        let args = self.args(port);
        let shown = format!("openssl {}", args.join(" "));
        let mut command = Command::new(program);
        command.args(&args);
        (command, shown)
    }
}

fn path_arg(path: &Path) -> String {
    path.to_str()
        .unwrap_or_else(|| panic!("`{}` is not UTF-8", path.display()))
        .to_owned()
}

/// What `openssl ocsp` prints once its port is bound.
const READY: &str = "waiting for OCSP client connections";
