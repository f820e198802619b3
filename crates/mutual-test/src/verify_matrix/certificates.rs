//! The certificates of the matrix, as data: four families (ECDSA P-256, RSA, Ed25519, and a
//! small tree for OCSP), each certificate with its key, subject, issuer, dates and
//! extensions. `tree` signs them.
//!
//! One key serves the ordinary leaves of a family (keys are the slow part, and no case depends
//! on two leaves having different keys); every CA has its own.

use super::tree::{Layout, UNREACHABLE_OCSP_URL};

#[derive(Clone, Copy, Debug)]
pub(super) enum KeyKind {
    P256,
    Rsa2048,
    Rsa1024,
    Ed25519,
}

/// Every key, RSA first: they take longest, so they start first.
pub(super) const KEYS: &[(&str, KeyKind)] = &[
    ("rsa-root", KeyKind::Rsa2048),
    ("rsa-int", KeyKind::Rsa2048),
    ("rsa-leaf", KeyKind::Rsa2048),
    ("rsa-1024", KeyKind::Rsa1024),
    ("ec-root", KeyKind::P256),
    ("ec-int", KeyKind::P256),
    ("ec-int2", KeyKind::P256),
    ("ec-leaf", KeyKind::P256),
    ("ec-self", KeyKind::P256),
    ("ec-impostor", KeyKind::P256),
    ("ec-int-expired", KeyKind::P256),
    ("ec-int-server-only", KeyKind::P256),
    ("ec-int-not-ca", KeyKind::P256),
    ("ec-int-no-cert-sign", KeyKind::P256),
    ("ec-int-pathlen0", KeyKind::P256),
    ("ec-int-sub", KeyKind::P256),
    ("ec-int-nc", KeyKind::P256),
    ("ec-root-new", KeyKind::P256),
    ("ec-int-new", KeyKind::P256),
    ("ed-root", KeyKind::Ed25519),
    ("ed-int", KeyKind::Ed25519),
    ("ed-leaf", KeyKind::Ed25519),
    ("ocsp-root", KeyKind::P256),
    ("ocsp-int", KeyKind::P256),
    ("ocsp-signer", KeyKind::P256),
    ("ocsp-leaf", KeyKind::P256),
];

const CA_BC: &str = "basicConstraints = critical, CA:TRUE";
const CA_KU: &str = "keyUsage = critical, keyCertSign, cRLSign";
const LEAF_BC: &str = "basicConstraints = critical, CA:FALSE";
const KU_SIGN: &str = "keyUsage = critical, digitalSignature";
const KU_SIGN_RSA: &str = "keyUsage = critical, digitalSignature, keyEncipherment";
const SERVER: &str = "extendedKeyUsage = serverAuth";
const CLIENT: &str = "extendedKeyUsage = clientAuth";

/// GeneralNames { dNSName "dup.example.test" }, DER, hex: the value of `rsa-dup-san`'s
/// placeholder extension (2.5.29.99), which `tree` turns into a second subjectAltName because
/// `openssl ca` will not write the same extension twice.
const DUP_SAN_DER: &str = "301282106475702e6578616d706c652e74657374";

/// Validity windows, `openssl ca -startdate/-enddate` form. Leaves: 2026..2030; CAs wider.
const LEAF_FROM: &str = "20260101000000Z";
const LEAF_TO: &str = "20300101000000Z";
const CA_FROM: &str = "20250101000000Z";
const CA_TO: &str = "20350101000000Z";
/// The OCSP tree also covers the day the tests run, for `openssl ocsp` which checks the
/// response's signer at the current time.
pub(super) const OCSP_FROM: &str = "20200101000000Z";
pub(super) const OCSP_TO: &str = "20450101000000Z";

/// One certificate `openssl ca` signs.
#[derive(Clone, Debug)]
pub(super) struct CertSpec {
    pub(super) name: &'static str,
    pub(super) key: &'static str,
    pub(super) subject: &'static str,
    /// The issuing certificate's name; `None` for self-signed.
    pub(super) issuer: Option<&'static str>,
    pub(super) from: &'static str,
    pub(super) to: &'static str,
    /// `openssl ca -md`, when not the key's default (SHA-256 for RSA and ECDSA).
    pub(super) digest: Option<&'static str>,
    /// `x509v3_config` lines; key identifiers are added.
    pub(super) extensions: Vec<String>,
}

fn spec(
    name: &'static str,
    key: &'static str,
    subject: &'static str,
    issuer: Option<&'static str>,
    extensions: &[&str],
) -> CertSpec {
    let ca = extensions.iter().any(|line| line.contains("CA:TRUE"));
    let (from, to) = if ca {
        (CA_FROM, CA_TO)
    } else {
        (LEAF_FROM, LEAF_TO)
    };
    CertSpec {
        name,
        key,
        subject,
        issuer,
        from,
        to,
        digest: None,
        extensions: extensions.iter().map(|line| (*line).to_owned()).collect(),
    }
}

fn root(name: &'static str, key: &'static str, subject: &'static str) -> CertSpec {
    spec(name, key, subject, None, &[CA_BC, CA_KU])
}

fn intermediate(
    name: &'static str,
    key: &'static str,
    subject: &'static str,
    issuer: &'static str,
) -> CertSpec {
    spec(name, key, subject, Some(issuer), &[CA_BC, CA_KU])
}

/// A leaf with CA:FALSE and `extensions`.
fn leaf(
    name: &'static str,
    key: &'static str,
    subject: &'static str,
    issuer: &'static str,
    extensions: &[&str],
) -> CertSpec {
    let mut all = vec![LEAF_BC];
    all.extend(extensions);
    spec(name, key, subject, Some(issuer), &all)
}

/// An ECDSA server leaf for `dns`, issued by `issuer`.
fn ec_server(name: &'static str, subject: &'static str, issuer: &'static str) -> CertSpec {
    let dns = subject.trim_start_matches("/CN=");
    let san = format!("subjectAltName = DNS:{dns}");
    leaf(name, "ec-leaf", subject, issuer, &[KU_SIGN, SERVER, &san])
}

impl CertSpec {
    fn valid(mut self, from: &'static str, to: &'static str) -> CertSpec {
        self.from = from;
        self.to = to;
        self
    }

    fn digest(mut self, digest: &'static str) -> CertSpec {
        self.digest = Some(digest);
        self
    }

    fn extend(mut self, lines: &[&str]) -> CertSpec {
        self.extensions
            .extend(lines.iter().map(|line| (*line).to_owned()));
        self
    }
}

/// Every certificate, issuers before what they issue.
pub(super) fn certificates(layout: &Layout) -> Vec<CertSpec> {
    let ocsp_aia = format!("authorityInfoAccess = OCSP;URI:{}", layout.ocsp_url());
    let unreachable_aia = format!("authorityInfoAccess = OCSP;URI:{UNREACHABLE_OCSP_URL}");
    vec![
        // ECDSA P-256: the main family.
        root("ec-root", "ec-root", "/O=Mutual Matrix/CN=Matrix EC Root"),
        intermediate(
            "ec-int",
            "ec-int",
            "/O=Mutual Matrix/CN=Matrix EC Intermediate",
            "ec-root",
        ),
        intermediate(
            "ec-int2",
            "ec-int2",
            "/O=Mutual Matrix/CN=Matrix EC Intermediate 2",
            "ec-int",
        ),
        ec_server("ec-server", "/CN=server.example.test", "ec-int"),
        leaf(
            "ec-client",
            "ec-leaf",
            "/O=Mutual Matrix/CN=device-42",
            "ec-int",
            &[
                KU_SIGN,
                CLIENT,
                "subjectAltName = URI:spiffe://example.test/device/42",
            ],
        ),
        ec_server("ec-server2", "/CN=deep.example.test", "ec-int2"),
        leaf(
            "ec-wildcard",
            "ec-leaf",
            "/CN=*.example.test",
            "ec-int",
            &[KU_SIGN, SERVER, "subjectAltName = DNS:*.example.test"],
        ),
        leaf(
            "ec-wildcard-com",
            "ec-leaf",
            "/CN=*.com",
            "ec-int",
            &[KU_SIGN, SERVER, "subjectAltName = DNS:*.com"],
        ),
        leaf(
            "ec-ip",
            "ec-leaf",
            "/CN=ip-san",
            "ec-int",
            &[KU_SIGN, SERVER, "subjectAltName = IP:127.0.0.1, IP:::1"],
        ),
        leaf(
            "ec-cn-only",
            "ec-leaf",
            "/CN=cn-only.example.test",
            "ec-int",
            &[KU_SIGN, SERVER],
        ),
        leaf(
            "ec-no-eku",
            "ec-leaf",
            "/CN=no-eku.example.test",
            "ec-int",
            &[KU_SIGN, "subjectAltName = DNS:no-eku.example.test"],
        ),
        leaf(
            "ec-any-eku",
            "ec-leaf",
            "/CN=any-eku.example.test",
            "ec-int",
            &[
                KU_SIGN,
                "extendedKeyUsage = anyExtendedKeyUsage",
                "subjectAltName = DNS:any-eku.example.test",
            ],
        ),
        // CA:TRUE on a certificate used as a leaf.
        spec(
            "ec-ca-leaf",
            "ec-leaf",
            "/CN=ca-leaf.example.test",
            Some("ec-int"),
            &[
                CA_BC,
                KU_SIGN,
                SERVER,
                "subjectAltName = DNS:ca-leaf.example.test",
            ],
        )
        .valid(LEAF_FROM, LEAF_TO),
        leaf(
            "ec-email",
            "ec-leaf",
            "/CN=someone@example.test",
            "ec-int",
            &[
                KU_SIGN,
                "extendedKeyUsage = emailProtection",
                "subjectAltName = email:someone@example.test",
            ],
        ),
        leaf(
            "ec-ku-crl-sign",
            "ec-leaf",
            "/CN=ku-crl-sign.example.test",
            "ec-int",
            &[
                "keyUsage = critical, cRLSign",
                SERVER,
                "subjectAltName = DNS:ku-crl-sign.example.test",
            ],
        ),
        leaf(
            "ec-ku-non-repudiation",
            "ec-leaf",
            "/CN=ku-nr.example.test",
            "ec-int",
            &[
                "keyUsage = critical, nonRepudiation",
                SERVER,
                "subjectAltName = DNS:ku-nr.example.test",
            ],
        ),
        ec_server("ec-expired", "/CN=expired.example.test", "ec-int")
            .valid("20250101000000Z", "20260101000000Z"),
        ec_server(
            "ec-not-yet-valid",
            "/CN=not-yet-valid.example.test",
            "ec-int",
        )
        .valid("20270101000000Z", "20300101000000Z"),
        ec_server("ec-revoked", "/CN=revoked.example.test", "ec-int"),
        spec(
            "ec-self-signed",
            "ec-self",
            "/CN=self-signed.example.test",
            None,
            &[
                LEAF_BC,
                KU_SIGN,
                SERVER,
                "subjectAltName = DNS:self-signed.example.test",
            ],
        ),
        intermediate(
            "ec-int-expired",
            "ec-int-expired",
            "/O=Mutual Matrix/CN=Matrix EC Expired Intermediate",
            "ec-root",
        )
        .valid("20240101000000Z", "20260101000000Z"),
        ec_server(
            "ec-under-expired-int",
            "/CN=under-expired.example.test",
            "ec-int-expired",
        ),
        // The intermediate's subject with another key: not the issuer, whatever its name says.
        intermediate(
            "ec-impostor",
            "ec-impostor",
            "/O=Mutual Matrix/CN=Matrix EC Intermediate",
            "ec-root",
        ),
        intermediate(
            "ec-int-server-only",
            "ec-int-server-only",
            "/O=Mutual Matrix/CN=Matrix EC Server-only Intermediate",
            "ec-root",
        )
        .extend(&[SERVER]),
        ec_server(
            "ec-server-under-server-only",
            "/CN=eku-chained.example.test",
            "ec-int-server-only",
        ),
        leaf(
            "ec-client-under-server-only",
            "ec-leaf",
            "/CN=device-43",
            "ec-int-server-only",
            &[KU_SIGN, CLIENT],
        ),
        spec(
            "ec-int-not-ca",
            "ec-int-not-ca",
            "/O=Mutual Matrix/CN=Matrix EC Not-a-CA",
            Some("ec-root"),
            &["basicConstraints = critical, CA:FALSE", CA_KU],
        )
        .valid(CA_FROM, CA_TO),
        ec_server(
            "ec-under-not-ca",
            "/CN=under-not-ca.example.test",
            "ec-int-not-ca",
        ),
        spec(
            "ec-int-no-cert-sign",
            "ec-int-no-cert-sign",
            "/O=Mutual Matrix/CN=Matrix EC No-keyCertSign",
            Some("ec-root"),
            &[CA_BC, "keyUsage = critical, digitalSignature, cRLSign"],
        ),
        ec_server(
            "ec-under-no-cert-sign",
            "/CN=under-no-cert-sign.example.test",
            "ec-int-no-cert-sign",
        ),
        spec(
            "ec-int-pathlen0",
            "ec-int-pathlen0",
            "/O=Mutual Matrix/CN=Matrix EC Pathlen 0",
            Some("ec-root"),
            &["basicConstraints = critical, CA:TRUE, pathlen:0", CA_KU],
        ),
        intermediate(
            "ec-int-sub",
            "ec-int-sub",
            "/O=Mutual Matrix/CN=Matrix EC Below Pathlen 0",
            "ec-int-pathlen0",
        ),
        ec_server("ec-under-sub", "/CN=too-deep.example.test", "ec-int-sub"),
        intermediate(
            "ec-int-nc",
            "ec-int-nc",
            "/O=Mutual Matrix/CN=Matrix EC Name-constrained",
            "ec-root",
        )
        .extend(&[
            "nameConstraints = critical, permitted;DNS:allowed.example.test, \
                 excluded;DNS:forbidden.allowed.example.test",
        ]),
        ec_server("ec-nc-ok", "/CN=www.allowed.example.test", "ec-int-nc"),
        ec_server("ec-nc-outside", "/CN=www.example.org", "ec-int-nc"),
        ec_server(
            "ec-nc-excluded",
            "/CN=a.forbidden.allowed.example.test",
            "ec-int-nc",
        ),
        // Cross-signing: the new root, the same subject and key certified by the old root, and
        // an intermediate under the new one.
        root(
            "ec-root-new",
            "ec-root-new",
            "/O=Mutual Matrix/CN=Matrix EC New Root",
        ),
        intermediate(
            "ec-root-cross",
            "ec-root-new",
            "/O=Mutual Matrix/CN=Matrix EC New Root",
            "ec-root",
        ),
        intermediate(
            "ec-int-new",
            "ec-int-new",
            "/O=Mutual Matrix/CN=Matrix EC New Intermediate",
            "ec-root-new",
        ),
        ec_server("ec-under-new", "/CN=cross.example.test", "ec-int-new"),
        // RSA.
        root(
            "rsa-root",
            "rsa-root",
            "/O=Mutual Matrix/CN=Matrix RSA Root",
        ),
        intermediate(
            "rsa-int",
            "rsa-int",
            "/O=Mutual Matrix/CN=Matrix RSA Intermediate",
            "rsa-root",
        ),
        leaf(
            "rsa-server",
            "rsa-leaf",
            "/CN=rsa.example.test",
            "rsa-int",
            &[KU_SIGN_RSA, SERVER, "subjectAltName = DNS:rsa.example.test"],
        ),
        leaf(
            "rsa-client",
            "rsa-leaf",
            "/O=Mutual Matrix/CN=rsa-client",
            "rsa-int",
            &[
                KU_SIGN_RSA,
                CLIENT,
                "subjectAltName = email:rsa-client@example.test",
            ],
        ),
        leaf(
            "rsa-sha1",
            "rsa-leaf",
            "/CN=sha1.example.test",
            "rsa-int",
            &[
                KU_SIGN_RSA,
                SERVER,
                "subjectAltName = DNS:sha1.example.test",
            ],
        )
        .digest("sha1"),
        leaf(
            "rsa-md5",
            "rsa-leaf",
            "/CN=md5.example.test",
            "rsa-int",
            &[KU_SIGN_RSA, SERVER, "subjectAltName = DNS:md5.example.test"],
        )
        .digest("md5"),
        // serverAuth and clientAuth, but keyEncipherment only: RSA key transport (server)
        // works, a client's handshake signature does not.
        leaf(
            "rsa-ku-key-encipherment",
            "rsa-leaf",
            "/CN=ku-ke.example.test",
            "rsa-int",
            &[
                "keyUsage = critical, keyEncipherment",
                "extendedKeyUsage = serverAuth, clientAuth",
                "subjectAltName = DNS:ku-ke.example.test",
            ],
        ),
        leaf(
            "rsa-1024",
            "rsa-1024",
            "/CN=rsa1024.example.test",
            "rsa-int",
            &[
                KU_SIGN_RSA,
                SERVER,
                "subjectAltName = DNS:rsa1024.example.test",
            ],
        ),
        leaf(
            "rsa-dup-san",
            "rsa-leaf",
            "/CN=dup.example.test",
            "rsa-int",
            &[
                KU_SIGN_RSA,
                SERVER,
                "subjectAltName = DNS:dup.example.test",
                &format!("2.5.29.99 = DER:{DUP_SAN_DER}"),
            ],
        ),
        // Ed25519.
        root(
            "ed-root",
            "ed-root",
            "/O=Mutual Matrix/CN=Matrix Ed25519 Root",
        ),
        intermediate(
            "ed-int",
            "ed-int",
            "/O=Mutual Matrix/CN=Matrix Ed25519 Intermediate",
            "ed-root",
        ),
        leaf(
            "ed-server",
            "ed-leaf",
            "/CN=ed25519.example.test",
            "ed-int",
            &[KU_SIGN, SERVER, "subjectAltName = DNS:ed25519.example.test"],
        ),
        leaf(
            "ed-client",
            "ed-leaf",
            "/O=Mutual Matrix/CN=ed-client",
            "ed-int",
            &[
                KU_SIGN,
                CLIENT,
                "subjectAltName = URI:spiffe://example.test/ed-client",
            ],
        ),
        // OCSP: a delegated responder and leaves naming it in their AIA.
        root(
            "ocsp-root",
            "ocsp-root",
            "/O=Mutual Matrix/CN=Matrix OCSP Root",
        )
        .valid(OCSP_FROM, OCSP_TO),
        intermediate(
            "ocsp-int",
            "ocsp-int",
            "/O=Mutual Matrix/CN=Matrix OCSP Intermediate",
            "ocsp-root",
        )
        .valid(OCSP_FROM, OCSP_TO),
        leaf(
            "ocsp-signer",
            "ocsp-signer",
            "/O=Mutual Matrix/CN=Matrix OCSP Responder",
            "ocsp-int",
            &[
                KU_SIGN,
                "extendedKeyUsage = OCSPSigning",
                "noCheck = ignored",
            ],
        )
        .valid(OCSP_FROM, OCSP_TO),
        leaf(
            "ocsp-good",
            "ocsp-leaf",
            "/CN=ocsp-good.example.test",
            "ocsp-int",
            &[
                KU_SIGN,
                SERVER,
                "subjectAltName = DNS:ocsp-good.example.test",
                &ocsp_aia,
            ],
        )
        .valid(OCSP_FROM, OCSP_TO),
        leaf(
            "ocsp-revoked",
            "ocsp-leaf",
            "/CN=ocsp-revoked.example.test",
            "ocsp-int",
            &[
                KU_SIGN,
                SERVER,
                "subjectAltName = DNS:ocsp-revoked.example.test",
                &ocsp_aia,
            ],
        )
        .valid(OCSP_FROM, OCSP_TO),
        leaf(
            "ocsp-unreachable",
            "ocsp-leaf",
            "/CN=ocsp-unreachable.example.test",
            "ocsp-int",
            &[
                KU_SIGN,
                SERVER,
                "subjectAltName = DNS:ocsp-unreachable.example.test",
                &unreachable_aia,
            ],
        )
        .valid(OCSP_FROM, OCSP_TO),
    ]
}
