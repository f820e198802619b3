//! `mutual renew --cert C --key K [--new-key]`: a new certificate for the same identity from
//! a `mutual serve`, authenticated over mTLS by the certificate being renewed, written over
//! the old files.
//!
//! The files are replaced so that a key is never left without its certificate: the new
//! certificate (and key) are first written whole beside the old ones (`C.renewed`,
//! `K.renewed`), then renamed over them, key first; if the certificate's rename fails the
//! old key is put back. A crash between the two renames leaves the new key with its
//! certificate in `C.renewed`, named in the error.

use std::io;
use std::path::{Path, PathBuf};

use mutual_ca::files::{FileKind, write_atomic};
use mutual_ca::key::KeyType;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::cli::{ClientArgs, RenewArgs, ReportFormat};
use crate::client::{Credentials, Service, base_url, key_matches, pem_identity, server_from};
use crate::commands::remote::{IssuedAnswer, parse};
use crate::commands::with_causes;
use crate::exit::{BadInput, ExitStatus};
use crate::input::read_input;

#[derive(Debug, Serialize)]
struct Renewed {
    serial: String,
    previous_serial: String,
    subject: String,
    sans: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    certificate: PathBuf,
    key: PathBuf,
    new_key: bool,
}

pub(crate) fn run(client: &ClientArgs, args: &RenewArgs) -> anyhow::Result<ExitStatus> {
    let server = server_from(client).ok_or_else(|| {
        BadInput(
            "`mutual renew` asks a `mutual serve` for the new certificate: give --server URL or set $MUTUAL_SERVER".to_owned(),
        )
    })?;
    let base = base_url(&server)?;
    let cert_path = real_path("--cert", &args.cert)?;
    let key_path = real_path("--key", &args.key)?;
    if cert_path == key_path {
        return Err(BadInput(format!(
            "--cert and --key are the same file `{}`; renew replaces the certificate and the key as separate files",
            args.cert.display()
        ))
        .into());
    }
    let cert_name = args.cert.display().to_string();
    let key_name = args.key.display().to_string();
    let cert_pem = read_input(&cert_name).map_err(|e| BadInput(format!("--cert: {e}")))?;
    let key_pem =
        Zeroizing::new(read_input(&key_name).map_err(|e| BadInput(format!("--key: {e}")))?);
    let identity = pem_identity(&cert_pem, &key_pem, &cert_name, &key_name)?;

    let blocks = mutual_x509::pem::parse(&cert_pem)
        .map_err(|e| BadInput(format!("--cert `{cert_name}`: {e}")))?;
    if blocks.iter().any(|b| b.label.ends_with("PRIVATE KEY")) {
        return Err(BadInput(format!(
            "--cert `{cert_name}` also holds a private key; renew writes certificates and keys to separate files"
        ))
        .into());
    }
    let certificates: Vec<&[u8]> = blocks
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| b.der.as_slice())
        .collect();
    let now = OffsetDateTime::now_utc();
    let current = certificates
        .first()
        .map(|der| mutual_x509::Certificate::from_der(der, now))
        .transpose()
        .map_err(|e| BadInput(format!("--cert `{cert_name}`: {e}")))?
        .ok_or_else(|| {
            BadInput(format!(
                "--cert `{cert_name}`: expected a CERTIFICATE PEM block; found none"
            ))
        })?;
    let key_text = Zeroizing::new(String::from_utf8_lossy(&key_pem).into_owned());
    let key = mutual_ca::key::read_key(&key_text, None).map_err(|e| {
        BadInput(format!(
            "--key `{key_name}`: {}; renew needs an unencrypted PKCS#8 `PRIVATE KEY` (`openssl pkey -in {key_name}` converts one)",
            with_causes(&e)
        ))
    })?;
    if !key_matches(&key, &current.der) {
        return Err(BadInput(format!(
            "--key `{key_name}` is not the key of the certificate in --cert `{cert_name}`"
        ))
        .into());
    }

    // With --new-key: a key of the same type, made here; only its CSR is sent.
    let new_key = if args.new_key {
        let key_type = KeyType::of(&key).ok_or_else(|| {
            BadInput(format!(
                "--new-key makes a key of the same type as `{key_name}`, which is of a type mutual does not generate"
            ))
        })?;
        Some(
            key_type
                .generate()
                .map_err(|e| anyhow::anyhow!(with_causes(&e)))?,
        )
    } else {
        None
    };
    let body = match &new_key {
        Some(new_key) => {
            let common_name = current.subject.values("CN").next().unwrap_or_default();
            json!({ "csr": csr_pem(new_key, common_name)? })
        }
        None => json!({}),
    };

    let service = Service::with_identity(
        base,
        client.ca_cert.as_deref(),
        Credentials::Pem {
            cert: args.cert.clone(),
            key: args.key.clone(),
        },
        Some(identity),
    )?;
    let answer = service.post(&["renew"], &body)?;
    let issued: IssuedAnswer = parse(&service, &["renew"], answer)?;
    let issued_der = mutual_x509::pem::parse(issued.certificate.as_bytes())
        .ok()
        .and_then(|blocks| blocks.into_iter().find(|b| b.label == "CERTIFICATE"))
        .map(|b| b.der)
        .unwrap_or_default();
    if !key_matches(new_key.as_ref().unwrap_or(&key), &issued_der) {
        return Err(anyhow::anyhow!(
            "`{}` answered with a certificate (serial {}) for another key than the one {}; nothing was replaced",
            service.url(&["renew"]),
            issued.record.serial,
            if args.new_key {
                "sent in the CSR"
            } else {
                "in --key"
            }
        ));
    }

    // The file keeps its shape: a certificate alone, or a certificate and its chain.
    let certificate_out = if certificates.len() > 1 {
        &issued.chain
    } else {
        &issued.certificate
    };
    let new_key_pem = new_key
        .as_ref()
        .map(mutual_ca::key::unencrypted_pem)
        .transpose()
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    replace(
        &cert_path,
        certificate_out,
        new_key_pem
            .as_ref()
            .map(|pem| (key_path.as_path(), pem.as_str(), key_text.as_str())),
    )
    .map_err(|e| {
        BadInput(format!(
            "{e} (certificate {} was issued and recorded)",
            issued.record.serial
        ))
    })?;

    let report = Renewed {
        serial: issued.record.serial.clone(),
        previous_serial: current.serial.clone(),
        subject: issued.record.subject.clone(),
        sans: issued.record.sans.clone(),
        not_after: issued.record.not_after,
        certificate: args.cert.clone(),
        key: args.key.clone(),
        new_key: args.new_key,
    };
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Text => {
            println!(
                "Renewed {}: serial {} replaces {}, valid until {}",
                report.subject,
                report.serial,
                report.previous_serial,
                report.not_after.date()
            );
            println!(
                "  certificate  {}  (replaced)",
                report.certificate.display()
            );
            if report.new_key {
                println!(
                    "  key          {}  (replaced by a new key, 0600)",
                    report.key.display()
                );
            } else {
                println!("  key          {}  (unchanged)", report.key.display());
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// The file a path names, through symlinks, so that a link keeps pointing at the renewed file.
fn real_path(flag: &str, path: &Path) -> Result<PathBuf, BadInput> {
    std::fs::canonicalize(path).map_err(|e| {
        BadInput(format!(
            "{flag} `{}` could not be opened: {e}",
            path.display()
        ))
    })
}

/// A CSR for `key` naming `common_name` (the service takes the identity from the current
/// certificate; the CSR proves the new key).
pub(crate) fn csr_pem(key: &rcgen::KeyPair, common_name: &str) -> anyhow::Result<String> {
    let failed = |e: rcgen::Error| anyhow::anyhow!("building the CSR: {e}");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    let mut name = rcgen::DistinguishedName::new();
    if !common_name.is_empty() {
        name.push(rcgen::DnType::CommonName, common_name);
    }
    params.distinguished_name = name;
    params
        .serialize_request(key)
        .and_then(|csr| csr.pem())
        .map_err(failed)
}

/// `C.renewed` beside `C`.
fn side(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".renewed");
    path.with_file_name(name)
}

/// Replaces the certificate file, and with `key` = (path, new PEM, old PEM) the key file,
/// so that each file is whole at every moment and the key is never left without its
/// certificate.
fn replace(cert: &Path, certificate: &str, key: Option<(&Path, &str, &str)>) -> Result<(), String> {
    let cert_side = side(cert);
    let written = |path: &Path, e: io::Error| {
        format!(
            "`{}` could not be written: {e}; nothing was replaced",
            path.display()
        )
    };
    write_atomic(&cert_side, certificate.as_bytes(), FileKind::Public)
        .map_err(|e| written(&cert_side, e))?;
    let Some((key_path, new_key, old_key)) = key else {
        return std::fs::rename(&cert_side, cert).map_err(|e| {
            let _ = std::fs::remove_file(&cert_side);
            format!(
                "`{}` could not be replaced: {e}; it is unchanged",
                cert.display()
            )
        });
    };
    let key_side = side(key_path);
    if let Err(e) = write_atomic(&key_side, new_key.as_bytes(), FileKind::Secret) {
        let _ = std::fs::remove_file(&cert_side);
        return Err(written(&key_side, e));
    }
    if let Err(e) = std::fs::rename(&key_side, key_path) {
        let _ = std::fs::remove_file(&key_side);
        let _ = std::fs::remove_file(&cert_side);
        return Err(format!(
            "`{}` could not be replaced: {e}; nothing was replaced",
            key_path.display()
        ));
    }
    if let Err(e) = std::fs::rename(&cert_side, cert) {
        // Put the old key back, so the old pair still works.
        return match write_atomic(key_path, old_key.as_bytes(), FileKind::Secret) {
            Ok(()) => {
                let _ = std::fs::remove_file(&cert_side);
                Err(format!(
                    "`{}` could not be replaced: {e}; the old key was put back, both files are as they were",
                    cert.display()
                ))
            }
            Err(restore) => Err(format!(
                "`{}` could not be replaced: {e}, nor the old key restored ({restore}): `{}` holds the new key, and its certificate is in `{}`; move it to `{}`",
                cert.display(),
                key_path.display(),
                cert_side.display(),
                cert.display()
            )),
        };
    }
    // The renames are durable once their directories are.
    for path in [key_path, cert] {
        if let Some(dir) = path.parent() {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::replace;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn both_files_are_replaced_and_nothing_is_left_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("a.pem");
        let key = dir.path().join("a.key.pem");
        std::fs::write(&cert, "old cert").unwrap();
        std::fs::write(&key, "old key").unwrap();
        replace(&cert, "new cert", Some((&key, "new key", "old key"))).unwrap();
        assert_eq!(std::fs::read_to_string(&cert).unwrap(), "new cert");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "new key");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(names(dir.path()), ["a.key.pem", "a.pem"]);
    }

    #[test]
    fn a_certificate_that_cannot_be_replaced_puts_the_old_key_back() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory where the certificate should go: its rename fails.
        let cert = dir.path().join("a.pem");
        std::fs::create_dir(&cert).unwrap();
        std::fs::write(cert.join("inside"), "").unwrap();
        let key = dir.path().join("a.key.pem");
        std::fs::write(&key, "old key").unwrap();
        let error = replace(&cert, "new cert", Some((&key, "new key", "old key"))).unwrap_err();
        assert!(error.contains("the old key was put back"), "{error}");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "old key");
        assert_eq!(names(dir.path()), ["a.key.pem", "a.pem"]);
    }
}
