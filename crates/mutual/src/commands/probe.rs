//! `mutual probe`: read the trust anchors and the client certificate, let mutual-probe talk
//! to the server and judge, print the report.

use anyhow::Context;
use mutual_probe::{ClientCredential, Options, Probe, Target};
use mutual_x509::{Certificate, DecodeOptions};

use crate::cli::{ProbeArgs, ProbeCommand, ReportFormat};
use crate::commands::verify::{SYSTEM_ROOTS, certificates_in, system_roots_file};
use crate::commands::with_causes;
use crate::exit::{BadInput, ExitStatus};
use crate::input;

pub(crate) fn run(args: &ProbeArgs) -> anyhow::Result<ExitStatus> {
    let at = time::OffsetDateTime::now_utc();
    let decode = DecodeOptions {
        now: at,
        password: None,
    };
    if let Some(ProbeCommand::Audit(audit)) = &args.command {
        return crate::commands::probe_audit::run(audit);
    }
    let Some(target) = &args.target else {
        return Err(BadInput("a target HOST:PORT is required".to_owned()).into());
    };
    let target: Target = target
        .parse()
        .map_err(|e: mutual_probe::ProbeError| BadInput(e.to_string()))?;
    if let Some(path) = &args.http
        && !path.starts_with('/')
    {
        return Err(BadInput(format!(
            "--http `{path}`: expected a path starting with `/`, such as `/` or `/health`"
        ))
        .into());
    }
    let anchors = trust_anchors(args, &decode)?;
    let credential = credential(args, &decode)?;
    let options = Options {
        sni: args.sni.clone(),
        timeout: args.timeout,
    };
    let report = mutual_probe::probe(&Probe {
        target: &target,
        options: &options,
        credential: credential.as_ref(),
        http_path: args.http.as_deref(),
        anchors,
        at,
    })
    .map_err(|error| BadInput(with_causes(&error)))?;

    match args.format {
        ReportFormat::Text => print!("{}", mutual_probe::render(&report)),
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).context("writing JSON")?
        ),
    }
    Ok(if report.healthy {
        ExitStatus::Success
    } else {
        ExitStatus::Negative
    })
}

fn trust_anchors(args: &ProbeArgs, decode: &DecodeOptions) -> anyhow::Result<Vec<Certificate>> {
    let mut anchors = Vec::new();
    for path in &args.trusted {
        anchors.extend(certificates_in(&path.to_string_lossy(), decode)?);
    }
    if args.system_roots || args.trusted.is_empty() {
        let file = system_roots_file().ok_or_else(|| {
            BadInput(format!(
                "no system trust store found (looked at $SSL_CERT_FILE, {}); give roots with --trusted",
                SYSTEM_ROOTS.join(", ")
            ))
        })?;
        anchors.extend(certificates_in(&file.to_string_lossy(), decode)?);
    }
    Ok(anchors)
}

fn credential(
    args: &ProbeArgs,
    decode: &DecodeOptions,
) -> anyhow::Result<Option<ClientCredential>> {
    if let Some(p12) = &args.p12 {
        return pkcs12_credential(p12, args.password_file.as_deref()).map(Some);
    }
    let (Some(cert), Some(key)) = (&args.cert, &args.key) else {
        return Ok(None);
    };
    let certificates = certificates_in(cert, decode)?
        .into_iter()
        .map(|certificate| certificate.der)
        .collect();
    let key_bytes = input::read_input(key)?;
    ClientCredential::new(certificates, &key_bytes)
        .map(Some)
        .map_err(|error| {
            BadInput(format!(
                "--cert `{cert}` --key `{key}`: {}",
                with_causes(&error)
            ))
            .into()
        })
}

/// The key, its certificate and the chain from a PKCS#12, opened as `mutual pkcs12 import`
/// opens it.
fn pkcs12_credential(
    name: &str,
    password_file: Option<&std::path::Path>,
) -> anyhow::Result<ClientCredential> {
    let der = zeroize::Zeroizing::new(input::read_input(name)?);
    let password = mutual_ca::passphrase::resolve(
        password_file,
        crate::commands::pkcs12::PASSWORD_ENV,
        "PKCS#12 password: ",
        false,
    )
    .map_err(|e| {
        BadInput(format!(
            "--p12 `{name}` password: {}; pass --password-file FILE or set ${}",
            with_causes(&e),
            crate::commands::pkcs12::PASSWORD_ENV
        ))
    })?;
    let bundle = mutual_ca::pkcs12::import(&der, &password)
        .map_err(|e| BadInput(format!("--p12 `{name}`: {}", with_causes(&e))))?;
    let mut certificates = Vec::new();
    for pem in std::iter::once(&bundle.certificate_pem).chain(&bundle.chain_pems) {
        let blocks = mutual_x509::pem::parse(pem.as_bytes())
            .map_err(|e| BadInput(format!("--p12 `{name}`: {e}")))?;
        certificates.extend(blocks.into_iter().map(|block| block.der));
    }
    ClientCredential::new(certificates, bundle.key_pem.as_bytes())
        .map_err(|error| BadInput(format!("--p12 `{name}`: {}", with_causes(&error))).into())
}
