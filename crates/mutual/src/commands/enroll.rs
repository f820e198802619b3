//! `mutual enroll --token T --subject NAME`: a device or service gets its first certificate
//! from a `mutual serve` with a one-time token. The key is made here and never sent; the
//! files are the ones `mutual issue` writes, all or none.

use std::path::Path;

use mutual_ca::key::KeyType;
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::{ClientArgs, EnrollArgs};
use crate::client::{Credentials, Service, key_matches, server_from};
use crate::commands::issue::{OutputFiles, Written, report};
use crate::commands::remote::{IssuedAnswer, parse};
use crate::commands::renew::csr_pem;
use crate::commands::with_causes;
use crate::exit::{BadInput, ExitStatus};

pub(crate) const TOKEN_ENV: &str = "MUTUAL_TOKEN";

pub(crate) fn run(client: &ClientArgs, args: &EnrollArgs) -> anyhow::Result<ExitStatus> {
    let server = server_from(client).ok_or_else(|| {
        BadInput(
            "`mutual enroll` asks a `mutual serve` for the certificate: give --server URL or set $MUTUAL_SERVER".to_owned(),
        )
    })?;
    let token = token(args)?;
    let key_type: KeyType = args
        .key_type
        .parse()
        .map_err(|e| BadInput(format!("--key-type: {e}")))?;
    // Checked before the token is spent: it works once.
    let files = OutputFiles::prepare(&args.out_dir, &args.subject)?;
    let service = Service::new(&server, client.ca_cert.as_deref(), Credentials::None)?;

    let key = key_type
        .generate()
        .map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    let body = json!({
        "token": token.as_str(),
        "csr": csr_pem(&key, &args.subject)?,
    });
    let answer = service.post(&["enroll"], &body)?;
    let issued: IssuedAnswer = parse(&service, &["enroll"], answer)?;
    let issued_der = mutual_x509::pem::parse(issued.certificate.as_bytes())
        .ok()
        .and_then(|blocks| blocks.into_iter().find(|b| b.label == "CERTIFICATE"))
        .map(|b| b.der)
        .unwrap_or_default();
    if !key_matches(&key, &issued_der) {
        return Err(anyhow::anyhow!(
            "`{}` answered with a certificate (serial {}) for another key than the CSR's; nothing was written",
            service.url(&["enroll"]),
            issued.record.serial
        ));
    }
    let key_pem =
        mutual_ca::key::unencrypted_pem(&key).map_err(|e| anyhow::anyhow!(with_causes(&e)))?;
    files.write(
        &key_pem,
        &issued.certificate,
        &issued.chain,
        None,
        &issued.record.serial,
    )?;
    let written = Written {
        serial: issued.record.serial.clone(),
        profile: issued.record.profile.clone(),
        subject: issued.record.subject.clone(),
        sans: issued.record.sans.clone(),
        not_after: issued.record.not_after,
        key: files.key,
        certificate: files.certificate,
        chain: files.chain,
        pkcs12: None,
    };
    report(&written, args.format, &issued.record.issuer, None)?;
    Ok(ExitStatus::Success)
}

/// `--token`, else the first line of `--token-file`, else `$MUTUAL_TOKEN`.
fn token(args: &EnrollArgs) -> Result<Zeroizing<String>, BadInput> {
    let token = match (&args.token, &args.token_file) {
        (Some(token), _) => token.clone(),
        (None, Some(path)) => first_line(path)?,
        (None, None) => std::env::var(TOKEN_ENV).map_err(|_| {
            BadInput(format!(
                "no enrollment token: pass --token-file FILE (or --token TOKEN) or set ${TOKEN_ENV}"
            ))
        })?,
    };
    let token = Zeroizing::new(token.trim().to_owned());
    if token.is_empty() {
        return Err(BadInput(
            "the enrollment token is empty; `mutual token create` on the CA makes one".to_owned(),
        ));
    }
    Ok(token)
}

fn first_line(path: &Path) -> Result<String, BadInput> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        BadInput(format!(
            "--token-file `{}` could not be read: {e}",
            path.display()
        ))
    })?);
    Ok(text.lines().next().unwrap_or_default().to_owned())
}
