//! Distinguished names as people read them: RFC 4514 strings (most specific first, as
//! `openssl -nameopt RFC2253` prints them) plus each attribute by name.

use serde::Serialize;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::oids;

/// A decoded Name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistinguishedName {
    /// RFC 4514 form: RDNs from the last to the first, `,` between them, `+` inside one.
    pub rfc4514: String,
    /// The attributes in encoded order (the first is the least specific).
    pub attributes: Vec<NameAttribute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameAttribute {
    /// Short name (`CN`, `O`) or the dotted OID when it has none.
    pub name: String,
    pub oid: String,
    pub value: String,
    /// The ASN.1 string type, e.g. `UTF8String`, `PrintableString`.
    pub string_type: &'static str,
    /// False when the bytes were not valid for their string type; `value` then holds a
    /// lossy rendering.
    pub valid_encoding: bool,
}

impl DistinguishedName {
    pub fn from_x509(name: &X509Name<'_>) -> Self {
        let mut attributes: Vec<NameAttribute> = Vec::new();
        let mut rdns: Vec<String> = Vec::new();
        for rdn in name.iter_rdn() {
            let mut parts: Vec<String> = Vec::new();
            for attr in rdn.iter() {
                let decoded = attribute(attr);
                parts.push(rfc4514_pair(attr, &decoded));
                attributes.push(decoded);
            }
            rdns.push(parts.join("+"));
        }
        rdns.reverse();
        DistinguishedName {
            rfc4514: rdns.join(","),
            attributes,
        }
    }

    /// Decodes a DER Name, such as the acceptable CA names a TLS server sends when it asks
    /// for a client certificate. `None` when the bytes are not a Name.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        use x509_parser::prelude::FromDer;
        let (rest, name) = X509Name::from_der(der).ok()?;
        rest.is_empty().then(|| Self::from_x509(&name))
    }

    /// The values of an attribute, by short name (`CN`).
    pub fn values<'a>(&'a self, short_name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes
            .iter()
            .filter(move |a| a.name == short_name)
            .map(|a| a.value.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }
}

fn attribute(attr: &AttributeTypeAndValue<'_>) -> NameAttribute {
    let oid = crate::oids::dotted(attr.attr_type());
    let (value, string_type, valid_encoding) = decode_value(attr);
    NameAttribute {
        name: oids::name_or_oid(&oid),
        oid,
        value,
        string_type,
        valid_encoding,
    }
}

fn decode_value(attr: &AttributeTypeAndValue<'_>) -> (String, &'static str, bool) {
    let any = attr.attr_value();
    let data = any.data;
    match any.tag() {
        Tag::Utf8String => utf8(data, "UTF8String"),
        Tag::PrintableString => utf8(data, "PrintableString"),
        Tag::Ia5String => utf8(data, "IA5String"),
        Tag::NumericString => utf8(data, "NumericString"),
        Tag::VisibleString => utf8(data, "VisibleString"),
        // T.61 is close enough to Latin-1 for the names found in the wild.
        Tag::TeletexString => (
            data.iter().map(|&b| char::from(b)).collect(),
            "TeletexString",
            true,
        ),
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            let valid = data.len() % 2 == 0 && String::from_utf16(&units).is_ok();
            (String::from_utf16_lossy(&units), "BMPString", valid)
        }
        Tag::UniversalString => {
            let chars: Option<String> = data
                .chunks(4)
                .map(|c| {
                    let bytes: [u8; 4] = c.try_into().ok()?;
                    char::from_u32(u32::from_be_bytes(bytes))
                })
                .collect();
            match chars {
                Some(s) => (s, "UniversalString", true),
                None => (hex_value(data), "UniversalString", false),
            }
        }
        _ => (hex_value(data), "other", true),
    }
}

fn utf8(data: &[u8], kind: &'static str) -> (String, &'static str, bool) {
    match std::str::from_utf8(data) {
        Ok(s) => (s.to_owned(), kind, true),
        Err(_) => (String::from_utf8_lossy(data).into_owned(), kind, false),
    }
}

fn hex_value(data: &[u8]) -> String {
    format!("#{}", crate::hex::lower(data))
}

fn rfc4514_pair(attr: &AttributeTypeAndValue<'_>, decoded: &NameAttribute) -> String {
    let key = &decoded.name;
    if decoded.string_type == "other" || !decoded.valid_encoding {
        // RFC 4514 §2.4: values without a string form are `#` and the hex of their BER.
        let raw = attr.attr_value();
        let mut der = vec![raw.tag().0 as u8];
        der.extend(crate::tlv::length_octets(raw.data.len()));
        der.extend_from_slice(raw.data);
        return format!("{key}=#{}", crate::hex::lower(&der));
    }
    format!("{key}={}", escape(&decoded.value))
}

/// RFC 4514 §2.4 escaping.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (index, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if index == 0 => out.push_str("\\#"),
            ' ' if index == 0 || index == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_specials() {
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape("#x"), "\\#x");
        assert_eq!(escape(" lead and trail "), "\\ lead and trail\\ ");
        assert_eq!(escape("Acme \"Internal\""), "Acme \\\"Internal\\\"");
    }
}
