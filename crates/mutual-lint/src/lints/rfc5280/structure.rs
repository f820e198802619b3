//! RFC 5280 §4.1: the certificate's fields — version, serial, signature, issuer, validity,
//! unique identifiers.

use crate::der;
use crate::meta::prelude::*;
use crate::subject::Cert;

/// §4.1.2.1: "When extensions are used, as expected in this profile, version MUST be 3
/// (value is 2)."
pub(crate) const VERSION_NOT_3: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_cert_extensions_version_not_3",
        Error,
        Source::Rfc5280,
        "§4.1.2.1",
        "extensions are present but the version is not v3",
    ),
    check: |c| {
        Outcome::fail_if(c.has_extensions_field && c.version != Some(2), || {
            format!(
                "version field is {}",
                c.version
                    .map_or("absent (v1)".to_owned(), |v| format!("{v} (v{})", v + 1))
            )
        })
    },
};

/// §4.1.2.2: "The serial number MUST be a positive integer assigned by the CA to each
/// certificate."
pub(crate) const SERIAL_NEGATIVE: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_serial_number_negative",
        Error,
        Source::Rfc5280,
        "§4.1.2.2",
        "the serial number is negative",
    ),
    check: |c| {
        Outcome::fail_if(c.serial.first().is_some_and(|b| b & 0x80 != 0), || {
            format!(
                "serial octets start 0x{:02x}",
                c.serial.first().copied().unwrap_or(0)
            )
        })
    },
};

/// §4.1.2.2: the serial "MUST be a positive integer" — zero is not.
pub(crate) const SERIAL_ZERO: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_serial_number_zero",
        Error,
        Source::Rfc5280,
        "§4.1.2.2",
        "the serial number is zero",
    ),
    check: |c| {
        Outcome::fail_if(c.serial.iter().all(|&b| b == 0), || {
            "serial is 0".to_owned()
        })
    },
};

/// §4.1.2.2: "Conforming CAs MUST NOT use serialNumber values longer than 20 octets."
pub(crate) const SERIAL_TOO_LONG: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_serial_number_longer_than_20_octets",
        Error,
        Source::Rfc5280,
        "§4.1.2.2",
        "the serial number is longer than 20 octets",
    ),
    check: |c| Outcome::fail_if(c.serial.len() > 20, || format!("{} octets", c.serial.len())),
};

/// §4.1.1.2: the outer signatureAlgorithm "MUST contain the same algorithm identifier as
/// the signature field in the sequence tbsCertificate".
pub(crate) const SIGNATURE_ALGORITHM_MISMATCH: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_signature_algorithm_mismatch",
        Error,
        Source::Rfc5280,
        "§4.1.1.2",
        "signatureAlgorithm differs from the TBSCertificate's signature field",
    ),
    check: |c| {
        Outcome::fail_if(c.signature.algorithm.der != c.tbs_signature.der, || {
            format!(
                "outer {} vs inner {}",
                c.signature.algorithm.oid, c.tbs_signature.oid
            )
        })
    },
};

/// §4.1.2.4: "The issuer field MUST contain a non-empty distinguished name (DN)."
pub(crate) const ISSUER_EMPTY: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_issuer_dn_empty",
        Error,
        Source::Rfc5280,
        "§4.1.2.4",
        "the issuer name is empty",
    ),
    check: |c| Outcome::fail_if(c.issuer_empty, || "issuer is an empty SEQUENCE".to_owned()),
};

/// §4.1.2.5: "CAs conforming to this profile MUST always encode certificate validity dates
/// through the year 2049 as UTCTime; certificate validity dates in 2050 or later MUST be
/// encoded as GeneralizedTime."
pub(crate) const VALIDITY_TIME_TYPE: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_validity_time_wrong_type",
        Error,
        Source::Rfc5280,
        "§4.1.2.5",
        "a validity date before 2050 is GeneralizedTime, or one in 2050 or later is not",
    ),
    check: |c| {
        let mut wrong = Vec::new();
        for (name, raw, at) in [
            ("notBefore", &c.not_before, c.validity.not_before),
            ("notAfter", &c.not_after, c.validity.not_after),
        ] {
            let want = if at.year() >= 2050 {
                der::GENERALIZED_TIME
            } else {
                der::UTC_TIME
            };
            if raw.tag != want {
                wrong.push(format!(
                    "{name} {} is {}",
                    raw.text,
                    if raw.tag == der::UTC_TIME {
                        "UTCTime"
                    } else {
                        "GeneralizedTime"
                    }
                ));
            }
        }
        Outcome::fail_if(!wrong.is_empty(), || wrong.join("; "))
    },
};

fn time_problems(c: &Cert, tag: u8, well_formed: fn(&str) -> bool) -> Outcome {
    let bad: Vec<String> = [("notBefore", &c.not_before), ("notAfter", &c.not_after)]
        .into_iter()
        .filter(|(_, t)| t.tag == tag && !well_formed(&t.text))
        .map(|(name, t)| format!("{name} is `{}`", t.text))
        .collect();
    if [&c.not_before, &c.not_after].iter().all(|t| t.tag != tag) {
        return Outcome::NotApplicable;
    }
    Outcome::fail_if(!bad.is_empty(), || bad.join("; "))
}

fn digits_then_z(text: &str, digits: usize) -> bool {
    text.len() == digits + 1
        && text.ends_with('Z')
        && text.bytes().take(digits).all(|b| b.is_ascii_digit())
}

/// §4.1.2.5.1: "UTCTime values MUST be expressed in Greenwich Mean Time (Zulu) and MUST
/// include seconds (i.e., times are YYMMDDHHMMSSZ)".
pub(crate) const UTC_TIME_FORM: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_utc_time_not_yymmddhhmmssz",
        Error,
        Source::Rfc5280,
        "§4.1.2.5.1",
        "a UTCTime lacks seconds or is not in Zulu time (YYMMDDHHMMSSZ)",
    ),
    check: |c| time_problems(c, der::UTC_TIME, |t| digits_then_z(t, 12)),
};

/// §4.1.2.5.2: "GeneralizedTime values MUST be expressed in Greenwich Mean Time (Zulu)
/// and MUST include seconds (i.e., times are YYYYMMDDHHMMSSZ) ... MUST NOT include
/// fractional seconds."
pub(crate) const GENERALIZED_TIME_FORM: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_generalized_time_not_yyyymmddhhmmssz",
        Error,
        Source::Rfc5280,
        "§4.1.2.5.2",
        "a GeneralizedTime lacks seconds, has fractions or is not Zulu (YYYYMMDDHHMMSSZ)",
    ),
    check: |c| time_problems(c, der::GENERALIZED_TIME, |t| digits_then_z(t, 14)),
};

/// §4.1.2.5: the validity period is "the period of time from notBefore through notAfter,
/// inclusive" — a notAfter before notBefore leaves no such period.
pub(crate) const VALIDITY_INVERTED: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_validity_not_after_before_not_before",
        Error,
        Source::Rfc5280,
        "§4.1.2.5",
        "notAfter is earlier than notBefore",
    ),
    check: |c| {
        let v = &c.validity;
        Outcome::fail_if(v.not_after < v.not_before, || {
            format!(
                "notBefore {} > notAfter {}",
                c.not_before.text, c.not_after.text
            )
        })
    },
};

/// §4.1.2.8: "CAs conforming to this profile MUST NOT generate certificates with unique
/// identifiers."
pub(crate) const UNIQUE_IDENTIFIERS: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_cert_unique_identifier_present",
        Error,
        Source::Rfc5280,
        "§4.1.2.8",
        "issuerUniqueID or subjectUniqueID is present",
    ),
    check: |c| {
        Outcome::fail_if(c.unique_ids, || {
            "unique identifier field present".to_owned()
        })
    },
};

/// §4.1.2.6: "If subject naming information is present only in the subjectAltName
/// extension (e.g., an empty subject DN), then the subject field MUST be an empty sequence
/// and the subjectAltName extension MUST be critical" — a certificate with an empty subject
/// and no SAN names nobody.
pub(crate) const SUBJECT_EMPTY_WITHOUT_SAN: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_subject_empty_without_san",
        Error,
        Source::Rfc5280,
        "§4.1.2.6",
        "the subject is empty and there is no subjectAltName",
    ),
    check: |c| {
        if !c.claims.subject.is_empty() {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!c.claims.has(crate::oids::SAN), || {
            "empty subject, no subjectAltName".to_owned()
        })
    },
};

/// §4.2.1.1: the keyIdentifier of authorityKeyIdentifier "MUST be included in all
/// certificates generated by conforming CAs" — except self-signed ones, where it MAY be
/// omitted.
pub(crate) const AKI_MISSING: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_authority_key_identifier_missing",
        Error,
        Source::Rfc5280,
        "§4.2.1.1",
        "a certificate that is not self-signed has no authorityKeyIdentifier",
    ),
    check: |c| {
        if c.claims.self_signed {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!c.claims.has(crate::oids::AKI), || {
            "no authorityKeyIdentifier extension".to_owned()
        })
    },
};

/// §4.2.1.1: "The keyIdentifier field of the authorityKeyIdentifier extension MUST be
/// included in all certificates generated by conforming CAs to facilitate certification
/// path construction."
pub(crate) const AKI_WITHOUT_KEY_ID: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_authority_key_identifier_no_key_identifier",
        Error,
        Source::Rfc5280,
        "§4.2.1.1",
        "authorityKeyIdentifier lacks keyIdentifier",
    ),
    check: |c| match c.claims.extension(crate::oids::AKI).map(|e| &e.value) {
        Some(mutual_x509::ExtensionValue::AuthorityKeyIdentifier { key_id, .. }) => {
            if c.claims.self_signed {
                Outcome::NotApplicable
            } else {
                Outcome::fail_if(key_id.is_none(), || "keyIdentifier absent".to_owned())
            }
        }
        _ => Outcome::NotApplicable,
    },
};

/// §4.2.1.2: "this extension MUST appear in all conforming CA certificates, that is, all
/// certificates including the basic constraints extension where the value of cA is TRUE."
pub(crate) const SKI_MISSING_CA: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_subject_key_identifier_missing_ca",
        Error,
        Source::Rfc5280,
        "§4.2.1.2",
        "a CA certificate has no subjectKeyIdentifier",
    )
    .scope(CA),
    check: |c| {
        Outcome::fail_if(!c.claims.has(crate::oids::SKI), || {
            "no subjectKeyIdentifier extension".to_owned()
        })
    },
};

/// §4.2.1.2: "For end entity certificates, the subject key identifier extension SHOULD be
/// included."
pub(crate) const SKI_MISSING_LEAF: Lint<Cert> = Lint {
    meta: Meta::new(
        "w_subject_key_identifier_missing_leaf",
        Warn,
        Source::Rfc5280,
        "§4.2.1.2",
        "an end-entity certificate has no subjectKeyIdentifier",
    )
    .scope(LEAF),
    check: |c| {
        Outcome::fail_if(!c.claims.has(crate::oids::SKI), || {
            "no subjectKeyIdentifier extension".to_owned()
        })
    },
};

pub(crate) const LINTS: &[&Lint<Cert>] = &[
    &VERSION_NOT_3,
    &SERIAL_NEGATIVE,
    &SERIAL_ZERO,
    &SERIAL_TOO_LONG,
    &SIGNATURE_ALGORITHM_MISMATCH,
    &ISSUER_EMPTY,
    &VALIDITY_TIME_TYPE,
    &UTC_TIME_FORM,
    &GENERALIZED_TIME_FORM,
    &VALIDITY_INVERTED,
    &UNIQUE_IDENTIFIERS,
    &SUBJECT_EMPTY_WITHOUT_SAN,
    &AKI_MISSING,
    &AKI_WITHOUT_KEY_ID,
    &SKI_MISSING_CA,
    &SKI_MISSING_LEAF,
];
