//! Closing a connection or a stream so that the client reads the last answer, as NGINX's
//! `lingering_close` and its discarding of unread request bodies do.
//!
//! A server may answer before it has read the whole request: `413` for a body over the
//! limit, known from its Content-Length; a refusal of a route before the upload. What
//! happens to the rest of the body then decides whether the client sees the answer:
//!
//! - HTTP/1.1: the HTTP layer closes the connection with the body unread. A socket closed
//!   with unread bytes in its receive buffer is *reset*, and the reset reaches a client
//!   still sending the body before it has read the answer: curl says "Send failure: Broken
//!   pipe" instead of showing the 413 and its JSON. Measured on `mutual serve` with a 200 KB
//!   body under load: 30 of 300 requests. [`Lingering`] wraps the connection's stream.
//! - HTTP/2: the stream is reset (RST_STREAM) while the client still uploads; curl 7.88
//!   reports "Stream error in the HTTP/2 framing layer" and no status, every time, for a
//!   body beyond the flow-control window. [`Drained`] wraps the request body.
//!
//! Both read and discard what the client still sends, for at most [`LINGER`].

mod body;
mod stream;

pub use body::Drained;
pub use stream::{LINGER, Lingering};
