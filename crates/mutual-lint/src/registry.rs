//! Every lint, listed explicitly per family and concatenated here: no registration magic,
//! and the order is the order of `--list` and of the results.

use serde::Serialize;

use crate::lint::Lint;
use crate::lints::{cabf, mozilla, mutual, rfc2986, rfc5280, rfc5480, rfc6818, rfc8813};
use crate::meta::{Meta, Trust, severity_name};
use crate::subject::{Cert, Claims, Key, Request, SignatureAlgorithm};

pub(crate) const CERTIFICATE: &[&[&Lint<Cert>]] = &[
    rfc5280::structure::LINTS,
    cabf::validity::LINTS,
    cabf::revocation::LINTS,
    mutual::revocation::LINTS,
];

pub(crate) const CLAIMS: &[&[&Lint<Claims>]] = &[
    rfc5280::extensions::LINTS,
    rfc5280::names::LINTS,
    rfc6818::policies::LINTS,
    rfc8813::key_usage::LINTS,
    mutual::purpose::LINTS,
    cabf::names::LINTS,
    cabf::extensions::LINTS,
    mozilla::policy::CLAIMS_LINTS,
];

pub(crate) const KEY: &[&[&Lint<Key>]] = &[
    rfc5480::keys::LINTS,
    cabf::keys::LINTS,
    mozilla::policy::KEY_LINTS,
];

pub(crate) const SIGNATURE: &[&[&Lint<SignatureAlgorithm>]] =
    &[cabf::signature::LINTS, mozilla::policy::SIGNATURE_LINTS];

pub(crate) const REQUEST: &[&[&Lint<Request>]] = &[rfc2986::request::LINTS];

const fn count<S>(families: &[&[&Lint<S>]]) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < families.len() {
        total += families[i].len();
        i += 1;
    }
    total
}

/// How many results a certificate's report holds: every lint but the requests' own.
pub(crate) const CERTIFICATE_RESULTS: usize =
    count(CERTIFICATE) + count(CLAIMS) + count(KEY) + count(SIGNATURE);

/// How many results a request's report holds.
pub(crate) const REQUEST_RESULTS: usize =
    count(CLAIMS) + count(KEY) + count(SIGNATURE) + count(REQUEST);

/// What a lint looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subjects {
    Certificates,
    Requests,
    /// Certificates and requests: the key, the signature algorithm, the subject and
    /// (requested) extensions.
    Both,
}

impl Subjects {
    pub fn as_str(self) -> &'static str {
        match self {
            Subjects::Certificates => "certificates",
            Subjects::Requests => "requests",
            Subjects::Both => "certificates, requests",
        }
    }
}

/// One registry entry, as `--list` and docs show it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub code: &'static str,
    pub severity: &'static str,
    pub summary: &'static str,
    pub source: &'static str,
    pub citation: &'static str,
    /// `YYYY-MM-DD`, empty when the rule always applied.
    pub effective: String,
    /// `any`, `leaf`, or profiles joined by `,`.
    pub applies_to: String,
    pub subjects: Subjects,
    /// Binding on publicly-trusted certificates only (a notice under `--trust private`).
    pub public_only: bool,
    #[serde(skip)]
    pub meta: Meta,
}

impl Entry {
    fn new(meta: Meta, subjects: Subjects) -> Self {
        Entry {
            code: meta.code,
            severity: severity_name(meta.severity),
            summary: meta.summary,
            source: meta.source.as_str(),
            citation: meta.citation,
            effective: meta.effective.describe(),
            applies_to: meta.scope.describe(),
            subjects,
            public_only: meta.trust == Trust::PublicOnly,
            meta,
        }
    }
}

fn metas<S>(families: &[&[&Lint<S>]]) -> impl Iterator<Item = Meta> {
    families.iter().flat_map(|f| f.iter().map(|l| l.meta))
}

/// Every lint, in registry order.
pub fn registry() -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    entries.extend(metas(CERTIFICATE).map(|m| Entry::new(m, Subjects::Certificates)));
    entries.extend(metas(CLAIMS).map(|m| Entry::new(m, Subjects::Both)));
    entries.extend(metas(KEY).map(|m| Entry::new(m, Subjects::Both)));
    entries.extend(metas(SIGNATURE).map(|m| Entry::new(m, Subjects::Both)));
    entries.extend(metas(REQUEST).map(|m| Entry::new(m, Subjects::Requests)));
    entries
}

/// The registry entry for a code.
pub fn lookup(code: &str) -> Option<Entry> {
    registry().into_iter().find(|e| e.code == code)
}
