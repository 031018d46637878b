//! Cursor iteration: `SCAN`, `HSCAN`, `SSCAN`, `ZSCAN`.

use std::collections::VecDeque;
use std::marker::PhantomData;

use proto_resp::{Cmd, Frame};

use super::commands::Commands;
use super::error::Error;
use super::from_resp::{FromResp, elements};

/// `MATCH`, `COUNT` and `TYPE` for the scan family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanOptions {
    /// `MATCH pattern`.
    pub pattern: Option<String>,
    /// `COUNT n`: a hint of how much work one round does.
    pub count: Option<usize>,
    /// `TYPE t` (`SCAN` only): only keys of this type.
    pub key_type: Option<String>,
}

impl ScanOptions {
    /// Sets `MATCH`.
    pub fn pattern(mut self, p: impl Into<String>) -> Self {
        self.pattern = Some(p.into());
        self
    }
    /// Sets `COUNT`.
    pub fn count(mut self, n: usize) -> Self {
        self.count = Some(n);
        self
    }
    /// Sets `TYPE`.
    pub fn key_type(mut self, t: impl Into<String>) -> Self {
        self.key_type = Some(t.into());
        self
    }
}

/// An iterator over a scan: one round trip per batch, driven by
/// [`next`](Scan::next). As the Redis `SCAN` docs guarantee, every element
/// present for the whole iteration is returned at least once (possibly
/// more than once).
///
/// ```no_run
/// use weft::redis::{Commands, Connection, ScanOptions};
/// # async fn demo(conn: &Connection) -> Result<(), weft::redis::Error> {
/// let mut keys = conn.scan::<String>(ScanOptions::default().pattern("user:*"));
/// while let Some(key) = keys.next().await {
///     println!("{}", key?);
/// }
/// # Ok(()) }
/// ```
pub struct Scan<'a, C: Commands + ?Sized, T> {
    conn: &'a C,
    base: Cmd,
    opts: ScanOptions,
    cursor: Option<String>,
    buf: VecDeque<T>,
    done: bool,
    _t: PhantomData<T>,
}

impl<C: Commands + ?Sized, T> std::fmt::Debug for Scan<'_, C, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scan")
            .field("cursor", &self.cursor)
            .field("buffered", &self.buf.len())
            .field("done", &self.done)
            .finish()
    }
}

impl<'a, C: Commands + ?Sized, T: FromResp + 'static> Scan<'a, C, T> {
    pub(crate) fn new(conn: &'a C, base: Cmd, opts: ScanOptions) -> Self {
        Scan {
            conn,
            base,
            opts,
            cursor: None,
            buf: VecDeque::new(),
            done: false,
            _t: PhantomData,
        }
    }

    /// The next batch the server returns (possibly empty), or `None` when
    /// the iteration is complete.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<T>>, Error> {
        if self.done {
            return Ok(None);
        }
        let mut c = self.base.clone();
        c.arg(self.cursor.as_deref().unwrap_or("0"));
        if let Some(p) = &self.opts.pattern {
            c.arg("MATCH").arg(p);
        }
        if let Some(n) = self.opts.count {
            c.arg("COUNT").arg(n);
        }
        if let Some(t) = &self.opts.key_type {
            c.arg("TYPE").arg(t);
        }
        let reply: Frame = self.conn.query_cmd(c).await?;
        let mut parts = elements(reply)?.into_iter();
        let (Some(cursor), Some(items), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::Type("scan reply is not [cursor, items]".into()));
        };
        let cursor = String::from_resp(cursor)?;
        self.done = cursor == "0";
        self.cursor = Some(cursor);
        Vec::<T>::from_resp(items).map(Some)
    }

    /// The next element, or `None` when the iteration is complete.
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        loop {
            if let Some(x) = self.buf.pop_front() {
                return Some(Ok(x));
            }
            match self.next_batch().await {
                Ok(Some(batch)) => self.buf.extend(batch),
                Ok(None) => return None,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// Every remaining element.
    pub async fn collect_all(mut self) -> Result<Vec<T>, Error> {
        let mut out: Vec<T> = self.buf.drain(..).collect();
        while let Some(batch) = self.next_batch().await? {
            out.extend(batch);
        }
        Ok(out)
    }
}
