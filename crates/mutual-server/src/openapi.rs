//! `GET /api/v1/openapi.json`: the API described as OpenAPI 3.1, written by hand next to
//! the routes it describes; a test fails when a route is missing from it.

use axum::Json;
use serde_json::{Value, json};

pub(crate) async fn document() -> Json<Value> {
    Json(spec())
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn admin_errors() -> Value {
    json!({
        "401": error_response("No client certificate, or one that does not verify (details carry the diagnosis codes of `mutual verify`)"),
        "403": error_response("A valid certificate that may not do this: another profile, revoked, or not in the inventory"),
    })
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    base
}

pub(crate) fn spec() -> Value {
    let issued = json!({
        "description": "Issued and durably recorded",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Issued" } } }
    });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mutual CA service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A private CA for server and client certificates. Administrative calls authenticate with a client certificate from the `admin` profile (mutual TLS on the same listener; the handshake asks for a certificate without requiring one). Devices enroll with a one-time token and renew with their current certificate. OCSP, CRLs and CA certificates are also served over plain HTTP."
        },
        "components": {
            "securitySchemes": {
                "adminCertificate": { "type": "mutualTLS", "description": "A client certificate from the `admin` profile" },
                "holderCertificate": { "type": "mutualTLS", "description": "The caller's own current, unrevoked client certificate from this CA (client, server-client or admin profile)" }
            },
            "schemas": {
                "Error": {
                    "type": "object", "required": ["error", "message"],
                    "properties": {
                        "error": { "type": "string", "description": "stable snake_case code" },
                        "message": { "type": "string" },
                        "expected": { "type": "string", "description": "what the call needed, e.g. which certificate" },
                        "details": { "type": "array", "items": { "type": "object", "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } }
                    }
                },
                "Certificate": {
                    "type": "object",
                    "properties": {
                        "serial": { "type": "string" }, "profile": { "type": "string" },
                        "status": { "enum": ["valid", "revoked", "expired"] },
                        "subject": { "type": "string" }, "issuer": { "type": "string" },
                        "sans": { "type": "array", "items": { "type": "string" } },
                        "not_before": { "type": "string", "format": "date-time" },
                        "not_after": { "type": "string", "format": "date-time" },
                        "fingerprint_sha256": { "type": "string" },
                        "requester": { "type": ["string", "null"] },
                        "revoked_at": { "type": ["string", "null"], "format": "date-time" },
                        "revocation_reason": { "type": ["string", "null"] },
                        "issued_at": { "type": "string", "format": "date-time" }
                    }
                },
                "Issued": {
                    "allOf": [ { "$ref": "#/components/schemas/Certificate" }, {
                        "type": "object",
                        "properties": {
                            "certificate": { "type": "string", "description": "PEM" },
                            "chain": { "type": "string", "description": "PEM: the certificate then its issuing CA" },
                            "key": { "type": "string", "description": "PEM PKCS#8 (POST /issue with format pem)" },
                            "pkcs12": { "type": "string", "description": "base64 PKCS#12 (POST /issue with format pkcs12)" },
                            "pkcs12_flavour": { "enum": ["modern", "legacy"] },
                            "password": { "type": "string", "description": "the PKCS#12 password, when the service made it up" },
                            "ignored": { "type": "array", "items": { "type": "string" }, "description": "what the CSR asked for that the profile overrides" },
                            "renews": { "type": "string", "description": "POST /renew: the serial of the certificate presented" }
                        }
                    } ]
                }
            }
        },
        "paths": {
            "/api/v1/health": { "get": { "summary": "Liveness", "responses": { "200": { "description": "ok" } } } },
            "/api/v1/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3.1" } } } },
            "/api/v1/ca": { "get": { "summary": "The CA certificates (PEM): root, server CA, client CA, chain", "responses": { "200": { "description": "PEMs" } } } },
            "/api/v1/crl": { "get": {
                "summary": "A CRL",
                "parameters": [
                    { "name": "issuer", "in": "query", "schema": { "enum": ["client", "server", "root"], "default": "client" } },
                    { "name": "format", "in": "query", "schema": { "enum": ["der", "pem"], "default": "der" } }
                ],
                "responses": { "200": { "description": "application/pkix-crl or PEM" }, "404": error_response("The root CRL is signed offline and none was written") }
            } },
            "/api/v1/sign": { "post": {
                "summary": "Certify a CSR's key and names under a profile",
                "security": [ { "adminCertificate": [] } ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["csr", "profile"],
                    "properties": { "csr": { "type": "string", "description": "PEM CERTIFICATE REQUEST" }, "profile": { "enum": ["server", "client", "server-client", "admin"] }, "days": { "type": "integer" } }
                } } } },
                "responses": merge(json!({ "201": issued, "400": error_response("Bad JSON or CSR"), "422": error_response("Refused by the profile; details carry the refusal codes") }), admin_errors())
            } },
            "/api/v1/issue": { "post": {
                "summary": "Generate a key and issue a certificate for it, returned as PKCS#12 or PEM",
                "security": [ { "adminCertificate": [] } ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["profile", "name"],
                    "properties": {
                        "profile": { "enum": ["server", "client", "server-client", "admin"] },
                        "name": { "type": "string" },
                        "dns": { "type": "array", "items": { "type": "string" } },
                        "ip": { "type": "array", "items": { "type": "string" } },
                        "email": { "type": "array", "items": { "type": "string" } },
                        "uri": { "type": "array", "items": { "type": "string" } },
                        "days": { "type": "integer" },
                        "key_type": { "enum": ["ec-p256", "ec-p384", "ed25519", "rsa-2048", "rsa-3072", "rsa-4096"], "default": "ec-p256" },
                        "format": { "enum": ["pkcs12", "pem"], "default": "pkcs12" },
                        "password": { "type": "string" },
                        "legacy_pkcs12": { "type": "boolean", "default": false }
                    }
                } } } },
                "responses": merge(json!({ "201": issued, "400": error_response("Bad JSON"), "422": error_response("Refused by the profile") }), admin_errors())
            } },
            "/api/v1/revoke": { "post": {
                "summary": "Revoke a certificate",
                "security": [ { "adminCertificate": [] } ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["certificate"],
                    "properties": {
                        "certificate": { "type": "string", "description": "serial (hex) or SHA-256 fingerprint" },
                        "reason": { "enum": ["unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation", "certificateHold", "privilegeWithdrawn", "aACompromise"] },
                        "at": { "type": "string", "format": "date-time" },
                        "invalid_since": { "type": "string", "format": "date-time" }
                    }
                } } } },
                "responses": merge(json!({ "200": { "description": "The revoked certificate", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Certificate" } } } }, "404": error_response("Not in the inventory"), "409": error_response("Already revoked") }), admin_errors())
            } },
            "/api/v1/certificates": { "get": {
                "summary": "The inventory, one page at a time",
                "security": [ { "adminCertificate": [] } ],
                "parameters": [
                    { "name": "profile", "in": "query", "schema": { "type": "string" } },
                    { "name": "status", "in": "query", "schema": { "enum": ["valid", "revoked", "expired"] } },
                    { "name": "expiring_within", "in": "query", "schema": { "type": "string", "examples": ["30d"] } },
                    { "name": "san", "in": "query", "schema": { "type": "string" } },
                    { "name": "subject", "in": "query", "schema": { "type": "string" }, "description": "the start of the subject's common name, ignoring case" },
                    { "name": "sort", "in": "query", "schema": { "enum": ["expiry", "expiry-desc", "newest", "subject"] }, "description": "default expiry (soonest first); a cursor is good for its own order only" },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 1000 } },
                    { "name": "after", "in": "query", "schema": { "type": "string" }, "description": "the `next` of the previous page" }
                ],
                "responses": merge(json!({ "200": { "description": "{certificates: [Certificate], next: string|null}" } }), admin_errors())
            } },
            "/api/v1/certificates/{serial}": { "get": {
                "summary": "One certificate, with its PEM",
                "security": [ { "adminCertificate": [] } ],
                "parameters": [ { "name": "serial", "in": "path", "required": true, "schema": { "type": "string" }, "description": "serial (hex) or SHA-256 fingerprint" } ],
                "responses": merge(json!({ "200": { "description": "Certificate + certificate (PEM)" }, "404": error_response("Not in the inventory") }), admin_errors())
            } },
            "/api/v1/tokens": { "post": {
                "summary": "Make a one-time enrollment token for one subject under one profile (as `mutual token create`); the token is in this answer only",
                "security": [ { "adminCertificate": [] } ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["profile", "subject"],
                    "properties": {
                        "profile": { "enum": ["client", "server", "server-client", "admin"] },
                        "subject": { "type": "string", "description": "the common name the enrolling CSR must carry" },
                        "ttl": { "type": "string", "default": "1h", "description": "how long the token works, 1m to 30d: a number and m, h, d or w" }
                    }
                } } } },
                "responses": merge(json!({
                    "201": { "description": "The token", "content": { "application/json": { "schema": {
                        "type": "object", "required": ["token", "id", "profile", "subject", "expires_at"],
                        "properties": {
                            "token": { "type": "string", "description": "mtk_<id>_<secret>: give it to the device; it is not shown again" },
                            "id": { "type": "string", "description": "names the token in the audit trail (`token:<id>`)" },
                            "profile": { "type": "string" }, "subject": { "type": "string" },
                            "expires_at": { "type": "string", "format": "date-time" }
                        }
                    } } } },
                    "400": error_response("Bad JSON, an unknown or disabled profile (unknown_profile, profile_disabled, profile_not_enrollable), a subject that cannot be a common name (invalid_subject), a lifetime out of bounds (bad_ttl, ttl_out_of_range)")
                }), admin_errors())
            } },
            "/api/v1/enroll": { "post": {
                "summary": "Trade a one-time enrollment token and a CSR for a certificate under the token's profile; no client certificate needed",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["token", "csr"],
                    "properties": {
                        "token": { "type": "string", "description": "mtk_<id>_<secret>" },
                        "csr": { "type": "string", "description": "PEM CERTIFICATE REQUEST; its CN must be the token's subject, its SANs (if any) the subject itself. Under the server profile a CSR without SANs gets the subject as its DNS (or IP) SAN" }
                    }
                } } } },
                "responses": {
                    "201": issued,
                    "400": error_response("Bad JSON or CSR"),
                    "401": error_response("token_invalid: no token has this id and secret, or it is malformed"),
                    "403": error_response("token_subject_mismatch or token_san_mismatch: the CSR names someone else; the token is not spent"),
                    "409": error_response("token_used: the token was spent (details say when and on which serial)"),
                    "410": error_response("token_expired: the token expired (details say when)"),
                    "422": error_response("Refused by the profile (bad CSR signature, weak key...); the token is not spent")
                }
            } },
            "/api/v1/renew": { "post": {
                "summary": "A new certificate for the caller's identity (subject, SANs, profile of the certificate presented), for the same key ({} or no body) or the key of a CSR",
                "security": [ { "holderCertificate": [] } ],
                "requestBody": { "required": false, "content": { "application/json": { "schema": {
                    "type": "object",
                    "properties": { "csr": { "type": "string", "description": "PEM CERTIFICATE REQUEST for a new key; its names are ignored" } }
                } } } },
                "responses": {
                    "201": issued,
                    "400": error_response("Bad JSON or CSR"),
                    "401": error_response("No client certificate, or one that does not verify: expired, another CA (details carry the diagnosis codes of `mutual verify`)"),
                    "403": error_response("A certificate that is revoked, not in the inventory, or from a profile that is not renewed over mTLS"),
                    "422": error_response("Refused by the profile (bad CSR, weak key, profile disabled since)")
                }
            } },
            "/ocsp": { "post": { "summary": "OCSP (RFC 6960), application/ocsp-request", "responses": { "200": { "description": "application/ocsp-response" } } } },
            "/ocsp/{request}": { "get": { "summary": "OCSP by GET: the base64 DER request in the path", "parameters": [ { "name": "request", "in": "path", "required": true, "schema": { "type": "string" } } ], "responses": { "200": { "description": "application/ocsp-response" } } } },
            "/crl/{file}": { "get": { "summary": "root.crl, server-ca.crl, client-ca.crl (DER) or .pem", "parameters": [ { "name": "file", "in": "path", "required": true, "schema": { "type": "string" } } ], "responses": { "200": { "description": "application/pkix-crl" } } } },
            "/ca/{file}": { "get": { "summary": "root.crt, server-ca.crt, client-ca.crt (DER), .pem, or chain.pem", "parameters": [ { "name": "file", "in": "path", "required": true, "schema": { "type": "string" } } ], "responses": { "200": { "description": "application/pkix-cert" } } } },
            "/health": { "get": { "summary": "Liveness", "responses": { "200": { "description": "ok" } } } },
            "/metrics": { "get": { "summary": "Prometheus text format: mutual_certificates{profile,status}, mutual_certificates_expiring{within}, mutual_issuance_seconds{endpoint}, mutual_ocsp_response_seconds, mutual_revocations_total{reason}", "responses": { "200": { "description": "text/plain; version=0.0.4" } } } },
            "/api/v1/metrics": { "get": { "summary": "The same as /metrics", "responses": { "200": { "description": "text/plain; version=0.0.4" } } } }
        }
    })
}
