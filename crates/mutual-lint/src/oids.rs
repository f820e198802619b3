//! The object identifiers the lints name.

pub(crate) const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
pub(crate) const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
pub(crate) const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
pub(crate) const ED25519: &str = "1.3.101.112";
pub(crate) const ED448: &str = "1.3.101.113";
pub(crate) const DSA: &str = "1.2.840.10040.4.1";

pub(crate) const P256: &str = "1.2.840.10045.3.1.7";
pub(crate) const P384: &str = "1.3.132.0.34";
pub(crate) const P521: &str = "1.3.132.0.35";

pub(crate) const MD2_RSA: &str = "1.2.840.113549.1.1.2";
pub(crate) const MD5_RSA: &str = "1.2.840.113549.1.1.4";
pub(crate) const SHA1_RSA: &str = "1.2.840.113549.1.1.5";
pub(crate) const SHA256_RSA: &str = "1.2.840.113549.1.1.11";
pub(crate) const SHA384_RSA: &str = "1.2.840.113549.1.1.12";
pub(crate) const SHA512_RSA: &str = "1.2.840.113549.1.1.13";
pub(crate) const SHA224_RSA: &str = "1.2.840.113549.1.1.14";
pub(crate) const ECDSA_SHA1: &str = "1.2.840.10045.4.1";
pub(crate) const ECDSA_SHA224: &str = "1.2.840.10045.4.3.1";
pub(crate) const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
pub(crate) const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
pub(crate) const ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";
pub(crate) const DSA_SHA1: &str = "1.2.840.10040.4.3";

pub(crate) const SAN: &str = "2.5.29.17";
pub(crate) const KEY_USAGE: &str = "2.5.29.15";
pub(crate) const EKU: &str = "2.5.29.37";
pub(crate) const BASIC_CONSTRAINTS: &str = "2.5.29.19";
pub(crate) const SKI: &str = "2.5.29.14";
pub(crate) const AKI: &str = "2.5.29.35";
pub(crate) const AIA: &str = "1.3.6.1.5.5.7.1.1";
pub(crate) const CRL_DP: &str = "2.5.29.31";
pub(crate) const CERT_POLICIES: &str = "2.5.29.32";
pub(crate) const NAME_CONSTRAINTS: &str = "2.5.29.30";
pub(crate) const POLICY_CONSTRAINTS: &str = "2.5.29.36";
pub(crate) const INHIBIT_ANY_POLICY: &str = "2.5.29.54";
pub(crate) const SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
pub(crate) const CT_POISON: &str = "1.3.6.1.4.1.11129.2.4.3";
pub(crate) const OCSP_NOCHECK: &str = "1.3.6.1.5.5.7.48.1.5";

pub(crate) const EKU_ANY: &str = "2.5.29.37.0";
pub(crate) const EKU_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
pub(crate) const EKU_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
pub(crate) const EKU_EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";
pub(crate) const EKU_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

pub(crate) const QT_UNOTICE: &str = "1.3.6.1.5.5.7.2.2";
/// The CA/B Forum's reserved policy arc for TLS certificates (2.23.140.1.2.x).
pub(crate) const CABF_TLS_POLICY_ARC: &str = "2.23.140.1.2.";
