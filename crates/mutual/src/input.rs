//! Where inputs come from: files, standard input, and secrets (passwords) from files or
//! the environment, never from argv.

use std::io::Read;
use std::path::Path;

use mutual_x509::MAX_INPUT_BYTES;

use crate::exit::BadInput;

/// Reads a file or `-` (stdin), refusing anything over the size limit before reading it.
pub(crate) fn read_input(name: &str) -> Result<Vec<u8>, BadInput> {
    let too_large = |size: u64| {
        BadInput(format!(
            "`{name}` is {size} bytes; the limit is {MAX_INPUT_BYTES} bytes, and no certificate object comes near it"
        ))
    };
    if name == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| BadInput(format!("standard input could not be read: {e}")))?;
        if bytes.len() as u64 > MAX_INPUT_BYTES {
            return Err(BadInput(format!(
                "standard input is over the limit of {MAX_INPUT_BYTES} bytes; no certificate object comes near it"
            )));
        }
        return Ok(bytes);
    }
    let path = Path::new(name);
    let metadata = std::fs::metadata(path)
        .map_err(|e| BadInput(format!("`{name}` could not be opened: {e}")))?;
    if metadata.is_dir() {
        return Err(BadInput(format!(
            "`{name}` is a directory; expected a file"
        )));
    }
    if metadata.len() > MAX_INPUT_BYTES {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| BadInput(format!("`{name}` could not be read: {e}")))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A password from `--password-file` (its first line) or `--password-env`.
pub(crate) fn password(file: Option<&Path>, env: Option<&str>) -> Result<Option<String>, BadInput> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            BadInput(format!(
                "password file `{}` could not be read: {e}",
                path.display()
            ))
        })?;
        return Ok(Some(text.lines().next().unwrap_or("").to_owned()));
    }
    if let Some(var) = env {
        return std::env::var(var).map(Some).map_err(|_| {
            BadInput(format!(
                "environment variable `{var}` (from --password-env) is not set"
            ))
        });
    }
    Ok(None)
}

/// `--at TIME` (RFC 3339) or, without it, now.
pub(crate) fn at_or_now(at: Option<&str>) -> Result<time::OffsetDateTime, BadInput> {
    match at {
        Some(at) => time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            .map_err(|e| {
                BadInput(format!(
                    "--at `{at}`: expected an RFC 3339 time such as 2026-02-02T00:00:00Z; {e}"
                ))
            }),
        None => Ok(time::OffsetDateTime::now_utc()),
    }
}
