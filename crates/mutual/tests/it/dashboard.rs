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

/// The page must show `needle`; a failure names it before the page.
#[track_caller]
fn has(page: &str, needle: &str) {
    assert!(page.contains(needle), "missing {needle:?} in:\n{page}");
}

/// The page must not show `needle`.
#[track_caller]
fn lacks(page: &str, needle: &str) {
    assert!(!page.contains(needle), "unexpected {needle:?} in:\n{page}");
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
    has(&page, "<title>Decoder — mutual</title>");
    has(&page, "Proves your identity to a remote computer");
    has(&page, "A client certificate");
    // The subject is text, never markup.
    // (RFC 4514 escapes `<` and `>` with a backslash; the page escapes them for HTML.)
    has(&page, "CN=\\&lt;script\\&gt;alert(1)\\&lt;/script\\&gt;");
    lacks(&page, "<script>alert");
    // `mutual lint`'s findings, `mutual verify`'s verdict against this CA, `inspect`'s text.
    has(&page, "<h2 id=\"lint\">Lint findings</h2>");
    has(&page, "class=\"sev sev-");
    has(&page, "<span class=\"bad\">Not valid</span>");
    has(&page, "as a TLS client certificate of this CA");
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
    has(&page, "<span class=\"ok\">Valid</span>");
    has(&page, "trust anchor");

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
    has(&page, "A PKCS#12 bundle");
    has(&page, "CN=admin");
    lacks(&page, "PRIVATE KEY-----");
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
    has(&page, "The form could not be read");
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
    has(&page, "<meta name=\"viewport\"");
    has(&page, "<main id=\"main\"");
    has(&page, "<label for=\"input\">");
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
        has(&page, "This page is for administrators.");
        has(&page, "How to get access");
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
    has(&page, "`client` profile");
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
    has(&page, "Administrator: CN=admin");
    has(&page, "www.example.test");
    has(&page, ">CN=admin</a>");

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
    has(&page, "No certificate matches.");
    let (status, page) = service.curl_admin(&[&service.https("/inventory?status=sideways")]);
    assert_eq!(status, 400, "{page}");
    has(&page, "expected valid, revoked or expired");

    // The detail page: status as OCSP answers it, the chain, lint, decoding; then revoked.
    let (status, page) = service.curl_admin(&[&service.https(&format!("/inventory/{serial}"))]);
    assert_eq!(status, 200, "{page}");
    has(&page, "<span class=\"ok\">good</span>");
    has(&page, "<span class=\"ok\">Valid</span>");
    has(&page, "Lint findings");
    let (status, body) = service.post_admin(
        "/api/v1/revoke",
        &json!({"certificate": serial, "reason": "keyCompromise"}),
    );
    assert_eq!(status, 200, "{body:#}");
    let (_, page) = service.curl_admin(&[&service.https(&format!("/inventory/{serial}"))]);
    has(&page, "<span class=\"bad\">revoked</span>");
    has(&page, "reason keyCompromise");
    // The audit history: the issuance and the revocation, by the administrator.
    let history = page.split_once("<table id=\"audit\">").unwrap().1;
    let history = history.split_once("</table>").unwrap().0;
    assert!(history.contains("<td>revoke</td>"), "{history}");
    assert!(history.contains("<td>issue</td>"), "{history}");
    assert!(history.contains("admin:"), "{history}");

    let (status, page) = service.curl_admin(&[&service.https("/timeline")]);
    assert_eq!(status, 200, "{page}");
    has(&page, "<svg");
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
    has(&page, "You are about to revoke");
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
    has(&page, "nothing was revoked");
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
    has(&page, "reason keyCompromise");
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
    has(&page, "You are about to issue a <strong>client</strong>");
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
    has(&page, "server_missing_san");
    let (status, page) = post(&format!(
        "token={token}&profile=server&name=api.example.test&dns=api.example.test&confirm=yes"
    ));
    assert_eq!(status, 201, "{page}");
    has(&page, "-----BEGIN CERTIFICATE-----");
    has(&page, "PRIVATE KEY-----");
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
    has(&page, "You are about to create a one-time token");
    let (status, page) = post("profile=client&subject=device-9&ttl=15m&confirm=yes");
    assert_eq!(status, 403, "{page}");
    let (status, page) = post(&format!(
        "token={token}&profile=client&subject=device-9&ttl=15m&confirm=yes"
    ));
    assert_eq!(status, 201, "{page}");
    let enrollment = page
        .split_once("<pre tabindex=\"0\" id=\"enrollment-token\">")
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

/// A common name that is markup, quotes and an ampersand: what a careless page would run.
const HOSTILE_NAME: &str = "<script>alert(\"x\")</script> & 'co'";

/// Regression test for escaping beyond the decoder: a certificate issued by the real CA
/// with markup in its subject and SAN is text in the inventory's row, the search box that
/// found it and the certificate's page.
#[test]
fn dashboard_inventory_and_certificate_page_escape_a_hostile_subject_and_san() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let hostile_uri = "urn:example:<b>&\"q\"";
    let (status, body) = service.post_admin(
        "/api/v1/issue",
        &json!({"profile": "client", "name": HOSTILE_NAME, "uri": [hostile_uri], "format": "pem"}),
    );
    assert_eq!(status, 201, "{body:#}");
    let fingerprint = body["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .replace(':', "");
    let escaped_name =
        "\\&lt;script\\&gt;alert(\\&quot;x\\&quot;)\\&lt;/script\\&gt; &amp; &#39;co&#39;";
    let escaped_uri = "urn:example:&lt;b&gt;&amp;&quot;q&quot;";
    let unescaped = |page: &str| {
        for raw in ["<script>", "alert(\"x\")", "<b>", "& 'co'", "&\"q\""] {
            assert!(!page.contains(raw), "`{raw}` unescaped in:\n{page}");
        }
    };

    // Found by the start of its common name, typed as the administrator would.
    let (status, page) = service.curl_admin(&[
        "--get",
        "--data-urlencode",
        "q=<SCRIPT>alert(\"",
        &service.https("/inventory"),
    ]);
    assert_eq!(status, 200, "{page}");
    let row = page
        .split_once("<tbody>")
        .and_then(|(_, rest)| rest.split_once("</tbody>"))
        .map(|(rows, _)| rows)
        .unwrap_or_else(|| panic!("no table in:\n{page}"));
    assert_eq!(row.matches("<tr>").count(), 1, "{row}");
    assert!(row.contains(escaped_name), "{row}");
    assert!(row.contains(escaped_uri), "{row}");
    // The search box gives the term back as text too.
    has(&page, "value=\"&lt;SCRIPT&gt;alert(&quot;\"");
    unescaped(&page);

    let (status, page) =
        service.curl_admin(&[&service.https(&format!("/inventory/{fingerprint}"))]);
    assert_eq!(status, 200, "{page}");
    has(&page, &format!("<h1 class=\"mono\">CN={escaped_name}</h1>"));
    has(&page, escaped_uri);
    unescaped(&page);
}

/// The position of `needle` in `page`, which must hold it.
fn position(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in:\n{page}"))
}

#[test]
fn dashboard_inventory_sorts_by_its_column_headers_and_refuses_a_position_from_another_order() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    // Issued in this order, expiring in another, named in a third.
    for (name, days) in [("carol", 30), ("Bob", 10), ("alice", 20)] {
        let (status, body) = service.post_admin(
            "/api/v1/issue",
            &json!({"profile": "client", "name": name, "days": days, "format": "pem"}),
        );
        assert_eq!(status, 201, "{body:#}");
    }
    let inventory = |query: &str| {
        let (status, page) = service.curl_admin(&[&service.https(&format!("/inventory{query}"))]);
        assert_eq!(status, 200, "{query}: {page}");
        page
    };
    let order = |page: &str| {
        let mut names = ["carol", "Bob", "alice"]
            .map(|name| (position(page, &format!(">CN={name}</a>")), name));
        names.sort();
        names.map(|(_, name)| name)
    };
    let page = inventory("");
    assert_eq!(
        order(&page),
        ["Bob", "alice", "carol"],
        "expiry, soonest first"
    );
    has(&page, "Sorted by expiry, soonest first.");
    // Each sortable header is a link (keyboard-reachable), the current one marked.
    has(
        &page,
        "<th scope=\"col\" aria-sort=\"ascending\"><a class=\"sort\" href=\"/inventory?sort=expiry-desc\">Not after",
    );
    has(
        &page,
        "<a class=\"sort\" href=\"/inventory?sort=subject\">Subject",
    );
    has(
        &page,
        "<a class=\"sort\" href=\"/inventory?sort=newest\">Recorded",
    );
    assert_eq!(
        order(&inventory("?sort=expiry-desc")),
        ["carol", "alice", "Bob"]
    );
    assert_eq!(order(&inventory("?sort=newest")), ["alice", "Bob", "carol"]);
    let page = inventory("?sort=subject");
    assert_eq!(order(&page), ["alice", "Bob", "carol"], "case set aside");
    has(
        &page,
        "<th scope=\"col\" aria-sort=\"ascending\"><a class=\"sort\" href=\"/inventory?sort=subject\">Subject",
    );
    // Filters survive a change of order.
    let page = inventory("?sort=subject&q=b&profile=client");
    has(
        &page,
        "href=\"/inventory?sort=newest&amp;q=b&amp;profile=client\"",
    );
    assert!(
        page.contains(">CN=Bob</a>") && !page.contains(">CN=carol</a>"),
        "{page}"
    );

    // A position from one order is refused in another, in words, not misread.
    let (status, page) =
        service.curl_admin(&[&service.https("/inventory?sort=newest&after=subject%3A3%3Abob")]);
    assert_eq!(status, 400, "{page}");
    has(&page, "belongs to the `subject` order, not `newest`");
    let (status, page) =
        service.curl_admin(&[&service.https("/inventory?after=subject%3A3%3Abob")]);
    assert_eq!(status, 400, "{page}");
    let (status, page) = service.curl_admin(&[&service.https("/inventory?sort=sideways")]);
    assert_eq!(status, 400, "{page}");
    has(&page, "expected expiry, expiry-desc, newest or subject");
    // The API: the same orders, the same refusal as JSON.
    let (status, body) = service
        .curl_admin(&[&service.https("/api/v1/certificates?sort=subject&profile=client&limit=1")]);
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["certificates"][0]["subject"], "CN=alice", "{body:#}");
    let next = body["next"].as_str().unwrap().to_owned();
    let (status, body) = service.curl_admin(&[
        "--get",
        "--data-urlencode",
        &format!("after={next}"),
        &service.https("/api/v1/certificates"),
    ]);
    assert_eq!(status, 400, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "bad_query", "{body:#}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("written for the `subject` order")),
        "{body:#}"
    );
}

#[test]
fn dashboard_timeline_counts_each_week_and_lists_what_expires_within_7_and_30_days() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    for (name, days) in [("soon.example.test", 3), ("later.example.test", 20)] {
        let (status, body) = service.post_admin(
            "/api/v1/issue",
            &json!({"profile": "server", "name": name, "dns": [name], "days": days, "format": "pem"}),
        );
        assert_eq!(status, 201, "{body:#}");
    }
    let (status, page) = service.curl_admin(&[&service.https("/timeline")]);
    assert_eq!(status, 200, "{page}");
    // Each list's heading counts what it lists (here everything: fewer than 100). The
    // service's own OCSP responder certificates are short-lived and listed too.
    let section = |id: &str, end: &str| {
        let rest = page
            .split_once(&format!("<h2 id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no {id} in:\n{page}"))
            .1;
        rest.split_once(end).unwrap().0.to_owned()
    };
    let within_7 = section("within-7", "<h2");
    let within_30 = section("within-30", "</main>");
    for list in [&within_7, &within_30] {
        let (heading, items) = list.split_once("</h2>").unwrap();
        let count: usize = heading.rsplit(": ").next().unwrap().parse().unwrap();
        assert_eq!(items.matches("<li>").count(), count, "{list}");
    }
    assert!(within_7.contains(">CN=soon.example.test</a>"), "{within_7}");
    assert!(!within_7.contains("later.example.test"), "{within_7}");
    assert!(
        within_30.contains(">CN=later.example.test</a>"),
        "{within_30}"
    );
    // The chart: week 1 and week 3 hold one server certificate each.
    has(&page, "<title>Week 1: 1 server</title>");
    has(&page, "<title>Week 3: 1 server</title>");
    lacks(&page, "<title>Week 2:");
}

/// Every dashboard page in Chromium, light and dark, on a desktop and a phone: axe-core
/// (injected over DevTools; the pages load nothing but their own assets) finds no
/// violation, and Tab reaches every link and control.
#[test]
fn dashboard_pages_pass_axe_core_and_every_control_is_reached_by_tab() {
    let axe = mutual_test::axe_core();
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (status, body) = service.post_admin(
        "/api/v1/issue",
        &json!({"profile": "server", "name": "www.example.test", "dns": ["www.example.test"], "days": 5, "format": "pem"}),
    );
    assert_eq!(status, 201, "{body:#}");
    let pem = body["certificate"].as_str().unwrap().to_owned();
    let fingerprint = body["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .replace(':', "");
    let origin = format!("https://localhost:{}", service.https_port());
    let password = std::fs::read_to_string(service.home().join("admin.p12.password")).unwrap();
    let admin = Browser::trusting(&service.root_pem());
    admin.import_p12(&service.home().join("admin.p12"), password.trim());
    let anonymous = Browser::trusting(&service.root_pem());
    let _policy = AutoSelectPolicy::install(&origin, &client_ca_cn(&service));

    let mut problems = Vec::new();
    let mut check = |page: &mut mutual_test::DevTools, name: &str| {
        for (scheme, width) in [("light", 1280), ("dark", 390)] {
            page.call(
                "Emulation.setEmulatedMedia",
                json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
            );
            page.call(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": width < 600}),
            );
            let title = page.evaluate("document.title");
            if !title.as_str().is_some_and(|t| t.ends_with("— mutual")) {
                problems.push(format!("{name}: title {title}"));
            }
            for violation in page.axe_violations(&axe) {
                problems.push(format!("{name} ({scheme}, {width}px): {violation}"));
            }
        }
        let (focusable, reached) = page.tab_through();
        let missed: Vec<&String> = focusable.iter().filter(|e| !reached.contains(e)).collect();
        if !missed.is_empty() {
            problems.push(format!("{name}: Tab never reaches {missed:?}"));
        }
    };

    let mut page = admin.devtools("localhost", 1280, 844);
    for (path, name) in [
        ("/inventory".to_owned(), "inventory"),
        (
            "/inventory?q=www&sort=subject".to_owned(),
            "inventory, searched and sorted",
        ),
        (
            "/inventory?status=sideways".to_owned(),
            "inventory, refused filter",
        ),
        (format!("/inventory/{fingerprint}"), "certificate"),
        (
            format!("/inventory/{fingerprint}/revoke"),
            "revoke, confirmation",
        ),
        ("/timeline".to_owned(), "timeline"),
        ("/issue".to_owned(), "issue"),
    ] {
        page.navigate(&format!("{origin}{path}"));
        check(&mut page, name);
    }
    page.fill("#name", "device-7");
    page.click_and_wait("button[type=submit]");
    assert!(
        page.html().contains("You are about to issue"),
        "{}",
        page.html()
    );
    check(&mut page, "issue, review");
    page.navigate(&format!("{origin}/enroll-token"));
    check(&mut page, "enrollment token");
    page.navigate(&format!("{origin}/"));
    check(&mut page, "decoder");
    page.fill("#input", &pem);
    page.click_and_wait("button[type=submit]");
    check(&mut page, "decoder, a certificate decoded");
    drop(page);

    let mut page = anonymous.devtools("localhost", 1280, 844);
    page.navigate(&format!("{origin}/inventory"));
    check(&mut page, "inventory, refused without a certificate");
    page.navigate(&format!("{origin}/"));
    page.fill("#input", "not a certificate");
    page.click_and_wait("button[type=submit]");
    check(&mut page, "decoder, bad input");

    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
