//! `gateway.toml`, as written by its user: listeners, trust, revocation, routes. Only the
//! shape is checked here (serde); whether the files exist and fit together is
//! [`crate::check`]'s job, so that `mutual gateway check` can list every problem at once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(rename = "listener", default)]
    pub listeners: Vec<ListenerConfig>,
    #[serde(rename = "route", default)]
    pub routes: Vec<RouteConfig>,
    #[serde(default)]
    pub revocation: RevocationConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub limits: Limits,
}

/// Whether a handshake without a (valid) client certificate fails, or goes on to an HTTP
/// answer that says why (496 / 495, as NGINX's `ssl_verify_client optional`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Require,
    Optional,
}

/// What to make of a client certificate that carries no EKU at all (RFC 5280 lets it
/// serve any purpose; stricter deployments refuse it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoEku {
    #[default]
    Accept,
    Refuse,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    pub listen: SocketAddr,
    /// The server certificate, followed by its intermediates.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The only CAs whose client certificates are accepted (least privilege): usually the
    /// issuing client CA, not the root that also signs server certificates.
    pub client_ca: Vec<PathBuf>,
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// The most intermediate CA certificates between the client's certificate and a
    /// trusted CA. (NGINX's `ssl_verify_depth` counts differently: OpenSSL ends the path at
    /// a self-signed root, so with the issuing CA trusted here, NGINX needs this plus one.)
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    #[serde(default)]
    pub certificates_without_eku: NoEku,
}

fn default_mode() -> Mode {
    Mode::Require
}

fn default_max_depth() -> usize {
    2
}

/// Hard fail refuses a certificate whose status cannot be learnt; soft fail admits it and
/// says so in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    #[default]
    Hard,
    Soft,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OcspMode {
    #[default]
    Off,
    Hard,
    Soft,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationConfig {
    /// CRL files, or http:// URLs fetched at start and every `refresh`.
    #[serde(default)]
    pub crl: Vec<String>,
    #[serde(default = "default_refresh", with = "human_duration")]
    pub refresh: Duration,
    #[serde(default)]
    pub crl_fail: FailMode,
    /// Ask the responder named in each client certificate's AIA.
    #[serde(default)]
    pub ocsp: OcspMode,
    /// How long an OCSP answer (and any verdict) is reused for the same certificate.
    #[serde(default = "default_ocsp_cache", with = "human_duration")]
    pub ocsp_cache: Duration,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        Self {
            crl: Vec::new(),
            refresh: default_refresh(),
            crl_fail: FailMode::Hard,
            ocsp: OcspMode::Off,
            ocsp_cache: default_ocsp_cache(),
        }
    }
}

fn default_refresh() -> Duration {
    Duration::from_secs(300)
}

fn default_ocsp_cache() -> Duration {
    Duration::from_secs(300)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Plain HTTP: `/metrics`, `/debug/refusals`, `/health`. Off when absent.
    pub listen: Option<SocketAddr>,
    /// How many refused handshakes and requests `/debug/refusals` keeps.
    #[serde(default = "default_refusals_kept")]
    pub refusals_kept: usize,
}

fn default_refusals_kept() -> usize {
    100
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: None,
            refusals_kept: default_refusals_kept(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default = "default_max_body", with = "human_size")]
    pub max_body: u64,
    /// From the request's arrival to the upstream's response headers.
    #[serde(default = "default_request_timeout", with = "human_duration")]
    pub request_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this.
    #[serde(default = "default_idle_timeout", with = "human_duration")]
    pub idle_timeout: Duration,
    #[serde(default = "default_handshake_timeout", with = "human_duration")]
    pub handshake_timeout: Duration,
    /// How long in-flight requests get to finish after SIGTERM.
    #[serde(default = "default_drain", with = "human_duration")]
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: default_max_body(),
            request_timeout: default_request_timeout(),
            idle_timeout: default_idle_timeout(),
            handshake_timeout: default_handshake_timeout(),
            drain: default_drain(),
        }
    }
}

fn default_max_body() -> u64 {
    10 * 1024 * 1024
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_idle_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_handshake_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_drain() -> Duration {
    Duration::from_secs(10)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// How logs, metrics and 403 answers name the route; default `HOST PATH`.
    pub name: Option<String>,
    /// Exact host name or `*.suffix`; any host when absent.
    pub host: Option<String>,
    /// Path prefix; the longest matching prefix wins.
    #[serde(default = "default_path")]
    pub path: String,
    pub upstream: String,
    /// Any certificate that the trusted client CAs vouch for (many-to-one mapping).
    #[serde(default)]
    pub allow_any: bool,
    /// No client certificate needed at all (only meaningful on `optional` listeners).
    #[serde(default)]
    pub public: bool,
    /// Send the client's certificate upstream as URL-encoded PEM (`X-Client-Cert`).
    #[serde(default)]
    pub forward_pem: bool,
    /// A certificate is admitted when any one rule matches it.
    #[serde(default)]
    pub allow: Vec<AllowRule>,
}

fn default_path() -> String {
    "/".to_owned()
}

/// Everything named in one rule must match (each list: any one of its patterns).
/// Patterns are exact, or globs with `*` (any run of characters) and `?` (one).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AllowRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cn: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub o: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ou: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub san_dns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub san_email: Vec<String>,
    /// e.g. SPIFFE IDs: `spiffe://acme.internal/ns/prod/*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub san_uri: Vec<String>,
    /// The issuer's name as RFC 4514 text, e.g. `CN=Acme Client CA,O=Acme`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issuer: Vec<String>,
    /// SHA-256 of the certificate, hex with or without colons (one-to-one mapping).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprint_sha256: Vec<String>,
}

impl AllowRule {
    pub fn is_empty(&self) -> bool {
        self.cn.is_empty()
            && self.o.is_empty()
            && self.ou.is_empty()
            && self.san_dns.is_empty()
            && self.san_email.is_empty()
            && self.san_uri.is_empty()
            && self.issuer.is_empty()
            && self.fingerprint_sha256.is_empty()
    }
}

/// Why a configuration file could not even be read as one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the gateway configuration {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the gateway configuration {} is not valid: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
}

impl Config {
    /// Reads `path`; relative file names inside are taken relative to its directory, as
    /// NGINX does with its prefix.
    ///
    /// # Errors
    /// The file cannot be read or is not a gateway configuration (unknown keys included).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::parse(&text).map_err(|message| ConfigError::Syntax {
            path: path.to_path_buf(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_relative_to(base);
        Ok(config)
    }

    /// Parses TOML text; the error is toml's message (with line and column).
    ///
    /// # Errors
    /// Not TOML, or not this schema.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().replace('\n', " "))
    }

    fn resolve_relative_to(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for listener in &mut self.listeners {
            fix(&mut listener.cert);
            fix(&mut listener.key);
            listener.client_ca.iter_mut().for_each(fix);
        }
        for crl in &mut self.revocation.crl {
            if !crl.contains("://") && Path::new(crl).is_relative() {
                *crl = base.join(&*crl).display().to_string();
            }
        }
    }

    /// Every file the configuration reads, for reloading when one changes.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = Vec::new();
        for listener in &self.listeners {
            files.push(listener.cert.clone());
            files.push(listener.key.clone());
            files.extend(listener.client_ca.iter().cloned());
        }
        files.extend(
            self.revocation
                .crl
                .iter()
                .filter(|c| !c.contains("://"))
                .map(PathBuf::from),
        );
        files
    }
}

/// Durations as people write them in proxy configurations: `500ms`, `30s`, `5m`, `1h`, `1d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: expected e.g. 500ms, 30s, 5m, 1h, 1d"))?;
    let seconds = match unit.trim() {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}`, expected ms, s, m, h or d"
            ));
        }
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long a duration"))
}

/// Sizes as `1048576`, `64k`, `10m`, `1g` (binary units, as NGINX's `client_max_body_size`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: expected e.g. 65536, 64k, 10m, 1g"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}`, expected k, m or g"
            ));
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))
}

mod human_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Seconds(s) => Ok(Duration::from_secs(s)),
            Raw::Text(t) => super::parse_duration(&t).map_err(serde::de::Error::custom),
        }
    }
}

mod human_size {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bytes(u64),
        Text(String),
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Bytes(b) => Ok(b),
            Raw::Text(t) => super::parse_size(&t).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_configuration_parses_with_defaults_filled_in() {
        let config = Config::parse(
            r#"
            [admin]
            listen = "127.0.0.1:9090"

            [[listener]]
            listen = "0.0.0.0:8443"
            cert = "server.pem"
            key = "server.key.pem"
            client_ca = ["client-ca.pem"]
            mode = "optional"

            [revocation]
            crl = ["client-ca.crl", "http://ca.internal:8080/crl/client-ca.crl"]
            refresh = "5m"
            crl_fail = "soft"

            [[route]]
            host = "api.example.internal"
            path = "/v1/"
            upstream = "http://127.0.0.1:8080"
            [[route.allow]]
            san_uri = ["spiffe://acme.internal/ns/prod/*"]
            [[route.allow]]
            cn = ["alice"]
            issuer = ["CN=Acme Client CA"]
            "#,
        )
        .unwrap();
        assert_eq!(config.listeners[0].mode, Mode::Optional);
        assert_eq!(config.listeners[0].max_depth, 2);
        assert_eq!(config.revocation.refresh, Duration::from_secs(300));
        assert_eq!(config.revocation.crl_fail, FailMode::Soft);
        assert_eq!(config.routes[0].allow.len(), 2);
        assert_eq!(config.limits.max_body, 10 << 20);
        assert_eq!(config.admin.refusals_kept, 100);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let error = Config::parse("[[listener]]\nlisten = \"x\"\n").unwrap_err();
        assert!(error.contains("listen"), "{error}");
        let error =
            Config::parse("[[route]]\nupstream = \"http://a\"\nallow_all = true\n").unwrap_err();
        assert!(error.contains("allow_all"), "{error}");
        let error = Config::parse("[limits]\nidle_timeout = \"5 fortnights\"\n").unwrap_err();
        assert!(error.contains("unknown unit"), "{error}");
    }

    #[test]
    fn durations_and_sizes_read_as_proxies_write_them() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert_eq!(parse_size("64k").unwrap(), 65536);
        assert_eq!(parse_size("10MiB").unwrap(), 10 << 20);
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999g").is_err());
    }
}
