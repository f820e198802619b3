//! Hex renderings: colon-separated upper case as openssl prints serials and
//! fingerprints, plain lower case for key identifiers in JSON.

// By table rather than `write!("{:02x}")`: `core::fmt` per byte was a sixth of decoding a
// certificate (its two fingerprints and key identifiers), measured with callgrind.
const LOWER: &[u8; 16] = b"0123456789abcdef";
const UPPER: &[u8; 16] = b"0123456789ABCDEF";

pub(crate) fn lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(LOWER[usize::from(byte >> 4)]));
        out.push(char::from(LOWER[usize::from(byte & 0x0f)]));
    }
    out
}

pub(crate) fn colon_upper(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (index, &byte) in bytes.iter().enumerate() {
        if index > 0 {
            out.push(':');
        }
        out.push(char::from(UPPER[usize::from(byte >> 4)]));
        out.push(char::from(UPPER[usize::from(byte & 0x0f)]));
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
        assert_eq!(super::lower(&[]), "");
        let every: Vec<u8> = (0..=255).collect();
        let expected: String = every.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(super::lower(&every), expected);
        let expected: Vec<String> = every.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(super::colon_upper(&every), expected.join(":"));
    }
}
