//! Real chains served by public sites (../shared/corpus/real-world) and Debian's real
//! roots under /etc/ssl/certs: decoded, classified, and compared with openssl.

use std::path::PathBuf;

use crate::{finding_codes, inspect_json};
use mutual_test::openssl;

fn real_world_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/real-world"
    ))
}

/// (site, validate-at time) from the corpus README's table.
fn sites() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(real_world_dir().join("README.md"))
        .expect("the real-world corpus is at ../shared/corpus/real-world");
    readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() > 4 && cells[3].starts_with("20"))
                .then(|| (cells[1].to_owned(), cells[3].to_owned()))
        })
        .collect()
}

#[test]
fn leaves_are_server_certificates_without_errors_at_their_time() {
    let sites = sites();
    assert!(sites.len() >= 10, "{sites:?}");
    for (site, at) in sites {
        let dir = real_world_dir().join(&site);
        let leaf = dir.join("leaf.pem");
        let docs = inspect_json(&["--at", &at, leaf.to_str().unwrap()]);
        let cert = &docs[0]["objects"][0];
        let kind = cert["purpose"]["kind"].as_str().unwrap();
        assert!(
            kind == "server" || kind == "server_and_client",
            "{site}: {kind}"
        );
        assert_eq!(cert["validity"]["status"], "valid", "{site} at {at}");
        let errors: Vec<&serde_json::Value> = cert["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        assert!(errors.is_empty(), "{site}: {errors:?}");
        // The site's name is among the SANs (exactly or by a wildcard).
        let san = crate::extension(cert, "subject_alt_name").unwrap();
        let names: Vec<&str> = san["names"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["value"].as_str())
            .collect();
        let parent = site.split_once('.').map_or("", |(_, p)| p);
        assert!(
            names.contains(&site.as_str()) || names.contains(&format!("*.{parent}").as_str()),
            "{site}: {names:?}"
        );
        assert_eq!(cert["serial"], openssl_serial(&leaf), "{site}");
        assert_eq!(
            cert["subject"]["rfc4514"],
            openssl_name(&leaf, "-subject"),
            "{site}"
        );
        assert_eq!(
            cert["issuer"]["rfc4514"],
            openssl_name(&leaf, "-issuer"),
            "{site}"
        );

        for (file, expected) in [
            ("intermediates.pem", "intermediate_ca"),
            ("roots.pem", "root_ca"),
        ] {
            for doc in inspect_json(&["--at", &at, dir.join(file).to_str().unwrap()]) {
                for object in doc["objects"].as_array().unwrap() {
                    assert_eq!(
                        object["purpose"]["kind"], expected,
                        "{site} {file}: {}",
                        object["subject"]["rfc4514"]
                    );
                }
            }
        }
    }
}

fn openssl_serial(path: &std::path::Path) -> String {
    openssl(&["x509", "-in", path.to_str().unwrap(), "-noout", "-serial"])
        .trim()
        .trim_start_matches("serial=")
        .to_owned()
}

/// The name as RFC 2253/4514 text, with UTF-8 left as is rather than escaped as \C4\9F.
fn openssl_name(path: &std::path::Path, which: &str) -> String {
    let out = openssl(&[
        "x509",
        "-in",
        path.to_str().unwrap(),
        "-noout",
        which,
        "-nameopt",
        "RFC2253,-esc_msb",
    ]);
    out.trim().split_once('=').unwrap().1.to_owned()
}

/// Every root Debian ships decodes as a root CA (or at least a CA) with the same subject
/// and fingerprint as openssl reports.
#[test]
fn debian_roots() {
    let bundle = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
    if !bundle.exists() {
        panic!("install ca-certificates (apt-get install ca-certificates) or run scripts/test");
    }
    let docs = inspect_json(&[bundle.to_str().unwrap()]);
    let roots = docs[0]["objects"].as_array().unwrap();
    assert!(roots.len() > 100, "{} roots", roots.len());
    for root in roots {
        let subject = root["subject"]["rfc4514"].as_str().unwrap();
        let kind = root["purpose"]["kind"].as_str().unwrap();
        assert!(
            kind == "root_ca" || kind == "intermediate_ca",
            "{subject}: {kind}"
        );
        assert!(
            !finding_codes(root)
                .iter()
                .any(|c| c == "malformed_extension"),
            "{subject}"
        );
    }
    let self_signed = roots.iter().filter(|r| r["self_signed"] == true).count();
    assert!(
        self_signed * 10 >= roots.len() * 9,
        "{self_signed} of {} self-signed",
        roots.len()
    );

    // Spot-check subjects and fingerprints against openssl, one file per root.
    let mut checked = 0;
    for entry in std::fs::read_dir("/etc/ssl/certs")
        .unwrap()
        .flatten()
        .take(400)
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "pem") || checked >= 25 {
            continue;
        }
        let docs = inspect_json(&[path.to_str().unwrap()]);
        let cert = &docs[0]["objects"][0];
        let fingerprint = openssl(&[
            "x509",
            "-in",
            path.to_str().unwrap(),
            "-noout",
            "-fingerprint",
            "-sha256",
        ]);
        assert_eq!(
            cert["fingerprints"]["sha256"],
            fingerprint.trim().split_once('=').unwrap().1,
            "{}",
            path.display()
        );
        assert_eq!(
            cert["subject"]["rfc4514"],
            openssl_name(&path, "-subject"),
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 20);
}
