//! HPACK (RFC 7541). Under construction.
