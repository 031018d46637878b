//! Meta request flags and returned flags (protocol.txt, the flag lists under
//! each meta command).

use crate::wire::{parse_i64, parse_u32, parse_u64};

/// The `M` (mode) switch of `ms` and `ma`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `ms` `MS`: set (the default).
    Set,
    /// `ms` `ME`: add, only if absent.
    Add,
    /// `ms` `MR`: replace, only if present.
    Replace,
    /// `ms` `MA`: append.
    Append,
    /// `ms` `MP`: prepend.
    Prepend,
    /// `ma` `MI`: increment (the default).
    Increment,
    /// `ma` `MD`: decrement.
    Decrement,
}

impl Mode {
    pub(crate) fn letter(self) -> u8 {
        match self {
            Mode::Set => b'S',
            Mode::Add => b'E',
            Mode::Replace => b'R',
            Mode::Append => b'A',
            Mode::Prepend => b'P',
            Mode::Increment => b'I',
            Mode::Decrement => b'D',
        }
    }

    pub(crate) fn is_arithmetic(self) -> bool {
        matches!(self, Mode::Increment | Mode::Decrement)
    }
}

/// A meta request flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flag<'a> {
    /// `b`: the key is binary; the encoder base64-encodes it.
    Base64Key,
    /// `c`: return the CAS value.
    ReturnCas,
    /// `f`: return the client flags.
    ReturnClientFlags,
    /// `h`: return whether the item was hit before (0/1).
    ReturnHit,
    /// `k`: return the key.
    ReturnKey,
    /// `l`: return seconds since last access.
    ReturnLastAccess,
    /// `O<token>`: opaque, echoed in the reply (at most 31 bytes).
    Opaque(&'a [u8]),
    /// `q`: quiet, suppress the common-case reply (`EN` for `mg`, `HD` for
    /// `ms`/`md`/`ma`, and `NF` for `md`; see protocol.txt "noreply
    /// semantics for return codes").
    Quiet,
    /// `s`: return the item size.
    ReturnSize,
    /// `t`: return the remaining TTL (`-1`: none).
    ReturnTtl,
    /// `u`: do not bump the item in the LRU.
    NoLruBump,
    /// `v`: return the value (`VA` reply).
    ReturnValue,
    /// `N<ttl>`: vivify on miss with this TTL.
    Vivify(u32),
    /// `R<ttl>`: win a recache if the remaining TTL is below this.
    Recache(u32),
    /// `T<ttl>`: set the TTL (touch for `mg`).
    Ttl(i64),
    /// `F<flags>`: client flags to store (`ms`).
    ClientFlags(u32),
    /// `C<cas>`: compare CAS before acting.
    CompareCas(u64),
    /// `E<cas>`: use this CAS value for the new item (memcached ≥ 1.6.21;
    /// 1.6.18 answers `CLIENT_ERROR invalid flag`).
    NewCas(u64),
    /// `I`: invalidate (`ms`: set only if the CAS is older; `md`: mark
    /// stale instead of deleting).
    Invalidate,
    /// `M<mode>`: `ms`/`ma` mode switch.
    Mode(Mode),
    /// `J<n>`: initial value for `ma` auto-create.
    Initial(u64),
    /// `D<n>`: `ma` delta.
    Delta(u64),
}

impl Flag<'_> {
    /// The flag letter.
    pub fn letter(&self) -> u8 {
        match self {
            Flag::Base64Key => b'b',
            Flag::ReturnCas => b'c',
            Flag::ReturnClientFlags => b'f',
            Flag::ReturnHit => b'h',
            Flag::ReturnKey => b'k',
            Flag::ReturnLastAccess => b'l',
            Flag::Opaque(_) => b'O',
            Flag::Quiet => b'q',
            Flag::ReturnSize => b's',
            Flag::ReturnTtl => b't',
            Flag::NoLruBump => b'u',
            Flag::ReturnValue => b'v',
            Flag::Vivify(_) => b'N',
            Flag::Recache(_) => b'R',
            Flag::Ttl(_) => b'T',
            Flag::ClientFlags(_) => b'F',
            Flag::CompareCas(_) => b'C',
            Flag::NewCas(_) => b'E',
            Flag::Invalidate => b'I',
            Flag::Mode(_) => b'M',
            Flag::Initial(_) => b'J',
            Flag::Delta(_) => b'D',
        }
    }
}

/// The flags returned in a meta reply, kept as the raw, validated text
/// (`c12 t-1 kfoo O7`) so decoding allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags<B>(B);

impl<B> Flags<B> {
    /// Wraps raw flag text (tokens separated by single spaces, each starting
    /// with a letter). [`decode`](super::decode()) only yields valid ones.
    pub fn new(raw: B) -> Self {
        Flags(raw)
    }

    /// The raw text.
    pub fn raw(&self) -> &B {
        &self.0
    }

    /// Converts the container.
    pub fn map<C>(self, f: impl FnOnce(B) -> C) -> Flags<C> {
        Flags(f(self.0))
    }
}

impl<B: AsRef<[u8]>> Flags<B> {
    /// Iterates `(letter, token)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &[u8])> {
        let raw = self.0.as_ref();
        raw.split(|&b| b == b' ')
            .filter(|t| !t.is_empty())
            .map(|t| (t[0], &t[1..]))
    }

    /// The token of the first flag `letter`, if returned.
    pub fn get(&self, letter: u8) -> Option<&[u8]> {
        self.iter().find(|(l, _)| *l == letter).map(|(_, t)| t)
    }

    /// True if flag `letter` was returned (`W`, `X`, `Z`, `b`…).
    pub fn has(&self, letter: u8) -> bool {
        self.get(letter).is_some()
    }

    /// `c`: the CAS value.
    pub fn cas(&self) -> Option<u64> {
        self.get(b'c').and_then(parse_u64)
    }

    /// `f`: the client flags.
    pub fn client_flags(&self) -> Option<u32> {
        self.get(b'f').and_then(parse_u32)
    }

    /// `t`: remaining TTL in seconds, `-1` for none.
    pub fn ttl(&self) -> Option<i64> {
        self.get(b't').and_then(parse_i64)
    }

    /// `s`: item size.
    pub fn size(&self) -> Option<u64> {
        self.get(b's').and_then(parse_u64)
    }

    /// `k`: the key as sent (base64 when [`Flags::is_base64`]).
    pub fn key(&self) -> Option<&[u8]> {
        self.get(b'k')
    }

    /// `O`: the opaque token.
    pub fn opaque(&self) -> Option<&[u8]> {
        self.get(b'O')
    }

    /// `b`: the returned key is base64-encoded.
    pub fn is_base64(&self) -> bool {
        self.has(b'b')
    }

    /// `W`: this client won the right to recache.
    pub fn won(&self) -> bool {
        self.has(b'W')
    }

    /// `X`: the item is stale.
    pub fn stale(&self) -> bool {
        self.has(b'X')
    }

    /// `Z`: a win token was already handed out.
    pub fn win_sent(&self) -> bool {
        self.has(b'Z')
    }
}
