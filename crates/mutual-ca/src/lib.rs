//! A private CA that issues server and client certificates correctly by construction:
//! profiles decide what a certificate may say, issuance is a typed pipeline, keys are
//! stored encrypted, and every certificate is recorded in the store before anyone sees it.
pub mod crl;
pub mod csr;
pub mod error;
pub mod files;
pub mod home;
pub mod init;
pub mod issuance;
pub mod key;
pub mod ocsp;
pub mod passphrase;
pub mod pkcs12;
pub mod profile;
mod rehearsal;
pub mod store;
