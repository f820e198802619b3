//! What every lint declares about itself (zlint's metadata): a stable code, what it checks,
//! where the rule comes from, from when it applies and to which certificates.

use serde::Serialize;
use time::{Date, Month, OffsetDateTime};

use mutual_x509::Severity;

/// Where a rule is written down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Source {
    #[serde(rename = "RFC 5280")]
    Rfc5280,
    #[serde(rename = "RFC 5480")]
    Rfc5480,
    #[serde(rename = "RFC 6818")]
    Rfc6818,
    #[serde(rename = "RFC 8813")]
    Rfc8813,
    #[serde(rename = "RFC 2986")]
    Rfc2986,
    #[serde(rename = "CA/B Forum TLS BR")]
    CabfBr,
    #[serde(rename = "Mozilla Root Store Policy")]
    Mozilla,
    /// `mutual`'s own rules for what a server, client or OCSP certificate must be.
    #[serde(rename = "mutual")]
    Mutual,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Rfc5280 => "RFC 5280",
            Source::Rfc5480 => "RFC 5480",
            Source::Rfc6818 => "RFC 6818",
            Source::Rfc8813 => "RFC 8813",
            Source::Rfc2986 => "RFC 2986",
            Source::CabfBr => "CA/B Forum TLS BR",
            Source::Mozilla => "Mozilla Root Store Policy",
            Source::Mutual => "mutual",
        }
    }
}

/// What a certificate is for, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Server,
    Client,
    Ca,
    Ocsp,
}

impl Profile {
    pub const ALL: [Profile; 4] = [Profile::Server, Profile::Client, Profile::Ca, Profile::Ocsp];

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Server => "server",
            Profile::Client => "client",
            Profile::Ca => "ca",
            Profile::Ocsp => "ocsp",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Profile::Server => 1,
            Profile::Client => 2,
            Profile::Ca => 4,
            Profile::Ocsp => 8,
        }
    }
}

/// The profiles a certificate is linted as: detected from its purpose, or forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Profiles(u8);

impl Profiles {
    pub const NONE: Profiles = Profiles(0);

    pub fn one(profile: Profile) -> Self {
        Profiles(profile.bit())
    }

    pub fn with(self, profile: Profile) -> Self {
        Profiles(self.0 | profile.bit())
    }

    pub fn contains(self, profile: Profile) -> bool {
        self.0 & profile.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Profile> {
        Profile::ALL
            .into_iter()
            .filter(move |p| self.contains(p.to_owned()))
    }

    /// Not a CA: a server, client or OCSP certificate, or one with no profile at all.
    pub fn is_leaf(self) -> bool {
        !self.contains(Profile::Ca)
    }
}

/// Which certificates a lint looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every certificate (or request).
    Any,
    /// Every certificate that is not a CA.
    Leaf,
    /// Certificates linted as one of these profiles.
    Only(&'static [Profile]),
}

impl Scope {
    pub fn applies(self, profiles: Profiles) -> bool {
        match self {
            Scope::Any => true,
            Scope::Leaf => profiles.is_leaf(),
            Scope::Only(list) => list.iter().any(|p| profiles.contains(*p)),
        }
    }

    /// `any`, `leaf`, or the profiles joined by `,`.
    pub fn describe(self) -> String {
        match self {
            Scope::Any => "any".to_owned(),
            Scope::Leaf => "leaf".to_owned(),
            Scope::Only(list) => list
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// Whether the rule binds every certificate, or only publicly-trusted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Private and public certificates alike.
    Any,
    /// Only certificates that chain to a publicly-trusted root: under `--trust private`
    /// a failure is reported as a notice.
    PublicOnly,
}

/// A calendar date a rule took effect; certificates whose notBefore is earlier are NE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective(pub Date);

impl Effective {
    /// Every certificate: the rule predates anything still in use.
    pub const ALWAYS: Effective = Effective(Date::MIN);
    /// RFC 5280, published May 2008.
    pub const RFC5280: Effective = Effective::ALWAYS;
    /// The Baseline Requirements' first version, effective 2012-07-01.
    pub const BR_V1: Effective = date(2012, Month::July, 1);

    pub fn applies_to(self, not_before: OffsetDateTime) -> bool {
        not_before.date() >= self.0
    }

    /// `YYYY-MM-DD`, or empty when the rule always applies.
    pub fn describe(self) -> String {
        if self == Effective::ALWAYS {
            String::new()
        } else {
            format!(
                "{:04}-{:02}-{:02}",
                self.0.year(),
                u8::from(self.0.month()),
                self.0.day()
            )
        }
    }
}

/// A date known at compile time; an impossible date is a compile error in the const.
pub(crate) const fn date(year: i32, month: Month, day: u8) -> Effective {
    match Date::from_calendar_date(year, month, day) {
        Ok(d) => Effective(d),
        Err(_) => panic!("invalid effective date"),
    }
}

/// A lint's declaration.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// `e_...`, `w_...`, `n_...`: stable, and what scripts match on.
    pub code: &'static str,
    /// One line: what a failure means.
    pub summary: &'static str,
    pub source: Source,
    /// The section, e.g. `§4.1.2.2`.
    pub citation: &'static str,
    /// The severity of a failure (a registry test checks it matches the code's prefix).
    pub severity: Severity,
    pub effective: Effective,
    pub scope: Scope,
    pub trust: Trust,
}

/// The zlint names for severities: `error`, `warn`, `notice`.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warn",
        Severity::Info => "notice",
    }
}

impl Meta {
    /// A rule for every certificate, effective always, binding private and public alike;
    /// narrow it with [`Meta::scope`], [`Meta::effective`] and [`Meta::public_only`].
    pub const fn new(
        code: &'static str,
        severity: Severity,
        source: Source,
        citation: &'static str,
        summary: &'static str,
    ) -> Self {
        Meta {
            code,
            summary,
            source,
            citation,
            severity,
            effective: Effective::ALWAYS,
            scope: Scope::Any,
            trust: Trust::Any,
        }
    }

    pub const fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    pub const fn effective(mut self, effective: Effective) -> Self {
        self.effective = effective;
        self
    }

    /// Binding only on publicly-trusted certificates: a notice under `--trust private`.
    pub const fn public_only(mut self) -> Self {
        self.trust = Trust::PublicOnly;
        self
    }
}

/// Shorthands for the lint files.
pub(crate) mod prelude {
    pub(crate) use super::{Meta, Profile, Scope, Source, date};
    pub(crate) use crate::lint::{Lint, Outcome};
    pub(crate) use mutual_x509::Severity::{Error, Info as Notice, Warning as Warn};
    pub(crate) use time::Month;

    pub(crate) const SERVER: Scope = Scope::Only(&[Profile::Server]);
    pub(crate) const CLIENT: Scope = Scope::Only(&[Profile::Client]);
    pub(crate) const CA: Scope = Scope::Only(&[Profile::Ca]);
    pub(crate) const OCSP: Scope = Scope::Only(&[Profile::Ocsp]);
    pub(crate) const LEAF: Scope = Scope::Leaf;
}
