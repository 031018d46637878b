//! COPY FROM STDIN as a sink ([`CopyIn`]) and the `copy_in` / `copy_out`
//! entry points ("COPY Operations", 55.2.6).

use std::fmt;

use proto_pg::message::backend::CommandTag;
use proto_pg::{Event, Format};

use super::conn::{Connection, Op};
use super::error::Error;
use super::stream::CopyOut;

/// Largest `CopyData` message sent at once.
const CHUNK: usize = 256 * 1024;

impl Connection {
    /// Starts `COPY ... FROM STDIN` and returns once the server is ready
    /// for data. Until the copy ends, other operations on this connection
    /// wait (the server would read them as copy data).
    pub async fn copy_in(&self, sql: &str) -> Result<CopyIn, Error> {
        self.gate().await?;
        self.begin_now().await?;
        let mut op = self.submit(false, |p, ids| {
            ids.push(p.simple_query(sql)?);
            Ok(())
        })?;
        self.hold_gate(&op);
        let mut error = None;
        while let Some(ev) = op.next().await {
            match ev? {
                Event::CopyIn { format, .. } => {
                    return Ok(CopyIn {
                        op: Some(op),
                        format,
                    });
                }
                Event::Failed { error: e, .. } => {
                    error.get_or_insert(Error::Db(e));
                }
                _ => {}
            }
        }
        Err(error.unwrap_or(Error::Usage(proto_pg::UsageError::NotCopying)))
    }

    /// Runs `COPY ... TO STDOUT` and streams its data.
    pub async fn copy_out(&self, sql: &str) -> Result<CopyOut, Error> {
        self.gate().await?;
        self.begin_now().await?;
        let op = self.submit(true, |p, ids| {
            ids.push(p.simple_query(sql)?);
            Ok(())
        })?;
        Ok(CopyOut::new(op))
    }
}

/// The data side of a `COPY ... FROM STDIN`. Send bytes in the format the
/// COPY named (text, CSV or binary), then [`finish`](Self::finish).
/// Dropping it unfinished aborts the copy (`CopyFail`); the connection
/// stays usable.
pub struct CopyIn {
    op: Option<Op>,
    format: Format,
}

impl fmt::Debug for CopyIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyIn")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl CopyIn {
    /// The overall format the server expects.
    pub fn format(&self) -> Format {
        self.format
    }

    fn op(&self) -> Result<&Op, Error> {
        self.op.as_ref().ok_or(Error::Closed)
    }

    /// Sends data. Waits while more than 1 MiB is still unwritten, so a
    /// fast producer cannot outrun the socket.
    pub async fn send(&mut self, data: impl AsRef<[u8]>) -> Result<(), Error> {
        let conn = self.op()?.conn().clone();
        for chunk in data.as_ref().chunks(CHUNK) {
            conn.copy_data(chunk).await?;
        }
        Ok(())
    }

    /// Ends the data (`CopyDone`) and returns the number of rows copied.
    pub async fn finish(mut self) -> Result<u64, Error> {
        let mut op = self.op.take().ok_or(Error::Closed)?;
        op.conn().with_proto(|p| p.copy_done())?;
        let r = super::query::collect_op(&mut op).await?;
        Ok(r.and_then(|t| CommandTag(&t).rows()).unwrap_or(0))
    }

    /// Aborts the copy (`CopyFail` with `reason`); nothing is copied. The
    /// server's answer (SQLSTATE `57014`) is expected and not an error.
    pub async fn abort(mut self, reason: &str) -> Result<(), Error> {
        let mut op = self.op.take().ok_or(Error::Closed)?;
        op.conn().with_proto(|p| p.copy_fail(reason))?;
        match super::query::collect_op(&mut op).await {
            Ok(_) => Ok(()),
            Err(Error::Db(e)) if e.code == "57014" => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl Drop for CopyIn {
    fn drop(&mut self) {
        if let Some(op) = self.op.take() {
            let conn = op.conn().clone();
            let _ = conn.with_proto(|p| {
                if p.is_copy_in() {
                    p.copy_fail("COPY abandoned by the client")
                } else {
                    Ok(())
                }
            });
            op.detach(); // drained; the gate lifts when it ends
        }
    }
}
