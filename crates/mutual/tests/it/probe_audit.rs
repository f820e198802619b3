//! `mutual probe audit` against servers started by each test: `mutual gateway` with the
//! client CA's CRL, NGINX with and without `ssl_crl`; and the inputs it must refuse.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use mutual_test::{MutualGateway, SServer, Upstream};
use serde_json::Value;

use crate::pki::Pki;
use crate::{mutual, s};

const PASSPHRASE: &str = "correct horse battery staple\n";

/// The shared CA with a server certificate for `localhost`, and the CRLs of every CA
/// written to `home/crl`.
fn audit_pki() -> Pki {
    let pki = Pki::with_server();
    mutual()
        .args(["crl", "--home", s(&pki.home()), "--passphrase-file"])
        .arg(pki.path("pass.txt"))
        .assert()
        .success();
    pki
}

impl Pki {
    fn crl(&self, authority: &str) -> PathBuf {
        self.home().join(format!("crl/{authority}.crl.pem"))
    }

    /// The root's and the client CA's CRLs in one file, as NGINX's ssl_crl wants them.
    fn combined_crl(&self) -> PathBuf {
        self.path("client-chain.crl.pem")
    }

    fn combine_crls_command(&self) -> String {
        format!(
            "cat {} {} > {}",
            s(&self.crl("root")),
            s(&self.crl("client-ca")),
            s(&self.combined_crl())
        )
    }

    /// Runs the audit with `--format json`: (exit code, report, stderr).
    fn audit(&self, port: u16, reload: Option<&str>) -> (i32, Value, String) {
        let mut command = mutual();
        command
            .args(["probe", "audit", &format!("localhost:{port}")])
            .args(["--home", s(&self.home()), "--format", "json"])
            .timeout(Duration::from_secs(120));
        if let Some(reload) = reload {
            command.args(["--reload", reload]);
        }
        let output = command.output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn nginx(&self, with_crl: bool) -> mutual_test::Nginx {
        std::process::Command::new("sh")
            .args(["-c", &self.combine_crls_command()])
            .status()
            .unwrap();
        let chain = self.path("localhost.chain.pem");
        let key = self.path("localhost.key.pem");
        let root = self.home().join("ca/root.pem");
        let crl = if with_crl {
            format!("    ssl_crl {};\n", s(&self.combined_crl()))
        } else {
            String::new()
        };
        mutual_test::Nginx::start(move |port| {
            format!(
                "server {{
    listen 127.0.0.1:{port} ssl;
    server_name localhost;
    ssl_certificate {};
    ssl_certificate_key {};
    ssl_client_certificate {};
    ssl_verify_client on;
    ssl_verify_depth 2;
{crl}    location / {{ return 200 \"ok\\n\"; }}
}}
",
                s(&chain),
                s(&key),
                s(&root)
            )
        })
    }
}

/// case → verdict, from the JSON report.
fn verdicts(report: &Value) -> BTreeMap<String, String> {
    report["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {report:#}"))
        .iter()
        .map(|r| {
            (
                r["case"].as_str().unwrap().to_owned(),
                r["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn all_pass_except(failing: &[&str]) -> BTreeMap<String, String> {
    [
        "good_control",
        "server_auth_only",
        "expired",
        "not_yet_valid",
        "revoked",
        "self_signed",
        "unrelated_ca",
        "ca_as_client",
        "no_intermediate",
        "wrong_key",
    ]
    .into_iter()
    .map(|case| {
        let verdict = if failing.contains(&case) {
            "fail"
        } else {
            "pass"
        };
        (case.to_owned(), verdict.to_owned())
    })
    .collect()
}

#[test]
fn gateway_with_the_crl_refuses_every_broken_certificate() {
    let pki = audit_pki();
    let upstream = Upstream::start();
    let gateway = MutualGateway::start(
        &assert_cmd::cargo::cargo_bin("mutual"),
        &[
            "--cert",
            s(&pki.path("localhost.chain.pem")),
            "--key",
            s(&pki.path("localhost.key.pem")),
            "--client-ca",
            s(&pki.home().join("ca/root.pem")),
            "--crl",
            s(&pki.crl("root")),
            "--crl",
            s(&pki.crl("client-ca")),
            "--upstream",
            &upstream.url(),
        ],
    );
    let reload = format!("kill -HUP {} && sleep 1", gateway.pid());
    let (code, report, stderr) = pki.audit(gateway.port(), Some(&reload));
    assert_eq!(
        verdicts(&report),
        all_pass_except(&[]),
        "{report:#}\n{stderr}\n{}",
        gateway.output()
    );
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["schema"], "mutual.probe-audit/v1");
    assert_eq!(report["passed"], true);
    let notes = report["notes"].to_string();
    assert!(notes.contains(s(&pki.crl("client-ca"))), "{notes}");
    assert!(notes.contains("revoked at the end"), "{notes}");
    // Every test certificate the CA signed is in the store, marked, and none is still valid.
    let list = |status: Option<&str>| {
        let mut command = mutual();
        command.args(["list", "--home", s(&pki.home()), "--format", "json"]);
        command.args(["--profile", "mutual-probe-audit"]);
        if let Some(status) = status {
            command.args(["--status", status]);
        }
        let output = command.output().unwrap();
        String::from_utf8_lossy(&output.stdout)
            .matches("OU=mutual-probe-audit")
            .count()
    };
    assert_eq!(list(None), 8);
    assert_eq!(list(Some("valid")), 0);
}

#[test]
fn nginx_with_ssl_crl_refuses_every_broken_certificate() {
    let pki = audit_pki();
    let nginx = pki.nginx(true);
    let reload = format!(
        "{} && {}",
        pki.combine_crls_command(),
        nginx.reload_command()
    );
    let (code, report, stderr) = pki.audit(nginx.port(), Some(&reload));
    assert_eq!(
        verdicts(&report),
        all_pass_except(&[]),
        "{report:#}\n{stderr}\n{}",
        nginx.log()
    );
    assert_eq!(code, 0);
}

#[test]
fn nginx_without_ssl_crl_accepts_the_revoked_certificate() {
    let pki = audit_pki();
    let nginx = pki.nginx(false);
    let (code, report, stderr) = pki.audit(nginx.port(), None);
    assert_eq!(
        verdicts(&report),
        all_pass_except(&["revoked"]),
        "{report:#}\n{stderr}\n{}",
        nginx.log()
    );
    assert_eq!(code, 1);
    let revoked = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == "revoked")
        .unwrap();
    assert_eq!(revoked["server"]["outcome"], "accepted");
    assert_eq!(revoked["server"]["evidence"], "HTTP 200");
    assert!(
        revoked["fix"].as_str().unwrap().contains("ssl_crl"),
        "{revoked:#}"
    );

    // The text table says the same.
    let output = mutual()
        .args(["probe", "audit", &format!("localhost:{}", nginx.port())])
        .args(["--home", s(&pki.home())])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("revoked "))
        .unwrap();
    assert!(row.contains("HTTP 200") && row.ends_with("FAIL"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("verdict: failed (1 of 9 broken certificates accepted)"),
        "{text}"
    );
}

/// Runs the audit expecting exit 2 and one line on stderr containing `expected`.
fn refused(args: &[&str], expected: &str) {
    let output = mutual()
        .args(["probe", "audit"])
        .args(args)
        .env_remove("MUTUAL_PASSPHRASE")
        .env_remove("MUTUAL_HOME")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "{expected} not in {stderr}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    refused(&["localhost:1", "--home", s(&missing)], "no CA in");
    refused(
        &[
            "localhost:1",
            "--home",
            s(&missing),
            "--client-ca-name",
            "intermediate",
        ],
        "--client-ca-name `intermediate`: expected one of client, server",
    );

    // An encrypted client CA and the wrong passphrase.
    std::fs::write(dir.path().join("pass.txt"), PASSPHRASE).unwrap();
    std::fs::write(dir.path().join("wrong.txt"), "not it\n").unwrap();
    let home = dir.path().join("home");
    mutual()
        .args(["init", "--home", s(&home), "--passphrase-file"])
        .arg(dir.path().join("pass.txt"))
        .assert()
        .success();
    refused(
        &[
            "localhost:1",
            "--home",
            s(&home),
            "--passphrase-file",
            s(&dir.path().join("wrong.txt")),
        ],
        "passphrase",
    );

    // A port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    refused(
        &[
            &format!("127.0.0.1:{port}"),
            "--home",
            s(&home),
            "--passphrase-file",
            s(&dir.path().join("pass.txt")),
        ],
        "could not connect",
    );
}

#[test]
fn a_ca_held_as_files_without_a_crl_leaves_revoked_untested() {
    let pki = audit_pki();
    let nginx = pki.nginx(false);
    let output = mutual()
        .args(["probe", "audit", &format!("localhost:{}", nginx.port())])
        .args(["--issuer-cert", s(&pki.home().join("ca/client-ca.pem"))])
        .args(["--issuer-key", s(&pki.home().join("ca/client-ca.key.pem"))])
        .args(["--format", "json"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut expected = all_pass_except(&[]);
    expected.insert("revoked".to_owned(), "not_tested".to_owned());
    assert_eq!(verdicts(&report), expected, "{report:#}\n{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        report["notes"].to_string().contains("were not revoked"),
        "{report:#}"
    );
}

/// `openssl s_server` that trusts only the server CA for clients (`-partial_chain`, so the
/// intermediate alone is an anchor; `-purpose any`, since the server CA's own EKU is
/// serverAuth only): the control passes only when the audit signs with
/// `--client-ca-name server`, and the report warns about that EKU.
#[test]
fn client_ca_name_chooses_the_issuing_ca() {
    let pki = audit_pki();
    let server_ca = pki.home().join("ca/server-ca.pem");
    let server = SServer::builder(pki.path("localhost.pem"), pki.path("localhost.key.pem"))
        .cert_chain(&server_ca)
        .require_client_certificate(2, &server_ca)
        .arg("-partial_chain")
        .arg("-purpose")
        .arg("any")
        .start();
    let audit = |name: Option<&str>| {
        let mut command = mutual();
        command
            .args(["probe", "audit", &format!("localhost:{}", server.port())])
            .args(["--home", s(&pki.home()), "--format", "json"])
            .timeout(Duration::from_secs(120));
        if let Some(name) = name {
            command.args(["--client-ca-name", name]);
        }
        let output = command.output().unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let notes = report["notes"].to_string();
        (
            verdicts(&report),
            notes,
            format!("{report:#}\n{stderr}\n{}", server.output()),
        )
    };
    let (with_server_ca, notes, context) = audit(Some("server"));
    assert_eq!(with_server_ca["good_control"], "pass", "{context}");
    assert_eq!(with_server_ca["unrelated_ca"], "pass", "{context}");
    assert!(
        notes.contains("The signing CA CN=Mutual Server CA,O=Mutual allows only serverAuth (EKU)"),
        "{notes}"
    );
    let (with_client_ca, notes, context) = audit(None);
    assert_eq!(with_client_ca["good_control"], "fail", "{context}");
    assert!(!notes.contains("allows only"), "{notes}");
    let (explicit, _, context) = audit(Some("client"));
    assert_eq!(explicit["good_control"], "fail", "{context}");
}

/// `mutual serve` on the home (its OCSP responder reads the same store, and the home's
/// `mutual.toml` makes the test certificates name it) in front of `mutual gateway` with OCSP
/// checking and no CRL: the audit waits until the responder says `revoked`, and the gateway
/// refuses that case; a gateway that checks no revocation accepts it.
#[test]
fn gateway_checking_ocsp_refuses_the_revoked_certificate_once_published() {
    let dir = tempfile::tempdir().unwrap();
    let service = crate::start_serve(dir.path());
    let home = service.home().to_path_buf();
    mutual()
        .args(["issue", "server", "localhost", "--home", s(&home)])
        .args(["--out-dir", s(dir.path())])
        .assert()
        .success();
    let upstream = Upstream::start();
    let gateway = |ocsp: &str| {
        MutualGateway::start(
            &assert_cmd::cargo::cargo_bin("mutual"),
            &[
                "--cert",
                s(&dir.path().join("localhost.chain.pem")),
                "--key",
                s(&dir.path().join("localhost.key.pem")),
                "--client-ca",
                s(&home.join("ca/root.pem")),
                "--ocsp",
                ocsp,
                "--upstream",
                &upstream.url(),
            ],
        )
    };
    let audit = |port: u16| {
        let output = mutual()
            .args(["probe", "audit", &format!("localhost:{port}")])
            .args(["--home", s(&home), "--format", "json"])
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            serde_json::from_slice::<Value>(&output.stdout).unwrap_or(Value::Null),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    let checking = gateway("hard");
    let (code, report, stderr) = audit(checking.port());
    assert_eq!(
        verdicts(&report),
        all_pass_except(&[]),
        "{report:#}\n{stderr}\n{}",
        checking.output()
    );
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(&format!(
            "The OCSP responder {} answered `revoked` for the revoked test certificate",
            service.http("/ocsp")
        )),
        "{notes}"
    );
    let revoked = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == "revoked")
        .unwrap();
    assert_eq!(
        revoked["server"]["evidence"], "alert certificate_revoked",
        "{revoked:#}"
    );

    let blind = gateway("off");
    let (code, report, stderr) = audit(blind.port());
    assert_eq!(
        verdicts(&report),
        all_pass_except(&["revoked"]),
        "{report:#}\n{stderr}\n{}",
        blind.output()
    );
    assert_eq!(code, 1, "{report:#}\n{stderr}");
}

/// `--database` (here another SQLite file) is where the test certificates are recorded and
/// revoked, as for every command of the home; the home's own file is left alone.
#[test]
fn the_test_certificates_go_to_the_database_given() {
    let pki = audit_pki();
    let nginx = pki.nginx(true);
    let other = pki.path("other.sqlite");
    let output = mutual()
        .args(["probe", "audit", &format!("localhost:{}", nginx.port())])
        .args(["--home", s(&pki.home()), "--database", s(&other)])
        .args(["--format", "json"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(other.exists(), "{stderr}");
    let marked = |database: Option<&PathBuf>| {
        let mut command = mutual();
        command.args(["list", "--home", s(&pki.home()), "--format", "json"]);
        command.args(["--profile", "mutual-probe-audit"]);
        if let Some(database) = database {
            command.args(["--database", s(database)]);
        }
        let output = command.output().unwrap();
        String::from_utf8_lossy(&output.stdout)
            .matches("OU=mutual-probe-audit")
            .count()
    };
    assert_eq!(marked(Some(&other)), 8, "{stderr}");
    assert_eq!(marked(None), 0, "{stderr}");
}
