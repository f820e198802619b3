//! Several `mutual serve` nodes on one PostgreSQL database (the throwaway server
//! scripts/with-postgres starts), and `mutual db`: the real binary, checked with curl,
//! `openssl ocsp` and `psql`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use mutual_test::{MutualServe, TestDatabase, openssl};
use serde_json::{Value, json};

use crate::{mutual, s};

/// A `POST /api/v1/sign` body for the client profile: a CSR for `CN=cn` from `openssl
/// req` (P-256), its key left in `dir`.
fn client_sign_request(dir: &Path, cn: &str) -> Value {
    let key = dir.join(format!("{cn}.key"));
    let csr = dir.join(format!("{cn}.csr"));
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        &format!("/CN={cn}"),
        "-keyout",
        s(&key),
        "-out",
        s(&csr),
    ]);
    json!({ "csr": std::fs::read_to_string(&csr).unwrap(), "profile": "client" })
}

fn node(home: &Path, database: &TestDatabase) -> MutualServe {
    MutualServe::start(
        &assert_cmd::cargo::cargo_bin("mutual"),
        home,
        &["--database", database.url()],
    )
}

/// Two nodes, one database, leaderless: certificates signed at once on both are each
/// recorded once, with their audit rows; a revocation on one node is answered `revoked` by
/// the other's OCSP responder within its cache bound.
#[test]
fn two_nodes_on_one_postgres_issue_concurrently_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create();
    let home = dir.path().join("home");
    let first = node(&home, &database);
    // The second node reads the CA the first created (shared files, as each node needs
    // the issuing keys) and the same database.
    let second = node(&home, &database);

    let request = client_sign_request(dir.path(), "load-client");

    const CLIENTS: usize = 8;
    const EACH: usize = 60;
    let returned: Vec<(usize, Value)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let nodes = [&first, &second];
                let request = &request;
                scope.spawn(move || {
                    (0..EACH)
                        .map(|i| {
                            let which = (client + i) % 2;
                            let (status, body) = nodes[which].post_admin("/api/v1/sign", request);
                            assert_eq!(status, 201, "node {which}: {body:#}");
                            (which, body)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });
    assert_eq!(returned.len(), CLIENTS * EACH);
    let per_node = returned.iter().filter(|(which, _)| *which == 1).count();
    assert_eq!(per_node, CLIENTS * EACH / 2, "both nodes took their share");

    // Every certificate a client received is in the store once, audited once.
    let mut serials: BTreeMap<String, usize> = BTreeMap::new();
    for (_, body) in &returned {
        let serial = body["certificate"]["serial"]
            .as_str()
            .or_else(|| body["serial"].as_str())
            .unwrap_or_else(|| panic!("no serial in {body:#}"))
            .to_owned();
        *serials.entry(serial).or_default() += 1;
    }
    assert_eq!(serials.len(), CLIENTS * EACH, "a serial was returned twice");
    let stored = database.execute(
        "SELECT serial FROM certificates WHERE subject = 'CN=load-client' ORDER BY serial",
    );
    let stored: Vec<&str> = stored.lines().collect();
    let returned_serials: Vec<&str> = serials.keys().map(String::as_str).collect();
    assert_eq!(stored, returned_serials);
    let audited = database.execute(
        "SELECT serial FROM audit WHERE action = 'sign' AND subject = 'CN=load-client' \
         ORDER BY serial",
    );
    assert_eq!(audited.lines().collect::<Vec<_>>(), returned_serials);

    // Revoked through the first node, answered by the second's OCSP responder.
    let chain = dir.path().join("revoked.pem");
    let serial = returned_serials[0];
    let leaf_of = |serial: &str| {
        returned
            .iter()
            .find(|(_, b)| {
                b["certificate"]["serial"].as_str().or(b["serial"].as_str()) == Some(serial)
            })
            .map(|(_, b)| b["chain"].as_str().unwrap().to_owned())
            .unwrap()
    };
    std::fs::write(&chain, leaf_of(serial)).unwrap();
    let client_ca = second.ca_pem("client-ca");
    let asked = |service: &MutualServe| {
        String::from_utf8_lossy(&service.openssl_ocsp(&client_ca, &chain, &[]).stdout).into_owned()
    };
    assert!(asked(&second).contains(": good"), "{}", asked(&second));
    let (status, revoked) = first.post_admin(
        "/api/v1/revoke",
        &json!({ "certificate": serial, "reason": "keyCompromise" }),
    );
    assert_eq!(status, 200, "{revoked:#}");
    let started = Instant::now();
    loop {
        let answer = asked(&second);
        if answer.contains(": revoked") {
            assert!(answer.contains("Reason: keyCompromise"), "{answer}");
            break;
        }
        // The responder looks at the store's revocation count every second; five allow
        // for a loaded machine.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "node 2 still answers {answer} {:?} after node 1 revoked",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn db_status_and_migrate_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create();
    let home = dir.path().to_str().unwrap();
    let status = mutual()
        .args(["db", "status", "--home", home, "--database", database.url()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(1), "{text}");
    assert!(text.contains("pending   0001 certificates"), "{text}");

    let migrate = mutual()
        .args(["db", "migrate", "--home", home])
        .env("MUTUAL_DATABASE", database.url())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&migrate.stdout);
    assert!(migrate.status.success(), "{text}");
    assert!(
        text.contains("0008 audit certificate") && text.contains("up to date"),
        "{text}"
    );
    assert_eq!(
        database.execute("SELECT COUNT(*) FROM _sqlx_migrations WHERE success"),
        "8\n"
    );

    let status = mutual()
        .args(["db", "status", "--home", home, "--format", "json"])
        .env("MUTUAL_DATABASE", database.url())
        .output()
        .unwrap();
    assert!(status.status.success());
    let json: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["backend"], "postgres");
    assert_eq!(json["applied"].as_array().unwrap().len(), 8);
    assert_eq!(json["pending"].as_array().unwrap().len(), 0);

    // A schema from a newer build: said, exit 1; and opening the store is refused.
    database.execute(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99, 'from the future', true, '\\x00', 0)",
    );
    let status = mutual()
        .args(["db", "status", "--home", home, "--database", database.url()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(1), "{text}");
    assert!(text.contains("unknown   0099"), "{text}");
    let list = mutual()
        .args(["list", "--home", home, "--database", database.url()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&list.stderr);
    assert_eq!(list.status.code(), Some(2), "{stderr}");
}

/// An unreachable server, a missing database, a bad URL: one line each, exit 2, no hang.
#[test]
fn an_unusable_database_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    let closed = format!(
        "postgres://mutual:hunter2@127.0.0.1:{}/x",
        mutual_test::free_port()
    );
    let server = std::env::var("MUTUAL_TEST_POSTGRES").unwrap_or_default();
    let missing = format!(
        "{}/no_such_database",
        server.rsplit_once('/').map_or("", |(base, _)| base)
    );
    for (url, expected) in [
        (closed.as_str(), "Connection refused"),
        (missing.as_str(), "does not exist"),
        ("mysql://root@db/x", "is not a database"),
    ] {
        let started = Instant::now();
        let output = mutual()
            .args(["db", "status", "--home", home, "--database", url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.contains(expected), "{url}: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "the password was shown: {stderr}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{url}: took {:?}",
            started.elapsed()
        );
    }
}

/// The path a CA takes when it outgrows one machine: `mutual backup` of a SQLite home,
/// `mutual restore` into a new home on PostgreSQL; the inventory, the revocation, the CRL
/// number and issuance carry on there, and the restored mutual.toml names the database.
#[test]
fn a_sqlite_ca_moves_to_postgres_by_backup_and_restore() {
    use std::os::unix::fs::PermissionsExt;

    let pki = crate::pki::Pki::new();
    let database = TestDatabase::create();
    let home = pki.home();
    let run = |args: &[&str]| {
        let output = mutual().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "mutual {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let bob = pki.path("bob.pem");
    let serial = openssl(&["x509", "-in", s(&bob), "-noout", "-serial"])
        .trim()
        .trim_start_matches("serial=")
        .to_owned();
    run(&[
        "revoke",
        &serial,
        "--reason",
        "keyCompromise",
        "--home",
        s(&home),
    ]);
    let first_crl = pki.path("first.crl.pem");
    run(&[
        "crl",
        "--issuer",
        "client",
        "--home",
        s(&home),
        "--out",
        s(&first_crl),
    ]);
    let listed = run(&["list", "--home", s(&home)]);

    let backup = pki.path("ca.backup");
    let said = run(&["backup", "--home", s(&home), "--out", s(&backup)]);
    assert!(said.contains("certificates"), "{said}");
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let moved = pki.path("moved");
    let said = run(&[
        "restore",
        s(&backup),
        "--home",
        s(&moved),
        "--database",
        database.url(),
    ]);
    assert!(said.contains("Restored the CA"), "{said}");
    let config = std::fs::read_to_string(moved.join("mutual.toml")).unwrap();
    assert!(
        config.starts_with(&format!("database = \"{}\"", database.url())),
        "{config}"
    );
    assert!(
        !moved.join("mutual.sqlite").exists(),
        "restored into SQLite"
    );
    for key in ["root.key.pem", "client-ca.key.pem", "server-ca.key.pem"] {
        let mode = std::fs::metadata(moved.join("ca").join(key))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{key}");
    }
    // Read from PostgreSQL, found through the restored mutual.toml.
    assert_eq!(run(&["list", "--home", s(&moved)]), listed);
    assert_eq!(
        database.execute(
            "SELECT status FROM certificates WHERE serial = upper('{serial}')"
                .replace("{serial}", &serial)
                .as_str()
        ),
        "revoked\n"
    );

    // The CRL carries on: bob still listed, the number one more than before.
    let next_crl = pki.path("next.crl.pem");
    run(&[
        "crl",
        "--issuer",
        "client",
        "--home",
        s(&moved),
        "--out",
        s(&next_crl),
    ]);
    let crl_number = |path: &Path| {
        let text = openssl(&["crl", "-in", s(path), "-noout", "-crlnumber"]);
        let hex = text.trim().trim_start_matches("crlNumber=0x").to_owned();
        u64::from_str_radix(&hex, 16).unwrap_or_else(|_| panic!("{text}"))
    };
    assert_eq!(crl_number(&next_crl), crl_number(&first_crl) + 1);
    let text = openssl(&["crl", "-in", s(&next_crl), "-noout", "-text"]);
    assert!(
        text.to_uppercase().contains(&serial.to_uppercase()),
        "{text}"
    );
    // And issuance goes on from the restored keys into PostgreSQL.
    run(&[
        "issue",
        "client",
        "carol",
        "--home",
        s(&moved),
        "--out-dir",
        s(pki.dir.path()),
    ]);
    assert_eq!(
        database.execute("SELECT COUNT(*) FROM certificates WHERE subject = 'CN=carol'"),
        "1\n"
    );

    // A restore never overwrites a CA.
    let again = mutual()
        .args(["restore", s(&backup), "--home", s(&moved)])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a CA"));
}

/// Broken backups are refused whole, each with one line naming what is wrong, and leave
/// nothing behind.
#[test]
fn a_broken_backup_is_refused_with_one_line() {
    let pki = crate::pki::Pki::with_server();
    let backup = pki.path("ca.backup");
    mutual()
        .args(["backup", "--home", s(&pki.home()), "--out", s(&backup)])
        .assert()
        .success();
    let text = std::fs::read_to_string(&backup).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "truncated",
            lines[..lines.len() - 1].join("\n"),
            "cut short",
        ),
        (
            "a line lost",
            [&lines[..2], &lines[3..]].concat().join("\n"),
            "lines were lost or added",
        ),
        (
            "garbage",
            format!(
                "{}\n{{\"certificate\": 1}}\n{}",
                lines[0],
                lines[1..].join("\n")
            ),
            "line 2: expected a line of a mutual backup",
        ),
        (
            "not a backup",
            "hello\n".to_owned(),
            "line 1: expected a line of a mutual backup",
        ),
        (
            "a path outside the home",
            text.replace("\"path\":\"ca/root.pem\"", "\"path\":\"../evil.pem\""),
            "expected a file under ca/ or mutual.toml, found `../evil.pem`",
        ),
        ("empty", String::new(), "found an empty file"),
    ];
    for (what, contents, expected) in cases {
        let broken = pki.path("broken.backup");
        std::fs::write(&broken, contents).unwrap();
        let target = pki.path(&format!("restored-{}", what.replace(' ', "-")));
        let output = mutual()
            .args(["restore", s(&broken), "--home", s(&target)])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(expected), "{what}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{what}: {stderr}");
        assert!(!target.join("ca").exists(), "{what}: a CA was restored");
    }
}

/// `POST /api/v1/sign` with curl, tolerating a service that died: the serial of the
/// certificate received, or `None` when no certificate came back.
fn try_sign(service: &MutualServe, body: &str) -> Option<String> {
    let (cert, key) = service.admin();
    let output = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(service.root_pem())
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .args([
            "-H",
            "content-type: application/json",
            "--data-binary",
            body,
        ])
        .arg(service.https("/api/v1/sign"))
        .output()
        .ok()?;
    let answer: Value = serde_json::from_slice(&output.stdout).ok()?;
    let chain = answer["chain"].as_str()?;
    let dir = tempfile::tempdir().ok()?;
    let pem = dir.path().join("leaf.pem");
    std::fs::write(&pem, chain).ok()?;
    let serial = openssl(&["x509", "-in", s(&pem), "-noout", "-serial"]);
    Some(serial.trim().trim_start_matches("serial=").to_uppercase())
}

/// `mutual OUTPUT-ARGS --format json` on `home`, parsed.
fn json_of(args: &[&str]) -> Value {
    let output = mutual()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "mutual {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// kill -9 in the middle of a concurrent issuance load, then a restart: every certificate a
/// client received is in the store with its audit entry (certificate and audit row commit
/// together, so neither exists alone), and the CRL still lists every revoked serial.
fn a_service_killed_mid_load_loses_nothing(database: Option<&TestDatabase>) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let extra: Vec<&str> = database.map_or(Vec::new(), |db| vec!["--database", db.url()]);
    let binary = assert_cmd::cargo::cargo_bin("mutual");
    let service = MutualServe::start(&binary, &home, &extra);
    let mut args: Vec<String> = vec!["--home".into(), s(&home).into()];
    if let Some(db) = database {
        args.extend(["--database".into(), db.url().into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let body = client_sign_request(dir.path(), "crash-client").to_string();
    // Three revoked before the load.
    let mut revoked = Vec::new();
    for _ in 0..3 {
        let serial = try_sign(&service, &body).expect("signing before the load");
        let (status, answer) = service.post_admin(
            "/api/v1/revoke",
            &json!({ "certificate": serial, "reason": "keyCompromise" }),
        );
        assert_eq!(status, 200, "{answer:#}");
        revoked.push(serial);
    }

    let received = std::sync::Mutex::new(Vec::new());
    let count = std::sync::atomic::AtomicUsize::new(0);
    let killed = std::sync::atomic::AtomicBool::new(false);
    let refused = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                // Bounded: at most 40 each, stopping at the first failure after the kill.
                for _ in 0..40 {
                    match try_sign(&service, &body) {
                        Some(serial) => {
                            received.lock().unwrap().push(serial);
                            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        None if killed.load(std::sync::atomic::Ordering::SeqCst) => {
                            refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            break;
                        }
                        None => {}
                    }
                }
            });
        }
        let started = Instant::now();
        while count.load(std::sync::atomic::Ordering::SeqCst) < 30 {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the load never got going"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        killed.store(true, std::sync::atomic::Ordering::SeqCst);
        let status = std::process::Command::new("kill")
            .args(["-9", &service.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    });
    let received = received.into_inner().unwrap();
    assert!(received.len() >= 30, "{}", received.len());
    // The load was still running when the service died.
    assert!(refused.into_inner() > 0, "no request met the dead service");
    drop(service);

    // Restarted on the same home and store.
    let service = MutualServe::start(&binary, &home, &extra);
    let listed = json_of(&[&["list", "--limit", "10000"], &args[..]].concat());
    let stored: std::collections::BTreeSet<String> = listed["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["subject"] == "CN=crash-client")
        .map(|c| c["serial"].as_str().unwrap().to_uppercase())
        .collect();
    for serial in received.iter().chain(&revoked) {
        assert!(
            stored.contains(serial),
            "{serial} was handed out but is not in the store"
        );
    }
    let audit = json_of(
        &[
            &["audit", "--action", "sign", "--limit", "10000"],
            &args[..],
        ]
        .concat(),
    );
    let audited: std::collections::BTreeSet<String> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == "CN=crash-client")
        .map(|e| e["serial"].as_str().unwrap().to_uppercase())
        .collect();
    assert_eq!(
        audited, stored,
        "a certificate without its audit entry, or the reverse"
    );

    let crl = dir.path().join("client.crl.pem");
    let crl_args = [&["crl", "--issuer", "client", "--out", s(&crl)], &args[..]].concat();
    let output = mutual().args(&crl_args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = openssl(&["crl", "-in", s(&crl), "-noout", "-text"]).to_uppercase();
    for serial in &revoked {
        assert!(
            text.contains(serial.as_str()),
            "{serial} missing from the CRL:\n{text}"
        );
    }
    // The restarted service issues again.
    assert!(try_sign(&service, &body).is_some());
}

#[test]
fn a_service_killed_mid_load_loses_nothing_on_sqlite() {
    a_service_killed_mid_load_loses_nothing(None);
}

#[test]
fn a_service_killed_mid_load_loses_nothing_on_postgres() {
    a_service_killed_mid_load_loses_nothing(Some(&TestDatabase::create()));
}

/// The database going away under a running service and coming back: signing fails closed
/// with 503 `store_unavailable` (nothing issued), OCSP answers what it answered before from
/// its cache and `tryLater` for the rest, and once PostgreSQL is back the same service
/// signs again, no restart.
#[test]
fn a_database_outage_fails_closed_and_heals_without_a_restart() {
    let postgres = mutual_test::PostgresServer::start();
    let dir = tempfile::tempdir().unwrap();
    let service = MutualServe::start(
        &assert_cmd::cargo::cargo_bin("mutual"),
        &dir.path().join("home"),
        &["--database", &postgres.url()],
    );
    let request = client_sign_request(dir.path(), "outage-client");
    let chain_of = |body: &Value, name: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body["chain"].as_str().unwrap()).unwrap();
        path
    };
    let (status, body) = service.post_admin("/api/v1/sign", &request);
    assert_eq!(status, 201, "{body:#}");
    let asked_before = chain_of(&body, "asked.pem");
    let (status, body) = service.post_admin("/api/v1/sign", &request);
    assert_eq!(status, 201, "{body:#}");
    let never_asked = chain_of(&body, "never.pem");
    let client_ca = service.ca_pem("client-ca");
    let ocsp = |leaf: &Path| {
        let output = service.openssl_ocsp(&client_ca, leaf, &["-no_nonce"]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    assert!(
        ocsp(&asked_before).contains(": good"),
        "{}",
        ocsp(&asked_before)
    );

    postgres.stop();
    let (status, body) = service.post_admin("/api/v1/sign", &request);
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("store_unavailable")),
        "{body:#}"
    );
    let answer = ocsp(&asked_before);
    assert!(
        answer.contains(": good"),
        "the cached answer was not served: {answer}"
    );
    let answer = ocsp(&never_asked);
    assert!(answer.to_lowercase().contains("trylater"), "{answer}");

    postgres.resume();
    let started = Instant::now();
    loop {
        let (status, body) = service.post_admin("/api/v1/sign", &request);
        if status == 201 {
            break;
        }
        assert_eq!(status, 503, "{body:#}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still {status} {:?} after PostgreSQL came back: {body:#}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(ocsp(&never_asked).contains(": good"));
}

/// A slow database is not a down one: with the certificates table locked (as behind a long
/// migration or during a failover), OCSP answers what it answered before from its cache at
/// once, and a question it never answered waits for the database rather than getting
/// `tryLater`, as long as the wait stays within seconds.
#[test]
fn ocsp_waits_out_a_slow_database_for_what_it_never_answered() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let service = node(&dir.path().join("home"), &database);
    let client_ca = service.ca_pem("client-ca");
    let mut leaves = Vec::new();
    for name in ["asked", "never"] {
        let (status, body) =
            service.post_admin("/api/v1/sign", &client_sign_request(dir.path(), name));
        assert_eq!(status, 201, "{body:#}");
        let path = dir.path().join(format!("{name}.pem"));
        std::fs::write(&path, body["chain"].as_str().unwrap()).unwrap();
        leaves.push(path);
    }
    let text = |output: std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    let asked = text(service.openssl_ocsp(&client_ca, &leaves[0], &["-no_nonce"]));
    assert!(asked.contains(": good"), "{asked}");

    let lock = database.lock_table("certificates");
    let asked = text(service.openssl_ocsp(&client_ca, &leaves[0], &["-no_nonce"]));
    assert!(
        asked.contains(": good"),
        "the cached answer was not served: {asked}"
    );
    let pending = service
        .openssl_ocsp_command(&client_ca, &leaves[1], &["-no_nonce"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Longer than the half second a cached answer waits: a responder that gave up as soon
    // has said `tryLater` by now.
    std::thread::sleep(Duration::from_secs(1));
    drop(lock);
    let never = text(pending.wait_with_output().unwrap());
    assert!(
        never.contains(": good"),
        "the question was not answered once the database was: {never}"
    );
}
