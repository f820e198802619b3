//! Integration tests of mutual-x509 as a library.

mod fuzz_seeds;
