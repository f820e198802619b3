//! PEM text: the blocks between `-----BEGIN X-----` and `-----END X-----`, with the line
//! each starts on so errors can point at it. Text around the blocks is skipped, as
//! openssl does, so files with `openssl x509 -text` output prepended still read.

use base64::Engine;

use crate::error::{DecodeError, PemProblem};

/// One decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    pub label: String,
    /// RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED` (legacy encrypted keys).
    pub headers: Vec<(String, String)>,
    pub der: Vec<u8>,
    /// 1-based line of the BEGIN line.
    pub line: usize,
}

/// True when the bytes contain a PEM BEGIN line, so they are to be read as PEM.
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// A block whose BEGIN line has been read but not yet its END line.
struct OpenBlock {
    label: String,
    line: usize,
    headers: Vec<(String, String)>,
    body: String,
}

/// Reads every PEM block. Errors name the line they concern.
pub fn parse(bytes: &[u8]) -> Result<Vec<PemBlock>, DecodeError> {
    let text = String::from_utf8_lossy(bytes);
    let mut blocks = Vec::new();
    let mut open: Option<OpenBlock> = None;
    for (index, raw_line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw_line.trim();
        let Some(block) = open.as_mut() else {
            if let Some(label) = boundary(line, "-----BEGIN ") {
                open = Some(OpenBlock {
                    label: label.to_owned(),
                    line: line_no,
                    headers: Vec::new(),
                    body: String::new(),
                });
            }
            continue;
        };
        if let Some(end_label) = boundary(line, "-----END ") {
            if end_label != block.label {
                return Err(DecodeError::Pem {
                    line: line_no,
                    problem: PemProblem::MismatchedEnd {
                        expected: block.label.clone(),
                        found: end_label.to_owned(),
                    },
                });
            }
            let der = decode_body(&block.label, &block.body, block.line)?;
            blocks.push(PemBlock {
                label: std::mem::take(&mut block.label),
                headers: std::mem::take(&mut block.headers),
                der,
                line: block.line,
            });
            open = None;
        } else if boundary(line, "-----BEGIN ").is_some() {
            // A new BEGIN before the END: the first block was cut off.
            return Err(DecodeError::Pem {
                line: block.line,
                problem: PemProblem::MissingEnd {
                    label: block.label.clone(),
                },
            });
        } else if let Some((name, value)) = line.split_once(':').filter(|_| block.body.is_empty()) {
            block
                .headers
                .push((name.trim().to_owned(), value.trim().to_owned()));
        } else {
            block.body.push_str(line);
        }
    }
    if let Some(block) = open {
        return Err(DecodeError::Pem {
            line: block.line,
            problem: PemProblem::MissingEnd { label: block.label },
        });
    }
    Ok(blocks)
}

fn boundary<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_suffix("-----")
}

fn decode_body(label: &str, body: &str, line: usize) -> Result<Vec<u8>, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::Pem {
            line,
            problem: PemProblem::EmptyBlock {
                label: label.to_owned(),
            },
        });
    }
    if let Some(bad) = body
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
    {
        return Err(DecodeError::Pem {
            line,
            problem: PemProblem::BadBase64 {
                label: label.to_owned(),
                found: format!("the character {bad:?}"),
            },
        });
    }
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|error| DecodeError::Pem {
            line,
            problem: PemProblem::BadBase64 {
                label: label.to_owned(),
                found: error.to_string(),
            },
        })
}

/// Encodes DER as a PEM block with 64-column lines, as RFC 7468 writes them.
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_several_blocks_with_text_around() {
        let text = "subject=CN = a\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\nnoise\n-----BEGIN X509 CRL-----\r\nBAUG\r\n-----END X509 CRL-----\r\n";
        let blocks = parse(text.as_bytes()).expect("two blocks");
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            (blocks[0].label.as_str(), blocks[0].line),
            ("CERTIFICATE", 2)
        );
        assert_eq!(blocks[0].der, vec![1, 2, 3]);
        assert_eq!((blocks[1].label.as_str(), blocks[1].line), ("X509 CRL", 6));
        assert_eq!(blocks[1].der, vec![4, 5, 6]);
    }

    #[test]
    fn keeps_legacy_headers() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAQID\n-----END RSA PRIVATE KEY-----\n";
        let blocks = parse(text.as_bytes()).expect("one block");
        assert_eq!(
            blocks[0].headers[0],
            ("Proc-Type".into(), "4,ENCRYPTED".into())
        );
        assert_eq!(blocks[0].der, vec![1, 2, 3]);
    }

    #[test]
    fn names_the_line_of_a_truncated_block() {
        let err = parse(b"\n\n-----BEGIN CERTIFICATE-----\nAQID\n").unwrap_err();
        assert_eq!(err.code(), "pem_truncated");
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }

    #[test]
    fn refuses_bad_base64_and_mismatched_ends() {
        let err =
            parse(b"-----BEGIN CERTIFICATE-----\nAQ*D\n-----END CERTIFICATE-----\n").unwrap_err();
        assert_eq!(err.code(), "pem_bad_base64");
        assert!(err.to_string().contains("'*'"), "{err}");
        let err =
            parse(b"-----BEGIN CERTIFICATE-----\nAQI\n-----END CERTIFICATE-----\n").unwrap_err();
        assert_eq!(err.code(), "pem_bad_base64");
        let err =
            parse(b"-----BEGIN CERTIFICATE-----\nAQID\n-----END X509 CRL-----\n").unwrap_err();
        assert_eq!(err.code(), "pem_mismatched_end");
        let err = parse(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").unwrap_err();
        assert_eq!(err.code(), "pem_empty_block");
    }

    #[test]
    fn round_trips() {
        let der: Vec<u8> = (0..=255).collect();
        let blocks = parse(encode("CERTIFICATE", &der).as_bytes()).expect("round trip");
        assert_eq!(blocks[0].der, der);
    }
}
