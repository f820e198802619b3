//! Names for the object identifiers a reader of certificates meets, spelled the way
//! openssl prints them so output can be compared side by side.

/// The dotted form of a parsed OID. asn1-rs's own `to_id_string` goes through big
/// integers and showed up as a tenth of `inspect`'s time; OIDs here fit in u64 arcs.
pub(crate) fn dotted(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    crate::tlv::oid_to_string(oid.as_bytes())
}

/// The name of a dotted OID, if it is one we know.
pub fn name(oid: &str) -> Option<&'static str> {
    NAMES
        .binary_search_by(|(known, _)| known.cmp(&oid))
        .ok()
        .map(|index| NAMES[index].1)
}

/// The name of a dotted OID, or the OID itself.
pub fn name_or_oid(oid: &str) -> String {
    name(oid).map_or_else(|| oid.to_owned(), str::to_owned)
}

// Sorted by OID string (a test checks), so lookups are a binary search.
const NAMES: &[(&str, &str)] = &[
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("1.2.840.10040.4.1", "DSA"),
    ("1.2.840.10045.2.1", "EC"),
    ("1.2.840.10045.3.1.7", "P-256"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
    ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256"),
    ("1.2.840.10045.4.3.3", "ecdsa-with-SHA384"),
    ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512"),
    ("1.2.840.113549.1.1.1", "RSA"),
    ("1.2.840.113549.1.1.10", "rsassaPss"),
    ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption"),
    ("1.2.840.113549.1.1.12", "sha384WithRSAEncryption"),
    ("1.2.840.113549.1.1.13", "sha512WithRSAEncryption"),
    ("1.2.840.113549.1.1.14", "sha224WithRSAEncryption"),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    (
        "1.2.840.113549.1.12.1.3",
        "pbeWithSHA1And3-KeyTripleDES-CBC",
    ),
    ("1.2.840.113549.1.12.1.6", "pbeWithSHA1And40BitRC2-CBC"),
    ("1.2.840.113549.1.5.12", "PBKDF2"),
    ("1.2.840.113549.1.5.13", "PBES2"),
    ("1.2.840.113549.1.9.1", "emailAddress"),
    ("1.2.840.113549.2.10", "hmacWithSHA384"),
    ("1.2.840.113549.2.11", "hmacWithSHA512"),
    ("1.2.840.113549.2.7", "hmacWithSHA1"),
    ("1.2.840.113549.2.9", "hmacWithSHA256"),
    ("1.3.101.110", "X25519"),
    ("1.3.101.112", "Ed25519"),
    ("1.3.101.113", "Ed448"),
    ("1.3.132.0.34", "P-384"),
    ("1.3.132.0.35", "P-521"),
    ("1.3.14.3.2.26", "SHA1"),
    ("1.3.6.1.4.1.11129.2.4.2", "CT Precertificate SCTs"),
    ("1.3.6.1.4.1.11129.2.4.3", "CT Precertificate Poison"),
    ("1.3.6.1.4.1.11591.4.11", "scrypt"),
    (
        "1.3.6.1.4.1.311.20.2",
        "Microsoft Certificate Template Name",
    ),
    ("1.3.6.1.4.1.311.20.2.2", "Microsoft Smartcard Login"),
    (
        "1.3.6.1.4.1.311.20.2.3",
        "Microsoft Universal Principal Name",
    ),
    ("1.3.6.1.4.1.311.21.7", "Microsoft Certificate Template"),
    ("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL"),
    ("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST"),
    ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"),
    ("1.3.6.1.5.5.7.1.1", "Authority Information Access"),
    ("1.3.6.1.5.5.7.1.11", "Subject Information Access"),
    ("1.3.6.1.5.5.7.1.24", "TLS Feature"),
    ("1.3.6.1.5.5.7.2.1", "CPS"),
    ("1.3.6.1.5.5.7.2.2", "User Notice"),
    ("1.3.6.1.5.5.7.3.1", "serverAuth"),
    ("1.3.6.1.5.5.7.3.2", "clientAuth"),
    ("1.3.6.1.5.5.7.3.3", "codeSigning"),
    ("1.3.6.1.5.5.7.3.4", "emailProtection"),
    ("1.3.6.1.5.5.7.3.8", "timeStamping"),
    ("1.3.6.1.5.5.7.3.9", "OCSPSigning"),
    ("1.3.6.1.5.5.7.48.1", "OCSP"),
    ("1.3.6.1.5.5.7.48.1.5", "OCSP No Check"),
    ("1.3.6.1.5.5.7.48.2", "CA Issuers"),
    ("2.16.840.1.101.3.4.1.2", "AES-128-CBC"),
    ("2.16.840.1.101.3.4.1.22", "AES-192-CBC"),
    ("2.16.840.1.101.3.4.1.42", "AES-256-CBC"),
    ("2.16.840.1.101.3.4.2.1", "SHA256"),
    ("2.16.840.1.101.3.4.2.2", "SHA384"),
    ("2.16.840.1.101.3.4.2.3", "SHA512"),
    ("2.16.840.1.113730.1.1", "Netscape Cert Type"),
    ("2.16.840.1.113730.1.13", "Netscape Comment"),
    ("2.23.140.1.1", "CA/B EV"),
    ("2.23.140.1.2.1", "CA/B domain validated"),
    ("2.23.140.1.2.2", "CA/B organization validated"),
    ("2.23.140.1.2.3", "CA/B individual validated"),
    ("2.5.29.14", "Subject Key Identifier"),
    ("2.5.29.15", "Key Usage"),
    ("2.5.29.16", "Private Key Usage Period"),
    ("2.5.29.17", "Subject Alternative Name"),
    ("2.5.29.18", "Issuer Alternative Name"),
    ("2.5.29.19", "Basic Constraints"),
    ("2.5.29.20", "CRL Number"),
    ("2.5.29.21", "CRL Reason Code"),
    ("2.5.29.24", "Invalidity Date"),
    ("2.5.29.27", "Delta CRL Indicator"),
    ("2.5.29.28", "Issuing Distribution Point"),
    ("2.5.29.30", "Name Constraints"),
    ("2.5.29.31", "CRL Distribution Points"),
    ("2.5.29.32", "Certificate Policies"),
    ("2.5.29.32.0", "anyPolicy"),
    ("2.5.29.33", "Policy Mappings"),
    ("2.5.29.35", "Authority Key Identifier"),
    ("2.5.29.36", "Policy Constraints"),
    ("2.5.29.37", "Extended Key Usage"),
    ("2.5.29.37.0", "anyExtendedKeyUsage"),
    ("2.5.29.54", "Inhibit anyPolicy"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.12", "title"),
    ("2.5.4.15", "businessCategory"),
    ("2.5.4.17", "postalCode"),
    ("2.5.4.3", "CN"),
    ("2.5.4.4", "SN"),
    ("2.5.4.42", "GN"),
    ("2.5.4.5", "serialNumber"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.9", "street"),
    ("2.5.4.97", "organizationIdentifier"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in NAMES.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "{} must sort before {}",
                pair[0].0,
                pair[1].0
            );
        }
    }

    #[test]
    fn looks_up() {
        assert_eq!(name("1.3.6.1.5.5.7.3.2"), Some("clientAuth"));
        assert_eq!(name("2.5.4.3"), Some("CN"));
        assert_eq!(name_or_oid("1.2.3.4"), "1.2.3.4");
    }
}
