//! SCRAM-SHA-256 client (RFC 5802, RFC 7677) as PostgreSQL uses it
//! ("SASL Authentication" > "SCRAM-SHA-256 Authentication", 55.3.1).
//!
//! No randomness here: the client nonce comes from the caller. Channel
//! binding is not offered (GS2 header `n,,`): there is no TLS, so
//! SCRAM-SHA-256-PLUS cannot be used. Passwords are used as their UTF-8
//! bytes without SASLprep normalization, which is what PostgreSQL itself
//! does for ASCII passwords; non-ASCII passwords that SASLprep would change
//! will not authenticate. Secrets (salted password, keys, proof) are zeroed
//! on drop.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::error::AuthError;

type HmacSha256 = Hmac<Sha256>;

/// The mechanism name PostgreSQL offers.
pub const SCRAM_SHA_256: &str = "SCRAM-SHA-256";
/// The channel-binding variant, which needs TLS and is never chosen.
pub const SCRAM_SHA_256_PLUS: &str = "SCRAM-SHA-256-PLUS";

/// Bounds on the server's iteration count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iterations {
    /// Smallest accepted count (RFC 7677 recommends at least 4096).
    pub min: u32,
    /// Largest accepted count, so a hostile server cannot make the client
    /// spin for minutes.
    pub max: u32,
}

impl Default for Iterations {
    fn default() -> Self {
        Iterations {
            min: 4096,
            max: 1_000_000,
        }
    }
}

enum Step {
    First,
    Final {
        server_signature: Zeroizing<[u8; 32]>,
    },
    Done,
}

/// One SCRAM-SHA-256 exchange, driven by the server's messages.
pub struct ScramClient {
    password: Zeroizing<Vec<u8>>,
    nonce: String,
    client_first_bare: String,
    iterations: Iterations,
    step: Step,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient")
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// `Hi(str, salt, i)` from RFC 5802 section 2.2 (PBKDF2 with HMAC-SHA-256).
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let mut u = Zeroizing::new(hmac(password, &[salt, &1u32.to_be_bytes()]));
    let mut out = Zeroizing::new(*u);
    let key = HmacSha256::new_from_slice(password).expect("HMAC takes any key length");
    for _ in 1..iterations {
        let mut m = key.clone();
        m.update(&u[..]);
        *u = m.finalize().into_bytes().into();
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

/// Escapes a SCRAM username (`=` as `=3D`, `,` as `=2C`).
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

impl ScramClient {
    /// Starts an exchange. `user` goes into `n=` (PostgreSQL ignores it and
    /// uses the startup user, so the connection sends it empty); `nonce`
    /// must be printable ASCII without `,`, ideally 18+ random bytes
    /// base64-encoded.
    pub fn new(
        user: &str,
        password: &[u8],
        nonce: &str,
        iterations: Iterations,
    ) -> Result<Self, AuthError> {
        if nonce.is_empty()
            || !nonce
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
        {
            return Err(AuthError::ScramProtocol(
                "client nonce must be printable ASCII without ','",
            ));
        }
        Ok(ScramClient {
            password: Zeroizing::new(password.to_vec()),
            nonce: nonce.to_owned(),
            client_first_bare: format!("n={},r={}", saslname(user), nonce),
            iterations,
            step: Step::First,
        })
    }

    /// The `client-first-message` for `SASLInitialResponse`.
    pub fn client_first(&self) -> Vec<u8> {
        format!("n,,{}", self.client_first_bare).into_bytes()
    }

    /// Consumes the `server-first-message` (from
    /// `AuthenticationSASLContinue`) and returns the `client-final-message`.
    pub fn handle_server_first(&mut self, msg: &[u8]) -> Result<Vec<u8>, AuthError> {
        if !matches!(self.step, Step::First) {
            return Err(AuthError::Unexpected);
        }
        let msg = std::str::from_utf8(msg)
            .map_err(|_| AuthError::ScramProtocol("server-first not UTF-8"))?;
        let mut parts = msg.split(',');
        let mut attr = |name: &str| -> Result<&str, AuthError> {
            let p = parts
                .next()
                .ok_or(AuthError::ScramProtocol("server-first too short"))?;
            if p.starts_with("m=") {
                return Err(AuthError::ScramProtocol(
                    "mandatory extension not supported",
                ));
            }
            p.strip_prefix(name).ok_or(AuthError::ScramProtocol(
                "server-first attribute out of order",
            ))
        };
        let nonce = attr("r=")?;
        let salt = attr("s=")?;
        let iter = attr("i=")?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(AuthError::ScramProtocol(
                "server nonce does not extend the client nonce",
            ));
        }
        if !nonce
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
        {
            return Err(AuthError::ScramProtocol("invalid server nonce"));
        }
        let salt = B64
            .decode(salt)
            .map_err(|_| AuthError::ScramProtocol("salt is not base64"))?;
        let iterations: u32 = iter
            .parse()
            .map_err(|_| AuthError::ScramProtocol("invalid iteration count"))?;
        if iterations < self.iterations.min || iterations > self.iterations.max {
            return Err(AuthError::Iterations(iterations));
        }

        let salted = hi(&self.password, &salt, iterations);
        self.password.zeroize();
        let client_key = Zeroizing::new(hmac(&salted[..], &[b"Client Key"]));
        let stored_key = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(&client_key[..])));
        let server_key = Zeroizing::new(hmac(&salted[..], &[b"Server Key"]));
        // "biws" is base64("n,,"): no channel binding.
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{},{}", self.client_first_bare, msg, without_proof);
        let client_signature = Zeroizing::new(hmac(&stored_key[..], &[auth_message.as_bytes()]));
        let mut proof = Zeroizing::new([0u8; 32]);
        for i in 0..32 {
            proof[i] = client_key[i] ^ client_signature[i];
        }
        let server_signature = Zeroizing::new(hmac(&server_key[..], &[auth_message.as_bytes()]));
        self.step = Step::Final { server_signature };
        Ok(format!("{without_proof},p={}", B64.encode(&proof[..])).into_bytes())
    }

    /// Verifies the `server-final-message` (from `AuthenticationSASLFinal`).
    pub fn handle_server_final(&mut self, msg: &[u8]) -> Result<(), AuthError> {
        let Step::Final { server_signature } = std::mem::replace(&mut self.step, Step::Done) else {
            return Err(AuthError::Unexpected);
        };
        let msg = std::str::from_utf8(msg)
            .map_err(|_| AuthError::ScramProtocol("server-final not UTF-8"))?;
        if let Some(e) = msg.strip_prefix("e=") {
            return Err(AuthError::ScramServer(e.to_owned()));
        }
        let v = msg
            .split(',')
            .next()
            .and_then(|p| p.strip_prefix("v="))
            .ok_or(AuthError::ScramProtocol("server-final has no verifier"))?;
        let v = B64
            .decode(v)
            .map_err(|_| AuthError::ScramProtocol("verifier is not base64"))?;
        // Constant-time comparison.
        let diff = v.len() ^ 32
            | v.iter()
                .zip(server_signature.iter())
                .fold(0usize, |d, (a, b)| d | (a ^ b) as usize);
        if diff != 0 {
            return Err(AuthError::ServerSignature);
        }
        Ok(())
    }

    /// True once the server signature has been verified or rejected.
    pub fn is_done(&self) -> bool {
        matches!(self.step, Step::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7677 section 3.
    const NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
    const SERVER_FIRST: &[u8] =
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    #[test]
    fn rfc7677_vector() {
        let mut c = ScramClient::new("user", b"pencil", NONCE, Iterations::default()).unwrap();
        assert_eq!(c.client_first(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let fin = c.handle_server_first(SERVER_FIRST).unwrap();
        assert_eq!(
            std::str::from_utf8(&fin).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        c.handle_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert!(c.is_done());
        assert!(
            c.password.iter().all(|b| *b == 0),
            "password zeroed after use"
        );
    }

    #[test]
    fn bad_signature_and_errors() {
        let mut c = ScramClient::new("user", b"pencil", NONCE, Iterations::default()).unwrap();
        c.handle_server_first(SERVER_FIRST).unwrap();
        assert_eq!(
            c.handle_server_final(b"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Err(AuthError::ServerSignature)
        );
        let mut c = ScramClient::new("user", b"pencil", NONCE, Iterations::default()).unwrap();
        c.handle_server_first(SERVER_FIRST).unwrap();
        assert_eq!(
            c.handle_server_final(b"e=invalid-proof"),
            Err(AuthError::ScramServer("invalid-proof".into()))
        );
        assert_eq!(c.handle_server_final(b"v=x"), Err(AuthError::Unexpected));
    }

    #[test]
    fn rejects_weak_or_foreign_server_first() {
        let it = Iterations {
            min: 8192,
            max: 100_000,
        };
        let mut c = ScramClient::new("", b"pencil", NONCE, it).unwrap();
        assert_eq!(
            c.handle_server_first(SERVER_FIRST),
            Err(AuthError::Iterations(4096))
        );
        let mut c = ScramClient::new("", b"p", NONCE, Iterations::default()).unwrap();
        assert!(matches!(
            c.handle_server_first(b"r=someoneelse,s=QQ==,i=4096"),
            Err(AuthError::ScramProtocol(_))
        ));
        for bad in [
            &b"r=rOprNGfwEbeRWgbNEkqOx,s=!!,i=4096"[..],
            b"r=rOprNGfwEbeRWgbNEkqOx,s=QQ==",
            b"r=rOprNGfwEbeRWgbNEkqOx,s=QQ==,i=-1",
            b"m=ext,r=rOprNGfwEbeRWgbNEkqOx,s=QQ==,i=4096",
            b"\xff",
            b"",
        ] {
            let mut c = ScramClient::new("", b"p", NONCE, Iterations::default()).unwrap();
            assert!(c.handle_server_first(bad).is_err(), "{bad:?}");
        }
        assert!(ScramClient::new("", b"p", "a,b", Iterations::default()).is_err());
        assert_eq!(saslname("a=b,c"), "a=3Db=2Cc");
    }
}
