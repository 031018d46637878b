//! Lua scripts run by SHA-1 (`EVALSHA`), loaded on demand.

use std::fmt;

use bytes::Bytes;
use proto_resp::{Cmd, CmdArg};

use super::commands::Commands;
use super::error::Error;
use super::from_resp::{FromResp, check};

/// A Lua script, identified by the SHA-1 of its source.
///
/// [`invoke`](Script::invoke) sends `EVALSHA`; if the server answers
/// `NOSCRIPT` (its script cache was flushed, or it never saw the script), it
/// sends `SCRIPT LOAD` and `EVALSHA` again, pipelined, and only reports
/// [`Error::NoScript`] if that fails too.
///
/// ```no_run
/// use weft::redis::{Connection, Script};
/// # async fn demo(conn: &Connection) -> Result<(), weft::redis::Error> {
/// let add = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
/// let n: i64 = add.invoke(conn, &["counter"], &[5]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Script {
    code: Bytes,
    sha1: String,
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script").field("sha1", &self.sha1).finish()
    }
}

impl Script {
    /// A script with this source.
    pub fn new(code: impl Into<Bytes>) -> Script {
        let code = code.into();
        let sha1 = hex(&sha1(&code));
        Script { code, sha1 }
    }

    /// The SHA-1 Redis knows the script by (lower-case hex).
    pub fn sha1(&self) -> &str {
        &self.sha1
    }

    /// The source.
    pub fn code(&self) -> &[u8] {
        &self.code
    }

    fn evalsha(&self, keys: &[impl CmdArg], args: &[impl CmdArg]) -> Cmd {
        let mut c = Cmd::new("EVALSHA");
        c.arg(&self.sha1).arg(keys.len());
        for k in keys {
            c.arg(k);
        }
        for a in args {
            c.arg(a);
        }
        c
    }

    /// Runs the script with `keys` and `args`, decoding its result as `T`.
    pub async fn invoke<T: FromResp + 'static, C: Commands + ?Sized>(
        &self,
        conn: &C,
        keys: &[impl CmdArg],
        args: &[impl CmdArg],
    ) -> Result<T, Error> {
        let call = self.evalsha(keys, args);
        match conn.query_cmd::<T>(call.clone()).await {
            Err(e) if e.server_code() == Some("NOSCRIPT") => {}
            other => return other,
        }
        let load = Cmd::new("SCRIPT").with("LOAD").with(&self.code);
        let mut replies = conn.query_batch([&load, &call]).await?.into_iter();
        check(replies.next().ok_or(Error::Closed)?)?;
        match check(replies.next().ok_or(Error::Closed)?) {
            Err(Error::Server(e)) if e.code() == "NOSCRIPT" => Err(Error::NoScript(e)),
            res => T::from_resp(res?),
        }
    }
}

fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

/// SHA-1 (FIPS 180-4, section 6.1). Used only to name scripts the way Redis
/// does, not for security.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    let mut w = [0u32; 80];
    for block in msg.chunks_exact(64) {
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_vectors() {
        // FIPS 180-2 Appendix A examples and the empty string.
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha1(&million)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn script_sha_matches_redis_naming() {
        // `redis-cli SCRIPT LOAD "return 1"` answers this digest.
        assert_eq!(
            Script::new("return 1").sha1(),
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
    }
}
