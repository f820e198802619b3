//! Key pairs for the CA and the certificates it issues: generation, and storage as PKCS#8
//! `ENCRYPTED PRIVATE KEY` PEM (PBES2: scrypt and AES-256-CBC), which `openssl pkey` reads.
//!
//! Reading accepts what OpenSSL writes with `openssl pkcs8 -topk8 -v2 aes-256-cbc`, with
//! PBKDF2 (HMAC-SHA-224/256/384/512) or `-scrypt`, and AES-128/192/256 in CBC or GCM mode.
//! Key material and passphrases never appear in an error or in `Debug` output.

use std::fmt;
use std::str::FromStr;

use pkcs8::der::asn1::{OctetStringRef, UintRef};
use pkcs8::der::pem::LineEnding;
use pkcs8::der::{Decode, Document, EncodePem, ErrorKind, Reader, SecretDocument, SliceReader};
use pkcs8::pkcs5::pbes2::{self, Kdf};
use pkcs8::pkcs5::{self, EncryptionScheme, scrypt};
use pkcs8::{
    AlgorithmIdentifierRef, EncryptedPrivateKeyInfoRef, ObjectIdentifier, PrivateKeyInfoRef,
};
use rcgen::{KeyPair, RsaKeySize, SignatureAlgorithm};
use zeroize::Zeroizing;

use crate::passphrase::Passphrase;

/// scrypt `N = 2^14`, `r = 15`, `p = 1`: the most memory (30 MiB) that OpenSSL 1.1 and 3.x
/// still decrypt. Their PKCS#8 reader refuses scrypt needing more than 32 MiB
/// (`128·r·(N+2) + 128·r·p`; "memory limit exceeded"), so the textbook `N = 2^15, r = 8`
/// (32 MiB and a little) fails, as does `N = 2^14, r = 16`, while `r = 15` passes (checked
/// against OpenSSL 3.0.19). Against OpenSSL's own `-scrypt` default (`r = 8`) this costs 1.9
/// times the memory and time per guess — 3.5 times the area-time an attacker pays — for about
/// 60 ms per encryption or decryption here. A key `openssl pkey` cannot read is a key its
/// owner cannot take elsewhere, hence the ceiling.
pub const SCRYPT_LOG_N: u8 = 14;
/// scrypt block size `r`; see [`SCRYPT_LOG_N`].
pub const SCRYPT_R: u32 = 15;
/// scrypt parallelism `p`; see [`SCRYPT_LOG_N`].
pub const SCRYPT_P: u32 = 1;

/// Reading a key must not let its file demand unbounded work: a KDF asking for more than
/// this much memory is refused (8 times what this module writes).
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;
/// scrypt parallelism above this is refused; `p` multiplies the time.
const MAX_SCRYPT_P: u64 = 16;
/// PBKDF2 iterations above this are refused (OpenSSL writes 2048; OWASP suggests 600,000).
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";
const PLAIN_LABEL: &str = "PRIVATE KEY";
/// Pre-PKCS#8 OpenSSL formats: PKCS#1 and SEC1, optionally with `Proc-Type` encryption.
const LEGACY_LABELS: [&str; 3] = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY"];

/// The key algorithms `mutual` generates, spelled as on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// ECDSA on NIST P-256, signing with SHA-256 (`ec-p256`).
    EcP256,
    /// ECDSA on NIST P-384, signing with SHA-384 (`ec-p384`).
    EcP384,
    /// Ed25519 (`ed25519`).
    Ed25519,
    /// RSA 2048-bit, PKCS#1 v1.5 with SHA-256 (`rsa-2048`).
    Rsa2048,
    /// RSA 3072-bit, PKCS#1 v1.5 with SHA-256 (`rsa-3072`).
    Rsa3072,
    /// RSA 4096-bit, PKCS#1 v1.5 with SHA-256 (`rsa-4096`).
    Rsa4096,
}

impl KeyType {
    /// Every key type, in the order the CLI lists them.
    pub const ALL: [KeyType; 6] = [
        Self::EcP256,
        Self::EcP384,
        Self::Ed25519,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
    ];

    /// The command-line spelling: `ec-p256`, `rsa-2048`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EcP256 => "ec-p256",
            Self::EcP384 => "ec-p384",
            Self::Ed25519 => "ed25519",
            Self::Rsa2048 => "rsa-2048",
            Self::Rsa3072 => "rsa-3072",
            Self::Rsa4096 => "rsa-4096",
        }
    }

    /// The signature algorithm a key of this type signs with: ecdsa-with-SHA256 for P-256,
    /// ecdsa-with-SHA384 for P-384, Ed25519, sha256WithRSAEncryption for RSA.
    pub fn signature_algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            Self::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Self::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            Self::Ed25519 => &rcgen::PKCS_ED25519,
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
        }
    }

    /// Generates a new key pair from the OS CSPRNG (through aws-lc-rs).
    ///
    /// # Errors
    /// [`KeyError::Generation`] when aws-lc-rs fails.
    pub fn generate(self) -> Result<KeyPair, KeyError> {
        let rsa_size = match self {
            Self::EcP256 | Self::EcP384 | Self::Ed25519 => None,
            Self::Rsa2048 => Some(RsaKeySize::_2048),
            Self::Rsa3072 => Some(RsaKeySize::_3072),
            Self::Rsa4096 => Some(RsaKeySize::_4096),
        };
        let algorithm = self.signature_algorithm();
        let failed = |source| KeyError::Generation {
            key_type: self,
            source,
        };
        let key = match rsa_size {
            Some(size) => KeyPair::generate_rsa_for(algorithm, size),
            None => KeyPair::generate_for(algorithm),
        }
        .map_err(failed)?;
        // aws-lc-rs writes Ed25519 keys as PKCS#8 v2, which OpenSSL 3.0 cannot read; keep v1
        // so that `serialize_pem` and everything built on it stay readable everywhere.
        let v1 = pkcs8_v1(key.serialized_der())
            .map_err(|_| failed(rcgen::Error::CouldNotParseKeyPair))?;
        if v1.as_bytes() == key.serialized_der() {
            return Ok(key);
        }
        KeyPair::try_from(v1.as_bytes()).map_err(failed)
    }

    /// Generates a key pair for a certificate's subject, as [`KeyType::generate`] does,
    /// without loading it into a signer: see [`SubjectKey`].
    ///
    /// # Errors
    /// [`KeyError::Generation`] when aws-lc-rs fails.
    pub fn generate_subject(self) -> Result<SubjectKey, KeyError> {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
            Ed25519KeyPair, KeyPair as _,
        };
        let failed = |_| KeyError::Generation {
            key_type: self,
            source: rcgen::Error::RingUnspecified,
        };
        let (public, pkcs8) = match self {
            Self::EcP256 | Self::EcP384 => {
                let curve = if self == Self::EcP256 {
                    &ECDSA_P256_SHA256_ASN1_SIGNING
                } else {
                    &ECDSA_P384_SHA384_ASN1_SIGNING
                };
                let pair = EcdsaKeyPair::generate(curve).map_err(failed)?;
                let pkcs8 = pair.to_pkcs8v1().map_err(failed)?;
                (pair.public_key().as_ref().to_vec(), pkcs8.as_ref().to_vec())
            }
            Self::Ed25519 => {
                let pair = Ed25519KeyPair::generate().map_err(failed)?;
                let pkcs8 = pair.to_pkcs8v1().map_err(failed)?;
                (pair.public_key().as_ref().to_vec(), pkcs8.as_ref().to_vec())
            }
            // RSA generation dwarfs the reload: rcgen's own path.
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => {
                let key = self.generate()?;
                (
                    rcgen::PublicKeyData::der_bytes(&key).to_vec(),
                    key.serialized_der().to_vec(),
                )
            }
        };
        Ok(SubjectKey {
            key_type: self,
            public,
            pkcs8: Zeroizing::new(pkcs8),
        })
    }

    /// The type of `key`, or `None` for a key `mutual` does not generate (P-521, RSA sizes
    /// other than 2048/3072/4096). Judged by the key, not the hash it signs with.
    pub fn of(key: &KeyPair) -> Option<KeyType> {
        let algorithm = key.algorithm();
        if algorithm == &rcgen::PKCS_ECDSA_P256_SHA256 {
            Some(Self::EcP256)
        } else if algorithm == &rcgen::PKCS_ECDSA_P384_SHA384 {
            Some(Self::EcP384)
        } else if algorithm == &rcgen::PKCS_ED25519 {
            Some(Self::Ed25519)
        } else if [
            &rcgen::PKCS_RSA_SHA256,
            &rcgen::PKCS_RSA_SHA384,
            &rcgen::PKCS_RSA_SHA512,
        ]
        .contains(&algorithm)
        {
            match rsa_modulus_bits(key.public_key_raw())? {
                2048 => Some(Self::Rsa2048),
                3072 => Some(Self::Rsa3072),
                4096 => Some(Self::Rsa4096),
                _ => None,
            }
        } else {
            None
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = KeyError;

    fn from_str(given: &str) -> Result<Self, KeyError> {
        Self::ALL
            .into_iter()
            .find(|key_type| key_type.as_str() == given)
            .ok_or_else(|| KeyError::UnknownKeyType {
                given: given.to_owned(),
            })
    }
}

/// The bit length of the modulus in a DER `RSAPublicKey` (RFC 8017 A.1.1).
fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    let mut reader = SliceReader::new(der).ok()?;
    let modulus = reader
        .sequence(|body| {
            let modulus = UintRef::decode(body)?;
            UintRef::decode(body)?; // publicExponent
            Ok::<_, pkcs8::der::Error>(modulus)
        })
        .ok()?;
    let bytes = modulus.as_bytes();
    let leading = bytes.first()?.leading_zeros() as usize;
    Some(bytes.len() * 8 - leading)
}

/// The PKCS#8 v1 (RFC 5208) form of a PKCS#8 key: without the public key that v2 (RFC 5958)
/// may carry. OpenSSL 3.0 rejects v2 ("nested asn1 error ... Field=attributes"), and every
/// reader derives the public key from the private one anyway.
pub(crate) fn pkcs8_v1(der: &[u8]) -> Result<SecretDocument, pkcs8::Error> {
    let info = PrivateKeyInfoRef::from_der(der)?;
    if info.public_key.is_none() {
        return Ok(SecretDocument::try_from(der)?);
    }
    Ok(SecretDocument::encode_msg(&PrivateKeyInfoRef::new(
        info.algorithm,
        info.private_key,
    ))?)
}

/// A key pair generated for a certificate's subject (`issue server|client`, the service's
/// `/issue`): its public key, which goes into the certificate, and its PKCS#8 v1 DER, which
/// goes to its owner. Not an rcgen [`KeyPair`], because the CA never signs with it, and
/// loading a generated key into a signer derives its public key again from the private
/// one: for P-256 a second scalar multiplication, as costly as generating the key.
pub struct SubjectKey {
    key_type: KeyType,
    /// The subjectPublicKey bits: an uncompressed EC point, an Ed25519 key, or an RSA
    /// public key (PKCS#1).
    public: Vec<u8>,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl SubjectKey {
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The private key as an unencrypted PKCS#8 v1 `PRIVATE KEY` PEM, as
    /// [`unencrypted_pem`] writes one.
    ///
    /// # Errors
    /// [`KeyError::Encryption`] if the DER does not encode (it was just generated, so never).
    pub fn unencrypted_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        plain_pem(&self.pkcs8)
    }
}

impl rcgen::PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.key_type.signature_algorithm()
    }
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectKey")
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

/// `key` as an unencrypted PKCS#8 v1 `PRIVATE KEY` PEM, for keys that must be usable without
/// a passphrase (leaf keys handed to their owner, `--unencrypted-intermediate`). Prefer this
/// to [`KeyPair::serialize_pem`], which may write PKCS#8 v2 that OpenSSL 3.0 cannot read.
///
/// # Errors
/// [`KeyError::Encryption`] when `key` does not hold a PKCS#8 key.
pub fn unencrypted_pem(key: &KeyPair) -> Result<Zeroizing<String>, KeyError> {
    plain_pem(key.serialized_der())
}

fn plain_pem(pkcs8: &[u8]) -> Result<Zeroizing<String>, KeyError> {
    let failed = |source: pkcs8::Error| KeyError::Encryption { source };
    pkcs8_v1(pkcs8)
        .map_err(failed)?
        .to_pem(PLAIN_LABEL, LineEnding::LF)
        .map_err(|error| failed(error.into()))
}

/// Encrypts `key` as a PKCS#8 `ENCRYPTED PRIVATE KEY` PEM: PBES2 with scrypt
/// ([`SCRYPT_LOG_N`], [`SCRYPT_R`], [`SCRYPT_P`]) and AES-256-CBC, a fresh 16-byte salt and IV
/// from the OS CSPRNG.
///
/// # Errors
/// [`KeyError::Random`] when the CSPRNG fails; [`KeyError::Encryption`] when `key` does not
/// hold a PKCS#8 key (rcgen keys loaded from PKCS#1/SEC1 do not) or encryption fails.
pub fn encrypt_pem(key: &KeyPair, passphrase: &Passphrase) -> Result<Zeroizing<String>, KeyError> {
    let plain = pkcs8_v1(key.serialized_der()).map_err(|source| KeyError::Encryption { source })?;
    let plain = plain.as_bytes();

    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|source| KeyError::Random { source })?;
    aws_lc_rs::rand::fill(&mut iv).map_err(|source| KeyError::Random { source })?;
    let encryption_failed = |error: pkcs5::Error| KeyError::Encryption {
        source: pkcs8::Error::EncryptedPrivateKey(error),
    };
    let cost = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P).map_err(|_| {
        encryption_failed(pkcs5::Error::AlgorithmParametersInvalid {
            oid: pbes2::SCRYPT_OID,
        })
    })?;
    let parameters =
        pbes2::Parameters::generate_scrypt_aes256cbc(cost, &salt, iv).map_err(encryption_failed)?;

    // Encrypt in a buffer we zero: it holds the plaintext key until the cipher overwrites it.
    const BLOCK: usize = 16;
    let mut buffer = Zeroizing::new(Vec::with_capacity(plain.len() + BLOCK));
    buffer.extend_from_slice(plain);
    buffer.extend_from_slice(&[0; BLOCK]);
    let ciphertext = parameters
        .encrypt_in_place(passphrase.expose_secret(), &mut buffer, plain.len())
        .map_err(encryption_failed)?;

    let der_failed = |error: pkcs8::der::Error| KeyError::Encryption {
        source: error.into(),
    };
    let info = EncryptedPrivateKeyInfoRef {
        encryption_algorithm: parameters.into(),
        encrypted_data: OctetStringRef::new(ciphertext).map_err(der_failed)?,
    };
    Ok(Zeroizing::new(
        info.to_pem(LineEnding::LF).map_err(der_failed)?,
    ))
}

/// Decrypts a PKCS#8 `ENCRYPTED PRIVATE KEY` PEM (the first one in `pem`; other blocks, such
/// as certificates, and text around them are skipped).
///
/// # Errors
/// [`KeyError::WrongPassphrase`] when `passphrase` does not decrypt it;
/// [`KeyError::NotEncrypted`] for a plain `PRIVATE KEY` (use [`read_key`]);
/// [`KeyError::Corrupt`] for a damaged or truncated PEM or DER;
/// [`KeyError::UnsupportedEncryption`], [`KeyError::KdfTooCostly`],
/// [`KeyError::UnsupportedKey`], [`KeyError::LegacyFormat`], [`KeyError::NoPrivateKey`].
pub fn decrypt_pem(pem: &str, passphrase: &Passphrase) -> Result<KeyPair, KeyError> {
    let block = find_key_block(pem)?;
    match block.label {
        ENCRYPTED_LABEL => decrypt_block(block.text, passphrase),
        PLAIN_LABEL => Err(KeyError::NotEncrypted),
        label => Err(KeyError::LegacyFormat {
            label: label.to_owned(),
        }),
    }
}

/// Reads a private key PEM that is either encrypted (`ENCRYPTED PRIVATE KEY`, needs
/// `passphrase`) or plain (`PRIVATE KEY`, `passphrase` ignored).
///
/// # Errors
/// [`KeyError::PassphraseRequired`] when the key is encrypted and `passphrase` is `None`;
/// otherwise as [`decrypt_pem`].
pub fn read_key(pem: &str, passphrase: Option<&Passphrase>) -> Result<KeyPair, KeyError> {
    let block = find_key_block(pem)?;
    match (block.label, passphrase) {
        (ENCRYPTED_LABEL, Some(passphrase)) => decrypt_block(block.text, passphrase),
        (ENCRYPTED_LABEL, None) => Err(KeyError::PassphraseRequired),
        (PLAIN_LABEL, _) => {
            let (_, document) = SecretDocument::from_pem(block.text)
                .map_err(|error| corrupt_pem(PLAIN_LABEL, error))?;
            key_pair(document.as_bytes())
        }
        (label, _) => Err(KeyError::LegacyFormat {
            label: label.to_owned(),
        }),
    }
}

/// One PEM block, `-----BEGIN` to `-----END` lines inclusive.
struct PemBlock<'a> {
    label: &'a str,
    text: &'a str,
}

/// The first private-key PEM block in `input`, skipping any other blocks and text.
fn find_key_block(input: &str) -> Result<PemBlock<'_>, KeyError> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let is_key = |label: &str| {
        label == ENCRYPTED_LABEL || label == PLAIN_LABEL || LEGACY_LABELS.contains(&label)
    };
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some(start) = input[offset..].find(BEGIN).map(|at| offset + at) {
        let after_begin = start + BEGIN.len();
        let line_end = input[after_begin..]
            .find('\n')
            .map_or(input.len(), |at| after_begin + at);
        let Some(label_len) = input[after_begin..line_end].find(DASHES) else {
            return Err(KeyError::Corrupt {
                detail: "a `-----BEGIN` line does not end in `-----`".to_owned(),
                source: None,
            });
        };
        let label = &input[after_begin..after_begin + label_len];
        let end_line = format!("-----END {label}-----");
        let Some(end) = input[after_begin..]
            .find(&end_line)
            .map(|at| after_begin + at + end_line.len())
        else {
            if is_key(label) {
                return Err(KeyError::Corrupt {
                    detail: format!(
                        "the `{label}` block has no `{end_line}` line; the file looks truncated"
                    ),
                    source: None,
                });
            }
            found.push(label.to_owned());
            break;
        };
        if is_key(label) {
            return Ok(PemBlock {
                label,
                text: &input[start..end],
            });
        }
        found.push(label.to_owned());
        offset = end;
    }
    Err(KeyError::NoPrivateKey { found })
}

fn decrypt_block(text: &str, passphrase: &Passphrase) -> Result<KeyPair, KeyError> {
    let (_, document) =
        Document::from_pem(text).map_err(|error| corrupt_pem(ENCRYPTED_LABEL, error))?;
    let not_pkcs8 = |error: pkcs8::der::Error| KeyError::Corrupt {
        detail: "the `ENCRYPTED PRIVATE KEY` block is not a PKCS#8 EncryptedPrivateKeyInfo"
            .to_owned(),
        source: Some(error.into()),
    };
    // Look at the scheme before decoding it: the pkcs5 crate cannot even parse PKCS#12 PBE
    // identifiers (`openssl pkcs8 -v1 PBE-SHA1-3DES`), and those deserve a name, not "damaged".
    let scheme = SliceReader::new(document.as_bytes())
        .and_then(|mut reader| {
            reader.sequence(|body| {
                let algorithm = AlgorithmIdentifierRef::decode(body)?;
                body.read_slice(body.remaining_len())?;
                Ok::<_, pkcs8::der::Error>(algorithm.oid)
            })
        })
        .map_err(not_pkcs8)?;
    if scheme != pbes2::PBES2_OID {
        return Err(KeyError::UnsupportedEncryption {
            algorithm: describe_oid(scheme),
        });
    }
    let info = EncryptedPrivateKeyInfoRef::from_der(document.as_bytes()).map_err(|error| {
        match error.kind() {
            ErrorKind::OidUnknown { oid } => KeyError::UnsupportedEncryption {
                algorithm: describe_oid(oid),
            },
            _ => not_pkcs8(error),
        }
    })?;
    let parameters = match &info.encryption_algorithm {
        EncryptionScheme::Pbes2(parameters) => parameters,
        other => {
            return Err(KeyError::UnsupportedEncryption {
                algorithm: describe_oid(other.oid()),
            });
        }
    };
    check_kdf_cost(&parameters.kdf)?;

    // Decrypt in a buffer we zero: afterwards it holds the plaintext key.
    let mut buffer = Zeroizing::new(info.encrypted_data.as_bytes().to_vec());
    let plain = parameters
        .decrypt_in_place(passphrase.expose_secret(), &mut buffer)
        .map_err(|error| match error {
            // CBC padding that does not check out, or a GCM tag that does not verify.
            pkcs5::Error::DecryptFailed => KeyError::WrongPassphrase,
            pkcs5::Error::UnsupportedAlgorithm { oid } => KeyError::UnsupportedEncryption {
                algorithm: describe_oid(oid),
            },
            other => KeyError::Corrupt {
                detail: "the encryption parameters are invalid".to_owned(),
                source: Some(pkcs8::Error::EncryptedPrivateKey(other)),
            },
        })?;
    // A wrong key yields valid CBC padding about once in 256 tries; the plaintext is then
    // noise, not a PKCS#8 structure.
    if PrivateKeyInfoRef::from_der(plain).is_err() {
        return Err(KeyError::WrongPassphrase);
    }
    key_pair(plain)
}

/// Refuses KDF parameters that would take unbounded memory or time before any work is done.
fn check_kdf_cost(kdf: &Kdf) -> Result<(), KeyError> {
    match kdf {
        Kdf::Scrypt(scrypt) => {
            let n = scrypt.cost_parameter;
            let r = u64::from(scrypt.block_size);
            let p = u64::from(scrypt.parallelization);
            let memory = n.saturating_mul(r).saturating_mul(128);
            if memory > MAX_SCRYPT_MEMORY || p > MAX_SCRYPT_P {
                return Err(KeyError::KdfTooCostly {
                    detail: format!(
                        "scrypt N={n}, r={r}, p={p} needs {} MiB and {p} passes; \
                         the limit is {} MiB and {MAX_SCRYPT_P} passes",
                        memory / (1024 * 1024),
                        MAX_SCRYPT_MEMORY / (1024 * 1024)
                    ),
                });
            }
        }
        Kdf::Pbkdf2(pbkdf2) => {
            if pbkdf2.iteration_count > MAX_PBKDF2_ITERATIONS {
                return Err(KeyError::KdfTooCostly {
                    detail: format!(
                        "PBKDF2 with {} iterations; the limit is {MAX_PBKDF2_ITERATIONS}",
                        pbkdf2.iteration_count
                    ),
                });
            }
        }
        other => {
            return Err(KeyError::UnsupportedEncryption {
                algorithm: describe_oid(other.oid()),
            });
        }
    }
    Ok(())
}

/// An rcgen key pair from PKCS#8 DER already known to parse as `PrivateKeyInfo`.
fn key_pair(pkcs8_der: &[u8]) -> Result<KeyPair, KeyError> {
    let info = PrivateKeyInfoRef::from_der(pkcs8_der).map_err(|error| KeyError::Corrupt {
        detail: "the `PRIVATE KEY` block is not a PKCS#8 PrivateKeyInfo".to_owned(),
        source: Some(error.into()),
    })?;
    KeyPair::try_from(pkcs8_der).map_err(|source| {
        let mut algorithm = describe_oid(info.algorithm.oid);
        if let Ok(curve) = info.algorithm.parameters_oid() {
            algorithm = format!("{algorithm} on {}", describe_oid(curve));
        }
        KeyError::UnsupportedKey { algorithm, source }
    })
}

fn corrupt_pem(label: &str, error: pkcs8::der::Error) -> KeyError {
    KeyError::Corrupt {
        detail: format!("the `{label}` block is not valid PEM (its base64 or framing is damaged)"),
        source: Some(error.into()),
    }
}

/// A readable name for the OIDs a key file may carry, with the dotted form as evidence.
fn describe_oid(oid: ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10040.4.1" => "DSA",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.2.840.113549.2.7" => "hmacWithSHA1",
        "1.2.840.113549.3.7" => "des-ede3-cbc",
        "1.3.14.3.2.7" => "des-cbc",
        "1.2.840.113549.1.5.3" => "pbeWithMD5AndDES-CBC",
        "1.2.840.113549.1.5.10" => "pbeWithSHA1AndDES-CBC",
        "1.2.840.113549.1.12.1.3" => "pbeWithSHAAnd3-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.6" => "pbeWithSHAAnd40BitRC2-CBC",
        _ => return oid.to_string(),
    };
    format!("{name} ({oid})")
}

/// Why a key could not be generated, stored or read. Never contains key material or a
/// passphrase.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key type name that is not one of [`KeyType::ALL`].
    #[error(
        "unknown key type `{given}`; expected one of ec-p256, ec-p384, ed25519, rsa-2048, rsa-3072, rsa-4096"
    )]
    UnknownKeyType {
        /// What was given.
        given: String,
    },
    /// aws-lc-rs could not generate the key.
    #[error("could not generate a {key_type} key")]
    Generation {
        /// The type asked for.
        key_type: KeyType,
        /// rcgen's error.
        #[source]
        source: rcgen::Error,
    },
    /// The OS CSPRNG failed while making a salt or IV.
    #[error("the system random number generator failed")]
    Random {
        /// aws-lc-rs's error.
        #[source]
        source: aws_lc_rs::error::Unspecified,
    },
    /// The key could not be encrypted.
    #[error("could not encrypt the private key")]
    Encryption {
        /// The PKCS#8 or PBES2 error.
        #[source]
        source: pkcs8::Error,
    },
    /// The input holds no private key PEM block.
    #[error(
        "expected a `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY` PEM block; found {}",
        found_list(found)
    )]
    NoPrivateKey {
        /// The labels of the PEM blocks found instead.
        found: Vec<String>,
    },
    /// A PKCS#1 or SEC1 key (`RSA PRIVATE KEY`, `EC PRIVATE KEY`).
    #[error(
        "the key is in the legacy `{label}` format; expected PKCS#8. Convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.p8`"
    )]
    LegacyFormat {
        /// The PEM label found.
        label: String,
    },
    /// [`decrypt_pem`] on a plain `PRIVATE KEY`.
    #[error("expected an `ENCRYPTED PRIVATE KEY`; found an unencrypted `PRIVATE KEY`")]
    NotEncrypted,
    /// The key is encrypted and no passphrase was given.
    #[error(
        "the key is encrypted (`ENCRYPTED PRIVATE KEY`) and no passphrase was given; pass `--passphrase-file FILE` or set `MUTUAL_PASSPHRASE`"
    )]
    PassphraseRequired,
    /// The passphrase does not decrypt the key.
    #[error(
        "the passphrase does not decrypt the key (wrong passphrase, or damaged encrypted data)"
    )]
    WrongPassphrase,
    /// The PEM or DER structure is damaged.
    #[error("the key is damaged: {detail}")]
    Corrupt {
        /// What is wrong, in words.
        detail: String,
        /// The decoder's error, when there is one.
        #[source]
        source: Option<pkcs8::Error>,
    },
    /// Encrypted with a scheme this module does not read (PBES1, DES, HMAC-SHA-1, ...).
    #[error(
        "the key is encrypted with {algorithm}, which mutual does not read; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
    )]
    UnsupportedEncryption {
        /// The algorithm, with its OID.
        algorithm: String,
    },
    /// The key's KDF parameters ask for more work than reading a key may take.
    #[error("the key's password hashing asks for too much work: {detail}")]
    KdfTooCostly {
        /// The parameters and the limit.
        detail: String,
    },
    /// A well-formed PKCS#8 key of an algorithm rcgen cannot sign with.
    #[error("the key's algorithm is {algorithm}; expected ECDSA P-256 or P-384, Ed25519 or RSA")]
    UnsupportedKey {
        /// The algorithm (and curve), with OIDs.
        algorithm: String,
        /// rcgen's error.
        #[source]
        source: rcgen::Error,
    },
}

fn found_list(found: &[String]) -> String {
    if found.is_empty() {
        "no PEM block".to_owned()
    } else {
        let labels: Vec<String> = found.iter().map(|label| format!("`{label}`")).collect();
        labels.join(", ")
    }
}

impl KeyError {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownKeyType { .. } => "unknown_key_type",
            Self::Generation { .. } => "key_generation_failed",
            Self::Random { .. } => "random_failed",
            Self::Encryption { .. } => "key_encryption_failed",
            Self::NoPrivateKey { .. } => "no_private_key",
            Self::LegacyFormat { .. } => "legacy_key_format",
            Self::NotEncrypted => "key_not_encrypted",
            Self::PassphraseRequired => "passphrase_required",
            Self::WrongPassphrase => "wrong_passphrase",
            Self::Corrupt { .. } => "key_corrupt",
            Self::UnsupportedEncryption { .. } => "unsupported_key_encryption",
            Self::KdfTooCostly { .. } => "key_kdf_too_costly",
            Self::UnsupportedKey { .. } => "unsupported_key_type",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_travel_across_threads() {
        // `anyhow` and clap's value parsers need this.
        fn assert_send_sync<T: std::error::Error + Send + Sync + 'static>() {}
        assert_send_sync::<KeyError>();
        assert_send_sync::<crate::passphrase::PassphraseError>();
    }

    /// A subject key is a whole key pair: its PEM loads back into a signer whose public
    /// key and algorithm are the ones the certificate gets, and what it signs verifies
    /// with that public key. RSA 2048 only of the RSA sizes (the same code path).
    #[test]
    fn subject_keys_are_whole_key_pairs() {
        use rcgen::{PublicKeyData, SigningKey};
        for key_type in [
            KeyType::EcP256,
            KeyType::EcP384,
            KeyType::Ed25519,
            KeyType::Rsa2048,
        ] {
            let subject = key_type.generate_subject().unwrap();
            assert_eq!(subject.key_type(), key_type);
            assert_eq!(subject.algorithm(), key_type.signature_algorithm());
            let pem = subject.unencrypted_pem().unwrap();
            assert!(
                pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
                "{key_type}"
            );
            let loaded = KeyPair::from_pem(&pem).unwrap();
            assert_eq!(loaded.der_bytes(), subject.der_bytes(), "{key_type}");
            assert_eq!(KeyType::of(&loaded), Some(key_type));
            // PKCS#8 v1: no public key field, as `unencrypted_pem` writes every key.
            assert_eq!(
                pkcs8_v1(loaded.serialized_der()).unwrap().as_bytes(),
                loaded.serialized_der(),
                "{key_type}"
            );
            let message = b"proof of possession";
            let signature = loaded.sign(message).unwrap();
            use aws_lc_rs::signature as verify;
            let algorithm: &dyn verify::VerificationAlgorithm = match key_type {
                KeyType::EcP256 => &verify::ECDSA_P256_SHA256_ASN1,
                KeyType::EcP384 => &verify::ECDSA_P384_SHA384_ASN1,
                KeyType::Ed25519 => &verify::ED25519,
                _ => &verify::RSA_PKCS1_2048_8192_SHA256,
            };
            verify::UnparsedPublicKey::new(algorithm, subject.der_bytes())
                .verify(message, &signature)
                .unwrap_or_else(|_| panic!("{key_type}: signature does not verify"));
            assert!(!format!("{subject:?}").contains(&pem[30..60]));
        }
    }

    #[test]
    fn key_type_spellings_round_trip() {
        for key_type in KeyType::ALL {
            assert_eq!(key_type.to_string().parse::<KeyType>().unwrap(), key_type);
        }
        let spellings: Vec<String> = KeyType::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(
            spellings,
            [
                "ec-p256", "ec-p384", "ed25519", "rsa-2048", "rsa-3072", "rsa-4096"
            ]
        );
    }

    #[test]
    fn unknown_key_type_names_the_input_and_the_choices() {
        let error = "rsa-1024".parse::<KeyType>().unwrap_err();
        assert_eq!(error.code(), "unknown_key_type");
        let message = error.to_string();
        assert!(message.contains("`rsa-1024`"), "{message}");
        for key_type in KeyType::ALL {
            assert!(message.contains(key_type.as_str()), "{message}");
        }
    }

    #[test]
    fn rsa_modulus_bits_from_der() {
        // SEQUENCE { INTEGER 0x00C1 (8 bits after the sign byte), INTEGER 3 }
        assert_eq!(
            rsa_modulus_bits(&[0x30, 0x07, 0x02, 0x02, 0x00, 0xc1, 0x02, 0x01, 0x03]),
            Some(8)
        );
        assert_eq!(rsa_modulus_bits(&[0x30, 0x00]), None);
        assert_eq!(rsa_modulus_bits(b"garbage"), None);
    }

    #[test]
    fn finds_the_key_among_other_blocks() {
        let input = "Bag Attributes\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\
                     text\n-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\ntrailer";
        let block = find_key_block(input).unwrap();
        assert_eq!(block.label, "PRIVATE KEY");
        assert_eq!(
            block.text,
            "-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----"
        );
    }

    #[test]
    fn no_key_block_lists_what_was_found() {
        let input = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let error = find_key_block(input).err().unwrap();
        assert_eq!(error.code(), "no_private_key");
        assert!(error.to_string().contains("`CERTIFICATE`"), "{error}");
        let error = find_key_block("").err().unwrap();
        assert!(error.to_string().ends_with("found no PEM block"), "{error}");
    }

    #[test]
    fn kdf_cost_limits() {
        use pkcs8::pkcs5::pbes2::{Pbkdf2Params, ScryptParams};
        let salt = [7u8; 16];
        let ours = ScryptParams::from_params_and_salt(
            scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P).unwrap(),
            &salt,
        )
        .unwrap();
        assert!(check_kdf_cost(&ours.into()).is_ok());
        let huge =
            ScryptParams::from_params_and_salt(scrypt::Params::new(22, 8, 1).unwrap(), &salt)
                .unwrap();
        let error = check_kdf_cost(&huge.into()).unwrap_err();
        assert_eq!(error.code(), "key_kdf_too_costly");
        assert!(error.to_string().contains("4096 MiB"), "{error}");
        let pbkdf2 = Pbkdf2Params::hmac_sha256(2048, &salt).unwrap();
        assert!(check_kdf_cost(&pbkdf2.into()).is_ok());
        let pbkdf2 = Pbkdf2Params::hmac_sha256(50_000_000, &salt).unwrap();
        assert_eq!(
            check_kdf_cost(&pbkdf2.into()).unwrap_err().code(),
            "key_kdf_too_costly"
        );
    }
}
