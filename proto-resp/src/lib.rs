//! Stub: this crate's protocol is not built yet; its issue will land it.
