//! Writing responses with a bound on stalls: a peer that stops reading
//! must not hold a connection (and its buffers) forever. Each write call
//! may make no progress for at most the stall timeout; a slow reader that
//! keeps taking bytes is never cut off, however long the whole write is.

use bytes::{Buf, Bytes};
use io_core::AsyncStream;
use io_core::buf::{IoBuf, Slice};
use io_core::time::timeout;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

/// Runs one write call, bounded by `stall` when set: the bytes it wrote
/// (0 when interrupted, to be retried) and the buffers back.
async fn bounded<T>(
    stall: Option<Duration>,
    write: impl Future<Output = (io::Result<usize>, T)>,
) -> Result<(usize, T), io::Error> {
    let mut write = pin!(write);
    // Most writes complete on their first poll: those read no clock and
    // arm no timer.
    let first = poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    let (res, back) = match (first, stall) {
        (Poll::Ready(done), _) => done,
        (Poll::Pending, Some(t)) => timeout(t, write).await.map_err(io::Error::from)?,
        (Poll::Pending, None) => write.await,
    };
    match res {
        Ok(0) => Err(io::Error::new(io::ErrorKind::WriteZero, "wrote zero bytes")),
        Ok(n) => Ok((n, back)),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok((0, back)),
        Err(e) => Err(e),
    }
}

/// Writes all of `buf`, giving up when one write makes no progress for
/// `stall`; the buffer comes back when everything went out (on an error
/// the connection is done with it).
pub(super) async fn write_all<S: AsyncStream, B: IoBuf>(
    stream: &S,
    buf: B,
    stall: Option<Duration>,
) -> io::Result<B> {
    let mut slice = Slice::new(buf, 0);
    while !slice.as_slice().is_empty() {
        let begin = slice.begin();
        match bounded(stall, stream.write(slice)).await {
            Ok((n, s)) => slice = Slice::new(s.into_inner(), begin + n),
            Err(e) => return Err(e),
        }
    }
    Ok(slice.into_inner())
}

/// Writes every buffer of `bufs`, in order: one `write` when there is a
/// single buffer, vectored writes otherwise (payloads are not copied),
/// each bounded by `stall` as in [`write_all`]. The emptied vector comes
/// back.
pub(super) async fn write_all_vectored<S: AsyncStream>(
    stream: &S,
    mut bufs: Vec<Bytes>,
    stall: Option<Duration>,
) -> io::Result<Vec<Bytes>> {
    if bufs.len() == 1 {
        let one = bufs.pop().unwrap_or_default();
        write_all(stream, one, stall).await?;
        return Ok(bufs);
    }
    while !bufs.is_empty() {
        let (mut n, mut back) = bounded(stall, stream.writev(bufs)).await?;
        let full = back
            .iter()
            .take_while(|b| {
                let whole = n >= b.len();
                if whole {
                    n -= b.len();
                }
                whole
            })
            .count();
        back.drain(..full);
        if n > 0 {
            if let Some(first) = back.first_mut() {
                first.advance(n);
            }
        }
        bufs = back;
    }
    Ok(bufs)
}
