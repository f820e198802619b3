//! mutual-test's own helpers, checked against the real `openssl`.

mod corpus;
mod s_server;
mod verify_matrix_openssl;
