//! The report for people: sections in the order an expert reads them, then the verdict.

use std::fmt::Write;

use mutual_x509::Diagnosis;

use crate::aia::AiaOutcome;
use crate::report::Report;

/// The report as text, ending with the verdict line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut out, report);
    out
}

fn write_report(out: &mut String, report: &Report) -> std::fmt::Result {
    let sni = match &report.server_name {
        Some(name) => format!("SNI {name}"),
        None => "no SNI".to_owned(),
    };
    writeln!(out, "Probe of {} ({}, {sni})", report.target, report.peer)?;

    writeln!(out, "\nConnection")?;
    let connection = &report.connection;
    field(out, "protocol", connection.protocol.as_deref())?;
    field(out, "cipher suite", connection.cipher_suite.as_deref())?;
    field(
        out,
        "key exchange",
        connection.key_exchange_group.as_deref(),
    )?;
    field(out, "ALPN", connection.alpn.as_deref().or(Some("none")))?;
    field(
        out,
        "certificate signed with",
        connection.server_certificate_signature_algorithm.as_deref(),
    )?;

    writeln!(
        out,
        "\nServer chain as sent ({} certificate{})",
        report.server_chain.len(),
        if report.server_chain.len() == 1 {
            ""
        } else {
            "s"
        }
    )?;
    for (index, certificate) in report.server_chain.iter().enumerate() {
        writeln!(out, "  [{index}] {}", certificate.subject)?;
        writeln!(out, "      issuer   {}", certificate.issuer)?;
        writeln!(
            out,
            "      expires  {} ({})",
            rfc3339(certificate.not_after),
            certificate.expiry
        )?;
        writeln!(out, "      kind     {}", certificate.kind.title())?;
    }
    if let Some(verdict) = &report.server_verdict {
        let host = verdict
            .host
            .as_ref()
            .map(|host| format!(" for {host}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  verify (purpose server{host}): {}",
            if verdict.valid { "valid" } else { "invalid" }
        )?;
    }
    if let Some(aia) = &report.aia {
        if aia.ca_issuers_urls.is_empty() {
            writeln!(out, "  AIA: the last certificate names no caIssuers URL")?;
        }
        for fetch in &aia.fetches {
            let outcome = match fetch.outcome {
                AiaOutcome::CompletesChain => {
                    format!("completes the chain with {}", fetch.certificates.join("; "))
                }
                _ => fetch.detail.clone().unwrap_or_default(),
            };
            writeln!(out, "  AIA caIssuers {}: {outcome}", fetch.url)?;
        }
    }

    writeln!(out, "\nClient authentication")?;
    let client_auth = &report.client_auth;
    if client_auth.requested {
        writeln!(out, "  the server asks for a client certificate")?;
        if client_auth.acceptable_issuers.is_empty() {
            writeln!(
                out,
                "  acceptable CAs: none listed (any issuer may be offered)"
            )?;
        } else {
            writeln!(out, "  acceptable CAs:")?;
            for issuer in &client_auth.acceptable_issuers {
                writeln!(out, "    {issuer}")?;
            }
        }
        writeln!(
            out,
            "  signature schemes: {}",
            client_auth.signature_schemes.join(", ")
        )?;
    } else {
        writeln!(out, "  the server does not ask for a client certificate")?;
    }
    if let Some(client) = &report.client_certificate {
        writeln!(out, "  your certificate {}", client.subject)?;
        writeln!(out, "    issuer   {}", client.issuer)?;
        let acceptable = match client.issuer_acceptable {
            Some(true) => "yes",
            Some(false) => "no",
            None => "(no list to compare with)",
        };
        writeln!(out, "    issuer among acceptable CAs: {acceptable}")?;
        writeln!(
            out,
            "    EKU allows clientAuth: {}",
            if client.client_auth_eku { "yes" } else { "no" }
        )?;
        writeln!(out, "    sent: {}", if client.sent { "yes" } else { "no" })?;
    }

    writeln!(out, "\nHandshake")?;
    let handshake = &report.handshake;
    if handshake.accepted {
        writeln!(out, "  accepted")?;
    } else {
        match &handshake.alert {
            Some(alert) => writeln!(out, "  refused by the server with the alert {alert}")?,
            None => writeln!(
                out,
                "  refused: {}",
                handshake.message.as_deref().unwrap_or("")
            )?,
        }
    }

    if let Some(http) = &report.http {
        writeln!(out, "\nHTTP GET {}", http.path)?;
        match (http.status, &http.failure) {
            (Some(status), _) => {
                let reason = http.reason.as_deref().unwrap_or("");
                let error = http
                    .error
                    .as_deref()
                    .map(|error| format!(" (error: {error})"))
                    .unwrap_or_default();
                writeln!(out, "  {status} {reason}{error}")?;
            }
            (None, Some(failure)) => writeln!(out, "  no response: {failure}")?,
            (None, None) => writeln!(out, "  not sent")?,
        }
    }

    if !report.problems.is_empty() {
        writeln!(out, "\nProblems")?;
        for diagnosis in &report.problems {
            write_diagnosis(out, diagnosis)?;
        }
    }
    if !report.notes.is_empty() {
        writeln!(out, "\nNotes")?;
        for diagnosis in &report.notes {
            write_diagnosis(out, diagnosis)?;
        }
    }

    writeln!(out)?;
    if report.healthy {
        writeln!(out, "verdict: healthy")
    } else {
        let codes: Vec<&str> = report.problems.iter().map(|d| d.code).collect();
        writeln!(
            out,
            "verdict: {} problem{}: {}",
            codes.len(),
            if codes.len() == 1 { "" } else { "s" },
            codes.join(", ")
        )
    }
}

fn field(out: &mut String, name: &str, value: Option<&str>) -> std::fmt::Result {
    writeln!(out, "  {name:<24}{}", value.unwrap_or("unknown"))
}

fn write_diagnosis(out: &mut String, diagnosis: &Diagnosis) -> std::fmt::Result {
    writeln!(
        out,
        "  {} [{}] {}",
        diagnosis.severity, diagnosis.code, diagnosis.message
    )?;
    for evidence in &diagnosis.evidence {
        writeln!(out, "      {}: {}", evidence.field, evidence.value)?;
    }
    if let Some(fix) = &diagnosis.fix {
        writeln!(out, "      fix: {fix}")?;
    }
    Ok(())
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}
