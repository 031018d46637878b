//! MD5 password hashing for `AuthenticationMD5Password`.
//!
//! The response is `"md5" || hex(md5(hex(md5(password || user)) || salt))`
//! ("Start-up", 55.2.2).

use md5::{Digest, Md5};
use zeroize::Zeroizing;

fn hex_into(out: &mut [u8; 32], digest: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
}

/// Computes the 35-byte MD5 password response (`md5` + 32 hex digits).
pub fn md5_password(user: &[u8], password: &[u8], salt: [u8; 4]) -> Zeroizing<Vec<u8>> {
    let mut inner = Zeroizing::new([0u8; 32]);
    let mut h = Md5::new();
    h.update(password);
    h.update(user);
    hex_into(&mut inner, &h.finalize());
    let mut h = Md5::new();
    h.update(&inner[..]);
    h.update(salt);
    let mut outer = [0u8; 32];
    hex_into(&mut outer, &h.finalize());
    let mut out = Zeroizing::new(Vec::with_capacity(35));
    out.extend_from_slice(b"md5");
    out.extend_from_slice(&outer);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_value() {
        // Computed independently with Python's hashlib:
        // md5(hex(md5(b"secretuser")) + b"\x01\x02\x03\x04").
        let got = md5_password(b"user", b"secret", [1, 2, 3, 4]);
        assert_eq!(&got[..], b"md5fccef98e4f1cf6cbe96b743fad4e8bd0");
    }
}
