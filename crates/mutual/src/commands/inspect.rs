//! `mutual inspect`: decode whatever it is given and say what each certificate is for.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use mutual_x509::{DecodeOptions, DistinguishedName, Object, pem, text};
use serde::Serialize;

use crate::cli::{Format, InspectArgs};
use crate::exit::{BadInput, ExitStatus};
use crate::input;

/// The JSON document written for each input; see docs/inspect-json.md.
#[derive(Debug, Serialize)]
struct Report {
    schema: &'static str,
    input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<Endpoint>,
    objects: Vec<Object>,
}

/// How the handshake with a `HOST:PORT` input went.
#[derive(Debug, Serialize)]
struct Endpoint {
    address: String,
    server_name: Option<String>,
    /// `completed`, or `refused_without_client_certificate` when the server demanded a
    /// client certificate and ended the handshake (the chain it sent is still shown).
    handshake: &'static str,
    protocol: Option<String>,
    cipher_suite: Option<String>,
    key_exchange_group: Option<String>,
    certificates_sent: usize,
    client_certificate_requested: bool,
    /// The CA names the server said it accepts client certificates from.
    acceptable_client_issuers: Vec<String>,
}

pub(crate) fn run(args: &InspectArgs) -> anyhow::Result<ExitStatus> {
    let now = input::at_or_now(args.at.as_deref())?;
    let password = input::password(args.password_file.as_deref(), args.password_env.as_deref())?;
    let options = DecodeOptions { now, password };

    let mut status = ExitStatus::Success;
    let mut reports = Vec::new();
    for name in &args.inputs {
        match inspect_one(name, &options, args) {
            Ok(report) => reports.push(report),
            Err(error) => {
                eprintln!("mutual: {error}");
                status = status.max(ExitStatus::BadInput);
            }
        }
    }
    // Block-buffered: stdout is line-buffered, and JSON output has many short lines.
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Text => {
            let colour =
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
            write_text(&mut stdout, &reports, colour)?;
        }
        Format::Json => {
            for report in &reports {
                serde_json::to_writer_pretty(&mut stdout, report).context("writing JSON")?;
                writeln!(stdout)?;
            }
        }
        Format::Pem => {
            let (blocks, skipped_keys) = encodable(&reports);
            for (label, der) in blocks {
                stdout.write_all(pem::encode(label, der).as_bytes())?;
            }
            if skipped_keys > 0 {
                eprintln!(
                    "mutual: {skipped_keys} private key(s) not written: inspect describes keys, it never outputs them"
                );
            }
        }
        Format::Der => {
            let (blocks, _) = encodable(&reports);
            match blocks.as_slice() {
                [(_, der)] => stdout.write_all(der)?,
                _ if reports.is_empty() => {}
                _ => {
                    return Err(BadInput(format!(
                        "--format der writes exactly one object; the input holds {}: use --format pem",
                        blocks.len()
                    ))
                    .into());
                }
            }
        }
    }
    stdout.flush()?;
    Ok(status)
}

fn inspect_one(
    name: &str,
    options: &DecodeOptions,
    args: &InspectArgs,
) -> Result<Report, BadInput> {
    if let Some(target) = endpoint_target(name) {
        return inspect_endpoint(name, &target, options, args);
    }
    let bytes = input::read_input(name)?;
    let shown = if name == "-" { "standard input" } else { name };
    let objects =
        mutual_x509::decode(&bytes, options).map_err(|e| BadInput(format!("`{shown}` {e}")))?;
    Ok(Report {
        schema: SCHEMA,
        input: name.to_owned(),
        endpoint: None,
        objects,
    })
}

const SCHEMA: &str = "mutual.inspect/v1";

/// An input is an endpoint when it is not an existing file and reads as HOST:PORT.
fn endpoint_target(name: &str) -> Option<mutual_probe::Target> {
    if name == "-" || Path::new(name).exists() {
        return None;
    }
    name.parse().ok()
}

fn inspect_endpoint(
    name: &str,
    target: &mutual_probe::Target,
    options: &DecodeOptions,
    args: &InspectArgs,
) -> Result<Report, BadInput> {
    let probe_options = mutual_probe::Options {
        sni: args.sni.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let (certificates, request, endpoint) =
        match mutual_probe::presented_chain(target, &probe_options) {
            Ok(chain) => {
                let endpoint = Endpoint {
                    address: chain.peer.to_string(),
                    server_name: chain.server_name.clone(),
                    handshake: "completed",
                    protocol: Some(chain.protocol.clone()),
                    cipher_suite: Some(chain.cipher_suite.clone()),
                    key_exchange_group: chain.key_exchange_group.clone(),
                    certificates_sent: chain.certificates.len(),
                    client_certificate_requested: chain.client_certificate_request.is_some(),
                    acceptable_client_issuers: Vec::new(),
                };
                (
                    chain.certificates,
                    chain.client_certificate_request,
                    endpoint,
                )
            }
            // A server that insists on a client certificate still showed its chain first.
            Err(mutual_probe::ProbeError::TlsHandshakeFailed {
                peer,
                presented,
                client_certificate_request: Some(request),
                ..
            }) if !presented.is_empty() => {
                let endpoint = Endpoint {
                    address: peer.to_string(),
                    server_name: args.sni.clone().or_else(|| {
                        target
                            .host
                            .parse::<std::net::IpAddr>()
                            .is_err()
                            .then(|| target.host.clone())
                    }),
                    handshake: "refused_without_client_certificate",
                    protocol: None,
                    cipher_suite: None,
                    key_exchange_group: None,
                    certificates_sent: presented.len(),
                    client_certificate_requested: true,
                    acceptable_client_issuers: Vec::new(),
                };
                (presented, Some(request), endpoint)
            }
            Err(error) => {
                return Err(BadInput(format!(
                    "`{name}`: {}",
                    crate::commands::with_causes(&error)
                )));
            }
        };
    let mut objects = Vec::new();
    for (index, der) in certificates.iter().enumerate() {
        let certificate = mutual_x509::Certificate::from_der(der, options.now).map_err(|e| {
            BadInput(format!(
                "`{name}` certificate {} as sent by the server {e}",
                index + 1
            ))
        })?;
        objects.push(Object::Certificate(Box::new(certificate)));
    }
    let acceptable_client_issuers = request
        .map(|r| {
            r.acceptable_issuers
                .iter()
                .map(|der| {
                    DistinguishedName::from_der(der)
                        .map_or_else(|| "(undecodable name)".to_owned(), |dn| dn.rfc4514)
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Report {
        schema: SCHEMA,
        input: name.to_owned(),
        endpoint: Some(Endpoint {
            acceptable_client_issuers,
            ..endpoint
        }),
        objects,
    })
}

fn write_text(out: &mut impl Write, reports: &[Report], colour: bool) -> anyhow::Result<()> {
    let several = reports.len() > 1;
    for (index, report) in reports.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        if several {
            writeln!(out, "==> {} <==", report.input)?;
        }
        if let Some(endpoint) = &report.endpoint {
            match (&endpoint.protocol, &endpoint.cipher_suite) {
                (Some(protocol), Some(cipher)) => writeln!(
                    out,
                    "Connected to {} ({}), {protocol}, {cipher}; SNI {}",
                    report.input,
                    endpoint.address,
                    endpoint.server_name.as_deref().unwrap_or("not sent")
                )?,
                _ => writeln!(
                    out,
                    "Connected to {} ({}); SNI {}; the server ended the handshake because no client certificate was sent",
                    report.input,
                    endpoint.address,
                    endpoint.server_name.as_deref().unwrap_or("not sent")
                )?,
            }
            if endpoint.client_certificate_requested {
                let issuers = if endpoint.acceptable_client_issuers.is_empty() {
                    "any CA (no names sent)".to_owned()
                } else {
                    endpoint.acceptable_client_issuers.join("; ")
                };
                writeln!(
                    out,
                    "The server asks for a client certificate, from: {issuers}"
                )?;
            }
            writeln!(
                out,
                "The server sent {} certificate(s), in this order (not judged: see `mutual verify`):\n",
                endpoint.certificates_sent
            )?;
        }
        out.write_all(text::render_all(&report.objects, colour).as_bytes())?;
    }
    Ok(())
}

/// The objects that have a PEM/DER form, and how many private keys were left out.
fn encodable(reports: &[Report]) -> (Vec<(&'static str, &[u8])>, usize) {
    let mut blocks = Vec::new();
    let mut skipped_keys = 0;
    for object in reports.iter().flat_map(|r| &r.objects) {
        match object {
            Object::Certificate(c) => blocks.push(("CERTIFICATE", c.der.as_slice())),
            Object::CertificateRequest(c) => blocks.push(("CERTIFICATE REQUEST", c.der.as_slice())),
            Object::Crl(c) => blocks.push(("X509 CRL", c.der.as_slice())),
            Object::Pkcs7(bundle) => {
                blocks.extend(
                    bundle
                        .certificates
                        .iter()
                        .map(|c| ("CERTIFICATE", c.der.as_slice())),
                );
                blocks.extend(bundle.crls.iter().map(|c| ("X509 CRL", c.der.as_slice())));
            }
            Object::Pkcs12(bundle) => {
                blocks.extend(
                    bundle
                        .certificates
                        .iter()
                        .map(|bag| ("CERTIFICATE", bag.certificate.der.as_slice())),
                );
                skipped_keys += bundle.keys.len();
            }
            Object::PrivateKey(_) => skipped_keys += 1,
        }
    }
    (blocks, skipped_keys)
}
