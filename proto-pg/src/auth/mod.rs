//! Password authentication: MD5 and SCRAM-SHA-256.
//!
//! Cleartext needs no code; GSSAPI, SSPI and Kerberos are refused with
//! [`AuthError::Unsupported`](crate::AuthError::Unsupported).
//! See "Frontend/Backend Protocol" > "Message Flow" > "Start-up" (55.2.2)
//! and "SASL Authentication" (55.3) in the PostgreSQL 16 manual.

pub mod md5;
pub mod scram;
