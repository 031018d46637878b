//! Authentication against the real server: trust, cleartext, MD5, SCRAM.

mod common;

use common::{Client, server};
use proto_pg::{AuthError, Config, Error, SslMode};

fn check(user: &str, password: Option<&str>) -> Result<Client, Error> {
    let (addr, db) = server().expect("checked by caller");
    let mut cfg = Config::new(user)
        .database(db)
        .scram_nonce("fyko+d2lbbFgONRv9qkxdawL");
    if let Some(p) = password {
        cfg = cfg.password(p);
    }
    Client::connect_with(&addr, cfg)
}

#[test]
fn trust_md5_scram_cleartext() {
    if server().is_none() {
        return;
    }
    for (user, pw) in [
        ("weft", None),
        ("weft_md5", Some("md5pass")),
        ("weft_scram", Some("scrampass")),
        ("weft_clear", Some("clearpass")),
    ] {
        let mut c = check(user, pw).unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_eq!(c.simple("SELECT current_user"), [[Some(user.to_owned())]]);
        assert!(c.conn.backend_key().is_some());
        assert_eq!(c.conn.parameter("client_encoding"), Some("UTF8"));
    }
}

#[test]
fn wrong_password_is_a_clear_error() {
    if server().is_none() {
        return;
    }
    for user in ["weft_md5", "weft_scram", "weft_clear"] {
        let Err(Error::Server(e)) = check(user, Some("wrong")) else {
            panic!("{user}: expected a server error")
        };
        assert_eq!(e.code, "28P01", "{user}: {e}");
        assert!(e.message.contains("password authentication failed"), "{e}");
    }
}

#[test]
fn missing_password_and_nonce() {
    let Some((addr, db)) = server() else { return };
    let e = Client::connect_with(&addr, Config::new("weft_md5").database(db.clone())).err();
    assert!(
        matches!(e, Some(Error::Auth(AuthError::PasswordRequired))),
        "{e:?}"
    );
    let e = Client::connect_with(
        &addr,
        Config::new("weft_scram").database(db).password("scrampass"),
    )
    .err();
    assert!(
        matches!(e, Some(Error::Auth(AuthError::NonceRequired))),
        "{e:?}"
    );
}

#[test]
fn ssl_request_answered_n_and_require_refused() {
    let Some((addr, db)) = server() else { return };
    let cfg = Config::new("weft")
        .database(db.clone())
        .ssl_mode(SslMode::Prefer);
    match Client::connect_with(&addr, cfg) {
        Ok(mut c) => assert_eq!(c.simple("SELECT 1"), [[Some("1".to_owned())]]),
        // A server with TLS enabled answers 'S', which must be a clear error.
        Err(e) => assert!(matches!(e, Error::TlsUnavailable(_)), "{e}"),
    }
    let e = proto_pg::Connection::new(Config::new("weft").ssl_mode(SslMode::Require)).unwrap_err();
    assert!(e.to_string().contains("TLS is not implemented"), "{e}");
}

#[test]
fn protocol_3_2_request_negotiates_down() {
    let Some((addr, db)) = server() else { return };
    let mut cfg = Config::new("weft").database(db);
    cfg.protocol_minor = 2;
    // PostgreSQL before 18 answers NegotiateProtocolVersion and goes on
    // with 3.0 (4-byte cancel key); 18+ accepts 3.2 (longer key).
    let mut c = Client::connect_with(&addr, cfg).unwrap();
    assert_eq!(c.simple("SELECT 1"), [[Some("1".to_owned())]]);
    let key = c.conn.backend_key().unwrap();
    let major: u32 = c.conn.parameter("server_version").unwrap()[..2]
        .parse()
        .unwrap();
    if major >= 18 {
        assert_eq!(c.conn.protocol_minor(), 2);
        assert!((4..=256).contains(&key.secret_key.len()));
    } else {
        assert_eq!(c.conn.protocol_minor(), 0);
        assert_eq!(key.secret_key.len(), 4);
    }
}
