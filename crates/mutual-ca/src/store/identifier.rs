//! Canonical spellings of the values the store is searched by, so that `ab:cd`, `ABCD` and
//! `0x00abcd` find the same certificate.

use std::net::IpAddr;

use super::StoreError;

/// RFC 5280 4.1.2.2: conforming CAs use serials of at most 20 octets.
const MAX_SERIAL_OCTETS: usize = 20;
const FINGERPRINT_DIGITS: usize = 64;

/// The hex digits of `input`, upper-cased, with colons, spaces and a leading `0x` removed;
/// `None` when anything else is there or no digit is.
fn hex_digits(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let trimmed = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let mut digits = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        match c {
            ':' | ' ' => {}
            c if c.is_ascii_hexdigit() => digits.push(c.to_ascii_uppercase()),
            _ => return None,
        }
    }
    (!digits.is_empty()).then_some(digits)
}

/// A serial as `openssl x509 -serial` prints it: upper-case hex, whole octets, no leading
/// zero octets (the DER sign octet of a serial whose top bit is set is dropped too).
pub(crate) fn serial(input: &str) -> Result<String, StoreError> {
    let invalid = |expected| StoreError::InvalidSerial {
        input: input.to_owned(),
        expected,
    };
    let digits = hex_digits(input).ok_or_else(|| invalid("hex digits, colons allowed"))?;
    let significant = digits.trim_start_matches('0');
    let canonical = match significant.len() {
        0 => "00".to_owned(),
        n if n % 2 == 1 => format!("0{significant}"),
        _ => significant.to_owned(),
    };
    if canonical.len() > 2 * MAX_SERIAL_OCTETS {
        return Err(invalid(
            "at most 20 octets (40 hex digits), as RFC 5280 requires",
        ));
    }
    Ok(canonical)
}

/// A SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it: upper-case hex
/// octets joined by colons.
pub(crate) fn fingerprint(input: &str) -> Result<String, StoreError> {
    let digits = hex_digits(input)
        .filter(|digits| digits.len() == FINGERPRINT_DIGITS)
        .ok_or_else(|| StoreError::InvalidFingerprint {
            input: input.to_owned(),
        })?;
    Ok(colon_octets(&digits))
}

/// A key identifier: upper-case hex without colons. Unlike a serial, leading zero octets are
/// part of the value.
pub(crate) fn key_id(input: &str) -> Result<String, StoreError> {
    hex_digits(input)
        .filter(|digits| digits.len() % 2 == 0)
        .ok_or_else(|| StoreError::InvalidKeyId {
            input: input.to_owned(),
        })
}

/// Whether `input` has the shape of a SHA-256 fingerprint (and so cannot be a serial, which
/// RFC 5280 limits to 20 octets).
pub(crate) fn looks_like_fingerprint(input: &str) -> bool {
    hex_digits(input).is_some_and(|digits| digits.len() == FINGERPRINT_DIGITS)
}

fn colon_octets(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() * 3 / 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && i % 2 == 0 {
            out.push(':');
        }
        out.push(c);
    }
    out
}

/// A SAN as the index table holds it: the kind spelled one way, the value normalised so an
/// equality lookup finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexedSan {
    pub(crate) kind: String,
    pub(crate) value: String,
}

/// The kinds we normalise; any other `KIND:value` is indexed as given.
fn known_kind(kind: &str) -> Option<&'static str> {
    ["DNS", "IP", "email", "URI"]
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(kind))
}

fn normalise_value(kind: &str, value: &str) -> String {
    match kind {
        // DNS names compare case-insensitively (RFC 4343).
        "DNS" => value.to_ascii_lowercase(),
        // One spelling per address: `::1` and `0:0:0:0:0:0:0:1` are the same host.
        "IP" => value
            .parse::<IpAddr>()
            .map_or_else(|_| value.to_owned(), |ip| ip.to_string()),
        _ => value.to_owned(),
    }
}

/// Parses a SAN display form such as `DNS:example.com` or `URI:spiffe://td/x`.
pub(crate) fn indexed_san(display: &str) -> Result<IndexedSan, StoreError> {
    let invalid = || StoreError::InvalidSan {
        input: display.to_owned(),
    };
    let (kind, value) = display.split_once(':').ok_or_else(invalid)?;
    let kind_is_word = !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric());
    if !kind_is_word || value.is_empty() {
        return Err(invalid());
    }
    let kind = known_kind(kind).map_or_else(|| kind.to_owned(), str::to_owned);
    let value = normalise_value(&kind, value);
    Ok(IndexedSan { kind, value })
}

/// What a SAN filter matches: a display form with a known kind matches that kind and value;
/// anything else is a bare value, matched against every spelling it could have been stored
/// under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SanMatch {
    Exact(IndexedSan),
    Value(Vec<String>),
}

pub(crate) fn san_match(input: &str) -> SanMatch {
    if let Some((kind, value)) = input.split_once(':')
        && let Some(kind) = known_kind(kind)
        && !value.is_empty()
    {
        return SanMatch::Exact(IndexedSan {
            kind: kind.to_owned(),
            value: normalise_value(kind, value),
        });
    }
    let mut values = vec![input.to_owned()];
    for candidate in [normalise_value("DNS", input), normalise_value("IP", input)] {
        if !values.contains(&candidate) {
            values.push(candidate);
        }
    }
    SanMatch::Value(values)
}

/// What the subject order sorts by and a subject search matches: the subject's common name
/// (its first `CN`, the most specific in RFC 4514's order), unescaped, trimmed and in lower
/// case; the whole subject in lower case when it names no common name.
pub(crate) fn subject_key(subject: &str) -> String {
    common_name(subject)
        .unwrap_or_else(|| subject.to_owned())
        .trim()
        .to_lowercase()
}

/// The value of the first `CN` (or `2.5.4.3`) attribute of an RFC 4514 string.
fn common_name(subject: &str) -> Option<String> {
    let mut chars = subject.chars();
    loop {
        // One attribute: `type=value`, up to an unescaped `,` or `+`.
        let mut kind = String::new();
        let mut bytes = Vec::new();
        let mut in_value = false;
        let mut ended = true;
        while let Some(c) = chars.next() {
            match c {
                '\\' if in_value => match chars.next() {
                    Some(first) if first.is_ascii_hexdigit() => {
                        let second = chars.next()?;
                        let byte = u8::from_str_radix(&format!("{first}{second}"), 16).ok()?;
                        bytes.push(byte);
                    }
                    Some(escaped) => {
                        let mut buffer = [0; 4];
                        bytes.extend_from_slice(escaped.encode_utf8(&mut buffer).as_bytes());
                    }
                    None => return None,
                },
                ',' | '+' if in_value => {
                    ended = false;
                    break;
                }
                '=' if !in_value => in_value = true,
                c if in_value => {
                    let mut buffer = [0; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
                }
                c => kind.push(c),
            }
        }
        let kind = kind.trim();
        if in_value && (kind.eq_ignore_ascii_case("CN") || kind == "2.5.4.3") {
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
        if ended {
            return None;
        }
    }
}

/// The least string above every string that starts with `prefix`, in code point (and so
/// UTF-8 byte) order: `prefix <= s < bound` selects the strings starting with `prefix` from
/// an index. `None` when there is none (a prefix of U+10FFFF only).
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        // Past the surrogates, which no string holds.
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(next) = char::from_u32(next) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_spellings_meet() {
        for input in [
            "0a:1b:2c",
            "0A1B2C",
            "a1b2c",
            "0x0A1B2C",
            "00:0a:1b:2c",
            " 0a 1b 2c ",
        ] {
            assert_eq!(serial(input).unwrap(), "0A1B2C", "{input}");
        }
        assert_eq!(serial("0").unwrap(), "00");
        // The DER sign octet in front of a serial whose top bit is set.
        assert_eq!(serial("00:C3:01").unwrap(), "C301");
    }

    #[test]
    fn serial_refuses_non_hex_and_oversize() {
        for input in ["", ":", "0x", "12g4", "serial=1234", "-12"] {
            let err = serial(input).unwrap_err();
            assert_eq!(err.code(), "invalid_serial", "{input}");
        }
        assert!(serial(&"A".repeat(40)).is_ok());
        assert_eq!(
            serial(&"A".repeat(42)).unwrap_err().code(),
            "invalid_serial"
        );
    }

    #[test]
    fn fingerprint_is_colon_octets() {
        let digits = "ab".repeat(32);
        let canonical = ["AB"; 32].join(":");
        assert_eq!(fingerprint(&digits).unwrap(), canonical);
        assert_eq!(fingerprint(&canonical.to_lowercase()).unwrap(), canonical);
        assert_eq!(
            fingerprint("AB:CD").unwrap_err().code(),
            "invalid_fingerprint"
        );
        assert!(looks_like_fingerprint(&canonical));
        assert!(!looks_like_fingerprint("0A1B"));
    }

    #[test]
    fn key_id_keeps_leading_zeros() {
        assert_eq!(key_id("00:ab").unwrap(), "00AB");
        assert_eq!(key_id("abc").unwrap_err().code(), "invalid_key_id");
    }

    #[test]
    fn sans_are_normalised_for_the_index() {
        let san = |kind: &str, value: &str| IndexedSan {
            kind: kind.to_owned(),
            value: value.to_owned(),
        };
        assert_eq!(
            indexed_san("DNS:WWW.Example.com").unwrap(),
            san("DNS", "www.example.com")
        );
        assert_eq!(
            indexed_san("dns:a.example").unwrap(),
            san("DNS", "a.example")
        );
        assert_eq!(indexed_san("IP:0:0:0:0:0:0:0:1").unwrap(), san("IP", "::1"));
        assert_eq!(
            indexed_san("URI:spiffe://td/workload").unwrap(),
            san("URI", "spiffe://td/workload")
        );
        assert_eq!(
            indexed_san("email:A@Example.com").unwrap(),
            san("email", "A@Example.com")
        );
        assert_eq!(indexed_san("RID:1.2.3").unwrap(), san("RID", "1.2.3"));
        for input in ["example.com", "DNS:", ":x", "D N S:x"] {
            assert_eq!(
                indexed_san(input).unwrap_err().code(),
                "invalid_san",
                "{input}"
            );
        }
    }

    #[test]
    fn san_filter_reads_display_forms_and_bare_values() {
        assert_eq!(
            san_match("DNS:Host.Example"),
            SanMatch::Exact(IndexedSan {
                kind: "DNS".into(),
                value: "host.example".into()
            })
        );
        assert_eq!(
            san_match("Host.Example"),
            SanMatch::Value(vec!["Host.Example".into(), "host.example".into()])
        );
        assert_eq!(
            san_match("spiffe://td/x"),
            SanMatch::Value(vec!["spiffe://td/x".into()])
        );
    }

    #[test]
    fn subject_key_is_the_common_name_in_lower_case() {
        assert_eq!(subject_key("CN=Alice Smith,O=Acme"), "alice smith");
        assert_eq!(subject_key("O=Acme,cn=Bob"), "bob");
        assert_eq!(subject_key("2.5.4.3=Carol+OU=x"), "carol");
        assert_eq!(subject_key("CN=a\\,b\\+c,O=x"), "a,b+c");
        assert_eq!(subject_key("CN=\\3Cscript\\3E"), "<script>");
        assert_eq!(subject_key("CN=Ünïcode"), "ünïcode");
        assert_eq!(subject_key("O=Acme,C=DE"), "o=acme,c=de");
        assert_eq!(subject_key(""), "");
        assert_eq!(subject_key("CN=broken\\"), "cn=broken\\");
    }

    #[test]
    fn prefix_bound_is_above_every_extension() {
        assert_eq!(prefix_upper_bound("abc").as_deref(), Some("abd"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        assert_eq!(prefix_upper_bound(""), None);
        let bound = prefix_upper_bound("ab").unwrap();
        for s in ["ab", "ab\u{10FFFE}zz", "abz", "ab\u{7F}"] {
            assert!(s >= "ab" && s < bound.as_str(), "{s}");
        }
        assert!("ac" >= bound.as_str());
    }
}
