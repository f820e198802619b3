//! Certificate and CSR lints in the spirit of zlint and pkilint: RFC 5280 structure, the
//! CA/B Forum TLS Baseline Requirements, Mozilla's root store policy, and `mutual`'s own
//! rules for what a server, client or OCSP certificate must be.
//!
//! Every lint declares its code, source, citation, effective date and the profiles it
//! applies to ([`Meta`]); the [`registry`] lists them all. [`lint_certificate`] and
//! [`lint_request`] run the registry and return one [`LintResult`] per lint.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let der = std::fs::read("server.der")?;
//! let options = mutual_lint::Options {
//!     profile: None,
//!     trust: mutual_lint::TrustMode::Private,
//!     now: time::OffsetDateTime::now_utc(),
//! };
//! for report in mutual_lint::lint_bytes(&der, &options)? {
//!     for finding in report.findings() {
//!         println!("{} {}", finding.code, finding.status.as_str());
//!     }
//! }
//! # Ok(()) }
//! ```

mod der;
mod error;
mod lint;
mod lints;
mod meta;
mod oids;
mod registry;
mod run;
mod subject;

pub use error::LintError;
pub use lint::{Lint, Outcome};
pub use meta::{Effective, Meta, Profile, Profiles, Scope, Source, Trust, severity_name};
pub use registry::{Entry, Subjects, lookup, registry};
pub use run::{
    LintResult, Options, Report, Status, SubjectKind, TrustMode, decode_and_lint, lint_bytes,
    lint_certificate, lint_objects, lint_request,
};
pub use subject::{
    AlgorithmId, Cert, Claims, Key, KeyKind, Params, RawExtension, RawTime, Request, RsaKey,
    SanEntry, SignatureAlgorithm, detect_profiles,
};
