//! The web dashboard of `mutual serve`: the real binary on loopback ports, fetched with
//! `curl` (with and without the administrator's certificate) and with headless Chromium
//! presenting the administrator's PKCS#12 from its NSS database.

use std::path::{Path, PathBuf};

use crate::{s, start_serve as start};
use mutual_test::{AutoSelectPolicy, Browser, MutualServe, openssl};
use serde_json::json;

/// A self-signed client certificate whose subject is markup, made by `openssl`; (PEM
/// path, serial as openssl prints it, the PEM's first base64 line).
fn hostile_certificate(dir: &Path) -> (PathBuf, String, String) {
    let cert = dir.join("hostile.pem");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        s(&dir.join("hostile.key")),
        "-out",
        s(&cert),
        "-days",
        "30",
        "-subj",
        // `\\/`: a `/` would start the next RDN.
        "/CN=<script>alert(1)<\\/script>",
        "-addext",
        "extendedKeyUsage=clientAuth",
        "-addext",
        "keyUsage=critical,digitalSignature",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ]);
    let serial = openssl(&["x509", "-in", s(&cert), "-noout", "-serial"]);
    let serial = serial.trim().trim_start_matches("serial=").to_owned();
    let pem = std::fs::read_to_string(&cert).unwrap();
    let line = pem.lines().nth(1).unwrap().to_owned();
    (cert, serial, line)
}

/// POSTs the decoder form with `input` read from `file`; (status, page).
fn decode(service: &MutualServe, file: &Path, extra: &[&str]) -> (u16, String) {
    let input = format!("input@{}", file.display());
    let mut args = vec!["--data-urlencode", input.as_str()];
    args.extend_from_slice(extra);
    let url = service.https("/");
    args.push(&url);
    service.curl(None, &args)
}

/// Every file under `dir`, concatenated (the store, its WAL, the logs...).
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            bytes.extend(all_bytes(&path));
        } else {
            bytes.extend(std::fs::read(&path).unwrap_or_default());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase();
    haystack
        .to_ascii_lowercase()
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn dashboard_decoder_shows_purpose_lint_and_verdict_escapes_the_subject_and_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (cert, serial, base64_line) = hostile_certificate(dir.path());

    let (status, page) = decode(&service, &cert, &[]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<title>Decoder — mutual</title>"), "{page}");
    assert!(
        page.contains("Proves your identity to a remote computer"),
        "{page}"
    );
    assert!(page.contains("A client certificate"), "{page}");
    // The subject is text, never markup.
    // (RFC 4514 escapes `<` and `>` with a backslash; the page escapes them for HTML.)
    assert!(
        page.contains("CN=\\&lt;script\\&gt;alert(1)\\&lt;/script\\&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "{page}");
    // `mutual lint`'s findings, `mutual verify`'s verdict against this CA, `inspect`'s text.
    assert!(
        page.contains("<h2 id=\"lint\">Lint findings</h2>"),
        "{page}"
    );
    assert!(page.contains("class=\"sev sev-"), "{page}");
    assert!(
        page.contains("<span class=\"bad\">Not valid</span>"),
        "{page}"
    );
    assert!(
        page.contains("as a TLS client certificate of this CA"),
        "{page}"
    );
    assert!(
        page.contains("Signature Algorithm") || page.contains("Serial"),
        "{page}"
    );
    assert!(page.contains("Nothing you paste here is stored or logged"));

    // Nothing pasted was logged or stored: not in the service's output, not in its home.
    let log = service.output();
    assert!(
        !contains(log.as_bytes(), &serial),
        "serial {serial} logged:\n{log}"
    );
    assert!(
        !contains(log.as_bytes(), &base64_line),
        "PEM logged:\n{log}"
    );
    let home = all_bytes(service.home());
    assert!(!contains(&home, &base64_line), "the PEM is in the home");
    assert!(
        !contains(&home, &serial),
        "the serial {serial} is in the home"
    );
}

#[test]
fn dashboard_decoder_verifies_a_certificate_of_this_ca_and_reads_pkcs12_as_base64() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (cert, _) = service.admin();
    let (status, page) = decode(&service, &cert, &[]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<span class=\"ok\">Valid</span>"), "{page}");
    assert!(page.contains("trust anchor"), "{page}");

    // A binary PKCS#12 file, as the page's script sends it: base64, with its password.
    let p12 = std::fs::read(service.home().join("admin.p12")).unwrap();
    let password = std::fs::read_to_string(service.home().join("admin.p12.password")).unwrap();
    let encoded = dir.path().join("admin.p12.b64");
    let text = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(p12)
    };
    std::fs::write(&encoded, text).unwrap();
    let password_field = format!("password={}", password.trim());
    let (status, page) = decode(&service, &encoded, &["--data-urlencode", &password_field]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("A PKCS#12 bundle"), "{page}");
    assert!(page.contains("CN=admin"), "{page}");
    assert!(!page.contains("PRIVATE KEY-----"), "{page}");
}

#[test]
fn dashboard_decoder_answers_bad_input_with_a_message_not_an_error_page() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    for (name, input) in [
        ("words", "hello, world".to_owned()),
        (
            "broken-pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_owned(),
        ),
        ("empty", "   ".to_owned()),
        ("base64-garbage", "MIIBAAAAAA==".to_owned()),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, input).unwrap();
        let (status, page) = decode(&service, &file, &[]);
        assert_eq!(status, 422, "{name}: {page}");
        assert!(
            page.contains("class=\"problem\" role=\"alert\""),
            "{name}: {page}"
        );
    }
    // A body past the limit (64 KiB) is a page too. Only just past it: the service answers
    // 413 without reading the rest and closes, so a body larger than the socket buffers can
    // hold would leave curl still sending into a closed connection (broken pipe) — a race
    // the test would lose on a loaded machine, not what it is about.
    let big = dir.path().join("big");
    std::fs::write(&big, "A".repeat(66 * 1024)).unwrap();
    let (status, page) = decode(&service, &big, &[]);
    assert_eq!(status, 413, "{page}");
    assert!(page.contains("The form could not be read"), "{page}");
}

#[test]
fn dashboard_pages_have_titles_a_viewport_and_a_strict_content_security_policy() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (status, headers) =
        service.curl(None, &["-D", "-", "-o", "/dev/null", &service.https("/")]);
    assert_eq!(status, 200, "{headers}");
    let headers = headers.to_ascii_lowercase();
    assert!(
        headers.contains("content-security-policy: default-src 'none'"),
        "{headers}"
    );
    assert!(headers.contains("cache-control: no-store"), "{headers}");
    let (_, page) = service.curl(None, &[&service.https("/")]);
    assert!(page.contains("<meta name=\"viewport\""), "{page}");
    assert!(page.contains("<main id=\"main\""), "{page}");
    assert!(page.contains("<label for=\"input\">"), "{page}");
    for asset in ["/assets/dashboard.css", "/assets/dashboard.js"] {
        let (status, body) = service.curl(None, &[&service.https(asset)]);
        assert_eq!(status, 200, "{asset}");
        assert!(body.len() > 100, "{asset}: {body}");
    }
    let (_, css) = service.curl(None, &[&service.https("/assets/dashboard.css")]);
    assert!(css.contains("prefers-color-scheme: dark"));
}

#[test]
fn dashboard_inventory_is_for_administrators_only() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    for path in ["/inventory", "/timeline", "/inventory/00"] {
        let (status, page) = service.curl(None, &[&service.https(path)]);
        assert_eq!(status, 401, "{path}: {page}");
        assert!(page.contains("This page is for administrators."), "{page}");
        assert!(page.contains("How to get access"), "{page}");
        assert!(page.contains("client_certificate") || page.contains("no client certificate"));
    }
    // A client certificate that is not an administrator's: 403, and the same explanation.
    let (status, body) = service.post_admin(
        "/api/v1/issue",
        &json!({"profile": "client", "name": "carol", "format": "pem"}),
    );
    assert_eq!(status, 201, "{body:#}");
    std::fs::write(
        dir.path().join("carol.pem"),
        body["chain"].as_str().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("carol.key"), body["key"].as_str().unwrap()).unwrap();
    let (cert, key) = (dir.path().join("carol.pem"), dir.path().join("carol.key"));
    let (status, page) = service.curl(Some((&cert, &key)), &[&service.https("/inventory")]);
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("`client` profile"), "{page}");
}

#[test]
fn dashboard_inventory_lists_searches_and_shows_certificates_to_an_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (status, body) = service.post_admin(
        "/api/v1/issue",
        &json!({"profile": "server", "name": "www.example.test", "dns": ["www.example.test"], "format": "pem"}),
    );
    assert_eq!(status, 201, "{body:#}");
    let serial = body["serial"].as_str().unwrap().to_owned();

    let (status, page) = service.curl_admin(&[&service.https("/inventory")]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Administrator: CN=admin"), "{page}");
    assert!(page.contains("www.example.test"), "{page}");
    assert!(page.contains(">CN=admin</a>"), "{page}");

    // Filters: profile, SAN search, serial search.
    let (_, page) = service.curl_admin(&[&service.https("/inventory?profile=server")]);
    assert!(
        page.contains("www.example.test") && !page.contains(">CN=admin</a>"),
        "{page}"
    );
    let (_, page) = service.curl_admin(&[&service.https("/inventory?q=www.example.test")]);
    assert!(
        page.contains("www.example.test") && !page.contains(">CN=admin</a>"),
        "{page}"
    );
    let (_, page) = service.curl_admin(&[&service.https(&format!("/inventory?q={serial}"))]);
    assert!(
        page.contains("www.example.test") && !page.contains(">CN=admin</a>"),
        "{page}"
    );
    let (_, page) = service.curl_admin(&[&service.https("/inventory?q=nowhere.example")]);
    assert!(page.contains("No certificate matches."), "{page}");
    let (status, page) = service.curl_admin(&[&service.https("/inventory?status=sideways")]);
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("expected valid, revoked or expired"),
        "{page}"
    );

    // The detail page: status as OCSP answers it, the chain, lint, decoding; then revoked.
    let (status, page) = service.curl_admin(&[&service.https(&format!("/inventory/{serial}"))]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<span class=\"ok\">good</span>"), "{page}");
    assert!(page.contains("<span class=\"ok\">Valid</span>"), "{page}");
    assert!(page.contains("Lint findings"), "{page}");
    let (status, body) = service.post_admin(
        "/api/v1/revoke",
        &json!({"certificate": serial, "reason": "keyCompromise"}),
    );
    assert_eq!(status, 200, "{body:#}");
    let (_, page) = service.curl_admin(&[&service.https(&format!("/inventory/{serial}"))]);
    assert!(
        page.contains("<span class=\"bad\">revoked</span>"),
        "{page}"
    );
    assert!(page.contains("reason keyCompromise"), "{page}");
    // The audit history: the issuance and the revocation, by the administrator.
    let history = page.split_once("<table id=\"audit\">").unwrap().1;
    let history = history.split_once("</table>").unwrap().0;
    assert!(history.contains("<td>revoke</td>"), "{history}");
    assert!(history.contains("<td>issue</td>"), "{history}");
    assert!(history.contains("admin:"), "{history}");

    let (status, page) = service.curl_admin(&[&service.https("/timeline")]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<svg"), "{page}");
}

/// The client CA's common name, as Chromium's policy filters by it.
fn client_ca_cn(service: &MutualServe) -> String {
    let subject = openssl(&[
        "x509",
        "-in",
        s(&service.ca_pem("client-ca")),
        "-noout",
        "-subject",
        "-nameopt",
        "multiline",
    ]);
    subject
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("commonName")
                .map(|v| v.trim().trim_start_matches('=').trim().to_owned())
        })
        .unwrap()
}

#[test]
fn dashboard_in_chromium_shows_the_inventory_with_the_admin_certificate_and_only_the_decoder_without()
 {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let origin = format!("https://localhost:{}", service.https_port());
    let password = std::fs::read_to_string(service.home().join("admin.p12.password")).unwrap();

    let admin = Browser::trusting(&service.root_pem());
    admin.import_p12(&service.home().join("admin.p12"), password.trim());
    let anonymous = Browser::trusting(&service.root_pem());
    let _policy = AutoSelectPolicy::install(&origin, &client_ca_cn(&service));

    let page = admin.dump_dom("localhost", &format!("{origin}/inventory"));
    assert!(
        page.dom.contains("Administrator: CN=admin") && page.dom.contains(">CN=admin</a>"),
        "{}\nchromium said:\n{}",
        page.dom,
        page.stderr
    );
    let page = anonymous.dump_dom("localhost", &format!("{origin}/inventory"));
    assert!(
        page.dom.contains("This page is for administrators."),
        "{}\nchromium said:\n{}",
        page.dom,
        page.stderr
    );
    let page = anonymous.dump_dom("localhost", &format!("{origin}/"));
    assert!(
        page.dom.contains("<textarea id=\"input\""),
        "{}\nchromium said:\n{}",
        page.dom,
        page.stderr
    );
}

/// The hidden token of the first form in `page`.
fn form_token(page: &str) -> String {
    let (_, rest) = page
        .split_once("name=\"token\" value=\"")
        .unwrap_or_else(|| panic!("no token in:\n{page}"));
    rest.split('"').next().unwrap().to_owned()
}

#[test]
fn dashboard_revoke_asks_first_needs_the_page_token_and_then_ocsp_says_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (status, body) = service.post_admin(
        "/api/v1/issue",
        &json!({"profile": "client", "name": "lost-laptop", "format": "pem"}),
    );
    assert_eq!(status, 201, "{body:#}");
    let cert = dir.path().join("lost-laptop.pem");
    std::fs::write(&cert, body["certificate"].as_str().unwrap()).unwrap();
    let fingerprint = body["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .replace(':', "");
    let other = service.admin().0;
    let other_fingerprint = openssl(&[
        "x509",
        "-in",
        s(&other),
        "-noout",
        "-fingerprint",
        "-sha256",
    ]);
    let other_fingerprint = other_fingerprint
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "");

    let confirm = service.https(&format!("/inventory/{fingerprint}/revoke"));
    let (status, page) = service.curl_admin(&[&confirm]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You are about to revoke"), "{page}");
    let token = form_token(&page);

    // Without the token, with a token for another certificate, or without a certificate:
    // nothing is revoked.
    let post = |identity: bool, token: &str, target: &str| {
        let url = service.https(&format!("/inventory/{target}/revoke"));
        let data = format!("token={token}&reason=keyCompromise");
        let args = ["--data", data.as_str(), url.as_str()];
        if identity {
            service.curl_admin(&args)
        } else {
            service.curl(None, &args)
        }
    };
    let (status, page) = post(true, "", &fingerprint);
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("nothing was revoked"), "{page}");
    let (other_status, _) = post(true, &token, &other_fingerprint);
    assert_eq!(other_status, 403);
    let (status, _) = post(false, &token, &fingerprint);
    assert_eq!(status, 401);
    let ocsp = service.openssl_ocsp(&service.ca_pem("client-ca"), &cert, &[]);
    let said = String::from_utf8_lossy(&ocsp.stdout);
    assert!(said.contains(": good"), "{said}");

    // With it: revoked, back to the certificate's page, and OCSP says so.
    let (status, _) = post(true, &token, &fingerprint);
    assert_eq!(status, 303);
    let (_, page) = service.curl_admin(&[&service.https(&format!("/inventory/{fingerprint}"))]);
    assert!(page.contains("reason keyCompromise"), "{page}");
    let ocsp = service.openssl_ocsp(&service.ca_pem("client-ca"), &cert, &[]);
    let said = String::from_utf8_lossy(&ocsp.stdout);
    assert!(said.contains(": revoked"), "{said}");
    assert!(said.contains("keyCompromise"), "{said}");
}

/// Where the screenshots go: `target/dashboard-screenshots/` (next to `debug/`).
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/it-HASH
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    target.join("dashboard-screenshots")
}

#[test]
fn dashboard_in_chromium_an_administrator_revokes_with_clicks_and_anyone_decodes_a_paste() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (status, body) = service.post_admin(
        "/api/v1/issue",
        &json!({"profile": "client", "name": "lost-laptop", "format": "pem"}),
    );
    assert_eq!(status, 201, "{body:#}");
    let pem = body["certificate"].as_str().unwrap().to_owned();
    let cert = dir.path().join("lost-laptop.pem");
    std::fs::write(&cert, &pem).unwrap();
    let (status, _) = service.post_admin(
        "/api/v1/issue",
        &json!({"profile": "server", "name": "www.example.test", "dns": ["www.example.test"], "format": "pem"}),
    );
    assert_eq!(status, 201);
    let fingerprint = body["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .replace(':', "");
    let origin = format!("https://localhost:{}", service.https_port());
    let password = std::fs::read_to_string(service.home().join("admin.p12.password")).unwrap();
    let shots = screenshot_dir();

    let admin = Browser::trusting(&service.root_pem());
    admin.import_p12(&service.home().join("admin.p12"), password.trim());
    let anonymous = Browser::trusting(&service.root_pem());
    let _policy = AutoSelectPolicy::install(&origin, &client_ca_cn(&service));

    let mut page = admin.devtools("localhost", 1280, 900);
    page.navigate(&format!("{origin}/inventory"));
    let html = page.html();
    assert!(html.contains("CN=lost-laptop"), "{html}");
    assert!(html.contains("www.example.test"), "{html}");
    page.screenshot(&shots.join("inventory.png"));

    page.click_and_wait(&format!("a[href=\"/inventory/{fingerprint}\"]"));
    let html = page.html();
    assert!(html.contains("<span class=\"ok\">good</span>"), "{html}");
    page.screenshot(&shots.join("certificate.png"));
    page.click_and_wait("#revoke");
    assert!(page.html().contains("You are about to revoke"));
    page.fill("#reason", "keyCompromise");
    page.screenshot(&shots.join("revoke-confirm.png"));
    page.click_and_wait("#confirm-revoke");
    assert!(
        page.location()
            .ends_with(&format!("/inventory/{fingerprint}")),
        "{}",
        page.location()
    );
    let html = page.html();
    assert!(
        html.contains("<span class=\"bad\">revoked</span>"),
        "{html}"
    );
    assert!(html.contains("reason keyCompromise"), "{html}");
    page.screenshot(&shots.join("certificate-revoked.png"));
    let ocsp = service.openssl_ocsp(&service.ca_pem("client-ca"), &cert, &[]);
    let said = String::from_utf8_lossy(&ocsp.stdout);
    assert!(said.contains(": revoked"), "{said}");

    page.navigate(&format!("{origin}/timeline"));
    assert!(page.html().contains("<svg"));
    page.screenshot(&shots.join("timeline.png"));
    drop(page);

    // No certificate: the decoder works, the inventory explains how to get access.
    let mut page = anonymous.devtools("localhost", 1280, 900);
    page.navigate(&format!("{origin}/"));
    page.fill("#input", &pem);
    page.click_and_wait("button[type=submit]");
    let html = page.html();
    assert!(
        html.contains("Proves your identity to a remote computer"),
        "{html}"
    );
    assert!(html.contains("CN=lost-laptop"), "{html}");
    page.screenshot(&shots.join("decoder.png"));
    page.navigate(&format!("{origin}/inventory"));
    let html = page.html();
    assert!(html.contains("This page is for administrators."), "{html}");
    page.screenshot(&shots.join("inventory-refused.png"));

    // On a phone, in dark mode.
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}),
    );
    page.call(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    );
    page.navigate(&format!("{origin}/"));
    page.fill("#input", &pem);
    page.click_and_wait("button[type=submit]");
    page.screenshot(&shots.join("decoder-phone-dark.png"));
}

#[test]
fn dashboard_issue_reviews_first_then_hands_out_a_pkcs12_and_its_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (status, page) = service.curl_admin(&[&service.https("/issue")]);
    assert_eq!(status, 200, "{page}");
    let token = form_token(&page);
    let post = |data: &str| service.curl_admin(&["--data", data, &service.https("/issue")]);
    let issued_count = || {
        let (_, list) =
            service.curl_admin(&[&service.https("/api/v1/certificates?profile=client")]);
        list.matches("\"CN=bob\"").count()
    };

    // No token: refused. The review page: nothing issued yet.
    let (status, page) = post("profile=client&name=bob");
    assert_eq!(status, 403, "{page}");
    let (status, page) = post(&format!("token={token}&profile=client&name=bob&days=30"));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("You are about to issue a <strong>client</strong>"),
        "{page}"
    );
    assert_eq!(issued_count(), 0);

    // Confirmed: a PKCS#12 that openssl opens with the password shown.
    let (status, page) = post(&format!(
        "token={token}&profile=client&name=bob&days=30&confirm=yes"
    ));
    assert_eq!(status, 201, "{page}");
    assert_eq!(issued_count(), 1);
    let p12 = page
        .split_once("data:application/x-pkcs12;base64,")
        .unwrap()
        .1
        .split('"')
        .next()
        .unwrap();
    let password = page
        .split_once("<code id=\"password\">")
        .unwrap()
        .1
        .split('<')
        .next()
        .unwrap();
    let der = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(p12)
            .unwrap()
    };
    std::fs::write(dir.path().join("bob.p12"), der).unwrap();
    let info = openssl(&[
        "pkcs12",
        "-in",
        s(&dir.path().join("bob.p12")),
        "-passin",
        &format!("pass:{password}"),
        "-nokeys",
        "-info",
    ]);
    assert!(info.contains("subject=CN = bob"), "{info}");

    // A server certificate: PEM, and the profile's refusals shown on the page.
    let (status, page) = post(&format!(
        "token={token}&profile=server&name=api.example.test&confirm=yes"
    ));
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("server_missing_san"), "{page}");
    let (status, page) = post(&format!(
        "token={token}&profile=server&name=api.example.test&dns=api.example.test&confirm=yes"
    ));
    assert_eq!(status, 201, "{page}");
    assert!(page.contains("-----BEGIN CERTIFICATE-----"), "{page}");
    assert!(page.contains("PRIVATE KEY-----"), "{page}");
}

#[test]
fn dashboard_creates_an_enrollment_token_that_enrolls_and_links_the_ca_chain_and_crls() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (_, page) = service.curl_admin(&[&service.https("/enroll-token")]);
    let token = form_token(&page);
    let post = |data: &str| service.curl_admin(&["--data", data, &service.https("/enroll-token")]);
    let (status, page) = post(&format!(
        "token={token}&profile=client&subject=device-9&ttl=15m"
    ));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("You are about to create a one-time token"),
        "{page}"
    );
    let (status, page) = post("profile=client&subject=device-9&ttl=15m&confirm=yes");
    assert_eq!(status, 403, "{page}");
    let (status, page) = post(&format!(
        "token={token}&profile=client&subject=device-9&ttl=15m&confirm=yes"
    ));
    assert_eq!(status, 201, "{page}");
    let enrollment = page
        .split_once("<pre id=\"enrollment-token\">")
        .unwrap()
        .1
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    // The token works once, with `mutual enroll`.
    let token_file = dir.path().join("device-9.token");
    std::fs::write(&token_file, &enrollment).unwrap();
    let out = dir.path().join("device");
    std::fs::create_dir(&out).unwrap();
    crate::mutual()
        .args(["enroll", "--server", &service.https(""), "--ca-cert"])
        .arg(service.root_pem())
        .arg("--token-file")
        .arg(&token_file)
        .args(["--subject", "device-9", "--out-dir"])
        .arg(&out)
        .assert()
        .success();

    // The public page links the CA chain and the CRLs, and they are served.
    let (_, page) = service.curl(None, &[&service.https("/")]);
    for link in [
        "/ca/chain.pem",
        "/ca/root.pem",
        "/crl/server-ca.crl",
        "/crl/client-ca.crl",
    ] {
        assert!(page.contains(&format!("href=\"{link}\"")), "{link}: {page}");
        let (status, _) = service.curl(None, &["-o", "/dev/null", &service.https(link)]);
        assert_eq!(status, 200, "{link}");
    }
}
