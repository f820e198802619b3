//! The integration tests of `mutual-ca`, one binary (see STYLE.md).

mod key;
mod ocsp;
mod store;
