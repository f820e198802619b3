//! Hex renderings: colon-separated upper case as openssl prints serials and
//! fingerprints, plain lower case for key identifiers in JSON.

use std::fmt::Write;

pub(crate) fn lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

pub(crate) fn colon_upper(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (index, byte) in bytes.iter().enumerate() {
        if index > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02X}");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders() {
        assert_eq!(super::lower(&[0x0a, 0xff]), "0aff");
        assert_eq!(super::colon_upper(&[0x0a, 0xff]), "0A:FF");
        assert_eq!(super::colon_upper(&[]), "");
    }
}
