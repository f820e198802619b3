//! What a peer that does not speak TLS said instead: the first bytes it sent, kept as they
//! arrive, made printable, and a guess at the protocol from its greeting.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};

/// The most bytes of a peer's first words kept for the report.
const KEPT: usize = 256;
/// The most characters of them shown.
const SHOWN: usize = 60;

/// A TCP stream that remembers the first bytes read from it.
#[derive(Debug)]
pub(crate) struct Recorded {
    tcp: TcpStream,
    first: Vec<u8>,
}

impl Recorded {
    pub(crate) fn new(tcp: TcpStream) -> Self {
        Self {
            tcp,
            first: Vec::new(),
        }
    }

    /// The first bytes the peer sent (up to 256).
    pub(crate) fn first_bytes(&self) -> &[u8] {
        &self.first
    }
}

impl Read for Recorded {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.tcp.read(buffer)?;
        let room = KEPT.saturating_sub(self.first.len()).min(read);
        self.first.extend_from_slice(&buffer[..room]);
        Ok(read)
    }
}

impl Write for Recorded {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.tcp.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

impl Deref for Recorded {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.tcp
    }
}

impl DerefMut for Recorded {
    fn deref_mut(&mut self) -> &mut TcpStream {
        &mut self.tcp
    }
}

/// What a non-TLS peer sent, for a person to read.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerGreeting {
    /// Its first line, printable: control and non-ASCII bytes as `.`, at most 60 characters
    /// (a `…` marks a cut). Empty when it sent nothing.
    pub text: String,
    /// The protocol its greeting suggests, e.g. `an SSH server`.
    pub guess: Option<&'static str>,
}

/// Describes the first bytes a peer sent in answer to a ClientHello (or before it, as SSH
/// and SMTP servers do). Takes untrusted bytes; never panics.
pub fn describe_greeting(bytes: &[u8]) -> PeerGreeting {
    let line_end = bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(bytes.len());
    let line = &bytes[..line_end];
    let mut text: String = line
        .iter()
        .take(SHOWN)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    if line.len() > SHOWN {
        text.push('…');
    }
    PeerGreeting {
        text,
        guess: guess(line),
    }
}

fn guess(line: &[u8]) -> Option<&'static str> {
    let starts = |prefix: &[u8]| line.starts_with(prefix);
    if starts(b"SSH-") {
        Some("an SSH server")
    } else if starts(b"HTTP/") || starts(b"<!DOCTYPE") || starts(b"<html") {
        Some("a plain-HTTP server")
    } else if starts(b"220") && contains(line, b"FTP") {
        Some("an FTP server")
    } else if starts(b"220") {
        Some("an SMTP server")
    } else if starts(b"+OK") {
        Some("a POP3 server")
    } else if starts(b"* OK") {
        Some("an IMAP server")
    } else if starts(b"-ERR") || starts(b"+PONG") {
        Some("a Redis server")
    } else {
        None
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_are_shown_and_recognised() {
        let ssh = describe_greeting(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
        assert_eq!(ssh.text, "SSH-2.0-OpenSSH_9.2p1 Debian-2");
        assert_eq!(ssh.guess, Some("an SSH server"));
        let smtp = describe_greeting(b"220 mail.example.test ESMTP Postfix\r\n");
        assert_eq!(smtp.guess, Some("an SMTP server"));
        let http = describe_greeting(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(http.text, "HTTP/1.1 400 Bad Request");
        assert_eq!(http.guess, Some("a plain-HTTP server"));
    }

    #[test]
    fn binary_and_long_answers_are_made_printable_and_cut() {
        let binary = describe_greeting(&[0x00, 0xff, b'A', 0x1b]);
        assert_eq!(binary.text, "..A.");
        assert_eq!(binary.guess, None);
        let long = describe_greeting(&[b'x'; 100]);
        assert_eq!(long.text.chars().count(), 61);
        assert!(long.text.ends_with('…'));
        assert_eq!(describe_greeting(b"").text, "");
    }
}
