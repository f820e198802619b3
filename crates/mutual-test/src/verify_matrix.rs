//! The `mutual verify` matrix: certificate chains built by the real `openssl` CLI, one case per
//! way a chain can be valid or invalid, each with the verdict and the exact diagnosis codes
//! `mutual verify` must give, and the equivalent `openssl verify` invocation.
//!
//! Every case is judged at [`VerifyMatrix::AT`] (2026-06-01T00:00:00Z): certificates carry
//! explicit dates, so the verdicts never depend on the day the tests run. Keys are fresh on
//! each generation; subjects, extensions, serials and dates are fixed.
//!
//! `openssl verify` is run as `-x509_strict -auth_level 2`: strict RFC 5280 checks (the
//! closest to webpki) and 112-bit security, which is where mutual draws the line for keys
//! (RSA < 2048 is `weak_key`) and signatures (SHA-1 and MD5 are
//! `unsupported_signature_algorithm`). Where mutual is deliberately stricter than that, the
//! case says so with [`OpensslExpectation::Differs`] and the RFC clause.

mod cases;
mod certificates;
mod manifest;
mod tree;

use std::ffi::OsString;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::macros::datetime;

use crate::ocsp::{OcspResponder, OcspResponderBuilder};

/// Every error code `mutual verify` reports, in the order.
pub const ERROR_CODES: &[&str] = &[
    "eku_mismatch",
    "ku_eku_inconsistent",
    "no_usable_purpose",
    "unknown_issuer",
    "untrusted_root",
    "expired",
    "not_yet_valid",
    "hostname_mismatch",
    "revoked",
    "revocation_unknown",
    "ca_not_authorized",
    "path_length_exceeded",
    "name_constraints_violated",
    "bad_signature",
    "unsupported_signature_algorithm",
    "weak_key",
    "self_signed_leaf",
    "max_depth_exceeded",
    "malformed_certificate",
];

/// Every warning code `mutual verify` reports.
pub const WARNING_CODES: &[&str] = &["chain_order", "no_eku"];

/// The purpose a chain is validated for (`mutual verify --purpose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// EKU serverAuth (or no EKU) on the leaf and on every intermediate carrying an EKU.
    Server,
    /// EKU clientAuth (or no EKU), likewise.
    Client,
    /// Any TLS use: serverAuth, clientAuth or no EKU.
    Any,
}

impl Purpose {
    /// The `--purpose` value: `server`, `client` or `any`.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Server => "server",
            Purpose::Client => "client",
            Purpose::Any => "any",
        }
    }

    /// The `openssl verify -purpose` value: `sslserver`, `sslclient` or `any`.
    pub fn openssl_name(self) -> &'static str {
        match self {
            Purpose::Server => "sslserver",
            Purpose::Client => "sslclient",
            Purpose::Any => "any",
        }
    }
}

/// What the leaf file of a case holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafFormat {
    /// One PEM certificate.
    Pem,
    /// PEM: the leaf, then its chain (untrusted intermediates), in order.
    PemWithChain,
    /// One DER certificate.
    Der,
    /// PKCS#12 (OpenSSL 3 defaults: AES-256-CBC, PBKDF2, HMAC-SHA256) holding the leaf, its
    /// key and possibly its chain; the password is in [`Case::password_file`].
    Pkcs12,
}

impl LeafFormat {
    fn as_str(self) -> &'static str {
        match self {
            LeafFormat::Pem => "pem",
            LeafFormat::PemWithChain => "pem_with_chain",
            LeafFormat::Der => "der",
            LeafFormat::Pkcs12 => "pkcs12",
        }
    }
}

/// How openssl judges a case: `openssl verify` with [`Case::openssl_verify_args`], and for
/// `ocsp` cases also `openssl ocsp` with [`Case::openssl_ocsp_args`] (valid only when the
/// path verifies and the responder's verified answer is good).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpensslExpectation {
    /// openssl's valid/invalid verdict is the case's `expected_valid`.
    Agrees,
    /// mutual is deliberately stricter: openssl says `openssl_valid`, for the reason `why`.
    Differs {
        openssl_valid: bool,
        why: &'static str,
    },
}

impl OpensslExpectation {
    /// The verdict openssl gives, for a case expecting `expected_valid` from mutual.
    pub fn openssl_valid(self, expected_valid: bool) -> bool {
        match self {
            OpensslExpectation::Agrees => expected_valid,
            OpensslExpectation::Differs { openssl_valid, .. } => openssl_valid,
        }
    }
}

/// One `mutual verify` invocation and what it must answer. Paths are absolute, inside the
/// matrix directory.
#[derive(Clone, Debug)]
pub struct Case {
    /// snake_case, unique in the matrix.
    pub name: &'static str,
    /// What the case is, in a sentence.
    pub about: &'static str,
    /// `LEAF`: the certificate to verify.
    pub leaf: PathBuf,
    pub leaf_format: LeafFormat,
    /// `--password-file` for a PKCS#12 leaf (the password without a newline).
    pub password_file: Option<PathBuf>,
    /// `--trusted`: PEM files, or a directory of PEM roots (one case).
    pub trusted: Vec<PathBuf>,
    /// `--untrusted`: PEM bundles of intermediates (and, in one case, an unrelated certificate).
    pub untrusted: Vec<PathBuf>,
    /// `--crl`: PEM CRLs. Every CRL case also carries the root's CRL for the intermediate, so
    /// it holds whether revocation is checked for the leaf only or for the whole chain.
    pub crls: Vec<PathBuf>,
    /// `--purpose`; `None` leaves mutual's default (server with `--host`, else any).
    pub purpose: Option<Purpose>,
    /// `--eku`: dotted OIDs the leaf (and intermediates carrying an EKU) must allow.
    pub ekus: Vec<String>,
    /// `--host`: a DNS name or an IP address.
    pub host: Option<String>,
    /// `--max-depth`: how many intermediates may sit between the leaf and the trust anchor,
    /// counted as `openssl verify -verify_depth` counts them (neither the leaf nor the anchor).
    pub max_depth: Option<u32>,
    /// `--ocsp`: ask the responder in the leaf's AIA (hard fail: no answer is
    /// `revocation_unknown`). Needs [`VerifyMatrix::ocsp_responder`] running. The OCSP tree is
    /// valid 2020..2045, so these cases also hold when judged at the time the test runs; the
    /// responder's answers are dated when they are made (`openssl ocsp` cannot backdate
    /// them), after [`VerifyMatrix::AT`] once that date has passed.
    pub ocsp: bool,
    pub expected_valid: bool,
    /// The exact error codes, from [`ERROR_CODES`]; empty when valid.
    pub expected_errors: Vec<&'static str>,
    /// The exact warning codes, from [`WARNING_CODES`].
    pub expected_warnings: Vec<&'static str>,
    pub openssl: OpensslExpectation,
    /// The leaf alone as PEM, for openssl (which reads only the first certificate of a file).
    openssl_leaf: PathBuf,
    /// The certificates that came with the leaf (PEM after it, or in the PKCS#12), as PEM.
    openssl_chain: Option<PathBuf>,
    /// `(issuer, url, root)` for `openssl ocsp`.
    ocsp_check: Option<OcspCheck>,
}

#[derive(Clone, Debug)]
struct OcspCheck {
    issuer: PathBuf,
    url: String,
    root: PathBuf,
}

impl Case {
    /// The purpose mutual checks: `purpose`, else server when `host` is set, else any.
    pub fn effective_purpose(&self) -> Purpose {
        self.purpose.unwrap_or(if self.host.is_some() {
            Purpose::Server
        } else {
            Purpose::Any
        })
    }

    /// The arguments of the equivalent `openssl verify` (without the program name), judged at
    /// [`VerifyMatrix::AT`]. For OCSP cases it checks the path only; see
    /// [`Case::openssl_ocsp_args`] for the status.
    pub fn openssl_verify_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = ["verify", "-x509_strict", "-auth_level", "2", "-attime"]
            .into_iter()
            .map(OsString::from)
            .collect();
        args.push(VerifyMatrix::AT_UNIX.to_string().into());
        let (dirs, files): (Vec<&PathBuf>, Vec<&PathBuf>) =
            self.trusted.iter().partition(|path| path.is_dir());
        for dir in dirs {
            // -CApath needs the <subject hash>.0 names the matrix gives the files.
            args.extend(["-CApath".into(), dir.into(), "-no-CAfile".into()]);
            args.push("-no-CAstore".into());
        }
        for file in files {
            // -trusted: these files are the only trust anchors (no system store).
            args.extend(["-trusted".into(), file.into()]);
        }
        for bundle in self.openssl_chain.iter().chain(&self.untrusted) {
            args.extend(["-untrusted".into(), bundle.into()]);
        }
        if let Some(purpose) = self.openssl_purpose() {
            args.extend(["-purpose".into(), purpose.into()]);
        }
        if let Some(host) = &self.host {
            let option = if host.parse::<IpAddr>().is_ok() {
                "-verify_ip"
            } else {
                "-verify_hostname"
            };
            args.extend([option.into(), host.into()]);
        }
        if !self.crls.is_empty() {
            args.push("-crl_check".into());
            for crl in &self.crls {
                args.extend(["-CRLfile".into(), crl.into()]);
            }
        }
        if let Some(depth) = self.max_depth {
            args.extend(["-verify_depth".into(), depth.to_string().into()]);
        }
        args.push(self.openssl_leaf.clone().into());
        args
    }

    /// For `ocsp` cases, the arguments of `openssl ocsp` asking the leaf's responder (its AIA
    /// URL) for the leaf's status and verifying the answer; `None` for the others. It prints
    /// `LEAF: good` or `LEAF: revoked` and `Response verify OK`, or fails to connect.
    pub fn openssl_ocsp_args(&self) -> Option<Vec<OsString>> {
        let check = self.ocsp_check.as_ref()?;
        let mut args: Vec<OsString> = Vec::new();
        args.extend(["ocsp".into(), "-issuer".into(), check.issuer.clone().into()]);
        args.extend(["-cert".into(), self.openssl_leaf.clone().into()]);
        args.extend(["-url".into(), check.url.clone().into()]);
        args.extend(["-CAfile".into(), check.root.clone().into()]);
        args.extend(["-verify_other".into(), check.issuer.clone().into()]);
        // openssl retries a refused connection until the timeout: keep it short.
        args.extend(["-timeout".into(), "2".into()]);
        Some(args)
    }

    /// The OCSP URL in the leaf's AIA, for `ocsp` cases.
    pub fn ocsp_url(&self) -> Option<&str> {
        self.ocsp_check.as_ref().map(|check| check.url.as_str())
    }

    /// The leaf alone, PEM: the file openssl is given.
    pub fn openssl_leaf(&self) -> &Path {
        &self.openssl_leaf
    }

    /// The arguments of `mutual verify` for this case (without the program name), with
    /// `--at` set to [`VerifyMatrix::AT`] and `--format json`.
    pub fn mutual_verify_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["verify".into(), self.leaf.clone().into()];
        if let Some(password) = &self.password_file {
            args.extend(["--password-file".into(), password.into()]);
        }
        for path in &self.trusted {
            args.extend(["--trusted".into(), path.into()]);
        }
        for path in &self.untrusted {
            args.extend(["--untrusted".into(), path.into()]);
        }
        if let Some(purpose) = self.purpose {
            args.extend(["--purpose".into(), purpose.as_str().into()]);
        }
        for eku in &self.ekus {
            args.extend(["--eku".into(), eku.into()]);
        }
        if let Some(host) = &self.host {
            args.extend(["--host".into(), host.into()]);
        }
        args.extend(["--at".into(), "2026-06-01T00:00:00Z".into()]);
        if let Some(depth) = self.max_depth {
            args.extend(["--max-depth".into(), depth.to_string().into()]);
        }
        for crl in &self.crls {
            args.extend(["--crl".into(), crl.into()]);
        }
        if self.ocsp {
            args.push("--ocsp".into());
        }
        args.extend(["--format".into(), "json".into()]);
        args
    }

    /// openssl's closest `-purpose`: the case's purpose, or S/MIME signing for `--eku
    /// emailProtection`, the one EKU outside TLS that `openssl verify` can require.
    fn openssl_purpose(&self) -> Option<&'static str> {
        match self.ekus.as_slice() {
            [] => Some(self.effective_purpose().openssl_name()),
            [eku] if eku == cases::EMAIL_PROTECTION => Some("smimesign"),
            _ => None,
        }
    }
}

/// The generated matrix: the files in [`VerifyMatrix::dir`] and the cases over them.
#[derive(Clone, Debug)]
pub struct VerifyMatrix {
    dir: PathBuf,
    cases: Vec<Case>,
    ocsp_port: u16,
}

impl VerifyMatrix {
    /// The time every case is judged at: 2026-06-01T00:00:00Z.
    pub const AT: OffsetDateTime = datetime!(2026-06-01 00:00:00 UTC);
    /// [`VerifyMatrix::AT`] in Unix seconds, for `openssl verify -attime`.
    pub const AT_UNIX: i64 = 1_780_272_000;

    /// Generates every certificate, key, bundle, CRL and the OCSP index into `dir` (created
    /// if missing) with the `openssl` CLI, and writes `matrix.json` describing every case.
    /// The OCSP leaves point at a loopback port chosen now; start the responder with
    /// [`VerifyMatrix::ocsp_responder`]. Panics with the failing command and its output.
    pub fn generate(dir: &Path) -> VerifyMatrix {
        fs::create_dir_all(dir)
            .unwrap_or_else(|error| panic!("creating `{}`: {error}", dir.display()));
        let dir = fs::canonicalize(dir)
            .unwrap_or_else(|error| panic!("resolving `{}`: {error}", dir.display()));
        let ocsp_port = crate::port::free_port();
        let layout = tree::Layout::new(&dir, ocsp_port);
        tree::generate(&layout);
        let matrix = VerifyMatrix {
            dir,
            cases: cases::all(&layout),
            ocsp_port,
        };
        manifest::write(&matrix);
        matrix
    }

    /// The directory holding the matrix.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every case, in a fixed order.
    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// The case called `name`; panics listing the names when there is none.
    pub fn case(&self, name: &str) -> &Case {
        self.cases
            .iter()
            .find(|case| case.name == name)
            .unwrap_or_else(|| {
                let names: Vec<&str> = self.cases.iter().map(|case| case.name).collect();
                panic!(
                    "the matrix has no case `{name}`; it has {}",
                    names.join(", ")
                )
            })
    }

    /// `matrix.json`: every case with its files (relative to [`VerifyMatrix::dir`]),
    /// options, expectations and both commands.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("matrix.json")
    }

    /// The loopback port the OCSP leaves' AIA names (`http://127.0.0.1:PORT`).
    pub fn ocsp_port(&self) -> u16 {
        self.ocsp_port
    }

    /// Starts `openssl ocsp` as the responder of the OCSP tree on [`VerifyMatrix::ocsp_port`]
    /// (good for `ocsp_good_valid`, revoked for `ocsp_revoked`); it stops when dropped. One
    /// at a time per matrix: the port is fixed in the certificates.
    pub fn ocsp_responder(&self) -> OcspResponder {
        self.responder_builder().start()
    }

    /// A canned OCSP response about `case`'s leaf, signed by the matrix's responder, made by
    /// `openssl ocsp -reqin/-respout` (no server): with `nonce`, the response carries
    /// openssl's own request nonce (so any other requester sees a mismatch); without, none.
    /// For serving from a test's own HTTP listener on [`VerifyMatrix::ocsp_port`].
    pub fn canned_ocsp_response(&self, case: &Case, nonce: bool, scratch: &Path) -> Vec<u8> {
        let check = case
            .ocsp_check
            .as_ref()
            .unwrap_or_else(|| panic!("case `{}` has no OCSP responder", case.name));
        let layout = tree::Layout::new(&self.dir, self.ocsp_port);
        let request = scratch.join(format!("{}-request.der", case.name));
        let response = scratch.join(format!("{}-response.der", case.name));
        let mut ask = vec![
            "ocsp".to_owned(),
            "-issuer".to_owned(),
            path_str(&check.issuer),
            "-cert".to_owned(),
            path_str(&case.openssl_leaf),
            "-reqout".to_owned(),
            path_str(&request),
        ];
        if !nonce {
            ask.push("-no_nonce".to_owned());
        }
        crate::openssl(&ask.iter().map(String::as_str).collect::<Vec<_>>());
        crate::openssl(&[
            "ocsp",
            "-index",
            &path_str(&layout.ocsp_index()),
            "-CA",
            &path_str(&layout.cert("ocsp-int")),
            "-rsigner",
            &path_str(&layout.cert("ocsp-signer")),
            "-rkey",
            &path_str(&layout.key("ocsp-signer")),
            "-reqin",
            &path_str(&request),
            "-respout",
            &path_str(&response),
            "-ndays",
            "1",
        ]);
        fs::read(&response)
            .unwrap_or_else(|error| panic!("reading `{}`: {error}", response.display()))
    }

    fn responder_builder(&self) -> OcspResponderBuilder {
        let layout = tree::Layout::new(&self.dir, self.ocsp_port);
        OcspResponder::builder(
            layout.ocsp_index(),
            layout.cert("ocsp-int"),
            layout.cert("ocsp-signer"),
            layout.key("ocsp-signer"),
        )
        .port(self.ocsp_port)
    }
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_unix_is_at() {
        assert_eq!(VerifyMatrix::AT.unix_timestamp(), VerifyMatrix::AT_UNIX);
    }
}
