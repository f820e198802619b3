//! Apache httpd 2.4 with mod_ssl (OpenSSL): a site file, such as
//! /etc/apache2/sites-available/mutual-gateway.conf — a Listen and a virtual host.

use std::fmt::Write as _;

use super::{IDENTITY_HEADERS, Identity, Plan, TLS12_CIPHERS};
use crate::cli::GatewayMode;
use crate::exit::BadInput;

pub(super) fn render(plan: &Plan) -> Result<String, BadInput> {
    check(plan)?;
    let mut out = super::preamble("apache", plan);
    out.push_str(DIFFERENCES);
    let _ = write!(
        out,
        "\n\
         # Remove this line if ports.conf already listens on this address.\n\
         Listen {listen}\n\
         \n\
         <VirtualHost {listen}>\n",
        listen = plan.listen,
    );
    if let Some(name) = &plan.server_name {
        let _ = writeln!(out, "    ServerName {name}");
    }
    let _ = write!(
        out,
        "    SSLEngine on\n    \
             SSLProtocol -all +TLSv1.2 +TLSv1.3\n    \
             SSLCipherSuite {}\n    \
             SSLHonorCipherOrder off\n    \
             # The server certificate, its chain after it in the same file (Apache 2.4.8 and later).\n    \
             SSLCertificateFile \"{}\"\n    \
             SSLCertificateKeyFile \"{}\"\n\
         \n    \
             # Client certificates: only from the CAs above; their names are sent to clients.\n    \
             SSLCACertificateFile \"{}\"\n    \
             SSLVerifyClient {}\n    \
             # The gateway's max depth ({}) counts intermediate CAs up to a client CA; Apache\n    \
             # counts the CA certificates above the client's up to the root, the root included.\n    \
             SSLVerifyDepth {}\n",
        TLS12_CIPHERS.join(":"),
        plan.cert,
        plan.key,
        plan.client_cas[0].path,
        super::mode_name(plan.mode),
        plan.max_depth,
        plan.max_depth + plan.most_steps_to_root() + 1,
    );
    if let Some(crl) = plan.crls.first() {
        let _ = write!(
            out,
            "    # The client certificate's own CA must have a CRL in the file, as `mutual verify\n    \
                 # --crl` wants; CAs above it are not checked.\n    \
                 SSLCARevocationFile \"{}\"\n    \
                 SSLCARevocationCheck leaf\n",
            crl.path
        );
    }
    if plan.mode == GatewayMode::Optional {
        out.push_str(
            "\n    # Apache cannot answer 496: a request without a certificate gets 403 here, before it is\n    \
                 # proxied; an invalid certificate fails the handshake.\n    \
                 <Location \"/\">\n        \
                     Require expr \"%{SSL_CLIENT_VERIFY} == 'SUCCESS'\"\n    \
                 </Location>\n    \
                 ErrorDocument 403 \"no_certificate: no client certificate was presented; this site requires one\"\n",
        );
    }
    let _ = write!(
        out,
        "\n    ProxyPass \"/\" \"http://{}/\"\n    \
             ProxyPreserveHost On\n    \
             RequestHeader set X-Forwarded-Proto https\n\
         \n    \
             # The verified identity. `set` replaces every header of that name the client sent and\n    \
             # `unset` removes it, so a client cannot forge these. Apache forwards header names\n    \
             # with `_`, which CGI-style backends (PHP, WSGI, Rack) read as the same header: the\n    \
             # all-underscore spellings are removed below, mixed ones such as X-Client_Cert-Subject\n    \
             # are not, so such a backend must not trust these headers.\n",
        plan.upstream.authority()
    );
    for (header, identity) in IDENTITY_HEADERS {
        match source(identity, plan.forward_pem) {
            Some(value) => {
                let _ = writeln!(out, "    RequestHeader set {header:<26}\"{value}\"");
            }
            None => {
                let _ = writeln!(out, "    RequestHeader unset {header}");
            }
        }
    }
    for (header, _) in IDENTITY_HEADERS {
        let _ = writeln!(out, "    RequestHeader unset {}", header.replace('-', "_"));
    }
    out.push_str("</VirtualHost>\n");
    Ok(out)
}

/// What mod_ssl has for each identity header, or `None`: the header is then removed.
fn source(identity: Identity, forward_pem: bool) -> Option<&'static str> {
    match identity {
        Identity::Subject => Some("%{SSL_CLIENT_S_DN}s"),
        Identity::Issuer => Some("%{SSL_CLIENT_I_DN}s"),
        Identity::Serial => Some("%{SSL_CLIENT_M_SERIAL}s"),
        Identity::NotAfter => Some("%{SSL_CLIENT_V_END}s"),
        // ap_expr's escape: percent-encoding that leaves `+`, `/` and `=` as they are.
        Identity::Pem if forward_pem => Some("expr=%{escape:%{SSL_CLIENT_CERT}}"),
        Identity::Fingerprint
        | Identity::SanDns
        | Identity::SanUri
        | Identity::SanEmail
        | Identity::Pem
        | Identity::Xfcc => None,
    }
}

const DIFFERENCES: &str = "\
#
# Where Apache differs from `mutual gateway` (checked against Apache 2.4 with OpenSSL 3):
# - OpenSSL ends every path at a self-signed root, so the root is trusted as well as the
#   client CA: a certificate from another CA under that root is accepted if its chain
#   allows clientAuth (`mutual init`'s server CA does not).
# - OpenSSL's `sslclient` purpose refuses a client certificate whose EKU lacks clientAuth
#   in the handshake, but accepts one with no EKU at all.
# - Optional mode answers 403 without a certificate (Apache has no 496) and fails the
#   handshake for an invalid one (no 495).
# - No SHA-256 fingerprint, no SANs and no X-Forwarded-Client-Cert among mod_ssl's
#   variables: those headers are removed, never forwarded; the backend can read them from
#   X-Client-Cert (--forward-pem). X-Client-Cert-Not-After is OpenSSL's
#   `Nov  3 04:08:56 2027 GMT`, where the gateway writes RFC 3339.
# - Only the headers named below are replaced or removed; the gateway removes every
#   `x-client-cert*` header a client sends, whatever follows the prefix.
# - Certificates and CRLs are read at start: `apache2ctl graceful` after `mutual crl`.
# - No access rules, OCSP, CRL URLs, refusal of EKU-less certificates, WebSocket upgrade
#   or admin port.
# Needs mod_ssl, mod_headers, mod_proxy and mod_proxy_http
# (`a2enmod ssl headers proxy proxy_http`); check with `apache2ctl configtest`.
";

/// The inputs Apache cannot take as they are, refused before anything is written.
fn check(plan: &Plan) -> Result<(), BadInput> {
    if plan.client_cas.len() > 1 {
        let paths: Vec<&str> = plan.client_cas.iter().map(|f| f.path.as_str()).collect();
        return Err(super::one_file_only(
            "Apache",
            "--client-ca",
            "SSLCACertificateFile",
            &paths,
            "client-cas.pem",
        ));
    }
    if plan.crls.len() > 1 {
        let paths: Vec<&str> = plan.crls.iter().map(|f| f.path.as_str()).collect();
        return Err(super::one_file_only(
            "Apache",
            "--crl",
            "SSLCARevocationFile",
            &paths,
            "crls.pem",
        ));
    }
    if let Some((file, ca)) = plan.unanchored() {
        return Err(super::unanchored_refusal("Apache", file, ca, true));
    }
    Ok(())
}
