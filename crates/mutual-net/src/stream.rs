//! HTTP/1.1: a connection that is read from after the HTTP layer is done with it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// How long a closed connection is read from at most, sending side ended. A client that
/// saw the answer stops sending at once (curl checks for an early answer while uploading);
/// one that did not finishes its body, which a loopback or LAN link carries in milliseconds.
/// The bound keeps a client that never closes from holding a task longer.
pub const LINGER: Duration = Duration::from_secs(5);

/// A stream that lingers when dropped: see the crate's documentation. Reads and writes go
/// straight through.
pub struct Lingering<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Always `Some` while the HTTP layer holds it; `Drop` takes it to linger.
    stream: Option<S>,
}

impl<S> Lingering<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pub fn new(stream: S) -> Self {
        Self {
            stream: Some(stream),
        }
    }

    fn stream(&mut self) -> io::Result<&mut S> {
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl<S> AsyncRead for Lingering<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().stream() {
            Ok(stream) => Pin::new(stream).poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl<S> AsyncWrite for Lingering<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().stream() {
            Ok(stream) => Pin::new(stream).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().stream() {
            Ok(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(S::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().stream() {
            Ok(stream) => Pin::new(stream).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().stream() {
            Ok(stream) => Pin::new(stream).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl<S> Drop for Lingering<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn drop(&mut self) {
        // Outside a runtime (a runtime being torn down), the stream just closes.
        if let (Some(stream), Ok(runtime)) =
            (self.stream.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(linger(stream));
        }
    }
}

/// Ends the sending side, then discards what the client sends until it closes (or fails,
/// or [`LINGER`] passes); then the stream is closed with nothing unread, or at worst reset.
async fn linger<S>(mut stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = tokio::time::timeout(LINGER, async {
        // Usually done already by the HTTP layer; a second shutdown sends nothing more. Its
        // failure (the client is gone) leaves reading to find out.
        let _ = stream.shutdown().await;
        let mut sink = vec![0; 16 * 1024];
        while let Ok(read) = stream.read(&mut sink).await {
            if read == 0 {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// Far more than loopback's socket buffers hold, so the client is still sending when
    /// the server closes.
    const BODY: usize = 32 * 1024 * 1024;

    /// A server that answers without reading the request, then drops its stream wrapped
    /// or not; a blocking client that sends the whole body, then reads the answer. Returns
    /// the client's outcome: the answer, or the error that cut it off.
    fn answer_before_the_body(wrap: bool) -> io::Result<Vec<u8>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        runtime.spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            // Some of the request has arrived: the server has seen its headers.
            let mut head = [0; 1];
            tcp.read_exact(&mut head).await.unwrap();
            tcp.write_all(b"413").await.unwrap();
            if wrap {
                drop(Lingering::new(tcp));
            } else {
                drop(tcp);
            }
        });
        let mut client = std::net::TcpStream::connect(address).unwrap();
        client.set_read_timeout(Some(Duration::from_secs(20)))?;
        client.set_write_timeout(Some(Duration::from_secs(20)))?;
        client.write_all(&vec![b'x'; BODY])?;
        let mut answer = Vec::new();
        client.read_to_end(&mut answer)?;
        drop(runtime);
        Ok(answer)
    }

    #[test]
    fn a_client_still_sending_reads_the_answer_when_the_server_lingers() {
        assert_eq!(answer_before_the_body(true).unwrap(), b"413");
    }

    /// The failure `Lingering` exists for, so the test above proves something.
    #[test]
    fn without_lingering_the_client_is_cut_off() {
        let error = answer_before_the_body(false).unwrap_err();
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ),
            "{error}"
        );
    }
}
