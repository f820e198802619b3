//! The probe's judgement: one exchange with the server, the server's chain put through
//! `mutual verify` for purpose `server`, the client certificate held against what the
//! server asked for, and the server's answer (alert or HTTP status) turned into a cause and
//! a fix, in the codes `verify` and `gateway` use. Serialised as `mutual.probe/v1`
//! (docs/probe-json.md).

use mutual_verify::{Code, Host, Policy, Purpose, Verdict, Verifier};
use mutual_x509::{Certificate, Diagnosis, DistinguishedName, Severity, Usage, ValidityStatus};
use rustls::AlertDescription;
use serde::Serialize;
use time::OffsetDateTime;

use crate::aia::Aia;
use crate::error::ProbeError;
use crate::exchange::{ClientCredential, Exchange, HttpOutcome, HttpResponse, exchange};
use crate::presented::Options;
use crate::target::Target;

/// The JSON schema name of [`Report`].
pub const SCHEMA: &str = "mutual.probe/v1";

/// What to probe and what to judge the answers against.
#[derive(Debug)]
pub struct Probe<'a> {
    /// The endpoint.
    pub target: &'a Target,
    /// SNI and timeout.
    pub options: &'a Options,
    /// The client certificate to present when asked, and its key.
    pub credential: Option<&'a ClientCredential>,
    /// `GET` this path after the handshake.
    pub http_path: Option<&'a str>,
    /// The trust anchors the server's chain is verified against.
    pub anchors: Vec<Certificate>,
    /// The time certificates are judged at.
    pub at: OffsetDateTime,
}

/// Everything the probe saw and concluded.
#[non_exhaustive]
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// `HOST:PORT` as given.
    pub target: String,
    /// The address connected to.
    pub peer: String,
    /// The SNI sent; absent when none was (an IP address target).
    pub server_name: Option<String>,
    /// What was negotiated.
    pub connection: Connection,
    /// The server's certificates in the order sent.
    pub server_chain: Vec<SentCertificate>,
    /// `mutual verify`'s verdict on that chain for purpose `server` and the SNI or host.
    pub server_verdict: Option<Verdict>,
    /// When the chain stops at an issuer the server did not send: whether the caIssuers
    /// URL (AIA) of the last certificate would let a browser complete it.
    pub aia: Option<Aia>,
    /// What the server said about client certificates.
    pub client_auth: ClientAuth,
    /// The client certificate given with `--cert`, as the server would judge it.
    pub client_certificate: Option<ClientCertificate>,
    /// How the handshake ended.
    pub handshake: Handshake,
    /// The HTTP request's fate, when one was asked for.
    pub http: Option<Http>,
    /// Every problem found, each with a stable code; empty when healthy.
    pub problems: Vec<Diagnosis>,
    /// Worth knowing, not wrong.
    pub notes: Vec<Diagnosis>,
    /// No problem found.
    pub healthy: bool,
}

/// The negotiated parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    pub protocol: Option<String>,
    pub cipher_suite: Option<String>,
    pub key_exchange_group: Option<String>,
    pub alpn: Option<String>,
    /// The signature algorithm of the server's certificate (not of the handshake).
    pub server_certificate_signature_algorithm: Option<String>,
}

/// One certificate as the server sent it.
#[derive(Debug, Clone, Serialize)]
pub struct SentCertificate {
    pub subject: String,
    pub issuer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// `expires in 41 days`, `expired 3 days ago`.
    pub expiry: String,
    /// What it is for: `server`, `client`, `intermediate_ca`, ...
    pub kind: mutual_x509::PurposeKind,
    pub fingerprint_sha256: String,
}

/// The server's CertificateRequest, as a client sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ClientAuth {
    /// Whether the server asked for a client certificate.
    pub requested: bool,
    /// The CA names it listed (RFC 4514); empty means "any", and browsers then offer all.
    pub acceptable_issuers: Vec<String>,
    /// The signature schemes it accepts for the client's CertificateVerify.
    pub signature_schemes: Vec<String>,
}

/// The client certificate given, and how it compares with what the server asked for.
#[derive(Debug, Clone, Serialize)]
pub struct ClientCertificate {
    pub subject: String,
    pub issuer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// How many certificates were given (the client certificate and its intermediates).
    pub chain_length: usize,
    /// Whether it was sent (only when the server asked).
    pub sent: bool,
    /// Whether its issuer (or a CA of the chain given) is among the acceptable CAs;
    /// absent when the server listed none or did not ask.
    pub issuer_acceptable: Option<bool>,
    /// Whether its EKU allows TLS client authentication.
    pub client_auth_eku: bool,
}

/// How the handshake ended.
#[derive(Debug, Clone, Serialize)]
pub struct Handshake {
    pub accepted: bool,
    /// The alert the server sent, in TLS's spelling (`unknown_ca`).
    pub alert: Option<String>,
    /// rustls' or the transport's description of a refusal.
    pub message: Option<String>,
}

/// The HTTP request's fate.
#[derive(Debug, Clone, Serialize)]
pub struct Http {
    pub path: String,
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// The `error` field of a JSON error body (`mutual gateway` puts its code there).
    pub error: Option<String>,
    /// Why no response was read.
    pub failure: Option<String>,
}

/// A certificate of the server's chain that expires within this many days is worth a note.
const EXPIRES_SOON_DAYS: i64 = 30;

/// The gateway's own refusal codes, beside `verify`'s, that an answer may carry.
const GATEWAY_CODES: [&str; 4] = [
    "no_certificate",
    "key_not_proven",
    "not_allowed",
    "no_route",
];

/// What NGINX writes in its 400 page when `ssl_verify_client on` sees no certificate.
const NGINX_NO_CERTIFICATE: &str = "No required SSL certificate was sent";
/// ... and when the certificate failed its checks.
const NGINX_BAD_CERTIFICATE: &str = "The SSL certificate error";

/// Connects, shakes hands, asks for the page when told to, and judges it all.
///
/// # Errors
/// Only when there is no TLS server to judge: see [`exchange`].
pub fn probe(probe: &Probe<'_>) -> Result<Report, ProbeError> {
    let exchange = exchange(
        probe.target,
        probe.options,
        probe.credential,
        probe.http_path,
    )?;
    Ok(judge(probe, &exchange))
}

fn judge(probe: &Probe<'_>, exchange: &Exchange) -> Report {
    let mut findings = Findings::default();
    let chain: Vec<Certificate> = exchange
        .presented
        .iter()
        .filter_map(|der| Certificate::from_der(der, probe.at).ok())
        .collect();

    let (server_verdict, aia) = server_verdict(probe, exchange, &chain, &mut findings);
    let client_auth = client_auth(exchange);
    let client = probe.credential.and_then(|credential| {
        client_certificate(credential, exchange, &client_auth, probe.at, &mut findings)
    });
    let handshake = handshake(exchange, probe, client.as_ref(), &mut findings);
    let http = probe
        .http_path
        .zip(exchange.http.as_ref())
        .map(|(path, outcome)| http(path, outcome, &mut findings));

    let connection = Connection {
        protocol: exchange.negotiated.protocol.clone(),
        cipher_suite: exchange.negotiated.cipher_suite.clone(),
        key_exchange_group: exchange.negotiated.key_exchange_group.clone(),
        alpn: exchange.negotiated.alpn.clone(),
        server_certificate_signature_algorithm: chain
            .first()
            .map(|leaf| leaf.signature_algorithm.name.clone()),
    };
    let server_chain = chain
        .iter()
        .map(|certificate| SentCertificate {
            subject: certificate.subject.rfc4514.clone(),
            issuer: certificate.issuer.rfc4514.clone(),
            not_after: certificate.validity.not_after,
            expiry: certificate.validity.relative.clone(),
            kind: certificate.purpose.kind,
            fingerprint_sha256: certificate.fingerprints.sha256.clone(),
        })
        .collect();
    Report {
        schema: SCHEMA,
        target: probe.target.to_string(),
        peer: exchange.peer.to_string(),
        server_name: exchange.server_name.clone(),
        connection,
        server_chain,
        server_verdict,
        aia,
        client_auth,
        client_certificate: client,
        handshake,
        http,
        healthy: findings.problems.is_empty(),
        problems: findings.problems,
        notes: findings.notes,
    }
}

#[derive(Default)]
struct Findings {
    problems: Vec<Diagnosis>,
    notes: Vec<Diagnosis>,
}

impl Findings {
    /// Adds a problem; one with a code already listed adds its evidence to that one
    /// (the alert that confirms what the certificate check found).
    fn problem(&mut self, diagnosis: Diagnosis) {
        match self.problems.iter_mut().find(|d| d.code == diagnosis.code) {
            Some(existing) => existing.evidence.extend(diagnosis.evidence),
            None => self.problems.push(diagnosis),
        }
    }

    fn note(&mut self, diagnosis: Diagnosis) {
        self.notes.push(diagnosis);
    }
}

fn server_verdict(
    probe: &Probe<'_>,
    exchange: &Exchange,
    chain: &[Certificate],
    findings: &mut Findings,
) -> (Option<Verdict>, Option<Aia>) {
    let Some((leaf, rest)) = chain.split_first() else {
        return (None, None);
    };
    let mut policy = Policy::new(Purpose::Server, probe.at);
    let host = probe.options.sni.as_deref().unwrap_or(&probe.target.host);
    policy.host = host.parse::<Host>().ok();
    let verifier = match Verifier::new(probe.anchors.clone(), policy.clone()) {
        Ok(verifier) => verifier,
        Err(error) => {
            findings.note(Diagnosis::new(
                "trust_anchor_unusable",
                Severity::Warning,
                format!("{error}; the server chain was not verified"),
            ));
            return (None, None);
        }
    };
    let verdict = verifier.verify(leaf, rest);
    for error in &verdict.errors {
        findings.problem(error.clone());
    }
    for warning in &verdict.warnings {
        findings.note(warning.clone());
    }
    let aia = crate::aia::follow(
        &verifier,
        leaf,
        rest,
        &verdict,
        probe.options.timeout,
        probe.at,
    )
    .map(|(aia, note)| {
        findings.note(note);
        aia
    });
    for certificate in chain {
        let left = certificate.validity.not_after - probe.at;
        if certificate.validity.status == ValidityStatus::Valid
            && left < time::Duration::days(EXPIRES_SOON_DAYS)
        {
            findings.note(
                Diagnosis::new(
                    "expires_soon",
                    Severity::Warning,
                    format!(
                        "`{}` {}",
                        certificate.subject.rfc4514, certificate.validity.relative
                    ),
                )
                .with_evidence("not_after", certificate.validity.not_after.to_string())
                .with_fix("renew it now and install the renewed certificate before it expires"),
            );
        }
    }
    for root in rest.iter().filter(|certificate| certificate.self_signed) {
        findings.note(
            Diagnosis::new(
                "root_sent",
                Severity::Warning,
                format!(
                    "the server sends the self-signed root `{}`: clients must already have it to trust it, so sending it only adds bytes to every handshake",
                    root.subject.rfc4514
                ),
            )
            .with_evidence("fingerprint_sha256", root.fingerprints.sha256.clone())
            .with_fix("leave the root out of the server's chain file (NGINX `ssl_certificate`: the leaf, then the intermediates)"),
        );
    }
    if exchange.presented.len() != chain.len() {
        findings.problem(
            Diagnosis::new(
                Code::MalformedCertificate.as_str(),
                Severity::Error,
                "the server sent a certificate that does not decode",
            )
            .with_evidence("sent", exchange.presented.len().to_string())
            .with_evidence("decoded", chain.len().to_string()),
        );
    }
    (Some(verdict), aia)
}

fn client_auth(exchange: &Exchange) -> ClientAuth {
    match &exchange.client_certificate_request {
        None => ClientAuth {
            requested: false,
            acceptable_issuers: Vec::new(),
            signature_schemes: Vec::new(),
        },
        Some(request) => ClientAuth {
            requested: true,
            acceptable_issuers: request
                .acceptable_issuers
                .iter()
                .map(|der| match DistinguishedName::from_der(der) {
                    Some(name) => name.rfc4514,
                    None => format!("(undecodable name, {} bytes)", der.len()),
                })
                .collect(),
            signature_schemes: request.signature_schemes.clone(),
        },
    }
}

fn client_certificate(
    credential: &ClientCredential,
    exchange: &Exchange,
    client_auth: &ClientAuth,
    at: OffsetDateTime,
    findings: &mut Findings,
) -> Option<ClientCertificate> {
    let chain: Vec<Certificate> = credential
        .certificates()
        .iter()
        .filter_map(|der| Certificate::from_der(der, at).ok())
        .collect();
    let leaf = chain.first()?;
    let issuer_acceptable = (client_auth.requested && !client_auth.acceptable_issuers.is_empty())
        .then(|| {
            chain.iter().any(|certificate| {
                client_auth.acceptable_issuers.iter().any(|name| {
                    *name == certificate.issuer.rfc4514 || *name == certificate.subject.rfc4514
                })
            })
        });
    let client_auth_eku = leaf.purpose.allows(Usage::ClientAuth);

    if !client_auth.requested {
        findings.note(
            Diagnosis::new(
                "client_certificate_not_requested",
                Severity::Warning,
                format!(
                    "the server did not ask for a client certificate, so `{}` was not sent: this port does not do mutual TLS",
                    leaf.subject.rfc4514
                ),
            )
            .with_fix("turn on client certificate verification on the server (NGINX `ssl_verify_client on`), or probe the port that does mutual TLS"),
        );
    }
    if issuer_acceptable == Some(false) {
        findings.problem(
            Diagnosis::new(
                "issuer_not_acceptable",
                Severity::Error,
                format!(
                    "the client certificate's issuer `{}` is not among the CAs the server listed; browsers will not offer this certificate",
                    leaf.issuer.rfc4514
                ),
            )
            .with_evidence("issuer", leaf.issuer.rfc4514.clone())
            .with_evidence("acceptable_issuers", client_auth.acceptable_issuers.join("; "))
            .with_fix("use a client certificate issued under one of the listed CAs, or add its CA to the server's client CA list (NGINX `ssl_client_certificate`)"),
        );
    }
    if !client_auth_eku {
        findings.problem(eku_mismatch(leaf));
    }
    match leaf.validity.status {
        ValidityStatus::Expired => findings.problem(
            Diagnosis::new(
                Code::Expired.as_str(),
                Severity::Error,
                format!(
                    "the client certificate `{}` {}",
                    leaf.subject.rfc4514, leaf.validity.relative
                ),
            )
            .with_evidence("not_after", leaf.validity.not_after.to_string())
            .with_fix("renew the client certificate (`mutual renew`) and install the new one"),
        ),
        ValidityStatus::NotYetValid => findings.problem(
            Diagnosis::new(
                Code::NotYetValid.as_str(),
                Severity::Error,
                format!(
                    "the client certificate `{}` {}",
                    leaf.subject.rfc4514, leaf.validity.relative
                ),
            )
            .with_evidence("not_before", leaf.validity.not_before.to_string())
            .with_fix("check the clocks of the client and of the CA that issued it"),
        ),
        ValidityStatus::Valid => {}
    }
    Some(ClientCertificate {
        subject: leaf.subject.rfc4514.clone(),
        issuer: leaf.issuer.rfc4514.clone(),
        not_after: leaf.validity.not_after,
        chain_length: chain.len(),
        sent: exchange.client_certificate_sent,
        issuer_acceptable,
        client_auth_eku,
    })
}

fn eku_mismatch(leaf: &Certificate) -> Diagnosis {
    Diagnosis::new(
        Code::EkuMismatch.as_str(),
        Severity::Error,
        format!(
            "the client certificate `{}` is {}: its EKU does not allow TLS client authentication (clientAuth)",
            leaf.subject.rfc4514,
            leaf.purpose.kind.with_article()
        ),
    )
    .with_evidence("purpose", leaf.purpose.summary.clone())
    .with_fix("issue a client certificate (EKU clientAuth), e.g. `mutual issue client NAME`; a server certificate cannot stand in for one")
}

/// The server's refusal as a cause and a fix. Where the cause is in the client certificate,
/// the code is `verify`'s.
fn handshake(
    exchange: &Exchange,
    probe: &Probe<'_>,
    client: Option<&ClientCertificate>,
    findings: &mut Findings,
) -> Handshake {
    let Some(rejection) = &exchange.rejection else {
        return Handshake {
            accepted: true,
            alert: None,
            message: None,
        };
    };
    let alert_name = rejection.alert_name();
    let evidence = |diagnosis: Diagnosis| match &alert_name {
        Some(alert) => diagnosis.with_evidence("alert", alert.clone()),
        None => diagnosis.with_evidence("refusal", rejection.message.clone()),
    };
    let sent = client.filter(|client| client.sent);
    let asked = exchange.client_certificate_request.is_some();
    match (sent, rejection.alert) {
        (None, alert)
            if asked
                && matches!(
                    alert,
                    None | Some(
                        AlertDescription::CertificateRequired
                            | AlertDescription::HandshakeFailure
                            | AlertDescription::BadCertificate
                            | AlertDescription::AccessDenied
                    )
                ) =>
        {
            let diagnosis = evidence(
                Diagnosis::new(
                    "client_certificate_required",
                    if probe.credential.is_some() { Severity::Error } else { Severity::Info },
                    "the server requires a client certificate and none was sent",
                )
                .with_fix("probe again with `--cert FILE --key FILE` to see what the server makes of yours"),
            );
            if probe.credential.is_some() {
                findings.problem(diagnosis);
            } else {
                findings.note(diagnosis);
            }
        }
        (Some(client), Some(alert)) => findings.problem(evidence(client_refused(alert, client, probe.at))),
        (_, _) => findings.problem(evidence(
            Diagnosis::new(
                "handshake_refused",
                Severity::Error,
                format!("the server refused the handshake: {}", rejection.message),
            )
            .with_fix("compare the protocol versions and cipher suites the server allows with what clients offer; its error log says which"),
        )),
    }
    Handshake {
        accepted: false,
        alert: alert_name,
        message: Some(rejection.message.clone()),
    }
}

fn client_refused(
    alert: AlertDescription,
    client: &ClientCertificate,
    at: OffsetDateTime,
) -> Diagnosis {
    let subject = &client.subject;
    let unknown_issuer = || {
        let mut fix = "add the client certificate's CA to the CAs the server trusts for clients (NGINX `ssl_client_certificate`, `mutual gateway --client-ca`), or use a certificate from a CA it trusts".to_owned();
        if client.chain_length == 1 {
            fix.push_str("; if it was issued by an intermediate, send the intermediate after it in the `--cert` file");
        }
        Diagnosis::new(
            Code::UnknownIssuer.as_str(),
            Severity::Error,
            format!(
                "the server does not trust the issuer `{}` of the client certificate",
                client.issuer
            ),
        )
        .with_evidence("issuer", client.issuer.clone())
        .with_fix(fix)
    };
    let eku = || {
        Diagnosis::new(
            Code::EkuMismatch.as_str(),
            Severity::Error,
            format!(
                "the server refused `{subject}`: its EKU does not allow TLS client authentication"
            ),
        )
        .with_fix("issue a client certificate (EKU clientAuth), e.g. `mutual issue client NAME`")
    };
    let expired = || {
        Diagnosis::new(
            Code::Expired.as_str(),
            Severity::Error,
            format!("the server says the client certificate `{subject}` (or a CA above it) has expired"),
        )
        .with_evidence("not_after", client.not_after.to_string())
        .with_fix("renew the client certificate (`mutual renew`); if it is still valid, check the server's clock and the intermediates' dates")
    };
    let today_expired = client.not_after < at;
    match alert {
        AlertDescription::UnknownCA => unknown_issuer(),
        AlertDescription::CertificateExpired => expired(),
        AlertDescription::CertificateRevoked => Diagnosis::new(
            Code::Revoked.as_str(),
            Severity::Error,
            format!("the server says the client certificate `{subject}` is revoked"),
        )
        .with_fix("issue a new client certificate; a revoked one cannot be reinstated"),
        AlertDescription::UnsupportedCertificate if !client.client_auth_eku => eku(),
        AlertDescription::BadCertificate | AlertDescription::CertificateUnknown
            if !client.client_auth_eku =>
        {
            eku()
        }
        AlertDescription::BadCertificate | AlertDescription::CertificateUnknown if today_expired => {
            expired()
        }
        AlertDescription::BadCertificate | AlertDescription::CertificateUnknown
            if client.issuer_acceptable == Some(false) =>
        {
            unknown_issuer()
        }
        AlertDescription::CertificateRequired => Diagnosis::new(
            "client_certificate_required",
            Severity::Error,
            "the server says it received no client certificate",
        )
        .with_fix("check that the `--cert` file holds the client certificate first, then its intermediates"),
        AlertDescription::AccessDenied => Diagnosis::new(
            "access_denied",
            Severity::Error,
            format!("the server accepted the chain of `{subject}` but its rules refuse this identity"),
        )
        .with_fix("check the server's access rules for this subject (`mutual gateway` rules, NGINX `if ($ssl_client_s_dn ...)`)"),
        AlertDescription::DecryptError => Diagnosis::new(
            "decrypt_error",
            Severity::Error,
            "the server could not verify the client's signature (CertificateVerify)",
        )
        .with_fix("the key does match the certificate, so look at the signature schemes: the server may not accept this key type"),
        AlertDescription::UnsupportedCertificate => Diagnosis::new(
            "unsupported_certificate",
            Severity::Error,
            format!("the server does not support the client certificate `{subject}` (key type or extensions)"),
        )
        .with_fix("compare its key type and signature algorithm with the server's accepted signature schemes"),
        AlertDescription::HandshakeFailure => Diagnosis::new(
            "handshake_failure",
            Severity::Error,
            format!("the server ended the handshake after receiving `{subject}`, without saying why"),
        )
        .with_fix("the server's error log names the reason; `mutual verify --purpose client` with the server's client CA shows most of them"),
        other => Diagnosis::new(
            "certificate_refused",
            Severity::Error,
            format!(
                "the server refused the client certificate `{subject}` with the alert `{}`",
                crate::exchange::alert_name(other)
            ),
        )
        .with_fix("`mutual verify --purpose client` with the server's client CA shows what is wrong with it; the server's error log says what it saw"),
    }
}

fn http(path: &str, outcome: &HttpOutcome, findings: &mut Findings) -> Http {
    match outcome {
        HttpOutcome::Failed(failure) => {
            findings.problem(
                Diagnosis::new(
                    "http_no_response",
                    Severity::Error,
                    format!("`GET {path}` got no HTTP response: {failure}"),
                )
                .with_fix("check that the port serves HTTP over TLS and that the path exists"),
            );
            Http {
                path: path.to_owned(),
                status: None,
                reason: None,
                error: None,
                failure: Some(failure.clone()),
            }
        }
        HttpOutcome::Response(response) => {
            let error = json_error(&response.body);
            if let Some(diagnosis) = http_refusal(path, response, error.as_deref()) {
                findings.problem(diagnosis);
            }
            Http {
                path: path.to_owned(),
                status: Some(response.status),
                reason: Some(response.reason.clone()),
                error,
                failure: None,
            }
        }
    }
}

/// A refusal at HTTP level after an accepted handshake: NGINX's 400 pages for client
/// certificates, and 495/496 (NGINX's codes, which `mutual gateway` answers with too).
fn http_refusal(path: &str, response: &HttpResponse, error: Option<&str>) -> Option<Diagnosis> {
    let body = String::from_utf8_lossy(&response.body);
    let status = response.status;
    let evidence = |diagnosis: Diagnosis| {
        let diagnosis = diagnosis.with_evidence("status", status.to_string());
        match error {
            Some(error) => diagnosis.with_evidence("error", error.to_owned()),
            None => diagnosis,
        }
    };
    let code = error.and_then(known_code);
    if status == 496 || (status == 400 && body.contains(NGINX_NO_CERTIFICATE)) {
        return Some(evidence(
            Diagnosis::new(
                code.unwrap_or("client_certificate_required"),
                Severity::Error,
                format!("the TLS handshake was accepted, but `GET {path}` was refused with {status}: the server wants a client certificate and none was sent"),
            )
            .with_fix("probe again with `--cert FILE --key FILE`; a browser offers none when the server's acceptable CA list does not name its certificate's issuer"),
        ));
    }
    if status == 495 || (status == 400 && body.contains(NGINX_BAD_CERTIFICATE)) {
        return Some(evidence(
            Diagnosis::new(
                code.unwrap_or("certificate_refused"),
                Severity::Error,
                format!("the TLS handshake was accepted, but `GET {path}` was refused with {status}: the server rejected the client certificate"),
            )
            .with_fix("`mutual verify --purpose client` with the server's client CA shows why; the body and the server's log name the reason"),
        ));
    }
    None
}

/// The `error` field of a JSON body, if the body is JSON with one.
fn json_error(body: &[u8]) -> Option<String> {
    let start = body.iter().position(|&b| b == b'{')?;
    let mut stream =
        serde_json::Deserializer::from_slice(&body[start..]).into_iter::<serde_json::Value>();
    let value = stream.next()?.ok()?;
    value.get("error")?.as_str().map(str::to_owned)
}

/// `code` as one of ours, when it is one (`verify`'s, or the gateway's own).
fn known_code(code: &str) -> Option<&'static str> {
    Code::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(GATEWAY_CODES)
        .find(|known| *known == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_code_in_a_json_body_is_ours() {
        let body = br#"{"status":495,"error":"eku_mismatch","message":"..."}"#;
        assert_eq!(json_error(body).as_deref(), Some("eku_mismatch"));
        assert_eq!(known_code("eku_mismatch"), Some("eku_mismatch"));
        assert_eq!(known_code("no_certificate"), Some("no_certificate"));
        assert_eq!(known_code("made_up"), None);
    }

    fn client(client_auth_eku: bool, issuer_acceptable: Option<bool>) -> ClientCertificate {
        ClientCertificate {
            subject: "CN=alice".to_owned(),
            issuer: "CN=Client CA".to_owned(),
            not_after: OffsetDateTime::now_utc() + time::Duration::days(30),
            chain_length: 1,
            sent: true,
            issuer_acceptable,
            client_auth_eku,
        }
    }

    #[test]
    fn alerts_about_the_certificate_speak_verify_codes() {
        let good = client(true, Some(true));
        for (alert, code) in [
            (AlertDescription::UnknownCA, "unknown_issuer"),
            (AlertDescription::CertificateExpired, "expired"),
            (AlertDescription::CertificateRevoked, "revoked"),
            (AlertDescription::AccessDenied, "access_denied"),
            (AlertDescription::DecryptError, "decrypt_error"),
            (AlertDescription::HandshakeFailure, "handshake_failure"),
            (
                AlertDescription::CertificateRequired,
                "client_certificate_required",
            ),
            (
                AlertDescription::UnsupportedCertificate,
                "unsupported_certificate",
            ),
            (AlertDescription::BadCertificate, "certificate_refused"),
            (AlertDescription::InternalError, "certificate_refused"),
        ] {
            let diagnosis = client_refused(alert, &good, OffsetDateTime::now_utc());
            assert_eq!(diagnosis.code, code, "{alert:?}");
            assert!(diagnosis.fix.is_some(), "{alert:?} has a fix");
        }
    }

    #[test]
    fn a_vague_alert_is_explained_by_what_is_wrong_with_the_certificate() {
        let server_only = client(false, Some(true));
        for alert in [
            AlertDescription::BadCertificate,
            AlertDescription::UnsupportedCertificate,
            AlertDescription::CertificateUnknown,
        ] {
            assert_eq!(
                client_refused(alert, &server_only, OffsetDateTime::now_utc()).code,
                "eku_mismatch"
            );
        }
        let stranger = client(true, Some(false));
        assert_eq!(
            client_refused(
                AlertDescription::BadCertificate,
                &stranger,
                OffsetDateTime::now_utc()
            )
            .code,
            "unknown_issuer"
        );
        let mut old = client(true, Some(true));
        old.not_after = OffsetDateTime::now_utc() - time::Duration::days(1);
        assert_eq!(
            client_refused(
                AlertDescription::BadCertificate,
                &old,
                OffsetDateTime::now_utc()
            )
            .code,
            "expired"
        );
    }

    #[test]
    fn unknown_issuer_suggests_the_intermediate_when_only_the_leaf_was_given() {
        let alone = client(true, Some(false));
        let fix = client_refused(
            AlertDescription::UnknownCA,
            &alone,
            OffsetDateTime::now_utc(),
        )
        .fix
        .unwrap_or_default();
        assert!(fix.contains("send the intermediate"), "{fix}");
    }

    #[test]
    fn nginx_400_without_a_certificate_is_recognised() {
        let response = HttpResponse {
            status: 400,
            reason: "Bad Request".to_owned(),
            headers: Vec::new(),
            body: b"<html><center>No required SSL certificate was sent</center></html>".to_vec(),
        };
        let diagnosis = http_refusal("/", &response, None).expect("a refusal");
        assert_eq!(diagnosis.code, "client_certificate_required");
    }
}
