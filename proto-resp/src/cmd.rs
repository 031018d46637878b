//! Building commands: arguments are encoded straight into one buffer.

use std::cell::RefCell;

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{encode_bulk, encode_count, token::parse_i64};

/// A value usable as one command argument.
///
/// Byte-like values are written as they are; integers are formatted with
/// `itoa` and floats with `ryu` directly into the command buffer, with no
/// intermediate `String`.
pub trait CmdArg {
    /// Appends this argument as a RESP bulk string (`$len\r\n...\r\n`).
    fn write_arg(&self, dst: &mut BytesMut);
}

impl CmdArg for [u8] {
    fn write_arg(&self, dst: &mut BytesMut) {
        encode_bulk(dst, b'$', self);
    }
}

impl<const N: usize> CmdArg for [u8; N] {
    fn write_arg(&self, dst: &mut BytesMut) {
        encode_bulk(dst, b'$', self);
    }
}

impl CmdArg for str {
    fn write_arg(&self, dst: &mut BytesMut) {
        encode_bulk(dst, b'$', self.as_bytes());
    }
}

impl CmdArg for String {
    fn write_arg(&self, dst: &mut BytesMut) {
        encode_bulk(dst, b'$', self.as_bytes());
    }
}

impl CmdArg for Vec<u8> {
    fn write_arg(&self, dst: &mut BytesMut) {
        encode_bulk(dst, b'$', self);
    }
}

impl CmdArg for Bytes {
    fn write_arg(&self, dst: &mut BytesMut) {
        encode_bulk(dst, b'$', self);
    }
}

impl<T: CmdArg + ?Sized> CmdArg for &T {
    fn write_arg(&self, dst: &mut BytesMut) {
        (**self).write_arg(dst);
    }
}

macro_rules! int_arg {
    ($($t:ty)*) => {$(
        impl CmdArg for $t {
            fn write_arg(&self, dst: &mut BytesMut) {
                let mut b = itoa::Buffer::new();
                encode_bulk(dst, b'$', b.format(*self).as_bytes());
            }
        }
    )*};
}
int_arg!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize);

impl CmdArg for f64 {
    /// Finite values use the shortest round-tripping form; infinities are
    /// written `inf` / `-inf` as Redis expects (`ZADD k inf m`).
    fn write_arg(&self, dst: &mut BytesMut) {
        if self.is_finite() {
            let mut b = ryu::Buffer::new();
            encode_bulk(dst, b'$', b.format_finite(*self).as_bytes());
        } else if self.is_nan() {
            encode_bulk(dst, b'$', b"nan");
        } else if *self > 0.0 {
            encode_bulk(dst, b'$', b"inf");
        } else {
            encode_bulk(dst, b'$', b"-inf");
        }
    }
}

/// A command under construction.
///
/// Each [`arg`](Cmd::arg) is encoded into the command's own buffer as a
/// RESP bulk string at once; [`write_to`](Cmd::write_to) prefixes the array
/// header and copies the body out in one `memcpy`. A `Cmd` can be reused by
/// [`clear`](Cmd::clear) to keep its allocation.
///
/// ```
/// use proto_resp::Cmd;
/// let mut cmd = Cmd::new("SET");
/// cmd.arg("key").arg(42).arg(&b"bytes"[..]);
/// let mut out = bytes::BytesMut::new();
/// cmd.write_to(&mut out);
/// assert_eq!(&out[..], b"*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$2\r\n42\r\n$5\r\nbytes\r\n");
/// assert_eq!(cmd.name(), Some(&b"SET"[..]));
/// assert_eq!(cmd.args().nth(1), Some(&b"key"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmd {
    body: BytesMut,
    argc: usize,
    /// Where the name's bytes lie in `body` (meaningful once `argc > 0`):
    /// found once when it is written, since drivers read the name of every
    /// command they send, often more than once.
    name: (usize, usize),
}

thread_local! {
    /// Buffers of dropped commands, for [`Cmd::new`] to reuse: a typed call
    /// builds a `Cmd`, a driver copies it into its transmit buffer and drops
    /// it, so without these every command would cost an allocation and a
    /// free.
    static SPARE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// Buffers kept per thread in [`SPARE`].
const SPARE_MAX: usize = 64;
/// A new command's room: a typical short command (`GET key`, `SET key
/// value`) fits.
const NEW_CAP: usize = 64;
/// Larger command buffers are freed, not kept.
const SPARE_CAP: usize = 1024;

impl Cmd {
    /// Starts a command with its name. The buffer starts with room for a
    /// typical short command (`GET key`, `SET key value`), and is one a
    /// dropped command of this thread left behind when there is one, so
    /// building one seldom allocates.
    pub fn new(name: impl CmdArg) -> Self {
        let body = SPARE
            .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()))
            .ok()
            .flatten()
            .unwrap_or_else(|| BytesMut::with_capacity(NEW_CAP));
        let mut c = Cmd {
            body,
            argc: 0,
            name: (0, 0),
        };
        c.arg(name);
        c
    }

    /// Appends one argument.
    pub fn arg(&mut self, a: impl CmdArg) -> &mut Self {
        a.write_arg(&mut self.body);
        if self.argc == 0 {
            self.name = only_arg(&self.body).unwrap_or((0, 0));
        }
        self.argc += 1;
        self
    }

    /// Appends one argument, by value (for chaining on a temporary).
    pub fn with(mut self, a: impl CmdArg) -> Self {
        self.arg(a);
        self
    }

    /// Number of arguments, the name included.
    pub fn argc(&self) -> usize {
        self.argc
    }

    /// Removes every argument, keeping the buffer's capacity.
    pub fn clear(&mut self) {
        self.body.clear();
        self.argc = 0;
        self.name = (0, 0);
    }

    /// Appends the complete command (`*argc` header and arguments) to `dst`.
    #[inline]
    pub fn write_to(&self, dst: &mut BytesMut) {
        if self.argc >= 10 {
            return self.write_long_to(dst);
        }
        // The common case, a header `*<digit>\r\n`: one reservation, one
        // store of the header, one copy of the body, one length update
        // (not two checked `put_slice`s: this runs once per command of a
        // pipeline).
        let header = [b'*', b'0' + self.argc as u8, b'\r', b'\n'];
        let n = header.len() + self.body.len();
        dst.reserve(n);
        let spare = dst.spare_capacity_mut();
        assert!(spare.len() >= n);
        let at = spare.as_mut_ptr().cast::<u8>();
        // SAFETY: `spare` is `dst`'s uninitialised capacity past its length
        // and holds at least `n` bytes (asserted); the two copies write
        // bytes 0..4 and 4..n of it from buffers that cannot overlap it
        // (`self.body` is another allocation, `header` a local), so after
        // them the first `n` bytes past the length are initialised.
        unsafe {
            std::ptr::copy_nonoverlapping(header.as_ptr(), at, header.len());
            std::ptr::copy_nonoverlapping(
                self.body.as_ptr(),
                at.add(header.len()),
                self.body.len(),
            );
            dst.set_len(dst.len() + n);
        }
    }

    /// [`write_to`](Self::write_to) for ten arguments or more (kept out of
    /// line, so that the common case needs no saved registers).
    #[cold]
    #[inline(never)]
    fn write_long_to(&self, dst: &mut BytesMut) {
        dst.reserve(self.body.len() + 24);
        encode_count(dst, b'*', self.argc);
        dst.put_slice(&self.body);
    }

    /// The first argument, the command's name (`None` for an empty
    /// command): what [`args`](Self::args) yields first, without decoding
    /// anything.
    #[inline]
    pub fn name(&self) -> Option<&[u8]> {
        if self.argc == 0 {
            return None;
        }
        self.body.get(self.name.0..self.name.1)
    }

    /// The arguments, decoded back from the buffer (no copy).
    pub fn args(&self) -> CmdArgs<'_> {
        CmdArgs { rest: &self.body }
    }
}

/// The span of the data of the one argument in `body`, a bulk string
/// `$<len>\r\n<data>\r\n` (see [`CmdArgs`]): after the first LF, up to the
/// final CRLF.
fn only_arg(body: &[u8]) -> Option<(usize, usize)> {
    if body.first() != Some(&b'$') {
        return None;
    }
    // The length has a few digits: a byte loop beats a search.
    let lf = body.iter().position(|&b| b == b'\n')?;
    let end = body.len().checked_sub(2)?;
    (lf < end && body.get(end..)? == b"\r\n").then_some((lf + 1, end))
}

impl Drop for Cmd {
    fn drop(&mut self) {
        let cap = self.body.capacity();
        if !(NEW_CAP..=SPARE_CAP).contains(&cap) {
            return;
        }
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        // `try_`: a command may be dropped while the thread is exiting.
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if s.len() < SPARE_MAX {
                    s.push(body);
                }
            }
        });
    }
}

/// Iterator over a [`Cmd`]'s arguments.
#[derive(Debug, Clone)]
pub struct CmdArgs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for CmdArgs<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // The body only ever holds `$<len>\r\n<data>\r\n` written by
        // `encode_bulk`, so this walk cannot desynchronise.
        let rest = self.rest.strip_prefix(b"$")?;
        let nl = memchr::memchr(b'\r', rest)?;
        let len = usize::try_from(parse_i64(&rest[..nl])?).ok()?;
        let data = rest.get(nl + 2..nl + 2 + len)?;
        self.rest = rest.get(nl + 4 + len..)?;
        Some(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_buffer_starts_empty() {
        // A dropped command's buffer goes back to this thread's spares and
        // the next `Cmd::new` takes it: nothing of the old command shows.
        let mut a = Cmd::new("SET");
        a.arg("a-long-key-that-fills-the-buffer")
            .arg("a-long-value-too");
        drop(a);
        let b = Cmd::new("GET").with("k");
        let mut out = BytesMut::new();
        b.write_to(&mut out);
        assert_eq!(&out[..], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert_eq!(b.name(), Some(&b"GET"[..]));
        assert_eq!(b.args().collect::<Vec<_>>(), [&b"GET"[..], b"k"]);
        // Buffers too large to keep are freed instead; still correct.
        let mut big = Cmd::new("SET");
        big.arg(vec![b'x'; 4096]);
        drop(big);
        assert_eq!(Cmd::new("PING").args().count(), 1);
    }

    #[test]
    fn name_is_the_first_argument() {
        assert_eq!(Cmd::default().name(), None);
        let long = vec![b'x'; 1234];
        for name in [&b"GET"[..], b"", b"a\r\nb", &long] {
            let mut c = Cmd::new(name);
            c.arg("k").arg(1);
            assert_eq!(c.name(), Some(name));
            assert_eq!(c.name(), c.args().next());
        }
        let mut c = Cmd::new("SET");
        c.clear();
        assert_eq!(c.name(), None);
        c.arg(42);
        assert_eq!(c.name(), Some(&b"42"[..]));
    }
}
