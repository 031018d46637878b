//! Stateless frame decoding (RFC 9113 §4, §6).

use super::FRAME_HEADER_LEN;
use super::error::{FrameError, FrameErrorKind as K};
use super::types::{
    Continuation, Data, Frame, FrameHeader, GoAway, Headers, Ping, Priority, PrioritySpec,
    PushPromise, RstStream, Settings, StreamId, Unknown, WindowUpdate, flags, kind,
};
use crate::h2::ErrorCode;
use crate::h2::settings::Setting;

/// Decodes the frame at the front of `buf`.
///
/// Returns `Ok(None)` until the whole frame is buffered, then the frame
/// (borrowing `buf`) and the number of octets it used. `max_frame_size` is
/// the `SETTINGS_MAX_FRAME_SIZE` this side announced (16 384 until changed).
///
/// A payload longer than `max_frame_size` is rejected as soon as the header
/// is readable, before it is buffered, and always as a connection error:
/// RFC 9113 §4.2 allows a stream error for some frame types, but §5.4 lets
/// an endpoint treat any stream error as a connection error, and skipping an
/// oversized frame would mean buffering or tracking up to 16 MiB of it.
pub fn decode(buf: &[u8], max_frame_size: u32) -> Result<Option<(Frame<'_>, usize)>, FrameError> {
    let Some(head) = FrameHeader::parse(buf) else {
        return Ok(None);
    };
    let total = FRAME_HEADER_LEN + head.length as usize;
    if head.length > max_frame_size {
        let kind = K::TooLarge {
            len: head.length,
            max: max_frame_size,
        };
        return Err(FrameError::connection(kind, total));
    }
    let Some(payload) = buf.get(FRAME_HEADER_LEN..total) else {
        return Ok(None);
    };
    let frame = Parser {
        head,
        payload,
        total,
    }
    .parse()?;
    Ok(Some((frame, total)))
}

struct Parser<'a> {
    head: FrameHeader,
    payload: &'a [u8],
    total: usize,
}

impl<'a> Parser<'a> {
    fn parse(&self) -> Result<Frame<'a>, FrameError> {
        match self.head.kind {
            kind::DATA => self.data(),
            kind::HEADERS => self.headers(),
            kind::PRIORITY => self.priority(),
            kind::RST_STREAM => self.rst_stream(),
            kind::SETTINGS => self.settings(),
            kind::PUSH_PROMISE => self.push_promise(),
            kind::PING => self.ping(),
            kind::GOAWAY => self.goaway(),
            kind::WINDOW_UPDATE => self.window_update(),
            kind::CONTINUATION => self.continuation(),
            // §4.1, §5.5: unknown types are ignored (and so not checked).
            other => Ok(Frame::Unknown(Unknown {
                kind: other,
                flags: self.head.flags,
                stream_id: self.head.stream_id,
                payload: self.payload,
            })),
        }
    }

    fn conn_err(&self, kind: K) -> FrameError {
        FrameError::connection(kind, self.total)
    }

    fn stream_err(&self, kind: K) -> FrameError {
        FrameError::stream(kind, self.head.stream_id, self.total)
    }

    fn has(&self, flag: u8) -> bool {
        self.head.flags & flag != 0
    }

    fn bad_length(&self) -> K {
        K::BadLength {
            kind: self.head.kind,
            len: self.head.length,
        }
    }

    /// Stream frames on stream 0: connection error PROTOCOL_ERROR.
    fn require_stream(&self) -> Result<StreamId, FrameError> {
        if self.head.stream_id.is_zero() {
            return Err(self.conn_err(K::StreamIdRequired {
                kind: self.head.kind,
            }));
        }
        Ok(self.head.stream_id)
    }

    /// Connection frames on a stream: connection error PROTOCOL_ERROR.
    fn require_connection(&self) -> Result<(), FrameError> {
        if !self.head.stream_id.is_zero() {
            return Err(self.conn_err(K::StreamIdForbidden {
                kind: self.head.kind,
            }));
        }
        Ok(())
    }

    /// Splits a PADDED payload into (pad length, body without padding),
    /// where the body must hold at least `fixed` octets of fields before the
    /// fragment or data. A payload too short for Pad Length plus `fixed` is a
    /// FRAME_SIZE_ERROR (§4.2), a connection error unless `size_err_on_stream`;
    /// padding that leaves less than `fixed` is PROTOCOL_ERROR on the
    /// connection (§6.1, §6.2, §6.6).
    fn unpad(
        &self,
        fixed: usize,
        size_err_on_stream: bool,
    ) -> Result<(Option<u8>, &'a [u8]), FrameError> {
        let payload = self.payload;
        let (pad_len, body) = if self.has(flags::PADDED) {
            match payload.split_first() {
                Some((&p, body)) => (Some(p), body),
                None => (None, payload),
            }
        } else {
            (None, payload)
        };
        let too_short = body.len() < fixed || (self.has(flags::PADDED) && pad_len.is_none());
        if too_short {
            let kind = self.bad_length();
            return Err(if size_err_on_stream {
                self.stream_err(kind)
            } else {
                self.conn_err(kind)
            });
        }
        let pad = pad_len.map_or(0, usize::from);
        if pad > body.len() - fixed {
            return Err(self.conn_err(K::PaddingTooLong));
        }
        Ok((pad_len, &body[..body.len() - pad]))
    }

    /// §6.1 DATA.
    fn data(&self) -> Result<Frame<'a>, FrameError> {
        let stream_id = self.require_stream()?;
        // §4.2: DATA does not alter connection state beyond flow control,
        // so a too-short padded DATA frame is a stream error.
        let (pad_len, data) = self.unpad(0, true)?;
        Ok(Frame::Data(Data {
            stream_id,
            data,
            end_stream: self.has(flags::END_STREAM),
            pad_len,
        }))
    }

    /// §6.2 HEADERS. A self-dependency is reported by
    /// [`Headers::depends_on_itself`], not here: the block must reach HPACK.
    fn headers(&self) -> Result<Frame<'a>, FrameError> {
        let stream_id = self.require_stream()?;
        let prio = self.has(flags::PRIORITY);
        let (pad_len, body) = self.unpad(if prio { 5 } else { 0 }, false)?;
        let (priority, fragment) = if prio {
            let (fields, rest) = body.split_at(5);
            (Some(priority_spec(fields)), rest)
        } else {
            (None, body)
        };
        Ok(Frame::Headers(Headers {
            stream_id,
            fragment,
            end_stream: self.has(flags::END_STREAM),
            end_headers: self.has(flags::END_HEADERS),
            priority,
            pad_len,
        }))
    }

    /// §6.3 PRIORITY: length 5 else a stream FRAME_SIZE_ERROR.
    fn priority(&self) -> Result<Frame<'a>, FrameError> {
        let stream_id = self.require_stream()?;
        if self.payload.len() != 5 {
            return Err(self.stream_err(self.bad_length()));
        }
        let spec = priority_spec(self.payload);
        // §5.3.1: a stream cannot depend on itself (stream error).
        if spec.dependency == stream_id {
            return Err(self.stream_err(K::SelfDependency));
        }
        Ok(Frame::Priority(Priority { stream_id, spec }))
    }

    /// §6.4 RST_STREAM: length 4 else a connection FRAME_SIZE_ERROR.
    fn rst_stream(&self) -> Result<Frame<'a>, FrameError> {
        let stream_id = self.require_stream()?;
        let code = self.fixed::<4>()?;
        let error_code = ErrorCode::from_u32(u32::from_be_bytes(code));
        Ok(Frame::RstStream(RstStream {
            stream_id,
            error_code,
        }))
    }

    /// §6.5 SETTINGS.
    fn settings(&self) -> Result<Frame<'a>, FrameError> {
        self.require_connection()?;
        let ack = self.has(flags::ACK);
        if ack && !self.payload.is_empty() {
            return Err(self.conn_err(K::SettingsAckWithPayload));
        }
        if self.payload.len() % 6 != 0 {
            return Err(self.conn_err(self.bad_length()));
        }
        // §6.5.2: validate every value now, so iteration cannot fail later.
        for param in self.payload.chunks_exact(6) {
            let id = u16::from_be_bytes([param[0], param[1]]);
            let value = u32::from_be_bytes([param[2], param[3], param[4], param[5]]);
            if Setting::from_wire(id, value).is_err() {
                return Err(self.conn_err(K::InvalidSetting { id, value }));
            }
        }
        Ok(Frame::Settings(Settings {
            ack,
            raw: self.payload,
        }))
    }

    /// §6.6 PUSH_PROMISE.
    fn push_promise(&self) -> Result<Frame<'a>, FrameError> {
        let stream_id = self.require_stream()?;
        let (pad_len, body) = self.unpad(4, false)?;
        let (id, fragment) = body.split_at(4);
        let promised_stream_id = StreamId::new(u32::from_be_bytes([id[0], id[1], id[2], id[3]]));
        if promised_stream_id.is_zero() {
            return Err(self.conn_err(K::ZeroPromisedStreamId));
        }
        Ok(Frame::PushPromise(PushPromise {
            stream_id,
            promised_stream_id,
            fragment,
            end_headers: self.has(flags::END_HEADERS),
            pad_len,
        }))
    }

    /// §6.7 PING: stream 0, length 8.
    fn ping(&self) -> Result<Frame<'a>, FrameError> {
        self.require_connection()?;
        let payload = self.fixed::<8>()?;
        Ok(Frame::Ping(Ping {
            ack: self.has(flags::ACK),
            payload,
        }))
    }

    /// §6.8 GOAWAY: stream 0, at least 8 octets.
    fn goaway(&self) -> Result<Frame<'a>, FrameError> {
        self.require_connection()?;
        let Some((fields, debug_data)) = self.payload.split_first_chunk::<8>() else {
            return Err(self.conn_err(self.bad_length()));
        };
        let last = u32::from_be_bytes([fields[0], fields[1], fields[2], fields[3]]);
        let code = u32::from_be_bytes([fields[4], fields[5], fields[6], fields[7]]);
        Ok(Frame::GoAway(GoAway {
            last_stream_id: StreamId::new(last),
            error_code: ErrorCode::from_u32(code),
            debug_data,
        }))
    }

    /// §6.9 WINDOW_UPDATE: length 4 (connection FRAME_SIZE_ERROR otherwise);
    /// a zero increment is PROTOCOL_ERROR on the stream, or on the
    /// connection for stream 0.
    fn window_update(&self) -> Result<Frame<'a>, FrameError> {
        let raw = self.fixed::<4>()?;
        let increment = u32::from_be_bytes(raw) & 0x7fff_ffff;
        let stream_id = self.head.stream_id;
        if increment == 0 {
            return Err(if stream_id.is_zero() {
                self.conn_err(K::ZeroWindowIncrement)
            } else {
                self.stream_err(K::ZeroWindowIncrement)
            });
        }
        Ok(Frame::WindowUpdate(WindowUpdate {
            stream_id,
            increment,
        }))
    }

    /// §6.10 CONTINUATION.
    fn continuation(&self) -> Result<Frame<'a>, FrameError> {
        let stream_id = self.require_stream()?;
        Ok(Frame::Continuation(Continuation {
            stream_id,
            fragment: self.payload,
            end_headers: self.has(flags::END_HEADERS),
        }))
    }

    /// A payload of exactly `N` octets, else a connection FRAME_SIZE_ERROR.
    fn fixed<const N: usize>(&self) -> Result<[u8; N], FrameError> {
        self.payload
            .try_into()
            .map_err(|_| self.conn_err(self.bad_length()))
    }
}

/// Exclusive flag, stream dependency, weight (§6.2, §6.3).
fn priority_spec(fields: &[u8]) -> PrioritySpec {
    let dep = u32::from_be_bytes([fields[0], fields[1], fields[2], fields[3]]);
    PrioritySpec {
        exclusive: dep & 0x8000_0000 != 0,
        dependency: StreamId::new(dep),
        weight: fields[4],
    }
}
