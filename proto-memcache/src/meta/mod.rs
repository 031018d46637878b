//! The meta protocol (memcached 1.6, protocol.txt "Meta Debug", "Meta Get",
//! "Meta Set", "Meta Delete", "Meta Arithmetic", "Meta No-Op").
//!
//! Requests are a two-letter command, a key, and single-letter flags, some
//! with a token (`mg foo v t O12`); replies are a two-letter code, returned
//! flags, and for `VA` a data block. The meta commands share a connection with
//! the text commands (`version`, `stats`, `flush_all` have no meta form).

pub mod decode;
pub mod encode;
mod flags;

pub use decode::decode;
pub use flags::{Flag, Flags, Mode};

/// A meta request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// `mg <key> <flags>*` (protocol.txt "Meta Get").
    Get {
        /// The key (raw bytes when [`Flag::Base64Key`] is given).
        key: &'a [u8],
        /// Request flags.
        flags: &'a [Flag<'a>],
    },
    /// `ms <key> <datalen> <flags>*\r\n<data block>\r\n` (protocol.txt "Meta Set").
    Set {
        /// The key.
        key: &'a [u8],
        /// The data block.
        value: &'a [u8],
        /// Request flags.
        flags: &'a [Flag<'a>],
    },
    /// `md <key> <flags>*` (protocol.txt "Meta Delete").
    Delete {
        /// The key.
        key: &'a [u8],
        /// Request flags.
        flags: &'a [Flag<'a>],
    },
    /// `ma <key> <flags>*` (protocol.txt "Meta Arithmetic").
    Arithmetic {
        /// The key.
        key: &'a [u8],
        /// Request flags.
        flags: &'a [Flag<'a>],
    },
    /// `me <key> [b]` (protocol.txt "Meta Debug").
    Debug {
        /// The key.
        key: &'a [u8],
        /// Send the key base64-encoded (`b`).
        base64: bool,
    },
    /// `mn` (protocol.txt "Meta No-Op"): answered `MN`, after every reply to
    /// earlier requests; ends a quiet pipeline.
    NoOp,
}

impl Command<'_> {
    /// The two-letter command name.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Get { .. } => "mg",
            Command::Set { .. } => "ms",
            Command::Delete { .. } => "md",
            Command::Arithmetic { .. } => "ma",
            Command::Debug { .. } => "me",
            Command::NoOp => "mn",
        }
    }

    /// The request flags (empty for `me` and `mn`).
    pub fn flags(&self) -> &[Flag<'_>] {
        match self {
            Command::Get { flags, .. }
            | Command::Set { flags, .. }
            | Command::Delete { flags, .. }
            | Command::Arithmetic { flags, .. } => flags,
            Command::Debug { .. } | Command::NoOp => &[],
        }
    }

    /// True when the `q` flag is set: the common-case reply is suppressed.
    pub fn is_quiet(&self) -> bool {
        self.flags().iter().any(|f| matches!(f, Flag::Quiet))
    }
}

/// One meta reply frame, generic over the byte container (see
/// [`text::Reply`](crate::text::Reply)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply<B> {
    /// `HD <flags>*`: success, no value.
    Hd(Flags<B>),
    /// `VA <size> <flags>*\r\n<data block>\r\n`: success with a value.
    Value {
        /// Returned flags.
        flags: Flags<B>,
        /// The data block.
        data: B,
    },
    /// `EN`: miss (`mg`, `me`).
    Miss(Flags<B>),
    /// `NF`: not found (`md`, `ma`, `ms` with a CAS).
    NotFound(Flags<B>),
    /// `NS`: not stored (`ms`).
    NotStored(Flags<B>),
    /// `EX`: CAS mismatch.
    Exists(Flags<B>),
    /// `MN`: answer to `mn`.
    NoOp,
    /// `ME <key> <k>=<v>*`: answer to `me`.
    Debug {
        /// The key as sent back.
        key: B,
        /// The `name=value` pairs, space separated.
        info: B,
    },
    /// `ERROR [msg]`.
    Error(B),
    /// `CLIENT_ERROR <msg>`.
    ClientError(B),
    /// `SERVER_ERROR <msg>`.
    ServerError(B),
}

/// A meta reply frame borrowing the decoder's input.
pub type Frame<'a> = Reply<&'a [u8]>;

impl<B> Reply<B> {
    /// Converts every byte field with `f`, keeping the shape.
    pub fn map<C>(self, mut f: impl FnMut(B) -> C) -> Reply<C> {
        match self {
            Reply::Hd(fl) => Reply::Hd(fl.map(&mut f)),
            Reply::Value { flags, data } => Reply::Value {
                flags: flags.map(&mut f),
                data: f(data),
            },
            Reply::Miss(fl) => Reply::Miss(fl.map(&mut f)),
            Reply::NotFound(fl) => Reply::NotFound(fl.map(&mut f)),
            Reply::NotStored(fl) => Reply::NotStored(fl.map(&mut f)),
            Reply::Exists(fl) => Reply::Exists(fl.map(&mut f)),
            Reply::NoOp => Reply::NoOp,
            Reply::Debug { key, info } => Reply::Debug {
                key: f(key),
                info: f(info),
            },
            Reply::Error(m) => Reply::Error(f(m)),
            Reply::ClientError(m) => Reply::ClientError(f(m)),
            Reply::ServerError(m) => Reply::ServerError(f(m)),
        }
    }

    /// The returned flags of a status reply (`HD`, `VA`, `EN`, `NF`, `NS`, `EX`).
    pub fn flags(&self) -> Option<&Flags<B>> {
        match self {
            Reply::Hd(f)
            | Reply::Value { flags: f, .. }
            | Reply::Miss(f)
            | Reply::NotFound(f)
            | Reply::NotStored(f)
            | Reply::Exists(f) => Some(f),
            _ => None,
        }
    }

    /// The two-letter code (or error word), for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Reply::Hd(_) => "HD",
            Reply::Value { .. } => "VA",
            Reply::Miss(_) => "EN",
            Reply::NotFound(_) => "NF",
            Reply::NotStored(_) => "NS",
            Reply::Exists(_) => "EX",
            Reply::NoOp => "MN",
            Reply::Debug { .. } => "ME",
            Reply::Error(_) => "ERROR",
            Reply::ClientError(_) => "CLIENT_ERROR",
            Reply::ServerError(_) => "SERVER_ERROR",
        }
    }

    /// True for `ERROR`, `CLIENT_ERROR` and `SERVER_ERROR`.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Reply::Error(_) | Reply::ClientError(_) | Reply::ServerError(_)
        )
    }
}
