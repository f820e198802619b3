use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The DER of every PEM block in the file at `path`, in file order, whatever the label.
/// Text around the blocks (such as `openssl x509 -text` output) is ignored.
pub fn pem_to_der(path: impl AsRef<Path>) -> Vec<Vec<u8>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("reading `{}`: {error}", path.display()));
    let mut blocks = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            body = Some(String::new());
        } else if line.starts_with("-----END ") {
            let encoded = body
                .take()
                .unwrap_or_else(|| panic!("`{}`: `{line}` without a BEGIN line", path.display()));
            let der = STANDARD.decode(&encoded).unwrap_or_else(|error| {
                panic!("`{}`: a PEM block is not base64: {error}", path.display())
            });
            blocks.push(der);
        } else if let Some(body) = body.as_mut() {
            body.push_str(line);
        }
    }
    assert!(
        body.is_none(),
        "`{}`: the last PEM block has no END line",
        path.display()
    );
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_block_and_skips_text_around_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("two.pem");
        std::fs::write(
            &path,
            "Certificate:\n    text\n-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n\
             -----BEGIN PRIVATE KEY-----\n/w==\n-----END PRIVATE KEY-----\n",
        )
        .expect("write");
        assert_eq!(pem_to_der(&path), vec![vec![0, 1, 2, 3], vec![0xff]]);
    }
}
