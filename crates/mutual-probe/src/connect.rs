//! Resolving a target and opening a TCP connection to it, bounded by a timeout.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::error::ProbeError;
use crate::target::Target;

pub(crate) fn resolve(target: &Target) -> Result<Vec<SocketAddr>, ProbeError> {
    let addresses: Vec<SocketAddr> = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|source| ProbeError::ResolveFailed {
            target: target.clone(),
            source: Some(source),
        })?
        .collect();
    if addresses.is_empty() {
        return Err(ProbeError::ResolveFailed {
            target: target.clone(),
            source: None,
        });
    }
    Ok(addresses)
}

/// Tries each address in the resolver's order and returns the first connection made.
///
/// When every address fails, the error reports the last failure that was not a timeout (a
/// refusal says more than a timeout), or a timeout when every address timed out.
pub(crate) fn connect(
    target: &Target,
    addresses: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), ProbeError> {
    let mut refused: Option<(SocketAddr, io::Error)> = None;
    for &address in addresses {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(stream) => return Ok((stream, address)),
            Err(error) if error.kind() == io::ErrorKind::TimedOut => {}
            Err(error) => refused = Some((address, error)),
        }
    }
    Err(match refused {
        Some((address, source)) => ProbeError::ConnectFailed {
            target: target.clone(),
            address,
            attempted: addresses.to_vec(),
            source,
        },
        None => ProbeError::ConnectTimeout {
            target: target.clone(),
            attempted: addresses.to_vec(),
            timeout,
        },
    })
}
