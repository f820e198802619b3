//! A minimal DER tag-length-value reader. x509-parser decodes the objects; this is for
//! the places it does not reach: telling which kind of object a DER blob is before
//! choosing a parser, walking PKCS#7 bundles without rejecting odd certificates inside
//! them, and (in mutual-lint) the encoding facts a decoded certificate no longer shows.

use crate::DecodeError;

/// One DER element, borrowed from the input.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    /// The whole element: header and value.
    pub raw: &'a [u8],
}

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const OCTET_STRING: u8 = 0x04;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;

/// Reads one element and returns it with the bytes after it. Only the single-byte tags
/// and definite lengths DER allows; anything else is reported, never guessed at.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), TlvError> {
    let (&tag, rest) = input.split_first().ok_or(TlvError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(TlvError::LongTag);
    }
    let (&first, mut rest) = rest.split_first().ok_or(TlvError::Truncated)?;
    let length = if first < 0x80 {
        usize::from(first)
    } else if first == 0x80 {
        return Err(TlvError::IndefiniteLength);
    } else {
        let count = usize::from(first & 0x7f);
        if count > 4 || rest.len() < count {
            return Err(TlvError::Truncated);
        }
        let mut length = 0usize;
        for &byte in &rest[..count] {
            length = (length << 8) | usize::from(byte);
        }
        rest = &rest[count..];
        length
    };
    if rest.len() < length {
        return Err(TlvError::Truncated);
    }
    let header_len = input.len() - rest.len();
    let (value, after) = rest.split_at(length);
    Ok((
        Tlv {
            tag,
            value,
            raw: &input[..header_len + length],
        },
        after,
    ))
}

/// Reads the elements inside a constructed value, in order.
pub fn children(mut value: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    while !value.is_empty() {
        let (tlv, rest) = read(value)?;
        out.push(tlv);
        value = rest;
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    #[error("the DER ends in the middle of an element")]
    Truncated,
    #[error("a multi-byte tag, which no PKI structure here uses")]
    LongTag,
    #[error("an indefinite length (BER), which DER forbids")]
    IndefiniteLength,
}

impl From<TlvError> for DecodeError {
    fn from(error: TlvError) -> Self {
        DecodeError::Der {
            what: "DER structure",
            detail: error.to_string(),
        }
    }
}

/// One DER element: `tag`, the length octets for `content`, and `content`.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let length = length_octets(content.len());
    let mut out = Vec::with_capacity(1 + length.len() + content.len());
    out.push(tag);
    out.extend_from_slice(&length);
    out.extend_from_slice(content);
    out
}

/// The DER length octets for a value of `len` bytes.
pub(crate) fn length_octets(len: usize) -> Vec<u8> {
    if len < 0x80 {
        vec![len as u8]
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        let mut out = vec![0x80 | bytes.len() as u8];
        out.extend(bytes);
        out
    }
}

/// Renders an OID's content bytes in dotted form, straight into one string: this runs for
/// every OID of every certificate, so no intermediate vectors and no `core::fmt` (which
/// was a tenth of decoding a certificate).
pub fn oid_to_string(content: &[u8]) -> String {
    let mut out = String::with_capacity(content.len() * 3);
    let mut value: u64 = 0;
    let mut first = true;
    for &byte in content {
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if first {
                let top = if value < 80 { value / 40 } else { 2 };
                push_decimal(&mut out, top);
                out.push('.');
                push_decimal(&mut out, value - top * 40);
                first = false;
            } else {
                out.push('.');
                push_decimal(&mut out, value);
            }
            value = 0;
        }
    }
    out
}

/// Like [`oid_to_string`], but `None` for content that is no OID: empty, ending in the
/// middle of an arc, or with an arc too large for 64 bits.
pub fn oid_dotted(content: &[u8]) -> Option<String> {
    let last = *content.last()?;
    if last & 0x80 != 0 {
        return None;
    }
    let mut value: u64 = 0;
    for &byte in content {
        if value > u64::MAX >> 7 {
            return None;
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            value = 0;
        }
    }
    Some(oid_to_string(content))
}

fn push_decimal(out: &mut String, mut value: u64) {
    // u64::MAX has 20 digits.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_reads_back_at_every_length_form() {
        for length in [0usize, 127, 128, 255, 256, 70_000] {
            let encoded = encode(OCTET_STRING, &vec![7; length]);
            let (tlv, rest) = read(&encoded).expect("reads back");
            assert_eq!(
                (tlv.tag, tlv.value.len(), rest.len()),
                (OCTET_STRING, length, 0)
            );
            assert_eq!(tlv.raw, &encoded[..]);
        }
    }

    #[test]
    fn reads_short_and_long_lengths() {
        let short = [0x04, 0x02, 0xaa, 0xbb, 0xff];
        let (tlv, rest) = read(&short).expect("short form");
        assert_eq!(
            (tlv.tag, tlv.value, rest),
            (0x04, &[0xaa, 0xbb][..], &[0xff][..])
        );

        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(0u8, 0x80));
        let (tlv, rest) = read(&long).expect("long form");
        assert_eq!(
            (tlv.value.len(), rest.len(), tlv.raw.len()),
            (0x80, 0, 0x83)
        );
    }

    #[test]
    fn refuses_what_der_forbids() {
        assert_eq!(read(&[]).unwrap_err(), TlvError::Truncated);
        assert_eq!(read(&[0x30]).unwrap_err(), TlvError::Truncated);
        assert_eq!(
            read(&[0x30, 0x80, 0, 0]).unwrap_err(),
            TlvError::IndefiniteLength
        );
        assert_eq!(read(&[0x30, 0x05, 0x01]).unwrap_err(), TlvError::Truncated);
        assert_eq!(read(&[0x1f, 0x01, 0x00]).unwrap_err(), TlvError::LongTag);
        assert_eq!(
            read(&[0x30, 0x85, 1, 1, 1, 1, 1]).unwrap_err(),
            TlvError::Truncated
        );
    }

    #[test]
    fn encodes_lengths() {
        assert_eq!(length_octets(5), vec![5]);
        assert_eq!(length_octets(300), vec![0x82, 0x01, 0x2c]);
    }

    #[test]
    fn renders_oids() {
        // 1.2.840.113549.1.7.2 (PKCS#7 signedData)
        let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
        assert_eq!(oid_to_string(&oid), "1.2.840.113549.1.7.2");
        assert_eq!(oid_to_string(&[0x55, 0x1d, 0x11]), "2.5.29.17");
        // Arcs of 0, the 2.x top arc above 39, and one near u64::MAX.
        assert_eq!(oid_to_string(&[0x00, 0x00]), "0.0.0");
        assert_eq!(oid_to_string(&[0x88, 0x37, 0x01]), "2.999.1");
        let big = [
            0x2a, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert_eq!(oid_to_string(&big), format!("1.2.{}", u64::MAX));
        assert_eq!(oid_dotted(&big), Some(format!("1.2.{}", u64::MAX)));
        assert_eq!(
            oid_dotted(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]).as_deref(),
            Some("1.2.840.10045.2.1")
        );
        assert_eq!(oid_dotted(&[0x86]), None);
        assert_eq!(oid_dotted(&[]), None);
        let too_big = [
            0x2a, 0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert_eq!(oid_dotted(&too_big), None);
    }
}
