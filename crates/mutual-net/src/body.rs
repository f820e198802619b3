//! HTTP/2: a request body that is read to its end after the handler is done with it.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;

use crate::LINGER;

/// A request body that, dropped before its end, is read to the end by a task of its own
/// (for at most [`LINGER`]), so an HTTP/2 stream answered early ends with the client's last
/// frame rather than a reset: see the crate's documentation. Frames go straight through.
pub struct Drained<B>
where
    B: Body + Send + Unpin + 'static,
{
    /// Always `Some` while the handler holds it; `Drop` takes it to drain.
    body: Option<B>,
}

impl<B> Drained<B>
where
    B: Body + Send + Unpin + 'static,
{
    pub fn new(body: B) -> Self {
        Self { body: Some(body) }
    }
}

impl<B> Body for Drained<B>
where
    B: Body + Send + Unpin + 'static,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.get_mut().body.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(B::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.body
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), B::size_hint)
    }
}

impl<B> Drop for Drained<B>
where
    B: Body + Send + Unpin + 'static,
{
    fn drop(&mut self) {
        let Some(body) = self.body.take() else {
            return;
        };
        if body.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut body = body;
                let _ = tokio::time::timeout(LINGER, async {
                    while let Some(Ok(_)) = body.frame().await {}
                })
                .await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::channel::Channel;

    /// A client sending `frames` frames through a one-frame buffer, the body dropped by the
    /// handler before it read any, wrapped or not; how many frames the client could send.
    async fn frames_sent_after_an_early_answer(wrap: bool, frames: usize) -> usize {
        let (mut client, body) = Channel::<Bytes, std::convert::Infallible>::new(1);
        if wrap {
            drop(Drained::new(body));
        } else {
            drop(body);
        }
        let mut sent = 0;
        while sent < frames && client.send_data(Bytes::from_static(b"x")).await.is_ok() {
            sent += 1;
        }
        sent
    }

    #[tokio::test]
    async fn a_body_dropped_early_is_read_to_its_end() {
        assert_eq!(frames_sent_after_an_early_answer(true, 100).await, 100);
    }

    /// What `Drained` exists for, so the test above proves something: the client's sending
    /// fails as soon as the body is dropped.
    #[tokio::test]
    async fn a_body_dropped_early_unwrapped_refuses_the_rest() {
        assert_eq!(frames_sent_after_an_early_answer(false, 100).await, 0);
    }
}
