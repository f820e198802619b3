//! `mutual config nginx|apache|envoy`: what `mutual gateway` does with the same settings,
//! written as another server's configuration, for teams that keep their proxy.
//!
//! The inputs are read and checked here (a configuration that would refuse every client is
//! refused now, with the fix, rather than at the first request); each renderer writes one
//! server's dialect and says in comments what that server cannot mirror.

mod apache;
mod envoy;
mod nginx;

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use mutual_ca::files::{FileKind, write_atomic};
use mutual_x509::{Certificate, Crl, DecodeOptions, Object, PrivateKey, Usage};
use time::OffsetDateTime;

use crate::cli::{ConfigArgs, ConfigServer, GatewayMode};
use crate::exit::{BadInput, ExitStatus};
use crate::input;

pub(crate) fn run(args: &ConfigArgs) -> anyhow::Result<ExitStatus> {
    let plan = Plan::read(args, OffsetDateTime::now_utc())?;
    let text = match args.target {
        ConfigServer::Nginx => nginx::render(&plan)?,
        ConfigServer::Apache => apache::render(&plan)?,
        ConfigServer::Envoy => envoy::render(&plan)?,
    };
    for warning in &plan.warnings {
        eprintln!("mutual: warning: {warning}");
    }
    match &args.out {
        Some(path) => write_atomic(path, text.as_bytes(), FileKind::Public)
            .map_err(|e| BadInput(format!("`{}` could not be written: {e}", path.display())))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(ExitStatus::Success)
}

/// Everything a renderer needs, read and checked: paths are absolute and safe to quote.
pub(super) struct Plan {
    pub(super) listen: SocketAddr,
    pub(super) server_name: Option<String>,
    pub(super) cert: String,
    pub(super) key: String,
    pub(super) client_cas: Vec<CaFile>,
    pub(super) crls: Vec<CrlFile>,
    pub(super) mode: GatewayMode,
    /// As the gateway's: the most intermediate CAs between a client certificate and a
    /// client CA certificate.
    pub(super) max_depth: u32,
    pub(super) upstream: Upstream,
    pub(super) forward_pem: bool,
    /// Said on standard error: the configuration works, but not as the user may think.
    warnings: Vec<String>,
}

pub(super) struct CaFile {
    pub(super) path: String,
    pub(super) certificates: Vec<Certificate>,
}

pub(super) struct CrlFile {
    pub(super) path: String,
    pub(super) crls: Vec<Crl>,
}

/// `http://HOST:PORT`, the only upstream the gateway's simple form takes.
pub(super) struct Upstream {
    /// A DNS name or an IP address, without brackets.
    pub(super) host: String,
    pub(super) port: u16,
}

impl Upstream {
    pub(super) fn is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }

    /// `HOST:PORT`, an IPv6 address in brackets.
    pub(super) fn authority(&self) -> String {
        match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => format!("[{}]:{}", self.host, self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

/// What `mutual gateway` forwards upstream about the verified client certificate. Every
/// renderer maps each one (exhaustively) to a source, or removes it when it has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Identity {
    Subject,
    Issuer,
    Serial,
    /// SHA-256 of the DER, hex.
    Fingerprint,
    NotAfter,
    SanDns,
    SanUri,
    SanEmail,
    /// The URL-encoded PEM, with --forward-pem.
    Pem,
    /// Envoy's `X-Forwarded-Client-Cert`.
    Xfcc,
}

/// The header names, in the order configurations list them.
pub(super) const IDENTITY_HEADERS: [(&str, Identity); 10] = [
    ("X-Client-Cert-Subject", Identity::Subject),
    ("X-Client-Cert-Issuer", Identity::Issuer),
    ("X-Client-Cert-Serial", Identity::Serial),
    ("X-Client-Cert-Fingerprint", Identity::Fingerprint),
    ("X-Client-Cert-Not-After", Identity::NotAfter),
    ("X-Client-Cert-SAN-DNS", Identity::SanDns),
    ("X-Client-Cert-SAN-URI", Identity::SanUri),
    ("X-Client-Cert-SAN-Email", Identity::SanEmail),
    ("X-Client-Cert", Identity::Pem),
    ("X-Forwarded-Client-Cert", Identity::Xfcc),
];

/// The TLS 1.2 suites rustls (and so `mutual gateway`) offers: ECDHE with an AEAD only.
/// TLS 1.3 suites are left to each server's defaults, which are the same three.
pub(super) const TLS12_CIPHERS: [&str; 6] = [
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305",
];

impl Plan {
    fn read(args: &ConfigArgs, now: OffsetDateTime) -> Result<Plan, BadInput> {
        let options = DecodeOptions {
            now,
            password: None,
        };
        let mut warnings = Vec::new();
        let (cert, leaf) = server_certificate(&args.cert, &options, &mut warnings)?;
        let key = server_key(&args.key, &args.cert, &leaf, &options)?;
        let client_cas = args
            .client_ca
            .iter()
            .map(|path| client_ca(path, &options))
            .collect::<Result<Vec<_>, _>>()?;
        let crls = args
            .crl
            .iter()
            .map(|path| crl_file(path, &options, &client_cas, now, &mut warnings))
            .collect::<Result<Vec<_>, _>>()?;
        let server_name = args.server_name.as_deref().map(server_name).transpose()?;
        Ok(Plan {
            listen: args.listen,
            server_name,
            cert,
            key,
            client_cas,
            crls,
            mode: args.mode,
            max_depth: args.max_depth,
            upstream: upstream(&args.upstream)?,
            forward_pem: args.forward_pem,
            warnings,
        })
    }

    /// Every client CA certificate, across the files.
    pub(super) fn ca_certificates(&self) -> impl Iterator<Item = (&CaFile, &Certificate)> {
        self.client_cas
            .iter()
            .flat_map(|file| file.certificates.iter().map(move |c| (file, c)))
    }

    /// A client CA certificate whose issuers, followed within the client CA files, never
    /// reach a self-signed root, with the missing issuer: OpenSSL (nginx, Apache) cannot
    /// complete a path through it, so it would refuse every client certificate it issued.
    pub(super) fn unanchored(&self) -> Option<(&CaFile, &Certificate)> {
        self.ca_certificates()
            .find(|(_, ca)| self.steps_to_root(ca).is_none())
    }

    /// The most CA certificates between a client CA certificate and its root (0 when the
    /// client CAs are roots): what OpenSSL, which counts up to the root, adds to the
    /// gateway's --max-depth, which counts up to the client CA.
    pub(super) fn most_steps_to_root(&self) -> u32 {
        self.ca_certificates()
            .filter_map(|(_, ca)| self.steps_to_root(ca))
            .max()
            .unwrap_or(0)
    }

    /// How many issuers above `ca`, within the client CA files, a self-signed root is.
    fn steps_to_root(&self, ca: &Certificate) -> Option<u32> {
        let mut current = ca;
        // A bound, in case the files hold a cycle of cross-certificates.
        for steps in 0..16 {
            if current.self_signed {
                return Some(steps);
            }
            current = self
                .ca_certificates()
                .map(|(_, c)| c)
                .find(|c| c.subject == current.issuer)?;
        }
        None
    }

    /// Client CA certificates that no --crl was issued by.
    pub(super) fn without_crl(&self) -> Vec<(&CaFile, &Certificate)> {
        self.ca_certificates()
            .filter(|(_, ca)| {
                !self
                    .crls
                    .iter()
                    .flat_map(|file| &file.crls)
                    .any(|crl| crl.issuer == ca.subject)
            })
            .collect()
    }

    /// The subjects of a CA file's certificates, for a comment after its directive.
    pub(super) fn subjects(file: &CaFile) -> String {
        file.certificates
            .iter()
            .map(|c| c.subject.rfc4514.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The one-file limit most servers have for CA certificates and CRLs, refused with the
/// command that joins the files.
pub(super) fn one_file_only(
    server: &str,
    flag: &str,
    directive: &str,
    paths: &[&str],
    joined: &str,
) -> BadInput {
    BadInput(format!(
        "{flag}: {server} reads one file ({directive}); found {}: join them with `cat {} > {joined}` and give `{flag} {joined}`",
        paths.len(),
        paths.join(" ")
    ))
}

/// The refusal for a client CA that OpenSSL cannot anchor; `one_file` when the server
/// takes a single CA file, so the root must join the same file.
pub(super) fn unanchored_refusal(
    server: &str,
    file: &CaFile,
    ca: &Certificate,
    one_file: bool,
) -> BadInput {
    let sibling = Path::new(&file.path).with_file_name("root.pem");
    let root = if sibling.exists() {
        sibling.display().to_string()
    } else {
        "root.pem".to_owned()
    };
    let fix = if one_file {
        format!(
            "put the root's certificate in the same file: `cat {} {root} > client-cas.pem`, then `--client-ca client-cas.pem`",
            file.path
        )
    } else {
        format!("add the root's certificate: `--client-ca {root}`")
    };
    BadInput(format!(
        "--client-ca `{}`: {server} (OpenSSL) ends every path at a self-signed root, and the issuer of `{}`, `{}`, is not among the --client-ca certificates, so every client certificate would be refused; {fix}",
        file.path, ca.subject.rfc4514, ca.issuer.rfc4514
    ))
}

/// The first lines of every configuration: what made it and from what.
pub(super) fn preamble(server: &str, plan: &Plan) -> String {
    let mut text = format!(
        "# Made by `mutual config {server}` (mutual {}): what `mutual gateway` does, as far as\n\
         # {server} can, listening on {} (mode {}, max depth {}) and proxying to\n\
         # http://{}. Client certificates are accepted from these CAs only:\n",
        env!("CARGO_PKG_VERSION"),
        plan.listen,
        mode_name(plan.mode),
        plan.max_depth,
        plan.upstream.authority(),
    );
    for (_, ca) in plan.ca_certificates() {
        text.push_str(&format!("#   {}\n", ca.subject.rfc4514));
    }
    text
}

pub(super) fn mode_name(mode: GatewayMode) -> &'static str {
    match mode {
        GatewayMode::Require => "require",
        GatewayMode::Optional => "optional",
    }
}

/// The server certificate file: its path, and the certificate itself (the first).
fn server_certificate(
    path: &Path,
    options: &DecodeOptions,
    warnings: &mut Vec<String>,
) -> Result<(String, Certificate), BadInput> {
    let (name, objects) = read("--cert", path, options)?;
    let kinds = kinds(&objects);
    let mut certificates = certificates(objects);
    if certificates.is_empty() {
        return Err(BadInput(format!(
            "--cert `{name}`: expected the server certificate (PEM), its chain after it; found {kinds}"
        )));
    }
    let leaf = certificates.remove(0);
    if leaf.purpose.ca.is_some() {
        return Err(BadInput(format!(
            "--cert `{name}`: expected the server certificate first; found a CA certificate, `{}`",
            leaf.subject.rfc4514
        )));
    }
    if !leaf.purpose.allows(Usage::ServerAuth) {
        warnings.push(format!(
            "--cert `{name}`: `{}` is not a server certificate (its EKU does not allow serverAuth); clients will refuse it",
            leaf.subject.rfc4514
        ));
    }
    if certificates.is_empty() && !leaf.self_signed {
        warnings.push(format!(
            "--cert `{name}` holds only the server certificate: clients that do not already have its issuer, `{}`, cannot build a path; give the chain file (`mutual issue` writes NAME.chain.pem)",
            leaf.issuer.rfc4514
        ));
    }
    Ok((safe(&name, path)?, leaf))
}

/// The key file's path, once it is known to be an unencrypted key for `leaf`.
fn server_key(
    path: &Path,
    cert_path: &Path,
    leaf: &Certificate,
    options: &DecodeOptions,
) -> Result<String, BadInput> {
    let (name, objects) = read("--key", path, options)?;
    let kinds = kinds(&objects);
    let keys: Vec<PrivateKey> = objects
        .into_iter()
        .filter_map(|object| match object {
            Object::PrivateKey(key) => Some(key),
            _ => None,
        })
        .collect();
    let [key] = keys.as_slice() else {
        return Err(BadInput(format!(
            "--key `{name}`: expected one private key (PEM); found {kinds}"
        )));
    };
    if let Some(encryption) = &key.encryption {
        return Err(BadInput(format!(
            "--key `{name}`: expected an unencrypted private key, which a server reads at start without a prompt; found one encrypted with {encryption} (`openssl pkey -in {name} -out plain.key.pem` decrypts it)"
        )));
    }
    if key
        .public_key
        .as_ref()
        .is_some_and(|public| *public != leaf.public_key.key_bytes)
    {
        return Err(BadInput(format!(
            "--key `{name}` does not go with --cert `{}`: its public key is not the one in `{}`",
            cert_path.display(),
            leaf.subject.rfc4514
        )));
    }
    safe(&name, path)
}

fn client_ca(path: &Path, options: &DecodeOptions) -> Result<CaFile, BadInput> {
    let (name, objects) = read("--client-ca", path, options)?;
    let kinds = kinds(&objects);
    let certificates = certificates(objects);
    if certificates.is_empty() {
        return Err(BadInput(format!(
            "--client-ca `{name}`: expected CA certificates (PEM); found {kinds}"
        )));
    }
    for certificate in &certificates {
        if certificate.purpose.ca.is_none() {
            return Err(BadInput(format!(
                "--client-ca `{name}`: expected CA certificates; found `{}`, {}",
                certificate.subject.rfc4514,
                certificate.purpose.kind.with_article()
            )));
        }
        if !certificate.purpose.allows(Usage::ClientAuth) {
            let allowed: Vec<&str> = certificate
                .purpose
                .usages
                .iter()
                .filter(|u| u.allowed)
                .map(|u| u.eku)
                .collect();
            return Err(BadInput(format!(
                "--client-ca `{name}`: `{}` may not issue client certificates (its EKU allows {} only), so every client certificate under it would be refused [eku_mismatch]; expected the client CA (`mutual init` writes HOME/ca/client-ca.pem)",
                certificate.subject.rfc4514,
                if allowed.is_empty() {
                    "nothing".to_owned()
                } else {
                    allowed.join(", ")
                }
            )));
        }
    }
    Ok(CaFile {
        path: safe(&name, path)?,
        certificates,
    })
}

fn crl_file(
    path: &Path,
    options: &DecodeOptions,
    client_cas: &[CaFile],
    now: OffsetDateTime,
    warnings: &mut Vec<String>,
) -> Result<CrlFile, BadInput> {
    let (name, objects) = read("--crl", path, options)?;
    let kinds = kinds(&objects);
    let crls: Vec<Crl> = objects
        .into_iter()
        .flat_map(|object| match object {
            Object::Crl(crl) => vec![*crl],
            Object::Pkcs7(bundle) => bundle.crls,
            _ => Vec::new(),
        })
        .collect();
    if crls.is_empty() {
        return Err(BadInput(format!(
            "--crl `{name}`: expected a CRL; found {kinds}"
        )));
    }
    for crl in &crls {
        if crl.next_update.is_some_and(|next| next < now) {
            warnings.push(format!(
                "--crl `{name}`: the CRL of `{}` is past its next update; servers refuse every client certificate it covers until it is replaced (`mutual crl`)",
                crl.issuer.rfc4514
            ));
        }
        let known = client_cas
            .iter()
            .flat_map(|file| &file.certificates)
            .any(|ca| ca.subject == crl.issuer);
        if !known {
            warnings.push(format!(
                "--crl `{name}`: the CRL of `{}` covers no client certificate here: that CA is not among the --client-ca certificates",
                crl.issuer.rfc4514
            ));
        }
    }
    Ok(CrlFile {
        path: safe(&name, path)?,
        crls,
    })
}

/// Reads and decodes a file, naming it by `flag` when that fails.
fn read(
    flag: &str,
    path: &Path,
    options: &DecodeOptions,
) -> Result<(String, Vec<Object>), BadInput> {
    let name = path.display().to_string();
    let bytes = input::read_input(&name).map_err(|e| BadInput(format!("{flag} {}", e.0)))?;
    let objects = mutual_x509::decode(&bytes, options)
        .map_err(|e| BadInput(format!("{flag} `{name}` {e}")))?;
    Ok((name, objects))
}

fn kinds(objects: &[Object]) -> String {
    if objects.is_empty() {
        return "nothing".to_owned();
    }
    objects
        .iter()
        .map(Object::type_name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn certificates(objects: Vec<Object>) -> Vec<Certificate> {
    objects
        .into_iter()
        .flat_map(|object| match object {
            Object::Certificate(certificate) => vec![*certificate],
            Object::Pkcs7(bundle) => bundle.certificates,
            _ => Vec::new(),
        })
        .collect()
}

/// The absolute path (the server runs elsewhere), refused when it holds a character that
/// would need escaping in one of the three dialects: quotes, backslashes, `$` (a variable
/// in nginx and Apache) and control characters.
fn safe(name: &str, path: &Path) -> Result<String, BadInput> {
    let absolute = std::fs::canonicalize(path)
        .map_err(|e| BadInput(format!("`{name}` could not be opened: {e}")))?;
    let text = absolute.to_str().ok_or_else(|| {
        BadInput(format!(
            "`{name}`: expected a path in UTF-8, which configuration files are written in; found `{}`",
            absolute.display()
        ))
    })?;
    if let Some(bad) = text
        .chars()
        .find(|c| matches!(c, '"' | '\'' | '\\' | '$' | '`') || c.is_control())
    {
        return Err(BadInput(format!(
            "`{text}`: expected a path without quotes, backslashes, `$` or control characters, which server configurations would read as syntax; found {bad:?}: move or link the file"
        )));
    }
    Ok(text.to_owned())
}

fn server_name(name: &str) -> Result<String, BadInput> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .strip_prefix("*.")
            .unwrap_or(name)
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !valid {
        return Err(BadInput(format!(
            "--server-name `{name}`: expected a host name such as api.example.internal or *.example.internal"
        )));
    }
    Ok(name.to_ascii_lowercase())
}

fn upstream(url: &str) -> Result<Upstream, BadInput> {
    let expected = |found: &str| {
        BadInput(format!(
            "--upstream `{url}`: expected http://HOST:PORT, as `mutual gateway` takes it; found {found}"
        ))
    };
    let rest = match url.split_once("://") {
        Some(("http", rest)) => rest,
        Some(("https", _)) => {
            return Err(expected(
                "https, whose upstream CA this command does not configure",
            ));
        }
        _ => return Err(expected("no http:// scheme")),
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) {
        return Err(expected("a path, query or user name after the host"));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| expected("an IPv6 address without its closing `]`"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(expected(
                "something in brackets that is not an IPv6 address",
            ));
        }
        (host, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => 80,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| expected(&format!("the port `{port}`")))?,
    };
    let name_like = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':');
    if !name_like || (host.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err()) {
        return Err(expected(&format!("the host `{host}`")));
    }
    Ok(Upstream {
        host: host.to_ascii_lowercase(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams() {
        let ok = |url: &str| upstream(url).map(|u| u.authority()).map_err(|e| e.0);
        assert_eq!(ok("http://127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(
            ok("http://Backend.internal/").unwrap(),
            "backend.internal:80"
        );
        assert_eq!(ok("http://[::1]:9000").unwrap(), "[::1]:9000");
        assert!(upstream("http://[::1]:9000").unwrap().is_ip());
        assert!(!upstream("http://backend:1").unwrap().is_ip());
        for bad in [
            "127.0.0.1:8080",
            "https://backend:443",
            "http://backend:8080/api",
            "http://backend:0",
            "http://backend:http",
            "http://back end:80",
            "http://backend;evil:80",
            "http://[::1:80",
            "http://user@backend:80",
        ] {
            let error = ok(bad).unwrap_err();
            assert!(
                error.contains("expected http://HOST:PORT"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn server_names() {
        assert_eq!(
            server_name("API.example.internal").unwrap(),
            "api.example.internal"
        );
        assert_eq!(
            server_name("*.example.internal").unwrap(),
            "*.example.internal"
        );
        for bad in ["", "a b", "a;b", "a\"b", "a.*.b", "${x}"] {
            assert!(server_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_that_would_be_syntax_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a\"b.pem", "a$b.pem", "a\\b.pem", "a'b.pem", "a\nb.pem"] {
            let path = dir.path().join(name);
            std::fs::write(&path, "x").unwrap();
            let error = safe(name, &path).unwrap_err().0;
            assert!(error.contains("expected a path without quotes"), "{error}");
        }
        let spaced = dir.path().join("with space.pem");
        std::fs::write(&spaced, "x").unwrap();
        assert!(
            safe("with space.pem", &spaced)
                .unwrap()
                .ends_with("/with space.pem")
        );
    }
}
