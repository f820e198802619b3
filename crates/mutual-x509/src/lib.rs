//! Bytes in, values out: every PKI object `mutual` reads (certificates, CSRs, CRLs,
//! PKCS#7 and PKCS#12 bundles, private keys) decoded from PEM or DER, the [`Purpose`]
//! model that says what a certificate is for and why, and the [`Diagnosis`] type every
//! `mutual` command reports findings with. No network, no files.

mod certificate;
mod crl;
mod csr;
mod diagnosis;
mod error;
mod extensions;
mod findings;
mod hex;
mod key;
mod name;
mod object;
pub mod oids;
pub mod pem;
mod pkcs12;
mod pkcs7;
mod public_key;
mod purpose;
mod signature;
pub mod text;
pub mod tlv;
mod validity;

pub use certificate::{Algorithm, Certificate, Fingerprints};
pub use crl::{Crl, RevokedEntry};
pub use csr::Csr;
pub use diagnosis::{Diagnosis, Evidence, Severity};
pub use error::{DecodeError, PemProblem};
pub use extensions::{
    AccessDescription, DistributionPoint, Eku, Extension, ExtensionValue, GeneralName, KeyUsageBit,
    Policy, Sct,
};
pub use findings::Finding;
pub use key::{KeyFormat, PrivateKey};
pub use name::{DistinguishedName, NameAttribute};
pub use object::{DecodeOptions, MAX_INPUT_BYTES, Object, decode};
pub use pkcs7::Pkcs7;
pub use pkcs12::{MacInfo, Pkcs12, Pkcs12Certificate, Pkcs12Key};
pub use public_key::PublicKeyInfo;
pub use purpose::{CaRole, Purpose, PurposeFacts, PurposeKind, Usage, UsageVerdict};
pub use signature::{SignatureCheck, verify_with_spki};
pub use tlv::TlvError;
pub use validity::{Validity, ValidityStatus};
