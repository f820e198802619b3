//! The rehearsal signer. Every certificate is built, decoded, checked and linted before the
//! CA's key signs it (as Let's Encrypt's Boulder does), so the CA's key never signs a broken
//! certificate. What is checked is the to-be-signed part, which does not depend on the
//! signature; so the rehearsal needs a signature's *shape* — the CA's algorithm and a value
//! of the size the CA's key gives — not a signature. Computing a real one with a throwaway
//! key cost as much as the CA's own signature, on every issuance.

use mutual_x509::tlv;
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey};

use crate::key::KeyType;

/// The CA's public key and algorithm, with a fixed value of a real signature's size and
/// encoding in place of a signature.
pub(crate) struct Rehearsal {
    public_key: Vec<u8>,
    algorithm: &'static SignatureAlgorithm,
    placeholder: Vec<u8>,
}

impl Rehearsal {
    /// For a CA whose key is of `key_type`. `public_key` is the subjectPublicKey content of
    /// the CA certificate (what [`PublicKeyData::der_bytes`] means for rcgen);
    /// `rsa_bits` sizes an RSA signature (2048 when unknown).
    pub(crate) fn new(key_type: KeyType, public_key: Vec<u8>, rsa_bits: Option<u32>) -> Self {
        let placeholder = match key_type {
            KeyType::EcP256 => ecdsa_placeholder(32),
            KeyType::EcP384 => ecdsa_placeholder(48),
            KeyType::Ed25519 => vec![0x01; 64],
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                let bits = rsa_bits.unwrap_or(2048) as usize;
                vec![0x01; bits.div_ceil(8)]
            }
        };
        Rehearsal {
            public_key,
            algorithm: key_type.signature_algorithm(),
            placeholder,
        }
    }
}

/// An Ecdsa-Sig-Value (SEQUENCE of two INTEGERs) with both scalars `size` bytes long and
/// positive, as most real signatures are.
fn ecdsa_placeholder(size: usize) -> Vec<u8> {
    let integer = |out: &mut Vec<u8>| {
        out.extend([0x02, size as u8]);
        out.extend(std::iter::repeat_n(0x01, size));
    };
    let mut out = vec![0x30, (2 * (size + 2)) as u8];
    integer(&mut out);
    integer(&mut out);
    out
}

/// The rehearsed certificate signed for real: its to-be-signed part, byte for byte, under
/// the CA key's signature. Signing the very bytes that were decoded and linted (rather than
/// having rcgen build them again) makes the rehearsal stand for the certificate by
/// construction, and saves building the DER twice.
pub(crate) fn sign_rehearsed(rehearsed: &[u8], key: &impl SigningKey) -> Result<Vec<u8>, Signing> {
    let (tbs, algorithm) = parts(rehearsed).ok_or(Signing::Malformed)?;
    let signature = key.sign(tbs).map_err(Signing::Key)?;
    let mut bit_string = Vec::with_capacity(signature.len() + 1);
    bit_string.push(0); // no unused bits
    bit_string.extend_from_slice(&signature);
    let mut content = Vec::with_capacity(tbs.len() + algorithm.len() + bit_string.len() + 8);
    content.extend_from_slice(tbs);
    content.extend_from_slice(algorithm);
    content.extend(tlv::encode(BIT_STRING, &bit_string));
    Ok(tlv::encode(tlv::SEQUENCE, &content))
}

const BIT_STRING: u8 = 0x03;

/// Why [`sign_rehearsed`] failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Signing {
    #[error("the rehearsed certificate is not a SEQUENCE of TBS, algorithm and signature")]
    Malformed,
    #[error("the CA key could not sign: {0}")]
    Key(rcgen::Error),
}

/// A certificate's TBSCertificate and signatureAlgorithm, each as a whole element.
fn parts(certificate: &[u8]) -> Option<(&[u8], &[u8])> {
    let (outer, rest) = tlv::read(certificate).ok()?;
    if outer.tag != tlv::SEQUENCE || !rest.is_empty() {
        return None;
    }
    let (tbs, after_tbs) = tlv::read(outer.value).ok()?;
    let (algorithm, _) = tlv::read(after_tbs).ok()?;
    (tbs.tag == tlv::SEQUENCE && algorithm.tag == tlv::SEQUENCE).then_some((tbs.raw, algorithm.raw))
}

impl PublicKeyData for Rehearsal {
    fn der_bytes(&self) -> &[u8] {
        &self.public_key
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.algorithm
    }
}

impl SigningKey for Rehearsal {
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.placeholder.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_placeholders_are_well_formed_der() {
        for (size, total) in [(32, 70), (48, 102)] {
            let der = ecdsa_placeholder(size);
            assert_eq!(der.len(), total);
            assert_eq!(der[1] as usize, total - 2);
            let (rest, parsed) = x509_parser::der_parser::parse_der(&der).expect("DER");
            assert!(rest.is_empty());
            let items = parsed.as_sequence().expect("a SEQUENCE");
            assert_eq!(items.len(), 2);
            for item in items {
                assert_eq!(item.as_slice().expect("INTEGER content").len(), size);
            }
        }
    }

    #[test]
    fn broken_certificates_are_refused_not_signed() {
        let key = KeyType::EcP256.generate().expect("key");
        for broken in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x30, 0x00],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x02, 0x30, 0x00, 0x00],
            &[0x31, 0x04, 0x30, 0x00, 0x30, 0x00],
            &[0x30, 0x04, 0x30, 0x00, 0x02, 0x00],
        ] {
            assert!(
                matches!(sign_rehearsed(broken, &key), Err(Signing::Malformed)),
                "{broken:02x?}"
            );
        }
    }

    #[test]
    fn rsa_placeholders_have_the_modulus_size() {
        let r = Rehearsal::new(KeyType::Rsa3072, vec![], Some(3072));
        assert_eq!(r.sign(b"tbs").expect("placeholder").len(), 384);
        assert_eq!(r.algorithm(), &rcgen::PKCS_RSA_SHA256);
    }
}
