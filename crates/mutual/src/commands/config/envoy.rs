//! Envoy (v3 API): a static bootstrap file, `envoy -c FILE` — one listener with TLS and the
//! HTTP connection manager, one cluster for the upstream.

use std::fmt::Write as _;

use super::{IDENTITY_HEADERS, Identity, Plan};
use crate::cli::GatewayMode;
use crate::exit::BadInput;

pub(super) fn render(plan: &Plan) -> Result<String, BadInput> {
    check(plan)?;
    let mut out = super::preamble("envoy", plan);
    out.push_str(DIFFERENCES);
    push_listener(&mut out, plan);
    push_routes(&mut out, plan);
    push_cluster(&mut out, plan);
    Ok(out)
}

const DIFFERENCES: &str = "\
#
# Where Envoy differs from `mutual gateway` (written from Envoy's documentation and source;
# not run against Envoy by mutual's tests):
# - Envoy treats every certificate in trusted_ca as a trust anchor (OpenSSL's partial
#   chain), so the client CA alone is enough, as for the gateway.
# - Its default validator checks BoringSSL's `ssl_client` purpose: an EKU without
#   clientAuth is refused, no EKU at all is accepted.
# - An invalid certificate fails the handshake in both modes (no 495); optional mode
#   answers 496 without a certificate.
# - X-Client-Cert-Not-After and -Serial are in Envoy's formats, not necessarily the
#   gateway's (RFC 3339, upper-case hex); X-Forwarded-Client-Cert is Envoy's own.
# - Only the headers named below are removed; the gateway removes every `x-client-cert*`
#   header a client sends, whatever follows the prefix.
# - With a CRL and an intermediate CA as trust anchor, some Envoy versions refuse every
#   certificate (envoyproxy/envoy#29197): try a revoked and a valid client first.
# - No access rules, OCSP, CRL URLs, refusal of EKU-less certificates or admin port here.
# Check with `envoy --mode validate -c FILE`.
";

fn push_listener(out: &mut String, plan: &Plan) {
    let _ = write!(
        out,
        "\nstatic_resources:\n  \
           listeners:\n  \
           - name: mutual_gateway\n    \
             address:\n      \
               socket_address: {{ address: \"{}\", port_value: {} }}\n    \
             filter_chains:\n    \
             - transport_socket:\n        \
                 name: envoy.transport_sockets.tls\n        \
                 typed_config:\n          \
                   \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext\n          \
                   require_client_certificate: {}\n          \
                   common_tls_context:\n            \
                     tls_params:\n              \
                       tls_minimum_protocol_version: TLSv1_2\n              \
                       tls_maximum_protocol_version: TLSv1_3\n            \
                     alpn_protocols: [h2, http/1.1]\n            \
                     tls_certificates:\n            \
                     - certificate_chain: {{ filename: \"{}\" }}\n              \
                       private_key: {{ filename: \"{}\" }}\n            \
                     validation_context:\n              \
                       # Client certificates: only from the CAs above.\n              \
                       trusted_ca: {{ filename: \"{}\" }}\n              \
                       # The gateway's max depth ({}), plus the client CA: Envoy counts the anchor.\n              \
                       max_verify_depth: {}\n",
        plan.listen.ip(),
        plan.listen.port(),
        plan.mode == GatewayMode::Require,
        plan.cert,
        plan.key,
        plan.client_cas[0].path,
        plan.max_depth,
        plan.max_depth + 1,
    );
    if let Some(crl) = plan.crls.first() {
        let _ = write!(
            out,
            "              crl: {{ filename: \"{}\" }}\n              \
                           # As `mutual verify --crl`: the client certificate's own CA must have a CRL.\n              \
                           only_verify_leaf_cert_crl: true\n",
            crl.path
        );
    }
    let _ = write!(
        out,
        "      filters:\n      \
               - name: envoy.filters.network.http_connection_manager\n        \
                 typed_config:\n          \
                   \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n          \
                   stat_prefix: mutual_gateway\n          \
                   codec_type: AUTO\n          \
                   use_remote_address: true\n          \
                   strip_any_host_port: true\n          \
                   common_http_protocol_options:\n            \
                     # Header names with `_` are dropped: CGI-style backends read them as ours.\n            \
                     headers_with_underscores_action: DROP_HEADER\n          \
                   # X-Forwarded-Client-Cert: a client's is replaced, never passed on.\n          \
                   forward_client_cert_details: SANITIZE_SET\n          \
                   set_current_client_cert_details: {{ subject: true, dns: true, uri: true, cert: {} }}\n          \
                   http_filters:\n          \
                   - name: envoy.filters.http.router\n            \
                     typed_config:\n              \
                       \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n",
        plan.forward_pem,
    );
}

fn push_routes(out: &mut String, plan: &Plan) {
    let domain = plan.server_name.as_deref().unwrap_or("*");
    let _ = write!(
        out,
        "          route_config:\n            \
                     name: mutual_gateway\n            \
                     virtual_hosts:\n            \
                     - name: upstream\n              \
                       domains: [\"{domain}\"]\n              \
                       # Any identity header a client sent is removed first, then the verified\n              \
                       # identity is added (a header whose value is empty is not).\n              \
                       request_headers_to_remove:\n",
    );
    for (header, _) in IDENTITY_HEADERS {
        if header != "X-Forwarded-Client-Cert" {
            let _ = writeln!(out, "              - {}", header.to_ascii_lowercase());
        }
    }
    out.push_str("              request_headers_to_add:\n");
    for (header, identity) in IDENTITY_HEADERS {
        if let Some(value) = source(identity, plan.forward_pem) {
            let _ = write!(
                out,
                "              - header: {{ key: {}, value: \"{value}\" }}\n                \
                                 append_action: OVERWRITE_IF_EXISTS_OR_ADD\n",
                header.to_ascii_lowercase()
            );
        }
    }
    let _ = write!(
        out,
        "              - header: {{ key: x-forwarded-proto, value: https }}\n                \
                         append_action: OVERWRITE_IF_EXISTS_OR_ADD\n              \
                       routes:\n",
    );
    if plan.mode == GatewayMode::Optional {
        out.push_str(
            "              - match: { prefix: \"/\", tls_context: { presented: false } }\n                \
                             direct_response:\n                  \
                               status: 496\n                  \
                               body: { inline_string: \"no_certificate: no client certificate was presented; this site requires one\\n\" }\n",
        );
    }
    out.push_str(
        "              - match: { prefix: \"/\" }\n                \
                         route: { cluster: mutual_upstream }\n",
    );
}

fn push_cluster(out: &mut String, plan: &Plan) {
    let _ = write!(
        out,
        "  clusters:\n  \
           - name: mutual_upstream\n    \
             type: {}\n    \
             connect_timeout: 5s\n    \
             # HTTP/1.1 upstream; Envoy pools and reuses its connections.\n    \
             load_assignment:\n      \
               cluster_name: mutual_upstream\n      \
               endpoints:\n      \
               - lb_endpoints:\n        \
                 - endpoint:\n            \
                     address:\n              \
                       socket_address: {{ address: \"{}\", port_value: {} }}\n",
        if plan.upstream.is_ip() {
            "STATIC"
        } else {
            "STRICT_DNS"
        },
        plan.upstream.host,
        plan.upstream.port,
    );
}

/// Envoy's substitution for each identity header; XFCC is Envoy's own, set above.
fn source(identity: Identity, forward_pem: bool) -> Option<&'static str> {
    match identity {
        Identity::Subject => Some("%DOWNSTREAM_PEER_SUBJECT%"),
        Identity::Issuer => Some("%DOWNSTREAM_PEER_ISSUER%"),
        Identity::Serial => Some("%DOWNSTREAM_PEER_SERIAL%"),
        Identity::Fingerprint => Some("%DOWNSTREAM_PEER_FINGERPRINT_256%"),
        Identity::NotAfter => Some("%DOWNSTREAM_PEER_CERT_V_END%"),
        Identity::SanDns => Some("%DOWNSTREAM_PEER_DNS_SAN%"),
        Identity::SanUri => Some("%DOWNSTREAM_PEER_URI_SAN%"),
        Identity::SanEmail => Some("%DOWNSTREAM_PEER_EMAIL_SAN%"),
        Identity::Pem if forward_pem => Some("%DOWNSTREAM_PEER_CERT%"),
        Identity::Pem | Identity::Xfcc => None,
    }
}

/// The inputs Envoy cannot take as they are, refused before anything is written.
fn check(plan: &Plan) -> Result<(), BadInput> {
    if plan.client_cas.len() > 1 {
        let paths: Vec<&str> = plan.client_cas.iter().map(|f| f.path.as_str()).collect();
        return Err(super::one_file_only(
            "Envoy",
            "--client-ca",
            "trusted_ca",
            &paths,
            "client-cas.pem",
        ));
    }
    if plan.crls.len() > 1 {
        let paths: Vec<&str> = plan.crls.iter().map(|f| f.path.as_str()).collect();
        return Err(super::one_file_only(
            "Envoy", "--crl", "crl", &paths, "crls.pem",
        ));
    }
    Ok(())
}
