//! `mutual probe audit`: does a server really check client certificates?
//!
//! The caller (which holds a CA the server trusts for clients) mints one good control
//! certificate and a set of certificates each broken in exactly one way; [`audit`] presents
//! each in a real handshake followed by an HTTP request and judges what the server did. A
//! TLS alert or an HTTP 400/403/495/496 is a refusal; 2xx, 3xx and 404 are acceptance.

use std::fmt::Write as _;

use serde::Serialize;

use crate::error::ProbeError;
use crate::exchange::{ClientCredential, Exchange, HttpOutcome, exchange};
use crate::presented::Options;
use crate::target::Target;

/// The JSON report's schema name.
pub const AUDIT_SCHEMA: &str = "mutual.probe-audit/v1";

/// One way a client certificate can be wrong (or the control, which is right).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Case {
    /// A correct certificate from the client CA, with its intermediate: must be accepted.
    GoodControl,
    /// EKU serverAuth only.
    ServerAuthOnly,
    /// notAfter in the past.
    Expired,
    /// notBefore in the future.
    NotYetValid,
    /// Revoked, and the revocation published in the CA's CRL before it is presented.
    Revoked,
    /// Self-signed, with the same subject as the control.
    SelfSigned,
    /// Signed by a CA the server has never seen.
    UnrelatedCa,
    /// A CA certificate (basicConstraints CA:TRUE, keyCertSign) presented as a client.
    CaAsClient,
    /// A good leaf sent without the intermediate it needs.
    NoIntermediate,
    /// A good certificate whose handshake is signed with another key.
    WrongKey,
}

impl Case {
    /// Every case, the control first: the order of the report.
    pub const ALL: [Case; 10] = [
        Case::GoodControl,
        Case::ServerAuthOnly,
        Case::Expired,
        Case::NotYetValid,
        Case::Revoked,
        Case::SelfSigned,
        Case::UnrelatedCa,
        Case::CaAsClient,
        Case::NoIntermediate,
        Case::WrongKey,
    ];

    /// The stable snake_case name.
    pub fn code(self) -> &'static str {
        match self {
            Case::GoodControl => "good_control",
            Case::ServerAuthOnly => "server_auth_only",
            Case::Expired => "expired",
            Case::NotYetValid => "not_yet_valid",
            Case::Revoked => "revoked",
            Case::SelfSigned => "self_signed",
            Case::UnrelatedCa => "unrelated_ca",
            Case::CaAsClient => "ca_as_client",
            Case::NoIntermediate => "no_intermediate",
            Case::WrongKey => "wrong_key",
        }
    }

    /// What is wrong with the certificate, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Case::GoodControl => "a correct certificate from the client CA",
            Case::ServerAuthOnly => "EKU serverAuth only, no clientAuth",
            Case::Expired => "expired an hour ago",
            Case::NotYetValid => "valid only from an hour from now",
            Case::Revoked => "revoked, and listed in the CA's CRL",
            Case::SelfSigned => "self-signed, same subject as the control",
            Case::UnrelatedCa => "signed by a CA the server was never told about",
            Case::CaAsClient => "a CA certificate used as a client certificate",
            Case::NoIntermediate => "sent without its intermediate CA",
            Case::WrongKey => "the handshake signed with a key that is not the certificate's",
        }
    }

    /// What a server that checks client certificates does with it.
    pub fn expected(self) -> Expected {
        match self {
            Case::GoodControl => Expected::Accepted,
            _ => Expected::Refused,
        }
    }

    /// What to change when the server got this case wrong (NGINX first, since it is the
    /// server people audit most; `mutual gateway` where it has a switch).
    pub fn fix(self) -> &'static str {
        match self {
            Case::GoodControl => {
                "the server refused a correct certificate from this CA, so it does not trust the CA for clients: add the CA's chain to the client CAs (NGINX: ssl_client_certificate, with ssl_verify_depth covering every CA in the chain; mutual gateway: --client-ca); the other results mean little until the control is accepted"
            }
            Case::ServerAuthOnly => {
                "require the clientAuth EKU: OpenSSL-based servers (NGINX, Apache) check it for client certificates unless a custom verify callback or `ssl_verify_client optional_no_ca` skips verification; use `ssl_verify_client on`"
            }
            Case::Expired | Case::NotYetValid => {
                "check the validity period: NGINX does with `ssl_verify_client on`; `optional_no_ca` accepts anything, and `optional` passes failures on (return 403 unless $ssl_client_verify = SUCCESS); check the server's clock"
            }
            Case::Revoked => {
                "check revocation: NGINX `ssl_crl FILE` (CRLs of every CA in the chain, and `nginx -s reload` after each re-signing) or `ssl_ocsp on` (NGINX 1.19+); mutual gateway --crl FILE or --ocsp hard"
            }
            Case::SelfSigned | Case::UnrelatedCa => {
                "trust only your client CA: `ssl_verify_client on` (not optional_no_ca), ssl_client_certificate holding only the client CA chain, and with `optional` return 403 unless $ssl_client_verify = SUCCESS"
            }
            Case::CaAsClient => {
                "refuse CA certificates as client certificates: check basicConstraints and keyUsage (digitalSignature) of the leaf; OpenSSL's purpose check for sslclient does, unless verification is skipped (`optional_no_ca`)"
            }
            Case::NoIntermediate => {
                "the server completed the chain from CA certificates it holds (ssl_client_certificate or ssl_trusted_certificate includes the issuing CA): harmless if you meant to trust that CA directly; otherwise list only the root and keep ssl_verify_depth at the real depth"
            }
            Case::WrongKey => {
                "the server accepted a certificate without proof of its private key: whatever terminates TLS does not check CertificateVerify, or the application trusts a forwarded certificate header; trust only the TLS terminator's verified result ($ssl_client_verify)"
            }
        }
    }
}

impl Serialize for Case {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What a checking server does with a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// Lets it through.
    Accepted,
    /// Refuses it (alert or HTTP 400/403/495/496).
    Refused,
}

/// What the server did with one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "evidence")]
pub enum ServerAnswer {
    /// A TLS alert, a closed connection, or HTTP 400/403/495/496.
    Refused(String),
    /// The handshake completed and the request was answered 2xx, 3xx or 404.
    Accepted(String),
    /// Anything else (a 5xx, no HTTP answer): cannot tell.
    Unclear(String),
    /// The case was not presented.
    NotPresented(String),
}

impl ServerAnswer {
    /// The evidence, for the table.
    pub fn evidence(&self) -> &str {
        match self {
            ServerAnswer::Refused(text)
            | ServerAnswer::Accepted(text)
            | ServerAnswer::Unclear(text)
            | ServerAnswer::NotPresented(text) => text,
        }
    }
}

/// The verdict on one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The server did what a checking server does.
    Pass,
    /// It accepted what it must refuse (or refused the control).
    Fail,
    /// Its answer says nothing either way.
    Inconclusive,
    /// The case could not be prepared (e.g. revoked without a CA store or a CRL file).
    NotTested,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::NotTested => "NOT TESTED",
        }
    }
}

/// One case as the caller prepared it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Which case.
    pub case: Case,
    /// The credential to present, or why there is none.
    pub credential: Result<ClientCredential, String>,
}

/// One row of the report.
#[non_exhaustive]
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// Which case.
    pub case: Case,
    /// What is wrong with its certificate.
    pub description: &'static str,
    /// What a checking server does.
    pub expected: Expected,
    /// What this one did.
    pub server: ServerAnswer,
    /// Pass, fail, inconclusive or not tested.
    pub verdict: Verdict,
    /// What to change, on a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The whole audit.
#[non_exhaustive]
#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    /// [`AUDIT_SCHEMA`].
    pub schema: &'static str,
    /// The target as given.
    pub target: String,
    /// The path requested after each handshake.
    pub http_path: String,
    /// One row per case, the control first.
    pub results: Vec<CaseResult>,
    /// Notes from the caller: where the CRL was written, what was revoked at the end.
    pub notes: Vec<String>,
    /// True when no case failed.
    pub passed: bool,
}

impl AuditReport {
    /// The cases that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.results.iter().filter(|r| r.verdict == Verdict::Fail)
    }
}

/// Presents each prepared case to `target` and judges the answers.
///
/// # Errors
/// What stops the audit from talking TLS at all (resolution, connection, not TLS), from
/// whichever case met it first.
pub fn audit(
    target: &Target,
    options: &Options,
    cases: &[Prepared],
    http_path: &str,
) -> Result<AuditReport, ProbeError> {
    let mut answers = Vec::new();
    for prepared in cases {
        let answer = match &prepared.credential {
            Ok(credential) => {
                let exchange = exchange(target, options, Some(credential), Some(http_path))?;
                answer(&exchange)
            }
            Err(why) => ServerAnswer::NotPresented(why.clone()),
        };
        answers.push((prepared.case, answer));
    }
    Ok(judge(target.to_string(), http_path, answers))
}

/// What the server's reaction to one exchange amounts to.
fn answer(exchange: &Exchange) -> ServerAnswer {
    if let Some(rejection) = &exchange.rejection {
        return ServerAnswer::Refused(match rejection.alert_name() {
            Some(alert) => format!("alert {alert}"),
            None => rejection.message.clone(),
        });
    }
    let unasked = if exchange.client_certificate_request.is_none() {
        " (no certificate asked for)"
    } else {
        ""
    };
    match &exchange.http {
        Some(HttpOutcome::Response(response)) => {
            let text = format!("HTTP {}{unasked}", response.status);
            match response.status {
                400 | 403 | 495 | 496 => ServerAnswer::Refused(text),
                200..=399 | 404 => ServerAnswer::Accepted(text),
                _ => ServerAnswer::Unclear(text),
            }
        }
        Some(HttpOutcome::Failed(text)) => ServerAnswer::Unclear(format!("no HTTP answer: {text}")),
        None => ServerAnswer::Accepted(format!("handshake accepted{unasked}")),
    }
}

/// The verdicts: each case against its expectation, and refusals made meaningless by a
/// refused control turned inconclusive.
fn judge(target: String, http_path: &str, answers: Vec<(Case, ServerAnswer)>) -> AuditReport {
    let control_accepted = answers.iter().any(|(case, answer)| {
        *case == Case::GoodControl && matches!(answer, ServerAnswer::Accepted(_))
    });
    let results: Vec<CaseResult> = answers
        .into_iter()
        .map(|(case, server)| {
            let verdict = match (&server, case.expected()) {
                (ServerAnswer::NotPresented(_), _) => Verdict::NotTested,
                (ServerAnswer::Unclear(_), _) => Verdict::Inconclusive,
                (ServerAnswer::Accepted(_), Expected::Accepted) => Verdict::Pass,
                (ServerAnswer::Refused(_), Expected::Refused) if control_accepted => Verdict::Pass,
                (ServerAnswer::Refused(_), Expected::Refused) => Verdict::Inconclusive,
                (ServerAnswer::Refused(_), Expected::Accepted)
                | (ServerAnswer::Accepted(_), Expected::Refused) => Verdict::Fail,
            };
            let fix = (verdict == Verdict::Fail).then(|| {
                if server.evidence().ends_with("(no certificate asked for)") {
                    "the server never asked for a client certificate: NGINX `ssl_verify_client on` with ssl_client_certificate; mutual gateway --mode require".to_owned()
                } else {
                    case.fix().to_owned()
                }
            });
            CaseResult {
                case,
                description: case.describe(),
                expected: case.expected(),
                server,
                verdict,
                fix,
            }
        })
        .collect();
    AuditReport {
        schema: AUDIT_SCHEMA,
        target,
        http_path: http_path.to_owned(),
        passed: results.iter().all(|r| r.verdict != Verdict::Fail),
        results,
        notes: Vec::new(),
    }
}

/// The report as a table for people, ending with the verdict line.
pub fn render_audit(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = write_audit(&mut out, report);
    out
}

fn write_audit(out: &mut String, report: &AuditReport) -> std::fmt::Result {
    writeln!(
        out,
        "Client-certificate audit of {} (GET {} after each handshake)\n",
        report.target, report.http_path
    )?;
    let width = |f: fn(&CaseResult) -> usize, title: &str| {
        report
            .results
            .iter()
            .map(f)
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let case_w = width(|r| r.case.code().len(), "CASE");
    let server_w = width(|r| r.server.evidence().len().min(48), "SERVER");
    writeln!(
        out,
        "  {:case_w$}  {:8}  {:server_w$}  RESULT",
        "CASE", "EXPECTED", "SERVER"
    )?;
    for result in &report.results {
        let expected = match result.expected {
            Expected::Accepted => "accepted",
            Expected::Refused => "refused",
        };
        let mut evidence = result.server.evidence().to_owned();
        if evidence.chars().count() > 48 {
            evidence = evidence.chars().take(47).collect::<String>() + "…";
        }
        writeln!(
            out,
            "  {:case_w$}  {expected:8}  {evidence:server_w$}  {}",
            result.case.code(),
            result.verdict.label()
        )?;
        if let ServerAnswer::NotPresented(why) | ServerAnswer::Unclear(why) = &result.server
            && why.chars().count() > 48
        {
            writeln!(out, "      {why}")?;
        }
        if let Some(fix) = &result.fix {
            writeln!(out, "      fix ({}): {fix}", result.description)?;
        }
    }
    if !report.notes.is_empty() {
        writeln!(out)?;
        for note in &report.notes {
            writeln!(out, "{note}")?;
        }
    }
    let failed = report.failures().count();
    let broken = report
        .results
        .iter()
        .filter(|r| r.expected == Expected::Refused)
        .count();
    writeln!(out)?;
    if failed == 0 {
        writeln!(out, "verdict: passed (no certificate was wrongly accepted)")
    } else {
        let accepted = report
            .failures()
            .filter(|r| r.expected == Expected::Refused)
            .count();
        writeln!(
            out,
            "verdict: failed ({accepted} of {broken} broken certificates accepted{})",
            if report.failures().any(|r| r.case == Case::GoodControl) {
                ", the good control refused"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(answers: Vec<(Case, ServerAnswer)>) -> AuditReport {
        judge("example.test:443".to_owned(), "/", answers)
    }

    #[test]
    fn an_accepted_broken_certificate_fails_with_its_fix() {
        let report = judged(vec![
            (Case::GoodControl, ServerAnswer::Accepted("HTTP 200".into())),
            (Case::Revoked, ServerAnswer::Accepted("HTTP 200".into())),
            (Case::Expired, ServerAnswer::Refused("HTTP 400".into())),
        ]);
        assert!(!report.passed);
        let verdicts: Vec<_> = report.results.iter().map(|r| r.verdict).collect();
        assert_eq!(verdicts, [Verdict::Pass, Verdict::Fail, Verdict::Pass]);
        assert!(
            report.results[1]
                .fix
                .as_deref()
                .unwrap()
                .contains("ssl_crl")
        );
        let text = render_audit(&report);
        assert!(text.contains("revoked "), "{text}");
        assert!(
            text.trim_end()
                .ends_with("verdict: failed (1 of 2 broken certificates accepted)"),
            "{text}"
        );
    }

    #[test]
    fn a_refused_control_makes_refusals_inconclusive() {
        let report = judged(vec![
            (
                Case::GoodControl,
                ServerAnswer::Refused("alert unknown_ca".into()),
            ),
            (
                Case::Expired,
                ServerAnswer::Refused("alert unknown_ca".into()),
            ),
            (Case::Revoked, ServerAnswer::NotPresented("no store".into())),
        ]);
        let verdicts: Vec<_> = report.results.iter().map(|r| r.verdict).collect();
        assert_eq!(
            verdicts,
            [Verdict::Fail, Verdict::Inconclusive, Verdict::NotTested]
        );
        assert!(!report.passed);
    }

    #[test]
    fn an_unasked_certificate_gets_the_verify_client_fix() {
        let report = judged(vec![(
            Case::SelfSigned,
            ServerAnswer::Accepted("HTTP 200 (no certificate asked for)".into()),
        )]);
        assert!(
            report.results[0]
                .fix
                .as_deref()
                .unwrap()
                .contains("ssl_verify_client on")
        );
    }
}
