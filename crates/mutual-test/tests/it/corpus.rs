//! Every corpus certificate has the shape its name promises, as `openssl` itself reads it.

use mutual_test::{Corpus, openssl, openssl_output, pem_to_der};

/// What `openssl x509 -noout -ext ...` must print for a certificate (substrings), and what
/// it must not.
struct Expect {
    name: &'static str,
    has: &'static [&'static str],
    lacks: &'static [&'static str],
}

const SERVER: &str = "TLS Web Server Authentication";
const CLIENT: &str = "TLS Web Client Authentication";
const EKU: &str = "X509v3 Extended Key Usage";
const SAN: &str = "X509v3 Subject Alternative Name";
const NOT_CA: &str = "CA:FALSE";

const EXPECTED: &[Expect] = &[
    Expect {
        name: "root",
        has: &["CA:TRUE", "Certificate Sign, CRL Sign"],
        lacks: &["pathlen", EKU],
    },
    Expect {
        name: "intermediate",
        has: &["CA:TRUE, pathlen:0", "Certificate Sign, CRL Sign"],
        lacks: &[EKU],
    },
    Expect {
        name: "server-rsa2048",
        has: &[
            NOT_CA,
            SERVER,
            "DNS:server-rsa2048.example.test",
            "Digital Signature",
        ],
        lacks: &[CLIENT],
    },
    Expect {
        name: "server-rsa3072",
        has: &[NOT_CA, SERVER, "DNS:server-rsa3072.example.test"],
        lacks: &[CLIENT],
    },
    Expect {
        name: "server-p256",
        has: &[NOT_CA, SERVER, "DNS:server-p256.example.test"],
        lacks: &[CLIENT],
    },
    Expect {
        name: "server-p384",
        has: &[NOT_CA, SERVER, "DNS:server-p384.example.test"],
        lacks: &[CLIENT],
    },
    Expect {
        name: "server-ed25519",
        has: &[NOT_CA, SERVER, "DNS:server-ed25519.example.test"],
        lacks: &[CLIENT],
    },
    Expect {
        name: "client",
        has: &[
            NOT_CA,
            CLIENT,
            "Digital Signature",
            "email:client@example.test",
        ],
        lacks: &[SERVER, "DNS:", "Key Encipherment"],
    },
    Expect {
        name: "server-client",
        has: &[
            NOT_CA,
            "TLS Web Server Authentication, TLS Web Client Authentication",
        ],
        lacks: &[],
    },
    Expect {
        name: "no-eku",
        has: &[NOT_CA, "Digital Signature", "DNS:no-eku.example.test"],
        lacks: &[EKU],
    },
    Expect {
        name: "any-eku",
        has: &[NOT_CA, "Any Extended Key Usage"],
        lacks: &[SERVER, CLIENT],
    },
    Expect {
        name: "ocsp-signer",
        has: &[NOT_CA, "OCSP Signing"],
        lacks: &[SERVER, CLIENT, SAN],
    },
    Expect {
        name: "ku-eku-conflict",
        has: &[NOT_CA, SERVER, "CRL Sign"],
        lacks: &["Digital Signature", "Certificate Sign", "CA:TRUE"],
    },
    Expect {
        name: "server-cn-only",
        has: &[NOT_CA, SERVER, "CN = server-cn-only.example.test"],
        lacks: &[SAN],
    },
    Expect {
        name: "server-ip-san",
        has: &[NOT_CA, SERVER, "IP Address:127.0.0.1"],
        lacks: &["DNS:"],
    },
    Expect {
        name: "client-email-san",
        has: &[NOT_CA, CLIENT, "email:alice@example.test", "OU = People"],
        lacks: &[SERVER],
    },
    Expect {
        name: "client-uri-san",
        has: &[NOT_CA, CLIENT, "URI:spiffe://example.test/workload/api"],
        lacks: &[SERVER, "DNS:"],
    },
    Expect {
        name: "client-with-dns-san",
        has: &[NOT_CA, CLIENT, "DNS:client-with-dns-san.example.test"],
        lacks: &[SERVER],
    },
    Expect {
        name: "leaf-ca-true",
        has: &["CA:TRUE", SERVER, "DNS:leaf-ca-true.example.test"],
        lacks: &["Certificate Sign"],
    },
    Expect {
        name: "self-signed-leaf",
        has: &[NOT_CA, SERVER, "DNS:self-signed-leaf.example.test"],
        lacks: &[],
    },
    Expect {
        name: "expired",
        has: &[NOT_CA, SERVER, "notAfter=Feb  1 00:00:00 2020 GMT"],
        lacks: &[],
    },
];

fn describe(corpus: &Corpus, name: &str) -> String {
    let cert = corpus.cert(name);
    let cert = cert.to_str().expect("UTF-8 path");
    openssl(&[
        "x509",
        "-in",
        cert,
        "-noout",
        "-subject",
        "-issuer",
        "-dates",
        "-ext",
        "basicConstraints,keyUsage,extendedKeyUsage,subjectAltName",
    ])
}

/// `openssl verify` against root + intermediate: `Ok` or the verifier's complaint.
fn verify(corpus: &Corpus, name: &str, purpose: Option<&str>) -> Result<(), String> {
    let (root, intermediate, leaf) = (
        corpus.cert("root"),
        corpus.cert("intermediate"),
        corpus.cert(name),
    );
    let mut args = vec![
        "verify",
        "-CAfile",
        root.to_str().expect("UTF-8 path"),
        "-untrusted",
        intermediate.to_str().expect("UTF-8 path"),
    ];
    if let Some(purpose) = purpose {
        args.extend(["-purpose", purpose]);
    }
    args.push(leaf.to_str().expect("UTF-8 path"));
    let output = openssl_output(&args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(text)
    }
}

#[test]
fn corpus_has_the_promised_shapes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = Corpus::generate(dir.path());

    let mut described: Vec<&str> = EXPECTED.iter().map(|e| e.name).collect();
    described.sort_unstable();
    let mut names = corpus.names();
    names.extend(["root", "intermediate"]);
    names.sort_unstable();
    assert_eq!(described, names, "every corpus entry has expectations here");

    for expect in EXPECTED {
        let text = describe(&corpus, expect.name);
        for has in expect.has {
            assert!(text.contains(has), "{} lacks `{has}`:\n{text}", expect.name);
        }
        for lacks in expect.lacks {
            assert!(
                !text.contains(lacks),
                "{} has `{lacks}`:\n{text}",
                expect.name
            );
        }
        assert!(
            corpus.key(expect.name).exists(),
            "{} has no key file",
            expect.name
        );
        assert_eq!(
            pem_to_der(corpus.cert(expect.name)).len(),
            1,
            "{}.pem holds exactly one certificate",
            expect.name
        );
    }

    let key_types = [
        ("server-rsa2048", "Public-Key: (2048 bit)"),
        ("server-rsa3072", "Public-Key: (3072 bit)"),
        ("server-p256", "NIST CURVE: P-256"),
        ("server-p384", "NIST CURVE: P-384"),
        ("server-ed25519", "ED25519"),
    ];
    for (name, key_type) in key_types {
        let cert = corpus.cert(name);
        let text = openssl(&[
            "x509",
            "-in",
            cert.to_str().expect("UTF-8"),
            "-noout",
            "-text",
        ]);
        assert!(text.contains(key_type), "{name} is not {key_type}:\n{text}");
    }

    // Self-issued: root and the self-signed leaf; everything else chains to the intermediate.
    for name in ["root", "self-signed-leaf"] {
        let text = describe(&corpus, name);
        let subject = text.lines().find_map(|l| l.strip_prefix("subject="));
        let issuer = text.lines().find_map(|l| l.strip_prefix("issuer="));
        assert_eq!(subject, issuer, "{name} is self-issued:\n{text}");
    }
    assert!(
        describe(&corpus, "server-p256")
            .contains("issuer=O = Mutual Test, CN = Mutual Test Intermediate CA")
    );
}

#[test]
fn openssl_verifies_the_corpus_as_expected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = Corpus::generate(dir.path());

    let chains = [
        "server-rsa2048",
        "server-rsa3072",
        "server-p256",
        "server-p384",
        "server-ed25519",
        "client",
        "server-client",
        "no-eku",
        "any-eku",
        "ocsp-signer",
        "ku-eku-conflict",
        "server-cn-only",
        "server-ip-san",
        "client-email-san",
        "client-uri-san",
        "client-with-dns-san",
    ];
    for name in chains {
        if let Err(complaint) = verify(&corpus, name, None) {
            panic!("openssl verify rejects {name}:\n{complaint}");
        }
    }
    for name in ["server-p256", "server-client", "no-eku"] {
        verify(&corpus, name, Some("sslserver")).expect("a TLS server certificate");
    }
    for name in [
        "client",
        "server-client",
        "client-uri-san",
        "client-email-san",
    ] {
        verify(&corpus, name, Some("sslclient")).expect("a TLS client certificate");
    }

    let rejected = [
        (
            "client",
            Some("sslserver"),
            "unsuitable certificate purpose",
        ),
        (
            "server-p256",
            Some("sslclient"),
            "unsuitable certificate purpose",
        ),
        (
            "ocsp-signer",
            Some("sslserver"),
            "unsuitable certificate purpose",
        ),
        (
            "ku-eku-conflict",
            Some("sslserver"),
            "unsuitable certificate purpose",
        ),
        // OpenSSL 3.0 does not let anyExtendedKeyUsage stand in for serverAuth; other
        // verifiers differ, which is why the corpus has this case.
        (
            "any-eku",
            Some("sslserver"),
            "unsuitable certificate purpose",
        ),
        ("expired", None, "certificate has expired"),
        ("self-signed-leaf", None, "self-signed certificate"),
    ];
    for (name, purpose, why) in rejected {
        match verify(&corpus, name, purpose) {
            Ok(()) => panic!("openssl verify accepts {name} for {purpose:?}"),
            Err(complaint) => assert!(complaint.contains(why), "{name}: {complaint}"),
        }
    }
}
