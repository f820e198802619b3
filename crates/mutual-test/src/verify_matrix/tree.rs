//! The files of the matrix: the certificates of `certificates`, each signed by `openssl ca`
//! with explicit dates and a fixed serial, plus the files derived from them (bundles, DER,
//! PKCS#12, CRLs, a hashed trust directory, a broken signature, a duplicated extension, the
//! OCSP index).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::thread;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::certificates::{CertSpec, KEYS, KeyKind, certificates};
use crate::pem::pem_to_der;
use crate::tools::openssl;

/// Where every file of the matrix lives, under its directory.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    dir: PathBuf,
    ocsp_port: u16,
}

/// Derived files, relative to the matrix directory.
pub(super) const LEAF_WITH_CHAIN: &str = "cases/ec-server-with-chain.pem";
pub(super) const DER_LEAF: &str = "cases/rsa-client.der";
pub(super) const P12_WITH_CHAIN: &str = "cases/ec-client-with-chain.p12";
pub(super) const P12_LEAF_ONLY: &str = "cases/rsa-server.p12";
pub(super) const P12_PASSWORD: &str = "cases/p12-password.txt";
pub(super) const OUT_OF_ORDER_BUNDLE: &str = "cases/untrusted-out-of-order.pem";
pub(super) const BAD_SIGNATURE: &str = "cases/ec-server-bad-signature.pem";
pub(super) const TRUST_DIR: &str = "trust-dir";
pub(super) const CRL_EC_INT: &str = "crl/ec-int.crl.pem";
pub(super) const CRL_EC_INT_EXPIRED: &str = "crl/ec-int-expired.crl.pem";
pub(super) const CRL_EC_ROOT: &str = "crl/ec-root.crl.pem";
const OCSP_INDEX: &str = "ocsp/index.txt";
const PASSWORD: &str = "mutual-matrix";

/// An OCSP URL where nothing listens: port 1 (tcpmux) is privileged and unused.
pub(super) const UNREACHABLE_OCSP_URL: &str = "http://127.0.0.1:1";

impl Layout {
    pub(super) fn new(dir: &Path, ocsp_port: u16) -> Layout {
        Layout {
            dir: dir.to_path_buf(),
            ocsp_port,
        }
    }

    /// `certs/NAME.pem`: a certificate alone, PEM.
    pub(super) fn cert(&self, name: &str) -> PathBuf {
        self.dir.join("certs").join(format!("{name}.pem"))
    }

    /// `keys/NAME.key.pem`: a private key, PKCS#8 PEM.
    pub(super) fn key(&self, name: &str) -> PathBuf {
        self.dir.join("keys").join(format!("{name}.key.pem"))
    }

    /// A file of the matrix, from its path relative to the directory.
    pub(super) fn file(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    pub(super) fn ocsp_index(&self) -> PathBuf {
        self.file(OCSP_INDEX)
    }

    /// The responder URL in the AIA of the OCSP tree's leaves.
    pub(super) fn ocsp_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ocsp_port)
    }

    fn request(&self, key: &str) -> PathBuf {
        self.dir.join("keys").join(format!("{key}.csr.pem"))
    }

    fn signing(&self, file: &str) -> PathBuf {
        self.dir.join("signing").join(file)
    }
}

/// A placeholder extension OID (2.5.29.99, unassigned) as long as subjectAltName's
/// (2.5.29.17): `rsa-dup-san` is signed with both, then the placeholder's OID is patched to
/// 2.5.29.17 and the certificate re-signed, because `openssl ca` will not write the same
/// extension twice.
const PLACEHOLDER_OID: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x63];
const SAN_OID: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x11];
/// Generates every file of the matrix under `layout`.
pub(super) fn generate(layout: &Layout) {
    for sub in [
        "keys",
        "certs",
        "cases",
        "crl",
        "ocsp",
        TRUST_DIR,
        "signing/new",
    ] {
        let path = layout.file(sub);
        fs::create_dir_all(&path)
            .unwrap_or_else(|error| panic!("creating `{}`: {error}", path.display()));
    }
    let specs = certificates(layout);
    // Key generation dominates (RSA especially) and each key is independent.
    thread::scope(|scope| {
        for (name, kind) in KEYS {
            scope.spawn(|| key_and_request(layout, name, *kind));
        }
    });
    let config = write_config(layout);
    let serials: Vec<(&str, u32)> = specs
        .iter()
        .zip(0x1000_u32..)
        .map(|(spec, serial)| (spec.name, serial))
        .collect();
    for (spec, (_, serial)) in specs.iter().zip(&serials) {
        sign(layout, &config, &specs, spec, *serial);
    }
    let serial_of = |name: &str| -> u32 {
        serials
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, serial)| *serial)
            .unwrap_or_else(|| panic!("no certificate `{name}` in the matrix tree"))
    };
    derive_files(layout);
    duplicate_san(layout);
    trust_dir(layout);
    crls(layout, &config, serial_of("ec-revoked"));
    ocsp_index(layout, &serial_of);
}

fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("`{}` is not UTF-8", path.display()))
}

fn write(path: &Path, contents: impl AsRef<[u8]>) {
    fs::write(path, contents)
        .unwrap_or_else(|error| panic!("writing `{}`: {error}", path.display()));
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|error| panic!("reading `{}`: {error}", path.display()))
}

fn key_and_request(layout: &Layout, name: &str, kind: KeyKind) {
    let key = layout.key(name);
    let algorithm: &[&str] = match kind {
        KeyKind::P256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        KeyKind::Rsa2048 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        KeyKind::Rsa1024 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        KeyKind::Ed25519 => &["-algorithm", "ED25519"],
    };
    let mut args = vec!["genpkey"];
    args.extend(algorithm);
    args.extend(["-out", path_str(&key)]);
    openssl(&args);
    // Only the key matters: `openssl ca -subj` gives each certificate its subject.
    let request = layout.request(name);
    openssl(&[
        "req",
        "-new",
        "-key",
        path_str(&key),
        "-subj",
        "/CN=placeholder",
        "-out",
        path_str(&request),
    ]);
}

/// Writes the `openssl ca` configuration: one section signing certificates, one per CRL
/// issuer with its own hand-written database. Returns its path.
fn write_config(layout: &Layout) -> PathBuf {
    let signing = layout.signing("");
    let signing = path_str(&signing).trim_end_matches('/');
    write(&layout.signing("index.txt"), "");
    let mut config = format!(
        "# Written by mutual-test's VerifyMatrix: a throwaway `openssl ca`.\n\
         [ ca ]\n\
         default_ca = sign\n\
         \n\
         [ sign ]\n\
         database = {signing}/index.txt\n\
         new_certs_dir = {signing}/new\n\
         serial = {signing}/serial\n\
         default_md = default\n\
         policy = any_subject\n\
         unique_subject = no\n\
         email_in_dn = no\n\
         copy_extensions = none\n\
         \n\
         [ any_subject ]\n\
         commonName = optional\n\
         \n\
         [ crl_extensions ]\n\
         authorityKeyIdentifier = keyid:always\n"
    );
    for (section, _) in CRLS {
        let _ = write!(
            config,
            "\n[ {section} ]\n\
             database = {signing}/{section}/index.txt\n\
             crlnumber = {signing}/{section}/crlnumber\n\
             default_md = default\n\
             crl_extensions = crl_extensions\n"
        );
    }
    let path = layout.signing("ca.cnf");
    write(&path, config);
    path
}

fn sign(layout: &Layout, config: &Path, specs: &[CertSpec], spec: &CertSpec, serial: u32) {
    let mut extensions = String::from("[ extensions ]\n");
    for line in &spec.extensions {
        extensions.push_str(line);
        extensions.push('\n');
    }
    extensions.push_str("subjectKeyIdentifier = hash\n");
    if spec.issuer.is_some() {
        extensions.push_str("authorityKeyIdentifier = keyid:always\n");
    }
    let extfile = layout.signing(&format!("{}.ext.cnf", spec.name));
    write(&extfile, extensions);
    write(&layout.signing("serial"), format!("{serial:X}\n"));

    let (request, out) = (layout.request(spec.key), layout.cert(spec.name));
    let mut args = vec![
        "ca",
        "-config",
        path_str(config),
        "-batch",
        "-notext",
        "-preserveDN",
        "-subj",
        spec.subject,
        "-in",
        path_str(&request),
        "-out",
        path_str(&out),
        "-startdate",
        spec.from,
        "-enddate",
        spec.to,
        "-extfile",
        path_str(&extfile),
        "-extensions",
        "extensions",
    ];
    if let Some(digest) = spec.digest {
        args.extend(["-md", digest]);
    }
    let (own_key, issuer_cert, issuer_key);
    match spec.issuer {
        None => {
            own_key = layout.key(spec.key);
            args.extend(["-selfsign", "-keyfile", path_str(&own_key)]);
        }
        Some(issuer) => {
            let issuer_spec = specs
                .iter()
                .find(|candidate| candidate.name == issuer)
                .unwrap_or_else(|| panic!("`{}`: no issuer `{issuer}` in the tree", spec.name));
            issuer_cert = layout.cert(issuer);
            issuer_key = layout.key(issuer_spec.key);
            args.extend([
                "-cert",
                path_str(&issuer_cert),
                "-keyfile",
                path_str(&issuer_key),
            ]);
        }
    }
    openssl(&args);
}

/// Bundles, DER, PKCS#12 and the broken signature, from the signed certificates.
fn derive_files(layout: &Layout) {
    let cat = |files: &[&str]| -> Vec<u8> {
        files
            .iter()
            .flat_map(|name| read(&layout.cert(name)))
            .collect()
    };
    write(&layout.file(LEAF_WITH_CHAIN), cat(&["ec-server", "ec-int"]));
    // Upper intermediate first, an unrelated certificate between, the leaf's issuer last.
    write(
        &layout.file(OUT_OF_ORDER_BUNDLE),
        cat(&["ec-int", "rsa-client", "ec-int2"]),
    );
    write(
        &layout.file(DER_LEAF),
        single_der(&layout.cert("rsa-client")),
    );

    let mut broken = single_der(&layout.cert("ec-server"));
    // The last byte of the ECDSA signature (s): still well-formed DER, no longer valid.
    *broken.last_mut().expect("a certificate is not empty") ^= 0x01;
    write(&layout.file(BAD_SIGNATURE), pem("CERTIFICATE", &broken));

    let password = layout.file(P12_PASSWORD);
    write(&password, PASSWORD);
    let passout = format!("file:{}", path_str(&password));
    pkcs12(
        layout,
        "ec-client",
        "ec-leaf",
        Some("ec-int"),
        &passout,
        P12_WITH_CHAIN,
    );
    pkcs12(
        layout,
        "rsa-server",
        "rsa-leaf",
        None,
        &passout,
        P12_LEAF_ONLY,
    );
}

fn pkcs12(layout: &Layout, cert: &str, key: &str, chain: Option<&str>, passout: &str, out: &str) {
    let (cert_path, key_path, out_path) = (layout.cert(cert), layout.key(key), layout.file(out));
    let chain_path = chain.map(|name| layout.cert(name));
    let mut args = vec![
        "pkcs12",
        "-export",
        "-in",
        path_str(&cert_path),
        "-inkey",
        path_str(&key_path),
        "-name",
        cert,
        "-passout",
        passout,
        "-out",
        path_str(&out_path),
    ];
    if let Some(chain) = &chain_path {
        args.extend(["-certfile", path_str(chain)]);
    }
    openssl(&args);
}

/// `rsa-dup-san` with its placeholder extension turned into a second subjectAltName, then
/// re-signed by `rsa-int`: a certificate whose only fault is the duplicated extension.
fn duplicate_san(layout: &Layout) {
    let path = layout.cert("rsa-dup-san");
    let mut der = single_der(&path);
    let (tbs_start, tbs_end) = {
        let (header, length) = der_header(&der, 0);
        let (tbs_header, tbs_length) = der_header(&der, header);
        assert_eq!(
            header + length,
            der.len(),
            "`{}`: trailing bytes",
            path.display()
        );
        (header, header + tbs_header + tbs_length)
    };
    let tbs = &mut der[tbs_start..tbs_end];
    let found: Vec<usize> = tbs
        .windows(PLACEHOLDER_OID.len())
        .enumerate()
        .filter(|(_, window)| *window == PLACEHOLDER_OID)
        .map(|(at, _)| at)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "`{}`: the placeholder OID once",
        path.display()
    );
    tbs[found[0]..found[0] + SAN_OID.len()].copy_from_slice(SAN_OID);
    let tbs_path = layout.signing("rsa-dup-san.tbs.der");
    let signature_path = layout.signing("rsa-dup-san.sig");
    write(&tbs_path, &der[tbs_start..tbs_end]);
    let issuer_key = layout.key("rsa-int");
    openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        path_str(&issuer_key),
        "-out",
        path_str(&signature_path),
        path_str(&tbs_path),
    ]);
    let signature = read(&signature_path);
    // RSA-2048 PKCS#1 v1.5: always 256 bytes, the BIT STRING's last bytes; no length changes.
    assert_eq!(signature.len(), 256, "an RSA-2048 signature");
    let at = der.len() - signature.len();
    assert_eq!(
        &der[at - 5..at],
        &[0x03, 0x82, 0x01, 0x01, 0x00],
        "a 256-byte BIT STRING"
    );
    der[at..].copy_from_slice(&signature);
    write(&path, pem("CERTIFICATE", &der));
}

/// The roots in a directory `openssl verify -CApath` reads: `<subject hash>.N`.
fn trust_dir(layout: &Layout) {
    for root in ["ec-root", "rsa-root", "ed-root"] {
        let cert = layout.cert(root);
        let hash = openssl(&["x509", "-noout", "-subject_hash", "-in", path_str(&cert)]);
        let hash = hash.trim();
        let target = (0..)
            .map(|n| layout.file(&format!("{TRUST_DIR}/{hash}.{n}")))
            .find(|candidate| !candidate.exists())
            .expect("some suffix is free");
        write(&target, read(&cert));
    }
}

/// `(section, issuer)` of each CRL `openssl ca -gencrl` makes.
const CRLS: &[(&str, &str)] = &[
    ("crl_ec_int", "ec-int"),
    ("crl_ec_int_expired", "ec-int"),
    ("crl_ec_root", "ec-root"),
];

/// The CRLs: `ec-int`'s listing `ec-revoked` (current at AT, and one that expired before AT)
/// and `ec-root`'s, empty. The databases are written here so the revocation date is fixed.
fn crls(layout: &Layout, config: &Path, revoked_serial: u32) {
    let revoked = format!(
        "R\t300101000000Z\t260315000000Z,keyCompromise\t{revoked_serial:X}\tunknown\t/CN=revoked.example.test\n"
    );
    let outputs = [
        (
            CRL_EC_INT,
            revoked.as_str(),
            "20260501000000Z",
            "20260701000000Z",
            "02",
        ),
        (
            CRL_EC_INT_EXPIRED,
            revoked.as_str(),
            "20260101000000Z",
            "20260201000000Z",
            "01",
        ),
        (CRL_EC_ROOT, "", "20260501000000Z", "20260701000000Z", "01"),
    ];
    for ((section, issuer), (out, index, last, next, number)) in CRLS.iter().zip(outputs) {
        let database = layout.signing(section);
        fs::create_dir_all(&database)
            .unwrap_or_else(|error| panic!("creating `{}`: {error}", database.display()));
        write(&database.join("index.txt"), index);
        write(&database.join("crlnumber"), format!("{number}\n"));
        let (cert, key, out) = (layout.cert(issuer), layout.key(issuer), layout.file(out));
        openssl(&[
            "ca",
            "-config",
            path_str(config),
            "-name",
            section,
            "-gencrl",
            "-cert",
            path_str(&cert),
            "-keyfile",
            path_str(&key),
            "-crl_lastupdate",
            last,
            "-crl_nextupdate",
            next,
            "-out",
            path_str(&out),
        ]);
    }
}

/// The `openssl ocsp -index` database of `ocsp-int`: `ocsp-revoked` revoked, the rest good.
fn ocsp_index(layout: &Layout, serial_of: &dyn Fn(&str) -> u32) {
    let mut index = String::new();
    for (name, subject) in [
        ("ocsp-signer", "/O=Mutual Matrix/CN=Matrix OCSP Responder"),
        ("ocsp-good", "/CN=ocsp-good.example.test"),
        ("ocsp-unreachable", "/CN=ocsp-unreachable.example.test"),
    ] {
        let _ = writeln!(
            index,
            "V\t450101000000Z\t\t{:X}\tunknown\t{subject}",
            serial_of(name)
        );
    }
    let _ = writeln!(
        index,
        "R\t450101000000Z\t260315000000Z,keyCompromise\t{:X}\tunknown\t/CN=ocsp-revoked.example.test",
        serial_of("ocsp-revoked")
    );
    write(&layout.ocsp_index(), index);
}

/// The DER of the one certificate in the PEM file at `path`.
fn single_der(path: &Path) -> Vec<u8> {
    let mut blocks = pem_to_der(path);
    assert_eq!(blocks.len(), 1, "`{}`: one PEM block", path.display());
    blocks.remove(0)
}

/// `(header length, content length)` of the DER element at `at`.
fn der_header(der: &[u8], at: usize) -> (usize, usize) {
    let first = usize::from(der[at + 1]);
    if first < 0x80 {
        return (2, first);
    }
    let count = first & 0x7f;
    let length = der[at + 2..at + 2 + count]
        .iter()
        .fold(0, |length, byte| length << 8 | usize::from(*byte));
    (2 + count, length)
}

fn pem(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    let _ = writeln!(text, "-----END {label}-----");
    text
}
