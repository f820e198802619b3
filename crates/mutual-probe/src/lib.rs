//! `mutual probe`'s network half: talk TLS to an endpoint and report what it presents.
//!
//! [`probe`] makes one exchange with a server and judges it: the server's chain through
//! `mutual-verify`, the client certificate against what the server asked for, and the
//! server's refusal (alert or HTTP status) as a cause and a fix.
//!
//! The lower half does not judge trust. [`presented_chain`] returns the certificates exactly as the
//! server sent them, with the negotiated parameters; deciding whether they are any good is
//! `mutual-verify`'s job. Blocking I/O on `std::net`, bounded by [`Options::timeout`].
//!
//! ```no_run
//! let target: mutual_probe::Target = "example.com:443".parse()?;
//! let chain = mutual_probe::presented_chain(&target, &mutual_probe::Options::default())?;
//! println!("{} certificates over {}", chain.certificates.len(), chain.protocol);
//! # Ok::<(), mutual_probe::ProbeError>(())
//! ```

#![allow(
    clippy::result_large_err,
    reason = "a ProbeError carries its evidence and is returned once per network round trip"
)]

mod aia;
mod audit;
mod client_auth;
mod connect;
mod danger;
mod error;
mod exchange;
mod presented;
mod report;
mod session;
mod sniff;
mod target;
mod text;

pub use aia::{
    AIA_MAX_BYTES, AIA_MAX_URLS, Aia, AiaDecodeError, AiaFetch, AiaOutcome, decode_ca_issuers,
};
pub use audit::{
    AUDIT_SCHEMA, AuditReport, Case, CaseResult, Expected, Prepared, ServerAnswer, Verdict, audit,
    render_audit,
};
pub use error::{ProbeError, TargetProblem};
pub use exchange::{
    ClientCredential, Exchange, HttpOutcome, HttpResponse, Negotiated, Rejection, exchange,
    parse_http_response,
};
pub use presented::{ClientCertificateRequest, Options, PresentedChain, presented_chain};
pub use report::{
    ClientAuth, ClientCertificate, Connection, Handshake, Http, Probe, Report, SCHEMA,
    SentCertificate, probe,
};
pub use sniff::{PeerGreeting, describe_greeting};
pub use target::Target;
pub use text::render;
