//! PKCS#12 (PFX) bundles: a private key, its certificate and the issuing chain in the one
//! file that browsers, operating systems and Java keystores import.
//!
//! [`export`] writes one of two flavours:
//! - [`Pkcs12Flavour::Modern`]: the layout OpenSSL 3 writes by default — PBES2
//!   (PBKDF2-HMAC-SHA256, AES-256-CBC) for the certificates and the key, an HMAC-SHA256 MAC —
//!   with [`MODERN_ITERATIONS`] instead of OpenSSL's 2,048.
//! - [`Pkcs12Flavour::Legacy`]: what `openssl pkcs12 -export -legacy` writes, for older
//!   Windows, macOS keychains and Java keystores that do not read PBES2:
//!   pbeWithSHAAnd3-KeyTripleDES-CBC for the key, pbeWithSHAAnd40BitRC2-CBC for the
//!   certificates, an HMAC-SHA1 MAC, [`LEGACY_ITERATIONS`] iterations.
//!
//! The key bag and the leaf's certificate bag both carry the friendly name and a localKeyId
//! (the SHA-1 of the certificate, as OpenSSL computes it): that pair is how Windows, macOS,
//! NSS and Java tie the key to its certificate and what they show the user.
//!
//! [`import`] reads any bundle the `p12-keystore` crate decodes (both flavours, and what
//! OpenSSL, Windows and Java write) back into PEM.

use std::fmt;
use std::num::NonZeroU32;

use aws_lc_rs::cipher::{AES_256, PaddedBlockEncryptingKey, UnboundCipherKey};
use aws_lc_rs::{digest, hmac, pbkdf2};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use p12_keystore::Pkcs12Archive;
use pkcs8::ObjectIdentifier;
use pkcs8::der::asn1::{BmpString, OctetString, SetOfVec};
use pkcs8::der::pem::LineEnding;
use pkcs8::der::{Any, Encode};
use pkcs8::pkcs5::pbes2;
use pkcs12::cms::cert::x509::attr::{Attribute, Attributes};
use pkcs12::cms::cert::x509::spki::AlgorithmIdentifierOwned;
use pkcs12::cms::content_info::{CmsVersion, ContentInfo};
use pkcs12::cms::encrypted_data::EncryptedData;
use pkcs12::cms::enveloped_data::EncryptedContentInfo;
use pkcs12::pbe_params::{EncryptedPrivateKeyInfo, Pkcs12PbeParams};
use pkcs12::pfx::{Pfx, Version};
use pkcs12::{CertBag, DigestInfo, MacData, SafeBag};
use zeroize::Zeroizing;

use crate::key::{self, KeyError};
use crate::passphrase::Passphrase;

/// PBKDF2-HMAC-SHA256 iterations for the key and the certificates, and PKCS#12-KDF
/// iterations for the MAC, in a modern bundle. OWASP's figure for PBKDF2-HMAC-SHA256
/// (OpenSSL 3 writes 2,048). A password guess costs an attacker at least one pass of the
/// cheapest of the three (the MAC's KDF); the owner pays all three when exporting and
/// importing, a fraction of a second. Readers cap the count — `p12-keystore`, which
/// `mutual` itself reads with, at 1,000,000; Java at 5,000,000 — so it stays below those.
pub const MODERN_ITERATIONS: u32 = 600_000;

/// Iterations of every derivation in a legacy bundle: OpenSSL's `PKCS12_DEFAULT_ITER`,
/// which every reader old enough to need this flavour accepts.
pub const LEGACY_ITERATIONS: u32 = 2048;

/// Salt length for PBKDF2 and the MAC in a modern bundle (NIST SP 800-132: 128 bits).
const MODERN_SALT_LEN: usize = 16;
/// Salt length in a legacy bundle, as OpenSSL writes it.
const LEGACY_SALT_LEN: usize = 8;

const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const FRIENDLY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");
const LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

const CERTIFICATE_LABEL: &str = "CERTIFICATE";

/// How a bundle is protected; see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Pkcs12Flavour {
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), HMAC-SHA256 MAC, [`MODERN_ITERATIONS`].
    #[default]
    Modern,
    /// 3DES key, 40-bit RC2 certificates, HMAC-SHA1 MAC, [`LEGACY_ITERATIONS`].
    Legacy,
}

impl Pkcs12Flavour {
    /// `modern` or `legacy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Modern => "modern",
            Self::Legacy => "legacy",
        }
    }

    /// The algorithms, in words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Modern => {
                "AES-256-CBC with PBKDF2-HMAC-SHA256 (600,000 iterations), HMAC-SHA256 MAC"
            }
            Self::Legacy => {
                "3DES key and 40-bit RC2 certificates (PKCS#12 PBE, 2,048 iterations), HMAC-SHA1 MAC"
            }
        }
    }

    fn iterations(self) -> u32 {
        match self {
            Self::Modern => MODERN_ITERATIONS,
            Self::Legacy => LEGACY_ITERATIONS,
        }
    }

    fn salt_len(self) -> usize {
        match self {
            Self::Modern => MODERN_SALT_LEN,
            Self::Legacy => LEGACY_SALT_LEN,
        }
    }
}

impl fmt::Display for Pkcs12Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which input to [`export`] an error is about, so a caller can name the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pkcs12Input {
    /// `certificate_pem`.
    Certificate,
    /// `chain_pems[index]`.
    Chain {
        /// Index into `chain_pems`.
        index: usize,
    },
}

impl fmt::Display for Pkcs12Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate => f.write_str("the certificate"),
            Self::Chain { index } => write!(f, "chain input {}", index + 1),
        }
    }
}

/// Bundles `key_pem` (an unencrypted PKCS#8 `PRIVATE KEY`), the certificate in
/// `certificate_pem` (its first `CERTIFICATE` block; any further blocks join the chain) and
/// the CA certificates in `chain_pems` (each may hold several blocks; copies of the leaf and
/// duplicates are dropped) into a PKCS#12 protected by `password`.
///
/// # Errors
/// [`Pkcs12Error::Key`] for a key that cannot be read, [`Pkcs12Error::NoCertificate`] and
/// [`Pkcs12Error::Certificate`] for certificate input that cannot be,
/// [`Pkcs12Error::KeyMismatch`] when the key is not the certificate's,
/// [`Pkcs12Error::FriendlyName`], [`Pkcs12Error::PasswordEmpty`],
/// [`Pkcs12Error::PasswordNotBmp`] for names and passwords PKCS#12 cannot carry;
/// [`Pkcs12Error::Random`], [`Pkcs12Error::Encryption`], [`Pkcs12Error::Encoding`] when
/// the machinery fails.
pub fn export(
    key_pem: &str,
    certificate_pem: &str,
    chain_pems: &[String],
    friendly_name: &str,
    password: &Passphrase,
    flavour: Pkcs12Flavour,
) -> Result<Vec<u8>, Pkcs12Error> {
    let password = password.expose_secret();
    check_password(password)?;
    check_friendly_name(friendly_name)?;

    let key = key::read_key(key_pem, None).map_err(|source| Pkcs12Error::Key { source })?;
    let key_der = key::pkcs8_v1(key.serialized_der()).map_err(|source| Pkcs12Error::Key {
        source: KeyError::Corrupt {
            detail: "the key is not a PKCS#8 PrivateKeyInfo".to_owned(),
            source: Some(source),
        },
    })?;

    let mut certificates = certificates_in(certificate_pem, Pkcs12Input::Certificate)?;
    let leaf = certificates.remove(0);
    for (index, pem) in chain_pems.iter().enumerate() {
        certificates.extend(certificates_in(pem, Pkcs12Input::Chain { index })?);
    }
    let mut chain: Vec<Vec<u8>> = Vec::with_capacity(certificates.len());
    for certificate in certificates {
        if certificate != leaf && !chain.contains(&certificate) {
            chain.push(certificate);
        }
    }

    let leaf_facts = CertificateFacts::of(&leaf).ok_or_else(|| Pkcs12Error::Certificate {
        input: Pkcs12Input::Certificate,
        detail: "its DER does not decode as an X.509 certificate".to_owned(),
    })?;
    if key.public_key_raw() != leaf_facts.public_key {
        return Err(Pkcs12Error::KeyMismatch {
            subject: leaf_facts.subject,
        });
    }

    let local_key_id = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &leaf);
    let leaf_attributes = bag_attributes(friendly_name, local_key_id.as_ref())?;

    // OpenSSL's layout: the certificates in one encrypted safe, the shrouded key in a plain one.
    let mut certificate_bags = vec![certificate_bag(&leaf, Some(leaf_attributes.clone()))?];
    for certificate in &chain {
        certificate_bags.push(certificate_bag(certificate, None)?);
    }
    let certificate_safe = Zeroizing::new(certificate_bags.to_der()?);
    let (algorithm, ciphertext) =
        encrypt(flavour, Part::Certificates, &certificate_safe, password)?;
    let certificates_info = ContentInfo {
        content_type: ENCRYPTED_DATA,
        content: Any::encode_from(&EncryptedData {
            version: CmsVersion::V0,
            enc_content_info: EncryptedContentInfo {
                content_type: DATA,
                content_enc_alg: algorithm,
                encrypted_content: Some(OctetString::new(ciphertext)?),
            },
            unprotected_attrs: None,
        })?,
    };

    let (algorithm, ciphertext) = encrypt(flavour, Part::Key, key_der.as_bytes(), password)?;
    let key_bag = SafeBag {
        bag_id: pkcs12::PKCS_12_PKCS8_KEY_BAG_OID,
        bag_value: EncryptedPrivateKeyInfo {
            encryption_algorithm: algorithm,
            encrypted_data: OctetString::new(ciphertext)?,
        }
        .to_der()?,
        bag_attributes: Some(leaf_attributes),
    };
    let key_info = ContentInfo {
        content_type: DATA,
        content: Any::encode_from(&OctetString::new(vec![key_bag].to_der()?)?)?,
    };

    let authenticated_safe = vec![certificates_info, key_info].to_der()?;
    let mac_data = mac(flavour, &authenticated_safe, password)?;
    let pfx = Pfx {
        version: Version::V3,
        auth_safe: ContentInfo {
            content_type: DATA,
            content: Any::encode_from(&OctetString::new(authenticated_safe)?)?,
        },
        mac_data: Some(mac_data),
    };
    Ok(pfx.to_der()?)
}

/// What [`import`] found in a bundle, as PEM.
pub struct Imported {
    /// The private key, as an unencrypted PKCS#8 `PRIVATE KEY` PEM.
    pub key_pem: Zeroizing<String>,
    /// The key's certificate.
    pub certificate_pem: String,
    /// The other certificates, issuers first in chain order (the leaf's issuer, its
    /// issuer...), then any unrelated ones in bundle order.
    pub chain_pems: Vec<String>,
    /// The key bag's friendly name, else the certificate bag's.
    pub friendly_name: Option<String>,
}

impl fmt::Debug for Imported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imported")
            .field("key_pem", &"<private key>")
            .field("certificate_pem", &self.certificate_pem)
            .field("chain_pems", &self.chain_pems)
            .field("friendly_name", &self.friendly_name)
            .finish()
    }
}

/// Opens a PKCS#12 bundle with `password` and returns its one private key, the certificate
/// that goes with it (by localKeyId, else by public key) and the other certificates.
///
/// # Errors
/// [`Pkcs12Error::WrongPassword`] when the MAC (or, without one, the decryption) fails;
/// [`Pkcs12Error::NotPkcs12`] for bytes that are not a PKCS#12 or use what is not read;
/// [`Pkcs12Error::NoKey`], [`Pkcs12Error::SeveralKeys`],
/// [`Pkcs12Error::NoMatchingCertificate`], [`Pkcs12Error::KeyMismatch`] for bundles that do
/// not hold exactly one key with its certificate.
pub fn import(der: &[u8], password: &Passphrase) -> Result<Imported, Pkcs12Error> {
    if mutual_x509::pem::looks_like_pem(der) {
        return Err(Pkcs12Error::NotPkcs12 {
            detail: "found PEM text; expected the binary (DER) form of a PKCS#12, as in a \
                     `.p12` or `.pfx` file"
                .to_owned(),
            source: None,
        });
    }
    let archive =
        Pkcs12Archive::from_pkcs12(der, password.expose_secret()).map_err(classify_import_error)?;
    let key_bag = match archive.keys.as_slice() {
        [] => return Err(Pkcs12Error::NoKey),
        [one] => one,
        several => {
            return Err(Pkcs12Error::SeveralKeys {
                count: several.len(),
            });
        }
    };
    let key_der = key::pkcs8_v1(key_bag.key.as_der()).map_err(|source| Pkcs12Error::Key {
        source: KeyError::Corrupt {
            detail: "the bundle's key is not a PKCS#8 PrivateKeyInfo".to_owned(),
            source: Some(source),
        },
    })?;
    let public_key = public_key_of(key_der.as_bytes());

    let facts: Vec<Option<CertificateFacts>> = archive
        .certs
        .iter()
        .map(|bag| CertificateFacts::of(bag.cert.as_der()))
        .collect();
    let by_local_key_id = key_bag.local_key_id.as_ref().and_then(|id| {
        archive
            .certs
            .iter()
            .position(|bag| bag.local_key_id.as_deref() == Some(id.as_ref()))
    });
    let by_public_key = public_key.as_ref().and_then(|public| {
        facts
            .iter()
            .position(|f| f.as_ref().is_some_and(|f| &f.public_key == public))
    });
    let leaf = by_local_key_id
        .or(by_public_key)
        .ok_or(Pkcs12Error::NoMatchingCertificate)?;
    if let (Some(public), Some(leaf_facts)) = (&public_key, &facts[leaf])
        && public != &leaf_facts.public_key
    {
        return Err(Pkcs12Error::KeyMismatch {
            subject: leaf_facts.subject.clone(),
        });
    }

    let order = chain_order(leaf, &archive, &facts);
    let leaf_der = archive.certs[leaf].cert.as_der();
    let mut chain_pems = Vec::with_capacity(order.len());
    let mut seen: Vec<&[u8]> = vec![leaf_der];
    for index in order {
        let der = archive.certs[index].cert.as_der();
        if !seen.contains(&der) {
            seen.push(der);
            chain_pems.push(mutual_x509::pem::encode(CERTIFICATE_LABEL, der));
        }
    }
    let key_pem = key_der
        .to_pem("PRIVATE KEY", LineEnding::LF)
        .map_err(|source| Pkcs12Error::Encoding { source })?;
    Ok(Imported {
        key_pem,
        certificate_pem: mutual_x509::pem::encode(CERTIFICATE_LABEL, leaf_der),
        chain_pems,
        friendly_name: key_bag
            .friendly_name
            .clone()
            .or_else(|| archive.certs[leaf].friendly_name.clone()),
    })
}

/// The indexes of the certificates other than `leaf`: its issuer, that one's issuer and so
/// on (by name), then the rest in bundle order.
fn chain_order(
    leaf: usize,
    archive: &Pkcs12Archive,
    facts: &[Option<CertificateFacts>],
) -> Vec<usize> {
    let mut order = Vec::with_capacity(archive.certs.len());
    let mut current = leaf;
    while let Some(current_facts) = &facts[current] {
        if current_facts.issuer == current_facts.subject_raw {
            break; // self-signed: the top
        }
        let Some(issuer) = (0..facts.len()).find(|&index| {
            index != leaf
                && !order.contains(&index)
                && facts[index]
                    .as_ref()
                    .is_some_and(|f| f.subject_raw == current_facts.issuer)
        }) else {
            break;
        };
        order.push(issuer);
        current = issuer;
    }
    for index in 0..archive.certs.len() {
        if index != leaf && !order.contains(&index) {
            order.push(index);
        }
    }
    order
}

/// What matching a key and building a chain need from a certificate.
struct CertificateFacts {
    subject: String,
    subject_raw: Vec<u8>,
    issuer: Vec<u8>,
    /// The SubjectPublicKeyInfo's BIT STRING contents.
    public_key: Vec<u8>,
}

impl CertificateFacts {
    fn of(der: &[u8]) -> Option<Self> {
        let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
        Some(Self {
            subject: certificate.subject().to_string(),
            subject_raw: certificate.subject().as_raw().to_vec(),
            issuer: certificate.issuer().as_raw().to_vec(),
            public_key: certificate.public_key().subject_public_key.data.to_vec(),
        })
    }
}

/// The public key a PKCS#8 key pairs with, as a certificate's SPKI carries it: derived by
/// aws-lc-rs where rcgen reads the key, else the copy the key file itself holds.
fn public_key_of(pkcs8_der: &[u8]) -> Option<Vec<u8>> {
    rcgen::KeyPair::try_from(pkcs8_der)
        .ok()
        .map(|key| key.public_key_raw().to_vec())
        .or_else(|| {
            mutual_x509::PrivateKey::describe("PRIVATE KEY", pkcs8_der, &[])
                .ok()?
                .public_key
        })
}

/// The DER of every `CERTIFICATE` block in `pem`, each checked to decode; at least one.
fn certificates_in(pem: &str, input: Pkcs12Input) -> Result<Vec<Vec<u8>>, Pkcs12Error> {
    let blocks =
        mutual_x509::pem::parse(pem.as_bytes()).map_err(|error| Pkcs12Error::Certificate {
            input,
            detail: error.to_string(),
        })?;
    let mut found = Vec::new();
    let mut certificates = Vec::new();
    for block in blocks {
        if block.label != CERTIFICATE_LABEL {
            found.push(block.label);
            continue;
        }
        if x509_parser::parse_x509_certificate(&block.der).is_err() {
            return Err(Pkcs12Error::Certificate {
                input,
                detail: format!(
                    "the `CERTIFICATE` block at line {} does not decode as an X.509 certificate",
                    block.line
                ),
            });
        }
        certificates.push(block.der);
    }
    if certificates.is_empty() {
        return Err(Pkcs12Error::NoCertificate { input, found });
    }
    Ok(certificates)
}

fn check_password(password: &str) -> Result<(), Pkcs12Error> {
    if password.is_empty() {
        return Err(Pkcs12Error::PasswordEmpty);
    }
    // The MAC and the legacy ciphers derive their keys from the password as a BMPString.
    if !is_bmp(password) {
        return Err(Pkcs12Error::PasswordNotBmp);
    }
    Ok(())
}

/// Checks that `name` can be a friendly name: not empty, no control characters, and only
/// characters a BMPString holds. [`export`] checks the same; callers that must know before
/// doing other work (issuing a certificate) call this first.
///
/// # Errors
/// [`Pkcs12Error::FriendlyName`], saying why not.
pub fn check_friendly_name(name: &str) -> Result<(), Pkcs12Error> {
    let problem = if name.is_empty() {
        "it is empty"
    } else if !is_bmp(name) {
        "it has characters outside Unicode's Basic Multilingual Plane (such as emoji), which a \
         PKCS#12 friendlyName (a BMPString) cannot hold"
    } else if name.chars().any(char::is_control) {
        "it has control characters"
    } else {
        return Ok(());
    };
    Err(Pkcs12Error::FriendlyName {
        name: name.to_owned(),
        problem,
    })
}

fn is_bmp(text: &str) -> bool {
    text.chars().all(|c| u32::from(c) <= 0xFFFF)
}

/// friendlyName and localKeyId, for the key bag and the leaf's certificate bag.
fn bag_attributes(friendly_name: &str, local_key_id: &[u8]) -> Result<Attributes, Pkcs12Error> {
    let attribute = |oid, value: Any| -> Result<Attribute, Pkcs12Error> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value])?,
        })
    };
    let name = Any::encode_from(&BmpString::from_utf8(friendly_name)?)?;
    let id = Any::encode_from(&OctetString::new(local_key_id)?)?;
    Ok(SetOfVec::try_from(vec![
        attribute(FRIENDLY_NAME, name)?,
        attribute(LOCAL_KEY_ID, id)?,
    ])?)
}

fn certificate_bag(der: &[u8], attributes: Option<Attributes>) -> Result<SafeBag, Pkcs12Error> {
    Ok(SafeBag {
        bag_id: pkcs12::PKCS_12_CERT_BAG_OID,
        bag_value: CertBag {
            cert_id: pkcs12::PKCS_12_X509_CERT_OID,
            cert_value: OctetString::new(der)?,
        }
        .to_der()?,
        bag_attributes: attributes,
    })
}

/// What is being encrypted: the legacy flavour treats the two differently.
#[derive(Clone, Copy)]
enum Part {
    Certificates,
    Key,
}

/// Encrypts `plaintext` for `part` of a `flavour` bundle, with a fresh salt (and IV).
fn encrypt(
    flavour: Pkcs12Flavour,
    part: Part,
    plaintext: &[u8],
    password: &str,
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), Pkcs12Error> {
    let mut salt = vec![0; flavour.salt_len()];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| Pkcs12Error::Random)?;
    match flavour {
        Pkcs12Flavour::Modern => encrypt_pbes2(plaintext, password, &salt),
        Pkcs12Flavour::Legacy => encrypt_pkcs12_pbe(part, plaintext, password, &salt),
    }
}

/// PBES2: PBKDF2-HMAC-SHA256 ([`MODERN_ITERATIONS`]) and AES-256-CBC, through aws-lc-rs.
fn encrypt_pbes2(
    plaintext: &[u8],
    password: &str,
    salt: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), Pkcs12Error> {
    let mut key = Zeroizing::new([0u8; 32]);
    let iterations = NonZeroU32::new(MODERN_ITERATIONS).ok_or(Pkcs12Error::Encryption)?;
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password.as_bytes(),
        key.as_mut_slice(),
    );
    let cipher = UnboundCipherKey::new(&AES_256, key.as_slice())
        .and_then(PaddedBlockEncryptingKey::cbc_pkcs7)
        .map_err(|_| Pkcs12Error::Encryption)?;
    // Room for the padding, so the plaintext is never copied into a reallocation.
    let mut buffer = Zeroizing::new(Vec::with_capacity(plaintext.len() + 16));
    buffer.extend_from_slice(plaintext);
    let context = cipher
        .encrypt(&mut *buffer)
        .map_err(|_| Pkcs12Error::Encryption)?;
    let iv: &[u8] = (&context).try_into().map_err(|_| Pkcs12Error::Encryption)?;
    let iv: [u8; 16] = iv.try_into().map_err(|_| Pkcs12Error::Encryption)?;
    let parameters =
        pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(MODERN_ITERATIONS, salt, iv)
            .map_err(|_| Pkcs12Error::Encryption)?;
    let algorithm = AlgorithmIdentifierOwned {
        oid: pbes2::PBES2_OID,
        parameters: Some(Any::encode_from(&parameters)?),
    };
    Ok((algorithm, buffer.to_vec()))
}

/// RFC 7292 Appendix C PBE: key and IV from the PKCS#12 KDF with SHA-1; 3DES for the key,
/// 40-bit RC2 for the certificates (what OpenSSL's `-legacy` writes).
fn encrypt_pkcs12_pbe(
    part: Part,
    plaintext: &[u8],
    password: &str,
    salt: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), Pkcs12Error> {
    let (oid, key_len) = match part {
        Part::Key => (pkcs12::PKCS_12_PBE_WITH_SHAAND3_KEY_TRIPLE_DES_CBC, 24),
        Part::Certificates => (pkcs12::PKCS_12_PBEWITH_SHAAND40_BIT_RC2_CBC, 5),
    };
    let sha1 = &digest::SHA1_FOR_LEGACY_USE_ONLY;
    let key = pkcs12_kdf(
        sha1,
        password,
        salt,
        KdfPurpose::Key,
        LEGACY_ITERATIONS,
        key_len,
    );
    let iv = pkcs12_kdf(sha1, password, salt, KdfPurpose::Iv, LEGACY_ITERATIONS, 8);
    let ciphertext = match part {
        Part::Key => cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(|_| Pkcs12Error::Encryption)?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        // A 5-byte key gives RC2 an effective key length of 40 bits.
        Part::Certificates => cbc::Encryptor::<rc2::Rc2>::new_from_slices(&key, &iv)
            .map_err(|_| Pkcs12Error::Encryption)?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
    };
    let parameters = Pkcs12PbeParams {
        salt: OctetString::new(salt)?,
        iterations: i32::try_from(LEGACY_ITERATIONS).map_err(|_| Pkcs12Error::Encryption)?,
    };
    let algorithm = AlgorithmIdentifierOwned {
        oid,
        parameters: Some(Any::encode_from(&parameters)?),
    };
    Ok((algorithm, ciphertext))
}

/// The PFX MAC (RFC 7292 Appendix B): HMAC over the AuthenticatedSafe with a key from the
/// PKCS#12 KDF — SHA-256 in a modern bundle, SHA-1 in a legacy one.
fn mac(
    flavour: Pkcs12Flavour,
    authenticated_safe: &[u8],
    password: &str,
) -> Result<MacData, Pkcs12Error> {
    let mut salt = vec![0; flavour.salt_len()];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| Pkcs12Error::Random)?;
    let iterations = flavour.iterations();
    let rounds = i32::try_from(iterations).map_err(|_| Pkcs12Error::Encryption)?;
    let (oid, hash, algorithm) = match flavour {
        Pkcs12Flavour::Modern => (SHA256, &digest::SHA256, hmac::HMAC_SHA256),
        Pkcs12Flavour::Legacy => (
            SHA1,
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        ),
    };
    let key = pkcs12_kdf(
        hash,
        password,
        &salt,
        KdfPurpose::Mac,
        iterations,
        hash.output_len(),
    );
    let tag = hmac::sign(&hmac::Key::new(algorithm, &key), authenticated_safe);
    Ok(MacData {
        mac: DigestInfo {
            // OpenSSL writes NULL parameters here, and some readers insist on them.
            algorithm: AlgorithmIdentifierOwned {
                oid,
                parameters: Some(Any::null()),
            },
            digest: OctetString::new(tag.as_ref())?,
        },
        mac_salt: OctetString::new(salt)?,
        iterations: rounds,
    })
}

/// The ID byte of the PKCS#12 KDF: which secret is being derived.
#[derive(Clone, Copy)]
enum KdfPurpose {
    Key = 1,
    Iv = 2,
    Mac = 3,
}

/// The PKCS#12 key derivation function (RFC 7292 Appendix B.2), on aws-lc-rs digests so it
/// runs at the same speed in every build. `password` must be in the BMP (checked by
/// [`check_password`]): it is hashed as a big-endian BMPString with a two-byte terminator,
/// as OpenSSL's `PKCS12_key_gen_utf8` does.
fn pkcs12_kdf(
    hash: &'static digest::Algorithm,
    password: &str,
    salt: &[u8],
    purpose: KdfPurpose,
    iterations: u32,
    len: usize,
) -> Zeroizing<Vec<u8>> {
    let block = hash.block_len();
    let output = hash.output_len();
    let mut bmp = Zeroizing::new(Vec::with_capacity(2 * password.len() + 2));
    for unit in password.encode_utf16() {
        bmp.extend_from_slice(&unit.to_be_bytes());
    }
    bmp.extend_from_slice(&[0, 0]);
    // I = S || P: salt and password each repeated to a whole number of blocks.
    let mut input = Zeroizing::new(Vec::new());
    for source in [salt, bmp.as_slice()] {
        let filled = block * source.len().div_ceil(block);
        input.extend(source.iter().copied().cycle().take(filled));
    }
    let diversifier = vec![purpose as u8; block];
    let mut derived = Zeroizing::new(Vec::with_capacity(len));
    loop {
        let mut context = digest::Context::new(hash);
        context.update(&diversifier);
        context.update(&input);
        let mut a = context.finish();
        for _ in 1..iterations {
            a = digest::digest(hash, a.as_ref());
        }
        let a = a.as_ref();
        let take = (len - derived.len()).min(output);
        derived.extend_from_slice(&a[..take]);
        if derived.len() == len {
            return derived;
        }
        // Each block of I becomes (I_j + B + 1) mod 2^(8·block), B being A repeated.
        let b: Vec<u8> = a.iter().copied().cycle().take(block).collect();
        for chunk in input.chunks_mut(block) {
            let mut carry = 1u16;
            for (byte, add) in chunk.iter_mut().zip(&b).rev() {
                let sum = u16::from(*byte) + u16::from(*add) + carry;
                *byte = sum.to_be_bytes()[1];
                carry = sum >> 8;
            }
        }
    }
}

fn classify_import_error(error: p12_keystore::error::Error) -> Pkcs12Error {
    use p12_keystore::error::Error as E;
    match error {
        // A MAC that does not verify, or (in a MAC-less bundle) padding that does not decrypt.
        E::MacError(_) | E::UnpadError => Pkcs12Error::WrongPassword,
        E::DerError(_) | E::InvalidVersion | E::UnsupportedContentType | E::InvalidData => {
            Pkcs12Error::NotPkcs12 {
                detail: "the bytes are not a PKCS#12 (PFX) structure".to_owned(),
                source: Some(error),
            }
        }
        E::InvalidParameters => Pkcs12Error::NotPkcs12 {
            detail: "its encryption or MAC parameters are invalid or too costly \
                     (more than 1,000,000 iterations)"
                .to_owned(),
            source: Some(error),
        },
        E::UnsupportedEncryptionScheme | E::UnsupportedMacAlgorithm => Pkcs12Error::NotPkcs12 {
            detail: "it is protected with an algorithm mutual does not read".to_owned(),
            source: Some(error),
        },
        other => Pkcs12Error::NotPkcs12 {
            detail: "part of it does not decode".to_owned(),
            source: Some(other),
        },
    }
}

/// Why a PKCS#12 could not be written or read. Never contains a password or key material.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Pkcs12Error {
    /// The private key given to [`export`] cannot be used, or the bundle's key is damaged.
    #[error("the private key cannot be used")]
    Key {
        /// Why.
        #[source]
        source: KeyError,
    },
    /// A certificate input holds no `CERTIFICATE` block.
    #[error(
        "{input}: expected a `CERTIFICATE` PEM block; found {}",
        found_list(found)
    )]
    NoCertificate {
        /// Which input.
        input: Pkcs12Input,
        /// The labels of the PEM blocks found instead.
        found: Vec<String>,
    },
    /// A certificate input is not readable PEM, or a block is not a certificate.
    #[error("{input} is not readable: {detail}")]
    Certificate {
        /// Which input.
        input: Pkcs12Input,
        /// What is wrong, in words.
        detail: String,
    },
    /// The key's public half is not the certificate's public key.
    #[error(
        "the private key does not belong to the certificate for `{subject}`: the certificate carries a different public key"
    )]
    KeyMismatch {
        /// The certificate's subject.
        subject: String,
    },
    /// The friendly name cannot be written.
    #[error("the friendly name `{name}` cannot be used: {problem}")]
    FriendlyName {
        /// The name given.
        name: String,
        /// Why not.
        problem: &'static str,
    },
    /// An empty password, which readers treat inconsistently (OpenSSL tells "" from none).
    #[error("the PKCS#12 password is empty; expected a password")]
    PasswordEmpty,
    /// The password has characters a BMPString cannot hold.
    #[error(
        "the PKCS#12 password has characters outside Unicode's Basic Multilingual Plane (such as emoji), which PKCS#12 cannot encode"
    )]
    PasswordNotBmp,
    /// The OS CSPRNG failed while making a salt or IV.
    #[error("the system random number generator failed")]
    Random,
    /// A cipher could not be set up.
    #[error("encrypting the PKCS#12 failed")]
    Encryption,
    /// DER encoding failed.
    #[error("encoding the PKCS#12 failed")]
    Encoding {
        /// The encoder's error.
        #[source]
        source: pkcs8::der::Error,
    },
    /// The input is not a PKCS#12, or uses what cannot be read.
    #[error("not a readable PKCS#12: {detail}")]
    NotPkcs12 {
        /// What is wrong, in words.
        detail: String,
        /// The decoder's error, when there is one.
        #[source]
        source: Option<p12_keystore::error::Error>,
    },
    /// The password does not open the bundle.
    #[error(
        "the password does not open the PKCS#12 (its integrity check fails: a wrong password, or a damaged file)"
    )]
    WrongPassword,
    /// The bundle holds certificates only.
    #[error("the PKCS#12 holds no private key; expected one key with its certificate")]
    NoKey,
    /// The bundle holds more than one key; which to write is not for `mutual` to guess.
    #[error("the PKCS#12 holds {count} private keys; expected one")]
    SeveralKeys {
        /// How many.
        count: usize,
    },
    /// No certificate in the bundle goes with its key.
    #[error(
        "no certificate in the PKCS#12 goes with its private key (by localKeyId or public key)"
    )]
    NoMatchingCertificate,
}

impl Pkcs12Error {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Key { source } => source.code(),
            Self::NoCertificate { .. } => "certificate_missing",
            Self::Certificate { .. } => "certificate_unreadable",
            Self::KeyMismatch { .. } => "key_certificate_mismatch",
            Self::FriendlyName { .. } => "friendly_name_invalid",
            Self::PasswordEmpty => "pkcs12_password_empty",
            Self::PasswordNotBmp => "pkcs12_password_not_bmp",
            Self::Random => "random_failed",
            Self::Encryption => "pkcs12_encryption_failed",
            Self::Encoding { .. } => "pkcs12_encoding_failed",
            Self::NotPkcs12 { .. } => "not_pkcs12",
            Self::WrongPassword => "pkcs12_wrong_password",
            Self::NoKey => "pkcs12_no_key",
            Self::SeveralKeys { .. } => "pkcs12_several_keys",
            Self::NoMatchingCertificate => "pkcs12_no_matching_certificate",
        }
    }

    /// True when the input is at fault (exit 2), not the program or the system.
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            Self::Random | Self::Encryption | Self::Encoding { .. }
        )
    }
}

impl From<pkcs8::der::Error> for Pkcs12Error {
    fn from(source: pkcs8::der::Error) -> Self {
        Self::Encoding { source }
    }
}

fn found_list(found: &[String]) -> String {
    if found.is_empty() {
        "no PEM blocks".to_owned()
    } else {
        let labels: Vec<String> = found.iter().map(|label| format!("`{label}`")).collect();
        labels.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyType;

    const PASSWORD: &str = "correct horse battery staple";

    /// A root, and a leaf it signed: (leaf key PEM, leaf PEM, root PEM).
    fn tree(key_type: KeyType) -> (Zeroizing<String>, String, String) {
        let root_key = KeyType::EcP256.generate().unwrap();
        let mut root_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        root_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        root_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Test Root");
        let root = root_params.self_signed(&root_key).unwrap();
        let issuer = rcgen::Issuer::new(root_params, &root_key);
        let leaf_key = key_type.generate().unwrap();
        let mut leaf_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "alice");
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        (
            key::unencrypted_pem(&leaf_key).unwrap(),
            leaf.pem(),
            root.pem(),
        )
    }

    fn password() -> Passphrase {
        Passphrase::new(PASSWORD.to_owned())
    }

    fn inspect(der: &[u8]) -> mutual_x509::Pkcs12 {
        mutual_x509::Pkcs12::from_der(der, Some(PASSWORD), time::OffsetDateTime::now_utc()).unwrap()
    }

    #[test]
    fn both_flavours_round_trip_with_names_and_key_ids() {
        let (key_pem, cert_pem, root_pem) = tree(KeyType::EcP256);
        for flavour in [Pkcs12Flavour::Modern, Pkcs12Flavour::Legacy] {
            let der = export(
                &key_pem,
                &cert_pem,
                std::slice::from_ref(&root_pem),
                "alice laptop",
                &password(),
                flavour,
            )
            .unwrap();

            let bundle = inspect(&der);
            assert_eq!(bundle.legacy, flavour == Pkcs12Flavour::Legacy, "{flavour}");
            let mac = bundle.mac.as_ref().unwrap();
            match flavour {
                Pkcs12Flavour::Modern => {
                    assert_eq!(mac.algorithm, "SHA256");
                    assert_eq!(mac.iterations, u64::from(MODERN_ITERATIONS));
                }
                Pkcs12Flavour::Legacy => {
                    assert_eq!(mac.algorithm, "SHA1");
                    assert_eq!(mac.iterations, u64::from(LEGACY_ITERATIONS));
                }
            }
            assert_eq!(bundle.certificates.len(), 2);
            assert_eq!(bundle.keys.len(), 1);
            let key_bag = &bundle.keys[0];
            assert_eq!(key_bag.friendly_name.as_deref(), Some("alice laptop"));
            let leaf = &bundle.certificates[key_bag.matches_certificate.unwrap()];
            assert_eq!(leaf.friendly_name.as_deref(), Some("alice laptop"));
            assert!(key_bag.local_key_id.is_some());
            assert_eq!(leaf.local_key_id, key_bag.local_key_id);
            // The CA certificate carries neither: nothing to pair it with.
            let ca = bundle
                .certificates
                .iter()
                .find(|c| c.local_key_id.is_none())
                .unwrap();
            assert_eq!(ca.friendly_name, None);

            let imported = import(&der, &password()).unwrap();
            assert_eq!(*imported.key_pem, *key_pem);
            assert_eq!(imported.certificate_pem, cert_pem.replace("\r\n", "\n"));
            assert_eq!(imported.chain_pems.len(), 1);
            assert_eq!(
                mutual_x509::pem::parse(imported.chain_pems[0].as_bytes()).unwrap()[0].der,
                mutual_x509::pem::parse(root_pem.as_bytes()).unwrap()[0].der
            );
            assert_eq!(imported.friendly_name.as_deref(), Some("alice laptop"));
        }
    }

    #[test]
    fn every_key_type_round_trips() {
        for key_type in [KeyType::EcP384, KeyType::Ed25519, KeyType::Rsa2048] {
            let (key_pem, cert_pem, _) = tree(key_type);
            let der = export(
                &key_pem,
                &cert_pem,
                &[],
                "device",
                &password(),
                Pkcs12Flavour::Legacy,
            )
            .unwrap();
            let imported = import(&der, &password()).unwrap();
            assert_eq!(*imported.key_pem, *key_pem, "{key_type}");
            assert!(imported.chain_pems.is_empty());
        }
    }

    #[test]
    fn leaf_copies_and_duplicates_leave_the_chain() {
        let (key_pem, cert_pem, root_pem) = tree(KeyType::EcP256);
        // A NAME.chain.pem as `mutual issue` writes it (leaf + CA), then the CA again.
        let chain = [format!("{cert_pem}{root_pem}"), root_pem.clone()];
        let der = export(
            &key_pem,
            &cert_pem,
            &chain,
            "alice",
            &password(),
            Pkcs12Flavour::Legacy,
        )
        .unwrap();
        assert_eq!(inspect(&der).certificates.len(), 2);
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let (key_pem, _, _) = tree(KeyType::EcP256);
        let (_, other_cert, _) = tree(KeyType::EcP256);
        let error = export(
            &key_pem,
            &other_cert,
            &[],
            "alice",
            &password(),
            Pkcs12Flavour::Modern,
        )
        .unwrap_err();
        assert_eq!(error.code(), "key_certificate_mismatch");
        assert!(error.to_string().contains("CN=alice"), "{error}");
    }

    #[test]
    fn wrong_password_is_its_own_error() {
        let (key_pem, cert_pem, _) = tree(KeyType::EcP256);
        for flavour in [Pkcs12Flavour::Modern, Pkcs12Flavour::Legacy] {
            let der = export(&key_pem, &cert_pem, &[], "alice", &password(), flavour).unwrap();
            let error = import(&der, &Passphrase::new("not the password".to_owned())).unwrap_err();
            assert_eq!(error.code(), "pkcs12_wrong_password", "{flavour}");
            assert!(error.is_user_error());
        }
    }

    #[test]
    fn bad_inputs_say_what_they_are() {
        let (key_pem, cert_pem, _) = tree(KeyType::EcP256);
        let export_with = |key: &str, cert: &str, chain: &[String], name: &str, pw: &str| {
            export(
                key,
                cert,
                chain,
                name,
                &Passphrase::new(pw.to_owned()),
                Pkcs12Flavour::Legacy,
            )
            .unwrap_err()
        };
        // A key where the certificate should be.
        let error = export_with(&key_pem, &key_pem, &[], "a", PASSWORD);
        assert_eq!(error.code(), "certificate_missing");
        assert!(error.to_string().contains("`PRIVATE KEY`"), "{error}");
        // A certificate where the key should be.
        let error = export_with(&cert_pem, &cert_pem, &[], "a", PASSWORD);
        assert_eq!(error.code(), "no_private_key");
        let error = export_with(&key_pem, &cert_pem, &["junk".to_owned()], "a", PASSWORD);
        assert_eq!(error.code(), "certificate_missing");
        assert!(error.to_string().starts_with("chain input 1"), "{error}");
        let error = export_with(&key_pem, &cert_pem, &[], "😀", PASSWORD);
        assert_eq!(error.code(), "friendly_name_invalid");
        let error = export_with(&key_pem, &cert_pem, &[], "", PASSWORD);
        assert_eq!(error.code(), "friendly_name_invalid");
        let error = export_with(&key_pem, &cert_pem, &[], "a", "pass😀word");
        assert_eq!(error.code(), "pkcs12_password_not_bmp");
        let error = export_with(&key_pem, &cert_pem, &[], "a", "");
        assert_eq!(error.code(), "pkcs12_password_empty");

        for bytes in [
            &b"not a pfx"[..],
            cert_pem.as_bytes(),
            &[0x30, 0x03, 0x02, 0x01, 0x03],
        ] {
            let error = import(bytes, &password()).unwrap_err();
            assert_eq!(error.code(), "not_pkcs12");
            assert!(error.is_user_error());
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    // Known answers from OpenSSL 3.0: `openssl kdf -keylen N -kdfopt digest:D -kdfopt
    // hexpass:00670065004000e4006800650069006d0000 -kdfopt hexsalt:0102030405060708
    // -kdfopt iter:R -kdfopt id:I PKCS12KDF` (the password "ge@äheim" as a BMPString).
    #[test]
    fn pkcs12_kdf_matches_openssl() {
        let salt = [1, 2, 3, 4, 5, 6, 7, 8];
        let kdf = |hash, purpose, iterations, len| {
            hex(&pkcs12_kdf(
                hash,
                "ge@äheim",
                &salt,
                purpose,
                iterations,
                len,
            ))
        };
        assert_eq!(
            kdf(&digest::SHA256, KdfPurpose::Key, 1000, 100),
            "2b95a0569b63f641fae1efca32e84db3699ab74540628ba66283b58cf5400527\
             d8d0ebe2ccbf768c51c4d8fbd1bb156be06c1c59cbb69e44052ffc37376fdb47\
             b2de7f9e543de9d096d8e5474b220410ff1c5d8bb7e5bc0f61baeaa12fd0da1d\
             7a970172"
        );
        assert_eq!(
            kdf(&digest::SHA256, KdfPurpose::Mac, 100, 32),
            "136355ed9434516682534f46d63956db5ff06b844702c2c1f3b46321e2524a4d"
        );
        let sha1 = &digest::SHA1_FOR_LEGACY_USE_ONLY;
        assert_eq!(
            kdf(sha1, KdfPurpose::Key, 2048, 24),
            "85a8e03af32758f0b29e2c7ab4fd57bf5413072dcbe8bab8"
        );
        assert_eq!(kdf(sha1, KdfPurpose::Iv, 2048, 8), "ebb9ba32718fff97");
    }

    #[test]
    fn descriptions_state_the_iteration_counts() {
        assert_eq!(MODERN_ITERATIONS, 600_000);
        assert!(Pkcs12Flavour::Modern.describe().contains("600,000"));
        assert_eq!(LEGACY_ITERATIONS, 2048);
        assert!(Pkcs12Flavour::Legacy.describe().contains("2,048"));
    }

    #[test]
    fn imported_debug_hides_the_key() {
        let (key_pem, cert_pem, _) = tree(KeyType::EcP256);
        let der = export(
            &key_pem,
            &cert_pem,
            &[],
            "a",
            &password(),
            Pkcs12Flavour::Legacy,
        )
        .unwrap();
        let imported = import(&der, &password()).unwrap();
        let debug = format!("{imported:?}");
        assert!(debug.contains("<private key>"));
        assert!(!debug.contains("PRIVATE KEY-----"));
    }
}
