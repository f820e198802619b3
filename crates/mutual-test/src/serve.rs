//! A real `mutual serve` on two free loopback ports (HTTPS and plain HTTP), started by a
//! test, ready once it has printed its banner, and stopped when dropped; with `curl` and
//! `openssl` helpers that talk to it the way users do.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::time::Duration;

use crate::port::free_port;
use crate::process::Server;

/// A running `mutual serve`.
#[derive(Debug)]
pub struct MutualServe {
    server: Server,
    home: PathBuf,
    http_port: u16,
}

impl MutualServe {
    /// Starts `binary serve --home HOME` with `extra` arguments on free ports.
    pub fn start(binary: &Path, home: &Path, extra: &[&str]) -> MutualServe {
        Self::start_with_env(binary, home, extra, &[])
    }

    /// As [`MutualServe::start`], with environment variables set.
    pub fn start_with_env(
        binary: &Path,
        home: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> MutualServe {
        let http_port = std::cell::Cell::new(0);
        let server = Server::start(
            None,
            |port| {
                let http = free_port();
                http_port.set(http);
                let mut command = Command::new(binary);
                command
                    .arg("serve")
                    .arg("--home")
                    .arg(home)
                    .arg("--listen")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("--http-listen")
                    .arg(format!("127.0.0.1:{http}"))
                    .args(extra)
                    .env_remove("MUTUAL_PASSPHRASE")
                    .env("RUST_LOG", "mutual_server=debug,info");
                for (key, value) in env {
                    command.env(key, value);
                }
                let shown = format!(
                    "mutual serve --home {} --listen 127.0.0.1:{port} --http-listen 127.0.0.1:{http} {}",
                    home.display(),
                    extra.join(" ")
                );
                (command, shown)
            },
            |server| server.output().contains("Serving:"),
        );
        MutualServe {
            server,
            home: home.to_path_buf(),
            http_port: http_port.get(),
        }
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn https_port(&self) -> u16 {
        self.server.port()
    }

    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// `https://localhost:PORT` + `path`.
    pub fn https(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.https_port())
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    pub fn root_pem(&self) -> PathBuf {
        self.home.join("ca").join("root.pem")
    }

    pub fn ca_pem(&self, stem: &str) -> PathBuf {
        self.home.join("ca").join(format!("{stem}.pem"))
    }

    /// The first administrator's certificate chain and key (PEM).
    pub fn admin(&self) -> (PathBuf, PathBuf) {
        (self.home.join("admin.pem"), self.home.join("admin.key.pem"))
    }

    /// Everything the service printed so far (banner and log).
    pub fn output(&self) -> String {
        self.server.output()
    }

    /// `curl -s` against the service trusting its root, presenting `identity` (certificate
    /// and key) when given; returns (HTTP status, body).
    pub fn curl(&self, identity: Option<(&Path, &Path)>, args: &[&str]) -> (u16, String) {
        let mut command = Command::new("curl");
        command
            .args(["-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}"])
            .arg("--cacert")
            .arg(self.root_pem());
        if let Some((cert, key)) = identity {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        let output = command.args(args).output().expect("running curl");
        assert!(
            output.status.success(),
            "curl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        (status.trim().parse().unwrap_or(0), body.to_owned())
    }

    /// `curl` as the first administrator.
    pub fn curl_admin(&self, args: &[&str]) -> (u16, String) {
        let (cert, key) = self.admin();
        self.curl(Some((&cert, &key)), args)
    }

    /// `curl` as admin, POSTing `json` to `path`; (status, parsed body).
    pub fn post_admin(&self, path: &str, json: &serde_json::Value) -> (u16, serde_json::Value) {
        let body = json.to_string();
        let (status, text) = self.curl_admin(&[
            "-H",
            "content-type: application/json",
            "--data-binary",
            &body,
            &self.https(path),
        ]);
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {text}"));
        (status, value)
    }

    /// `openssl ocsp` asking the service about `cert` (issued by `issuer`), verifying the
    /// answer against the root.
    pub fn openssl_ocsp(&self, issuer: &Path, cert: &Path, extra: &[&str]) -> Output {
        self.openssl_ocsp_command(issuer, cert, extra)
            .output()
            .expect("running openssl ocsp")
    }

    /// The command [`MutualServe::openssl_ocsp`] runs, to start it and wait for it later.
    pub fn openssl_ocsp_command(&self, issuer: &Path, cert: &Path, extra: &[&str]) -> Command {
        let url = self.http("/ocsp");
        let mut args = vec![
            "ocsp".to_owned(),
            "-issuer".to_owned(),
            issuer.display().to_string(),
            "-cert".to_owned(),
            cert.display().to_string(),
            "-url".to_owned(),
            url,
            "-CAfile".to_owned(),
            self.root_pem().display().to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut command = Command::new("openssl");
        command.args(&args);
        command
    }

    /// SIGTERM, then wait for the exit (up to `within`).
    pub fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        self.server.terminate(within)
    }
}
