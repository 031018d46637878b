//! Streams: rows of a large result ([`RowStream`]) and COPY TO STDOUT
//! chunks ([`CopyOut`]), both with bounded buffering.

use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use proto_pg::message::backend::CommandTag;
use proto_pg::{Event, Format};

use super::conn::Op;
use super::error::Error;
use super::row::Row;
use super::statement::Column;

/// The rows of one query, read as they arrive ([`Connection::query_raw`](super::Connection::query_raw)).
///
/// At most [`Config::stream_buffer_rows`](super::Config) rows wait in
/// memory; the driver reads more from the socket as they are consumed.
/// Dropping the stream before its end cancels the query (when it is the
/// only one in flight) and discards the rest.
pub struct RowStream {
    op: Op,
    columns: Arc<[Column]>,
    format: Format,
    tag: Option<String>,
    error: Option<Error>,
    done: bool,
}

impl fmt::Debug for RowStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowStream")
            .field("columns", &self.columns)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl RowStream {
    pub(crate) fn new(op: Op, columns: Arc<[Column]>, format: Format) -> RowStream {
        RowStream {
            op,
            columns,
            format,
            tag: None,
            error: None,
            done: false,
        }
    }

    /// The result columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Polls for the next row; `None` at the end. An error is returned
    /// once, after the stream read the query's remaining responses.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Row, Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        loop {
            match self.op.poll_event(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.done = true;
                    return Poll::Ready(self.error.take().map(Err));
                }
                Poll::Ready(Some(Err(e))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(ev))) => match ev {
                    Event::Row { row, .. } => {
                        return Poll::Ready(Some(Ok(Row::new(
                            self.columns.clone(),
                            row,
                            self.format,
                        ))));
                    }
                    Event::CommandComplete { tag, .. } => self.tag = Some(tag),
                    Event::Failed { error, .. } => {
                        self.error.get_or_insert(Error::Db(error));
                    }
                    _ => {}
                },
            }
        }
    }

    /// The next row; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Row, Error>> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Rows the command reported (once the stream ended).
    pub fn rows_affected(&self) -> Option<u64> {
        self.tag.as_deref().and_then(|t| CommandTag(t).rows())
    }
}

/// The data of a `COPY ... TO STDOUT` ([`Connection::copy_out`](super::Connection::copy_out)),
/// in chunks as the server sends them (one row per chunk in text and CSV
/// formats). Buffered with the same bound as [`RowStream`].
pub struct CopyOut {
    op: Op,
    tag: Option<String>,
    error: Option<Error>,
    done: bool,
    format: Option<Format>,
}

impl fmt::Debug for CopyOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyOut")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl CopyOut {
    pub(crate) fn new(op: Op) -> CopyOut {
        CopyOut {
            op,
            tag: None,
            error: None,
            done: false,
            format: None,
        }
    }

    /// The overall format of the data (text, or binary for `FORMAT
    /// binary`), known once the server's `CopyOutResponse` has arrived,
    /// that is from the first chunk on.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Polls for the next chunk; `None` at the end.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        loop {
            match self.op.poll_event(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.done = true;
                    return Poll::Ready(self.error.take().map(Err));
                }
                Poll::Ready(Some(Err(e))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(ev))) => match ev {
                    Event::CopyData { data, .. } => return Poll::Ready(Some(Ok(data))),
                    Event::CopyOut { format, .. } => self.format = Some(format),
                    Event::CommandComplete { tag, .. } => self.tag = Some(tag),
                    Event::Failed { error, .. } => {
                        self.error.get_or_insert(Error::Db(error));
                    }
                    _ => {}
                },
            }
        }
    }

    /// The next chunk; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Bytes, Error>> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Rows copied (once the stream ended).
    pub fn rows(&self) -> Option<u64> {
        self.tag.as_deref().and_then(|t| CommandTag(t).rows())
    }
}
