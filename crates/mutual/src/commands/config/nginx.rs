//! nginx (1.22 and later, with OpenSSL): a file for the `http {}` context, such as
//! /etc/nginx/conf.d/mutual-gateway.conf — an upstream pool, a server and, in optional
//! mode, the map that names why a certificate was refused.

use std::fmt::Write as _;

use super::{IDENTITY_HEADERS, Identity, Plan, TLS12_CIPHERS};
use crate::cli::GatewayMode;
use crate::exit::BadInput;

pub(super) fn render(plan: &Plan) -> Result<String, BadInput> {
    check(plan)?;
    // Names nginx keeps per `http {}`: one per listening port, so two gateways can coexist.
    let name = format!("mutual_gateway_{}", plan.listen.port());
    let mut out = super::preamble("nginx", plan);
    out.push_str(DIFFERENCES);
    if plan.mode == GatewayMode::Optional {
        push_refusal_map(&mut out, &name);
    }
    let _ = write!(
        out,
        "\n\
         upstream {name}_upstream {{\n    \
             server {};\n    \
             # Idle connections kept open to the upstream (it needs HTTP/1.1, set below).\n    \
             keepalive 32;\n\
         }}\n\
         \n\
         server {{\n    \
             # nginx 1.25.1 and later prefer `listen ... ssl;` with `http2 on;`.\n    \
             listen {} ssl http2;\n    \
             server_name {};\n\
         \n    \
             ssl_certificate     \"{}\";\n    \
             ssl_certificate_key \"{}\";\n    \
             ssl_protocols TLSv1.2 TLSv1.3;\n    \
             ssl_ciphers {};\n    \
             ssl_prefer_server_ciphers off;\n",
        plan.upstream.authority(),
        plan.listen,
        plan.server_name.as_deref().unwrap_or("_"),
        plan.cert,
        plan.key,
        TLS12_CIPHERS.join(":"),
    );
    push_client_verification(&mut out, plan);
    if plan.mode == GatewayMode::Optional {
        let _ = write!(
            out,
            "\n    \
                 # nginx itself refuses an invalid certificate before any location runs, with\n    \
                 # status 495 turned into a 400; this keeps the 495 and says why.\n    \
                 error_page 495 =495 @{name}_refused;\n    \
                 location @{name}_refused {{\n        \
                     default_type text/plain;\n        \
                     return 495 \"client certificate refused: ${name}_refusal\\n\";\n    \
                 }}\n",
        );
    }
    out.push_str("\n    location / {\n");
    if plan.mode == GatewayMode::Optional {
        out.push_str(
            "        if ($ssl_client_verify != SUCCESS) {\n            \
                 return 496 \"no_certificate: no client certificate was presented; this site requires one\\n\";\n        \
             }\n",
        );
    }
    let _ = write!(
        out,
        "        proxy_pass http://{name}_upstream;\n        \
             proxy_http_version 1.1;\n        \
             proxy_set_header Connection \"\";\n        \
             proxy_set_header Host $http_host;\n        \
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n        \
             proxy_set_header X-Forwarded-Proto https;\n\
         \n        \
             # The verified identity. proxy_set_header replaces every header of that name the\n        \
             # client sent, and an empty value removes it, so a client cannot forge these; nginx\n        \
             # also drops header names with `_` (underscores_in_headers off), which CGI-style\n        \
             # backends would read as the same header. Variables are empty without a certificate.\n",
    );
    for (header, identity) in IDENTITY_HEADERS {
        let value = match source(identity, plan.forward_pem) {
            Some(variable) => variable.to_owned(),
            None => "\"\"".to_owned(),
        };
        let _ = writeln!(out, "        proxy_set_header {header:<26}{value};");
    }
    out.push_str("    }\n}\n");
    Ok(out)
}

/// What nginx has for each identity header, or `None`: the header is then removed.
fn source(identity: Identity, forward_pem: bool) -> Option<&'static str> {
    match identity {
        // RFC 2253 (since nginx 1.11.6), as `mutual` prints names.
        Identity::Subject => Some("$ssl_client_s_dn"),
        Identity::Issuer => Some("$ssl_client_i_dn"),
        Identity::Serial => Some("$ssl_client_serial"),
        Identity::NotAfter => Some("$ssl_client_v_end"),
        Identity::Pem if forward_pem => Some("$ssl_client_escaped_cert"),
        // $ssl_client_fingerprint is SHA-1; nginx has neither SHA-256 nor the SANs.
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
# Where nginx differs from `mutual gateway` (checked against nginx 1.22 with OpenSSL 3):
# - Without a certificate the handshake completes and nginx answers 400 (require) or 496
#   (optional); an invalid one gets 400 (require) or 495 (optional). The gateway fails
#   the handshake in require mode. nginx logs the reason at level `info`.
# - OpenSSL ends every path at a self-signed root, so the root is trusted as well as the
#   client CA: a certificate from another CA under that root is accepted if its chain
#   allows clientAuth (`mutual init`'s server CA does not).
# - OpenSSL's `sslclient` purpose refuses a client certificate whose EKU lacks clientAuth
#   (\"unsuitable certificate purpose\"), but accepts one with no EKU at all.
# - No SHA-256 fingerprint ($ssl_client_fingerprint is SHA-1), no SANs and no
#   X-Forwarded-Client-Cert: those headers are removed, never forwarded; the backend can
#   read them from X-Client-Cert (--forward-pem). X-Client-Cert-Not-After is OpenSSL's
#   `Nov  3 04:08:56 2027 GMT`, where the gateway writes RFC 3339.
# - Only the headers named below are replaced; the gateway removes every `x-client-cert*`
#   header a client sends, whatever follows the prefix.
# - With CRLs, OpenSSL wants the CRL of every CA on the path, the root's included, and
#   refuses every client while one is past its next update. nginx reads certificates and
#   CRLs at start: `nginx -s reload` after `mutual crl`.
# - No access rules, OCSP, CRL URLs, refusal of EKU-less certificates, WebSocket upgrade
#   or admin port.
# Check with `nginx -t`, apply with `nginx -s reload`.
";

/// Optional mode: OpenSSL's reason, led by the diagnosis code `mutual verify` gives for it.
/// The first regex that matches wins, so the longer reasons come first.
fn push_refusal_map(out: &mut String, name: &str) {
    const CODES: [(&str, &str); 14] = [
        ("unsuitable certificate purpose", "eku_mismatch"),
        ("certificate revoked", "revoked"),
        ("certificate has expired", "expired"),
        ("certificate is not yet valid", "not_yet_valid"),
        (
            "self.signed certificate in certificate chain",
            "untrusted_root",
        ),
        ("self.signed certificate$", "self_signed_leaf"),
        (
            "unable to get (local )?issuer certificate",
            "unknown_issuer",
        ),
        ("unable to verify the first certificate", "unknown_issuer"),
        (
            "unable to get certificate CRL|CRL has expired|CRL is not yet valid",
            "revocation_unknown",
        ),
        ("certificate chain too long", "max_depth_exceeded"),
        ("certificate signature failure", "bad_signature"),
        ("invalid CA certificate", "ca_not_authorized"),
        ("path length constraint exceeded", "path_length_exceeded"),
        ("subtree violation", "name_constraints_violated"),
    ];
    let _ = write!(
        out,
        "\nmap $ssl_client_verify ${name}_refusal {{\n    default $ssl_client_verify;\n"
    );
    for (reason, code) in CODES {
        let _ = writeln!(out, "    \"~{reason}\" \"{code} ($ssl_client_verify)\";");
    }
    out.push_str("}\n");
}

fn push_client_verification(out: &mut String, plan: &Plan) {
    out.push_str("\n    # Client certificates: only from these CAs.\n");
    let _ = writeln!(
        out,
        "    ssl_client_certificate \"{}\";  # {}; its names are sent to clients",
        plan.client_cas[0].path,
        Plan::subjects(&plan.client_cas[0])
    );
    if let Some(second) = plan.client_cas.get(1) {
        let _ = writeln!(
            out,
            "    ssl_trusted_certificate \"{}\";  # {}",
            second.path,
            Plan::subjects(second)
        );
    }
    let _ = write!(
        out,
        "    ssl_verify_client {};\n    \
             # The gateway's max depth ({}) counts intermediate CAs up to a client CA; OpenSSL\n    \
             # counts them up to the root, {} more here.\n    \
             ssl_verify_depth {};\n",
        match plan.mode {
            GatewayMode::Require => "on",
            GatewayMode::Optional => "optional",
        },
        plan.max_depth,
        plan.most_steps_to_root(),
        plan.max_depth + plan.most_steps_to_root(),
    );
    if let Some(crl) = plan.crls.first() {
        let _ = writeln!(out, "    ssl_crl \"{}\";", crl.path);
    }
}

/// The inputs nginx cannot take as they are, refused before anything is written.
fn check(plan: &Plan) -> Result<(), BadInput> {
    if plan.client_cas.len() > 2 {
        let paths: Vec<&str> = plan.client_cas.iter().map(|f| f.path.as_str()).collect();
        return Err(super::one_file_only(
            "nginx",
            "--client-ca",
            "ssl_client_certificate, and ssl_trusted_certificate for a second",
            &paths,
            "client-cas.pem",
        ));
    }
    if plan.crls.len() > 1 {
        let paths: Vec<&str> = plan.crls.iter().map(|f| f.path.as_str()).collect();
        return Err(super::one_file_only(
            "nginx", "--crl", "ssl_crl", &paths, "crls.pem",
        ));
    }
    if let Some((file, ca)) = plan.unanchored() {
        return Err(super::unanchored_refusal("nginx", file, ca, false));
    }
    if let Some(crl) = plan.crls.first()
        && let Some((file, ca)) = plan.without_crl().first()
    {
        return Err(BadInput(format!(
            "--crl `{}`: nginx (OpenSSL) checks the CRL of every CA on the path, and none is from `{}` (in --client-ca `{}`), so every client certificate would be refused; add its CRL to the file (`mutual crl` writes HOME/crl/*.crl.pem)",
            crl.path, ca.subject.rfc4514, file.path
        )));
    }
    Ok(())
}
