//! Explicit pipelines and `MULTI`/`EXEC` transactions.

use std::iter::once;

use proto_resp::{Cmd, Frame};

use super::commands::Commands;
use super::error::{Error, ServerError};
use super::from_resp::{FromResp, check};

/// Commands sent in one write, replies returned in order.
///
/// Typed command methods (`set`, `get`, `incr`, ...) mirror
/// [`Commands`]; [`add`](Pipeline::add) takes any [`Cmd`]. Run it with
/// [`run`](Pipeline::run) (every reply, each with its own error) or
/// [`query`](Pipeline::query) (all replies decoded as one value, e.g. a
/// tuple; the first error reply fails it).
///
/// [`atomic`](Pipeline::atomic) wraps the commands in `MULTI` ... `EXEC`:
/// they run as one transaction; if a key `WATCH`ed on the same connection
/// changed, nothing runs and the result is [`Error::TransactionAborted`].
/// The whole transaction is encoded as one contiguous run of bytes, so it
/// is safe even on a connection shared with other callers (but `WATCH`
/// itself needs a connection of one's own:
/// [`Client::get`](super::Client::get)).
///
/// ```no_run
/// use weft::redis::{Commands, Connection, Pipeline, Config};
/// # async fn demo(conn: &Connection) -> Result<(), weft::redis::Error> {
/// let mut p = Pipeline::new();
/// p.set("a", 1).incr("a").ignore().get("a");
/// let (a,): (i64,) = p.query(conn).await?;
/// assert_eq!(a, 2);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    cmds: Vec<Cmd>,
    ignored: Vec<bool>,
    atomic: bool,
}

impl Pipeline {
    /// An empty, non-atomic pipeline.
    pub fn new() -> Self {
        Pipeline::default()
    }

    /// An empty pipeline with room for `n` commands.
    pub fn with_capacity(n: usize) -> Self {
        Pipeline {
            cmds: Vec::with_capacity(n),
            ignored: Vec::with_capacity(n),
            atomic: false,
        }
    }

    /// Makes this a `MULTI`/`EXEC` transaction.
    pub fn atomic(&mut self) -> &mut Self {
        self.atomic = true;
        self
    }

    /// Appends any command.
    pub fn add(&mut self, cmd: Cmd) -> &mut Self {
        self.cmds.push(cmd);
        self.ignored.push(false);
        self
    }

    /// Leaves the last command's reply out of [`query`](Self::query)'s
    /// result (its error still fails the query).
    pub fn ignore(&mut self) -> &mut Self {
        if let Some(last) = self.ignored.last_mut() {
            *last = true;
        }
        self
    }

    /// The commands, in order (without `MULTI`/`EXEC`).
    pub fn commands(&self) -> &[Cmd] {
        &self.cmds
    }

    /// Number of commands.
    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    /// True without commands.
    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// Removes every command (keeps `atomic`).
    pub fn clear(&mut self) {
        self.cmds.clear();
        self.ignored.clear();
    }

    /// Sends every command in one write and returns each reply (or its
    /// error reply) in order. `Err` only when the connection failed, or the
    /// transaction was aborted or refused as a whole.
    pub async fn run<C: Commands + ?Sized>(
        &self,
        conn: &C,
    ) -> Result<Vec<Result<Frame, Error>>, Error> {
        if self.cmds.is_empty() {
            return Ok(Vec::new());
        }
        if !self.atomic {
            let replies = conn.query_batch(&self.cmds).await?;
            return Ok(replies.into_iter().map(check).collect());
        }
        let multi = Cmd::new("MULTI");
        let exec = Cmd::new("EXEC");
        let mut replies = conn
            .query_batch(once(&multi).chain(&self.cmds).chain(once(&exec)))
            .await?;
        let exec_reply = replies.pop().unwrap_or(Frame::Null);
        check(replies.swap_remove(0))?; // MULTI itself
        match check(exec_reply) {
            Ok(f) if f.is_null() => Err(Error::TransactionAborted),
            Ok(Frame::Array(results)) if results.len() == self.cmds.len() => {
                Ok(results.into_iter().map(check).collect())
            }
            Ok(_) => Err(Error::Type(
                "EXEC reply does not match the transaction".into(),
            )),
            Err(Error::Server(e)) => {
                // EXECABORT: a command was refused when queued; report it.
                let queued = replies
                    .into_iter()
                    .find_map(|f| f.as_error().map(ServerError::parse));
                Err(Error::Server(queued.unwrap_or(e)))
            }
            Err(e) => Err(e),
        }
    }

    /// Runs the pipeline and decodes the non-ignored replies as one array
    /// into `T` (a tuple, a `Vec`, `()`); the first error reply is
    /// returned as the error.
    pub async fn query<T: FromResp, C: Commands + ?Sized>(&self, conn: &C) -> Result<T, Error> {
        let results = self.run(conn).await?;
        let mut frames = Vec::with_capacity(results.len());
        for (res, ignored) in results.into_iter().zip(&self.ignored) {
            let f = res?;
            if !ignored {
                frames.push(f);
            }
        }
        T::from_resp(Frame::Array(frames))
    }
}
