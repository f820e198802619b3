//! What the mutual crates' tests share: runners for the real tools they interoperate with
//! (failing loudly, with the package to install, when one is missing), free ports, an
//! `openssl s_server` that cleans up after itself, headless Chromium with an NSS database of
//! its own, and a corpus of certificates built by the real `openssl` CLI, one file per shape
//! a certificate can take; the `mutual verify` matrix (chains, each with the verdict mutual
//! and `openssl verify` must give) and an `openssl ocsp` responder; real nginx and Apache
//! servers; a database of its own per test on the throwaway PostgreSQL server.
//!
//! Test-only (`publish = false`, used as a dev-dependency): helpers here panic with a full
//! account of what failed instead of returning errors, because a test is what calls them.

mod apache;
mod chromium;
mod corpus;
mod devtools;
mod fuzz;
mod gateway;
mod nginx;
mod ocsp;
mod pem;
mod port;
mod postgres;
mod process;
mod s_server;
mod serve;
mod tools;
mod verify_matrix;

pub use apache::Apache;
pub use chromium::{AutoSelectPolicy, Browser, DumpedPage};
pub use corpus::Corpus;
pub use devtools::{DevTools, axe_core};
pub use fuzz::fuzz_inputs;
pub use gateway::{MutualGateway, SeenRequest, Upstream};
pub use nginx::Nginx;
pub use ocsp::{OcspResponder, OcspResponderBuilder};
pub use pem::pem_to_der;
pub use port::free_port;
pub use postgres::{PostgresServer, TableLock, TestDatabase};
pub use s_server::{SServer, SServerBuilder};
pub use serve::MutualServe;
pub use tools::{openssl, openssl_output, require_tool};
pub use verify_matrix::{
    Case, ERROR_CODES, LeafFormat, OpensslExpectation, Purpose, VerifyMatrix, WARNING_CODES,
};
