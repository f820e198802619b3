//! `mutual probe audit`: mint throwaway client certificates, each broken in one way, with a
//! CA the server trusts; let mutual-probe present them and judge; revoke them at the end.
//!
//! The broken certificates are signed here with rcgen and the CA's key, on purpose outside
//! mutual-ca's issuance pipeline, which lints and refuses exactly such certificates. With a
//! home they are still recorded in its store, since the CA's key signed them, and revoked.

use std::path::{Path, PathBuf};

use mutual_ca::files::{FileKind, write_atomic};
use mutual_ca::home::{Home, IssuingRole};
use mutual_ca::issuance::IssuingCa;
use mutual_ca::profile::ProfileKind;
use mutual_ca::store::{Lookup, NewCertificate, Revocation, RevocationReason, Store};
use mutual_probe::{Case, ClientCredential, Options, Prepared, Target};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::cli::{ClientCaName, ProbeAuditArgs, ReportFormat};
use crate::commands::{ca_error, with_causes};
use crate::exit::{BadInput, ExitStatus};

/// The OU that marks every test certificate.
const MARK: &str = "mutual-probe-audit";

pub(crate) fn run(args: &ProbeAuditArgs) -> anyhow::Result<ExitStatus> {
    let target: Target = args
        .target
        .parse()
        .map_err(|e: mutual_probe::ProbeError| BadInput(e.to_string()))?;
    if !args.http.starts_with('/') {
        return Err(BadInput(format!(
            "--http `{}`: expected a path starting with `/`, such as `/` or `/health`",
            args.http
        ))
        .into());
    }
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let runtime = crate::commands::runtime()?;
    let mut authority = Authority::open(args, &runtime)?;
    let minted = mint(
        &authority.signer,
        &authority.ca_der,
        authority.pointers.as_ref(),
        now,
    )?;

    let mut notes: Vec<String> = ca_eku_note(&authority.ca_der, &authority.subject)
        .into_iter()
        .collect();
    for certificate in &minted.signed_by_ca {
        runtime.block_on(authority.record(certificate))?;
    }
    let revoked_published = runtime.block_on(authority.revoke(
        &[&minted.revoked],
        RevocationReason::KeyCompromise,
        now,
    ))?;
    if let Some(path) = &revoked_published {
        let reloaded = if args.reload.is_some() {
            " (--reload ran)"
        } else {
            " (no --reload was given: if it reads that file only at start, reload it and run the audit again)"
        };
        notes.push(format!(
            "The CRL listing the revoked test certificate (serial {}) was written to {}; the server must load it{reloaded}",
            minted.revoked.serial,
            path.display(),
        ));
        reload(args.reload.as_deref())?;
        if let Some(note) = await_ocsp_revoked(&minted.revoked.der, &authority.ca_der, args.timeout)
        {
            notes.push(note);
        }
    }

    let options = Options {
        sni: args.sni.clone(),
        timeout: args.timeout,
    };
    let cases: Vec<Prepared> = minted
        .credentials
        .into_iter()
        .map(|(case, credential)| Prepared {
            case,
            credential: if case == Case::Revoked && revoked_published.is_none() {
                Err(
                    "not tested: no CA store and no --crl-out to publish the revocation in"
                        .to_owned(),
                )
            } else {
                Ok(credential)
            },
        })
        .collect();
    let outcome = mutual_probe::audit(&target, &options, &cases, &args.http);

    // Clean up whatever happened: every test certificate the CA signed is revoked.
    let remaining: Vec<&Minted> = minted
        .signed_by_ca
        .iter()
        .filter(|m| m.serial != minted.revoked.serial)
        .collect();
    let cleanup = runtime.block_on(authority.revoke(
        &remaining,
        RevocationReason::CessationOfOperation,
        OffsetDateTime::now_utc().replace_nanosecond(0)?,
    ));
    if let Some(store) = &authority.store {
        runtime.block_on(store.close());
    }
    let mut report = outcome.map_err(|error| BadInput(with_causes(&error)))?;
    match cleanup {
        Ok(Some(path)) => {
            notes.push(format!(
                "All {} test certificates signed by {} were revoked at the end; the CRL in {} lists them",
                minted.signed_by_ca.len(),
                authority.subject,
                path.display()
            ));
            reload(args.reload.as_deref())?;
        }
        Ok(None) => notes.push(format!(
            "The test certificates ({} signed by {}, OU={MARK}) expire within 15 minutes; without a store or --crl-out they were not revoked",
            minted.signed_by_ca.len(),
            authority.subject
        )),
        Err(error) => eprintln!("mutual: warning: revoking the test certificates: {error:#}"),
    }
    report.notes = notes;

    match args.format {
        ReportFormat::Text => print!("{}", mutual_probe::render_audit(&report)),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.passed {
        ExitStatus::Success
    } else {
        ExitStatus::Negative
    })
}

/// A note when the signing CA's own EKU leaves out clientAuth (a home's server CA allows
/// serverAuth only): servers that apply EKU down the chain refuse everything it signs.
fn ca_eku_note(ca_der: &[u8], subject: &str) -> Option<String> {
    let ca = mutual_x509::Certificate::from_der(ca_der, OffsetDateTime::now_utc()).ok()?;
    let purposes = ca.extensions.iter().find_map(|e| match &e.value {
        mutual_x509::ExtensionValue::ExtendedKeyUsage { purposes } => Some(purposes),
        _ => None,
    })?;
    let allows_clients = purposes
        .iter()
        .any(|eku| eku.oid == "1.3.6.1.5.5.7.3.2" || eku.oid == "2.5.29.37.0");
    (!allows_clients).then(|| {
        let names: Vec<&str> = purposes.iter().map(|eku| eku.name.as_str()).collect();
        format!(
            "The signing CA {subject} allows only {} (EKU): servers that apply EKU down the chain (OpenSSL and NGINX, rustls, mutual gateway) refuse every client certificate it signs, the good control included",
            names.join(", ")
        )
    })
}

/// How long the audit waits for the OCSP responder to publish the revocation.
const OCSP_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// Between two questions to the responder.
const OCSP_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// When the revoked test certificate names an OCSP responder, asks it (as `mutual verify
/// --ocsp` does: signed, fresh, with a nonce) until it answers revoked, for up to
/// [`OCSP_WAIT`], so the case is presented only once a server asking OCSP can know. The
/// note says what the responder answered.
fn await_ocsp_revoked(
    revoked_der: &[u8],
    issuer_der: &[u8],
    timeout: std::time::Duration,
) -> Option<String> {
    let now = OffsetDateTime::now_utc();
    let leaf = mutual_x509::Certificate::from_der(revoked_der, now).ok()?;
    let issuer = mutual_x509::Certificate::from_der(issuer_der, now).ok()?;
    let url = ocsp_url(&leaf)?;
    let deadline = std::time::Instant::now() + OCSP_WAIT;
    let mut last;
    loop {
        let now = OffsetDateTime::now_utc();
        let policy = mutual_verify::Policy::new(mutual_verify::Purpose::Client, now);
        let verdict = match mutual_verify::Verifier::new(vec![issuer.clone()], policy) {
            Ok(verifier) => verifier
                .with_ocsp(mutual_verify::OcspOptions {
                    timeout: timeout.min(OCSP_WAIT),
                    now,
                })
                .verify(&leaf, &[]),
            Err(error) => {
                return Some(format!(
                    "The OCSP responder {url} was not asked about the revoked test certificate: {error}"
                ));
            }
        };
        let revoked = |d: &&mutual_x509::Diagnosis| d.code == mutual_verify::Code::Revoked.as_str();
        let unknown =
            |d: &&mutual_x509::Diagnosis| d.code == mutual_verify::Code::RevocationUnknown.as_str();
        if verdict.errors.iter().any(|d| revoked(&d)) {
            return Some(format!(
                "The OCSP responder {url} answered `revoked` for the revoked test certificate (serial {}) before it was presented",
                leaf.serial
            ));
        }
        last = match verdict.errors.iter().find(unknown) {
            Some(diagnosis) => format!("no usable answer ({})", diagnosis.message),
            None => "`good`".to_owned(),
        };
        if std::time::Instant::now() + OCSP_POLL > deadline {
            break;
        }
        std::thread::sleep(OCSP_POLL);
    }
    Some(format!(
        "The OCSP responder {url} still gave {last} for the revoked test certificate (serial {}) after {}s: a server that checks revocation by OCSP may wrongly accept the `revoked` case; check that the responder reads this CA's store",
        leaf.serial,
        OCSP_WAIT.as_secs()
    ))
}

/// The first OCSP responder URL of a certificate's AIA.
fn ocsp_url(certificate: &mutual_x509::Certificate) -> Option<String> {
    certificate
        .extensions
        .iter()
        .filter_map(|e| match &e.value {
            mutual_x509::ExtensionValue::AuthorityInfoAccess { access } => Some(access),
            _ => None,
        })
        .flatten()
        .filter(|a| a.method == "1.3.6.1.5.5.7.48.1" || a.method == "OCSP")
        .find_map(|a| match &a.location {
            mutual_x509::GeneralName::Uri(url) => Some(url.clone()),
            _ => None,
        })
}

/// Runs `--reload` through the shell; its failure is the user's to fix.
fn reload(command: Option<&str>) -> anyhow::Result<()> {
    let Some(command) = command else {
        return Ok(());
    };
    let status = std::process::Command::new("sh")
        .args(["-c", command])
        .status()
        .map_err(|e| BadInput(format!("--reload `{command}`: {e}")))?;
    if !status.success() {
        return Err(BadInput(format!("--reload `{command}` failed ({status})")).into());
    }
    Ok(())
}

/// The CA that signs the test certificates: a home's client CA (with its store), or files.
struct Authority {
    signer: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    subject: String,
    /// Hex of the CA's subject key identifier: the store's issuer id.
    key_id: String,
    store: Option<Store>,
    /// Signs CRLs from the store.
    issuing: Option<IssuingCa>,
    /// Where the CRL goes.
    crl_out: Option<PathBuf>,
    crl_lifetime: Duration,
    /// With a home whose `mutual.toml` sets `[server] url`: that URL and the issuing CA, so
    /// the test certificates point at the same CRL, OCSP responder and caIssuers as the
    /// certificates the CA issues.
    pointers: Option<(String, IssuingRole)>,
    /// Without a store: the serials revoked so far, for a CRL signed here.
    revoked: Vec<(String, OffsetDateTime, RevocationReason)>,
}

impl Authority {
    fn open(args: &ProbeAuditArgs, runtime: &tokio::runtime::Runtime) -> anyhow::Result<Authority> {
        match (&args.issuer_cert, &args.issuer_key) {
            (Some(cert), Some(key)) => Authority::from_files(args, cert, key),
            _ => Authority::from_home(args, runtime),
        }
    }

    fn from_home(
        args: &ProbeAuditArgs,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<Authority> {
        let home = Home::resolve(args.ca.home.as_deref());
        if !home.is_initialised() {
            return Err(BadInput(format!(
                "no CA in `{}`: run `mutual init` first, pass --home, or sign with --issuer-cert/--issuer-key",
                home.path().display()
            ))
            .into());
        }
        let role = match args.client_ca_name {
            ClientCaName::Client => IssuingRole::Client,
            ClientCaName::Server => IssuingRole::Server,
        };
        let passphrase = crate::commands::issuing_ca_passphrase(
            &home,
            role,
            args.ca.passphrase_file.as_deref(),
        )?;
        let issuing = home
            .issuing_ca(role, passphrase.as_ref())
            .map_err(ca_error)?;
        let key_path = home.issuing_key(role);
        let key_pem = std::fs::read_to_string(&key_path)
            .map_err(|e| BadInput(format!("`{}`: {e}", key_path.display())))?;
        let key = mutual_ca::key::read_key(&key_pem, passphrase.as_ref())
            .map_err(|e| BadInput(format!("`{}`: {}", key_path.display(), with_causes(&e))))?;
        let ca_der = first_certificate(&issuing.certificate_pem, &home.issuing_certificate(role))?;
        let signer = Issuer::from_ca_cert_der(&ca_der.as_slice().into(), key)
            .map_err(|e| anyhow::anyhow!("the {} certificate: {e}", role.file_stem()))?;
        // The store every other command of this home uses: --database, $MUTUAL_DATABASE,
        // `database =` in mutual.toml, else its SQLite file.
        let store = runtime.block_on(crate::commands::open_database(&home, args.ca.store.get()))?;
        let profiles = home.profiles().map_err(ca_error)?;
        let crl_lifetime = profiles.crl_lifetime();
        let pointers = profiles
            .get(ProfileKind::Client)
            .server_url
            .clone()
            .map(|url| (url, role));
        Ok(Authority {
            signer,
            ca_der,
            subject: issuing.subject.clone(),
            key_id: issuing.key_id.clone(),
            store: Some(store),
            issuing: Some(issuing),
            crl_out: Some(args.crl_out.clone().unwrap_or_else(|| {
                home.path()
                    .join("crl")
                    .join(format!("{}.crl.pem", role.file_stem()))
            })),
            crl_lifetime,
            pointers,
            revoked: Vec::new(),
        })
    }

    fn from_files(args: &ProbeAuditArgs, cert: &Path, key: &Path) -> anyhow::Result<Authority> {
        let cert_pem = std::fs::read_to_string(cert)
            .map_err(|e| BadInput(format!("--issuer-cert `{}`: {e}", cert.display())))?;
        let key_pem = std::fs::read_to_string(key)
            .map_err(|e| BadInput(format!("--issuer-key `{}`: {e}", key.display())))?;
        let passphrase = if key_pem.contains("ENCRYPTED PRIVATE KEY") {
            Some(
                mutual_ca::passphrase::resolve(
                    args.ca.passphrase_file.as_deref(),
                    "MUTUAL_PASSPHRASE",
                    "CA key passphrase: ",
                    false,
                )
                .map_err(|e| BadInput(e.to_string()))?,
            )
        } else {
            None
        };
        let read = || {
            mutual_ca::key::read_key(&key_pem, passphrase.as_ref()).map_err(|e| {
                BadInput(format!(
                    "--issuer-key `{}`: {}",
                    key.display(),
                    with_causes(&e)
                ))
            })
        };
        // IssuingCa checks that the key is the certificate's and that it is a CA.
        let issuing = IssuingCa::new(&cert_pem, read()?).map_err(|e| {
            BadInput(format!(
                "--issuer-cert `{}`: {}",
                cert.display(),
                with_causes(&e)
            ))
        })?;
        let ca_der = first_certificate(&cert_pem, cert)?;
        let signer = Issuer::from_ca_cert_der(&ca_der.as_slice().into(), read()?)
            .map_err(|e| BadInput(format!("--issuer-cert `{}`: {e}", cert.display())))?;
        Ok(Authority {
            signer,
            ca_der,
            subject: issuing.subject.clone(),
            key_id: issuing.key_id.clone(),
            store: None,
            issuing: None,
            crl_out: args.crl_out.clone(),
            crl_lifetime: Duration::hours(1),
            pointers: None,
            revoked: Vec::new(),
        })
    }

    /// Records a test certificate the CA signed in its store, when there is one.
    async fn record(&self, minted: &Minted) -> anyhow::Result<()> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let decoded = mutual_x509::Certificate::from_der(&minted.der, OffsetDateTime::now_utc())
            .map_err(|e| anyhow::anyhow!("a test certificate does not parse: {e}"))?;
        let new = NewCertificate {
            serial: decoded.serial.clone(),
            issuer_key_id: self.key_id.clone(),
            issuer: decoded.issuer.rfc4514.clone(),
            subject: decoded.subject.rfc4514.clone(),
            sans: Vec::new(),
            not_before: decoded.validity.not_before,
            not_after: decoded.validity.not_after,
            profile: MARK.to_owned(),
            requester: Some(format!("{} (probe audit)", crate::commands::local_actor())),
            fingerprint_sha256: decoded.fingerprints.sha256.clone(),
            pem: minted.pem.clone(),
            audit: None,
        };
        store
            .record(&new)
            .await
            .map_err(|e| BadInput(with_causes(&e)))?;
        Ok(())
    }

    /// Revokes `certificates` and writes a fresh CRL; the path written, or None when there
    /// is nowhere to publish it.
    async fn revoke(
        &mut self,
        certificates: &[&Minted],
        reason: RevocationReason,
        at: OffsetDateTime,
    ) -> anyhow::Result<Option<PathBuf>> {
        let Some(out) = self.crl_out.clone() else {
            return Ok(None);
        };
        let pem = match (&self.store, &self.issuing) {
            (Some(store), Some(issuing)) => {
                for minted in certificates {
                    let lookup = Lookup::IssuerSerial {
                        issuer_key_id: self.key_id.clone(),
                        serial: minted.serial.clone(),
                    };
                    let revocation = Revocation {
                        at,
                        reason,
                        invalid_since: None,
                        by: Some(format!("{} (probe audit)", crate::commands::local_actor())),
                    };
                    let record = store
                        .revoke(&lookup, &revocation)
                        .await
                        .map_err(|e| BadInput(with_causes(&e)))?;
                    crate::commands::audit_local(
                        store,
                        mutual_ca::store::AuditAction::Revoke,
                        &record,
                        format!("probe audit test certificate, reason {}", reason.rfc_name()),
                    )
                    .await;
                }
                mutual_ca::crl::sign(issuing, store, at, self.crl_lifetime)
                    .await
                    .map_err(|e| anyhow::anyhow!(with_causes(&e)))?
                    .pem
            }
            _ => {
                self.revoked.extend(
                    certificates
                        .iter()
                        .map(|minted| (minted.serial.clone(), at, reason)),
                );
                self.sign_crl(at)?
            }
        };
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| BadInput(format!("`{}`: {e}", dir.display())))?;
        }
        write_atomic(&out, pem.as_bytes(), FileKind::Public)
            .map_err(|e| BadInput(format!("`{}` could not be written: {e}", out.display())))?;
        Ok(Some(out))
    }

    /// A CRL of the serials revoked here, signed with rcgen (no store to keep numbers in:
    /// the CRL number is the time).
    fn sign_crl(&self, now: OffsetDateTime) -> anyhow::Result<String> {
        let params = rcgen::CertificateRevocationListParams {
            this_update: now,
            next_update: now + self.crl_lifetime,
            crl_number: SerialNumber::from(u64::try_from(now.unix_timestamp()).unwrap_or(1)),
            issuing_distribution_point: None,
            revoked_certs: self
                .revoked
                .iter()
                .map(|(serial, at, reason)| {
                    Ok(rcgen::RevokedCertParams {
                        serial_number: SerialNumber::from_slice(&hex_bytes(serial)?),
                        revocation_time: *at,
                        reason_code: Some(match reason {
                            RevocationReason::KeyCompromise => {
                                rcgen::RevocationReason::KeyCompromise
                            }
                            _ => rcgen::RevocationReason::CessationOfOperation,
                        }),
                        invalidity_date: None,
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        let crl = params
            .signed_by(&self.signer)
            .map_err(|e| anyhow::anyhow!("signing the CRL: {e}"))?;
        crl.pem()
            .map_err(|e| anyhow::anyhow!("encoding the CRL: {e}"))
    }
}

fn hex_bytes(serial: &str) -> anyhow::Result<Vec<u8>> {
    let digits: String = serial.chars().filter(char::is_ascii_hexdigit).collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..(i + 2).min(digits.len())], 16)
                .map_err(|e| anyhow::anyhow!("serial `{serial}`: {e}"))
        })
        .collect()
}

fn first_certificate(pem_text: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    mutual_x509::pem::parse(pem_text.as_bytes())
        .ok()
        .and_then(|blocks| blocks.into_iter().find(|b| b.label == "CERTIFICATE"))
        .map(|block| block.der)
        .ok_or_else(|| BadInput(format!("`{}`: no CERTIFICATE block", path.display())).into())
}

/// A test certificate the CA signed.
struct Minted {
    der: Vec<u8>,
    pem: String,
    /// Upper-case hex, as the store spells it.
    serial: String,
}

/// Everything minted: the credential for each case, and the CA-signed certificates to
/// record and revoke.
struct MintedSet {
    credentials: Vec<(Case, ClientCredential)>,
    signed_by_ca: Vec<Minted>,
    revoked: Minted,
}

fn mint(
    signer: &Issuer<'static, KeyPair>,
    ca_der: &[u8],
    pointers: Option<&(String, IssuingRole)>,
    now: OffsetDateTime,
) -> anyhow::Result<MintedSet> {
    let fail = |what: &str, e: &dyn std::fmt::Display| anyhow::anyhow!("minting {what}: {e}");
    let good_window = (now - Duration::minutes(5), now + Duration::minutes(15));
    let mut credentials = Vec::new();
    let mut signed_by_ca = Vec::new();
    let mut revoked = None;
    for case in Case::ALL {
        let key = KeyPair::generate().map_err(|e| fail("a key", &e))?;
        let mut params = leaf_params(case, good_window)?;
        match case {
            Case::ServerAuthOnly => {
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            }
            Case::Expired => {
                params.not_before = now - Duration::hours(2);
                params.not_after = now - Duration::hours(1);
            }
            Case::NotYetValid => {
                params.not_before = now + Duration::hours(1);
                params.not_after = now + Duration::hours(2);
            }
            Case::CaAsClient => {
                params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
                params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
                params.extended_key_usages = Vec::new();
            }
            _ => {}
        }
        let credential = match case {
            Case::SelfSigned => {
                // The control's subject, signed by its own key.
                let mut params = leaf_params(Case::GoodControl, good_window)?;
                params.serial_number = Some(random_serial()?);
                let cert = params
                    .self_signed(&key)
                    .map_err(|e| fail(case.code(), &e))?;
                ClientCredential::new(vec![cert.der().to_vec()], &key.serialize_der())
            }
            Case::UnrelatedCa => {
                let ca_key = KeyPair::generate().map_err(|e| fail("a key", &e))?;
                let mut ca_params = CertificateParams::default();
                ca_params.distinguished_name = name("mutual-probe-audit unrelated CA");
                ca_params.not_before = good_window.0;
                ca_params.not_after = good_window.1;
                ca_params.serial_number = Some(random_serial()?);
                ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
                ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
                let ca_cert = ca_params
                    .self_signed(&ca_key)
                    .map_err(|e| fail(case.code(), &e))?;
                let unrelated = Issuer::new(ca_params, ca_key);
                let cert = params
                    .signed_by(&key, &unrelated)
                    .map_err(|e| fail(case.code(), &e))?;
                ClientCredential::new(
                    vec![cert.der().to_vec(), ca_cert.der().to_vec()],
                    &key.serialize_der(),
                )
            }
            _ => {
                if let Some((url, role)) = pointers {
                    mutual_ca::issuance::revocation_pointers(&mut params, url, *role);
                }
                let cert = params
                    .signed_by(&key, signer)
                    .map_err(|e| fail(case.code(), &e))?;
                let der = cert.der().to_vec();
                let minted = Minted {
                    serial: mutual_x509::Certificate::from_der(&der, now)
                        .map(|c| c.serial)
                        .map_err(|e| fail(case.code(), &e))?,
                    der: der.clone(),
                    pem: cert.pem(),
                };
                let chain = if case == Case::NoIntermediate {
                    vec![der]
                } else {
                    vec![der, ca_der.to_vec()]
                };
                let credential = if case == Case::WrongKey {
                    let other = KeyPair::generate().map_err(|e| fail("a key", &e))?;
                    ClientCredential::with_any_key(chain, &other.serialize_der())
                } else {
                    ClientCredential::new(chain, &key.serialize_der())
                };
                if case == Case::Revoked {
                    revoked = Some(Minted {
                        der: minted.der.clone(),
                        pem: minted.pem.clone(),
                        serial: minted.serial.clone(),
                    });
                }
                signed_by_ca.push(minted);
                credential
            }
        }
        .map_err(|e| fail(case.code(), &with_causes(&e)))?;
        credentials.push((case, credential));
    }
    Ok(MintedSet {
        credentials,
        signed_by_ca,
        revoked: revoked.ok_or_else(|| anyhow::anyhow!("no revoked case minted"))?,
    })
}

/// A client certificate's parameters, marked as a test certificate: CN
/// `mutual-probe-audit CASE`, OU `mutual-probe-audit`, clientAuth, valid for minutes.
fn leaf_params(
    case: Case,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
) -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(&format!("{MARK} {}", case.code()));
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial()?);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationalUnitName, MARK);
    name.push(DnType::CommonName, common_name);
    name
}

/// 128 random bits, positive and non-zero.
fn random_serial() -> anyhow::Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    rustls::crypto::aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the OS random number generator failed"))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}
