//! The client side of an HTTP/1.1 connection, for tests and load
//! generation: encodes requests (pipelined freely) and parses responses,
//! matching them to requests in order (RFC 9112 §9.3.2).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::error::{ProtoError, ProtoErrorKind as K, UserError};
use crate::header::Method;

use super::body::{BodyDecoder, BodyItem};
use super::encode::{self, Body, Header, OutFraming};
use super::event::RequestId;
use super::head::{Headers, ResponseHeadIn};
use super::limits::Limits;
use super::parse::{HeadKind, HeadParser, TransferCodings, merge_content_length};
use super::state::RespState;

/// A request to send. The caller supplies `Host` (RFC 9112 §3.2); the
/// connection adds the framing headers.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The method token, e.g. `"GET"`.
    pub method: &'a str,
    /// The request-target, e.g. `"/index.html?x=1"`.
    pub target: &'a str,
    /// Header fields, in order.
    pub headers: &'a [Header<'a>],
}

impl<'a> Request<'a> {
    /// A request with `method`, `target` and `headers`.
    #[must_use]
    pub fn new(method: &'a str, target: &'a str, headers: &'a [Header<'a>]) -> Request<'a> {
        Request {
            method,
            target,
            headers,
        }
    }
}

/// An event of the [`ClientConnection`].
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum ClientEvent {
    /// An interim (1xx) response; the final one follows.
    Informational {
        /// The request.
        id: RequestId,
        /// The interim head.
        head: ResponseHeadIn,
    },
    /// The final response head.
    Response {
        /// The request.
        id: RequestId,
        /// The head.
        head: ResponseHeadIn,
    },
    /// A piece of the response body.
    Body {
        /// The request.
        id: RequestId,
        /// The data.
        chunk: Bytes,
    },
    /// The response is complete.
    BodyEnd {
        /// The request.
        id: RequestId,
        /// Trailer fields of a chunked body, if any.
        trailers: Option<Box<Headers>>,
    },
    /// The server broke the protocol or closed early; fatal. Requests
    /// without a response will not get one.
    Error(ProtoError),
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    id: u64,
    is_head: bool,
    is_connect: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Read {
    Head,
    Body { id: u64 },
    Done,
}

/// A client-side HTTP/1.1 connection.
pub struct ClientConnection {
    limits: Limits,
    parser: HeadParser,
    body: BodyDecoder,
    read: Read,
    /// Close after the response being read (server said so, or framing
    /// requires it).
    close_after: bool,
    pending: VecDeque<Pending>,
    next_id: u64,
    /// The request whose body is being streamed.
    sending: Option<(u64, RespState)>,
    tx: BytesMut,
    events: VecDeque<ClientEvent>,
    failed: bool,
}

impl std::fmt::Debug for ClientConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConnection")
            .field("read", &self.read)
            .field("in_flight", &self.pending.len())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl ClientConnection {
    /// A client connection with parser `limits`.
    #[must_use]
    pub fn new(limits: Limits) -> ClientConnection {
        ClientConnection {
            limits,
            parser: HeadParser::new(HeadKind::Response),
            body: BodyDecoder::length(0),
            read: Read::Head,
            close_after: false,
            pending: VecDeque::new(),
            next_id: 0,
            sending: None,
            tx: BytesMut::new(),
            events: VecDeque::new(),
            failed: false,
        }
    }

    /// Encodes a request. Requests may be pipelined: send as many as you
    /// like before the responses arrive. With [`Body::Stream`], finish the
    /// body with [`send_body_chunk`](Self::send_body_chunk) /
    /// [`send_end`](Self::send_end) before the next request.
    pub fn send_request(&mut self, req: Request<'_>, body: Body) -> Result<RequestId, UserError> {
        if self.failed || self.read == Read::Done {
            return Err(UserError::Closed);
        }
        if self.sending.is_some() {
            return Err(UserError::BodyInProgress);
        }
        let m = req.method.as_bytes();
        if !crate::header::is_token(m)
            || req.target.is_empty()
            || !crate::header::all_visible_ascii(req.target.as_bytes())
        {
            return Err(UserError::InvalidHeader);
        }
        encode::check_headers(req.headers)?;
        let method = Method::from_bytes(m);
        let (framing, streaming) = match &body {
            // RFC 9110 §8.6: `Content-Length: 0` when the method defines a
            // meaning for content, nothing for GET and the like.
            Body::Empty if matches!(method, Method::Post | Method::Put | Method::Patch) => {
                (OutFraming::Length(0), false)
            }
            Body::Empty => (OutFraming::None, false),
            Body::Full(b) => (OutFraming::Length(b.len() as u64), false),
            Body::Stream { length: Some(n) } => (OutFraming::Length(*n), true),
            Body::Stream { length: None } => (OutFraming::Chunked, true),
        };
        let id = self.next_id;
        self.next_id += 1;
        encode::request_line(&mut self.tx, req.method, req.target);
        encode::fields(&mut self.tx, req.headers);
        encode::framing_header(&mut self.tx, framing);
        self.tx.extend_from_slice(b"\r\n");
        if let Body::Full(b) = body {
            self.tx.extend_from_slice(&b);
        }
        if streaming {
            let mut st = RespState::Waiting;
            st.start(framing, true)?;
            self.sending = Some((id, st));
        }
        self.pending.push_back(Pending {
            id,
            is_head: method == Method::Head,
            is_connect: method == Method::Connect,
        });
        Ok(RequestId(id))
    }

    /// Sends a piece of a streaming request body.
    pub fn send_body_chunk(&mut self, id: RequestId, data: Bytes) -> Result<(), UserError> {
        let Some((sid, st)) = self.sending.as_mut().filter(|(sid, _)| *sid == id.0) else {
            return Err(UserError::NotStreaming);
        };
        let _ = sid;
        match st.data(data.len())? {
            OutFraming::Chunked => encode::chunk(&mut self.tx, &data),
            _ => self.tx.extend_from_slice(&data),
        }
        Ok(())
    }

    /// Ends a streaming request body.
    pub fn send_end(&mut self, id: RequestId) -> Result<(), UserError> {
        let Some((_, st)) = self.sending.as_mut().filter(|(sid, _)| *sid == id.0) else {
            return Err(UserError::NotStreaming);
        };
        if st.end()? == OutFraming::Chunked {
            encode::last_chunk(&mut self.tx, &[]);
        }
        self.sending = None;
        Ok(())
    }

    /// Consumes response bytes from the front of `buf`.
    pub fn handle_input(&mut self, _now: Instant, buf: &mut BytesMut) {
        while !self.failed {
            match self.read {
                Read::Done => break,
                Read::Head => {
                    if buf.is_empty() {
                        break;
                    }
                    let Some(&p) = self.pending.front() else {
                        self.fail(K::UnsolicitedResponse.into());
                        break;
                    };
                    match self.parser.parse(buf, &self.limits) {
                        Ok(None) => break,
                        Ok(Some(n)) => {
                            let raw = buf.split_to(n).freeze();
                            match self.parser.take_response(raw) {
                                Ok(head) => self.on_head(p, head),
                                Err(e) => self.fail(e),
                            }
                        }
                        Err(e) => self.fail(e),
                    }
                }
                Read::Body { id } => match self.body.decode(buf, &self.limits) {
                    Ok(None) => break,
                    Ok(Some(BodyItem::Data(chunk))) => self.events.push_back(ClientEvent::Body {
                        id: RequestId(id),
                        chunk,
                    }),
                    Ok(Some(BodyItem::End(trailers))) => self.on_end(id, trailers),
                    Err(e) => self.fail(e),
                },
            }
        }
    }

    /// The server closed its side: ends a read-until-close body; anything
    /// else unfinished is an error.
    pub fn handle_eof(&mut self, _now: Instant) {
        if self.failed {
            return;
        }
        match self.read {
            Read::Body { id } => match self.body.decode_eof() {
                Ok(Some(BodyItem::End(t))) => self.on_end(id, t),
                Ok(_) => {}
                Err(e) => self.fail(e),
            },
            Read::Head if !self.pending.is_empty() => self.fail(K::UnexpectedEof.into()),
            _ => {}
        }
        self.read = Read::Done;
    }

    /// The client keeps no timers; always `None` (the caller bounds waits).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Appends the encoded requests to `out`; returns how many bytes.
    #[must_use = "the bytes must be written to the peer"]
    pub fn poll_transmit(&mut self, out: &mut BytesMut) -> usize {
        let n = self.tx.len();
        out.extend_from_slice(&self.tx);
        self.tx.clear();
        n
    }

    /// The next event, in order.
    #[must_use = "events must be handled"]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Requests sent whose response has not completed.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// No more responses will be read (error, close, or EOF).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.failed || self.read == Read::Done
    }

    fn fail(&mut self, e: ProtoError) {
        self.failed = true;
        self.read = Read::Done;
        self.events.push_back(ClientEvent::Error(e));
    }

    /// RFC 9112 §6.3: the response body length, in rule order.
    fn on_head(&mut self, p: Pending, head: ResponseHeadIn) {
        let id = RequestId(p.id);
        let status = head.status();
        if status.is_informational() && status.as_u16() != 101 {
            self.events
                .push_back(ClientEvent::Informational { id, head });
            return;
        }
        // Items 1-2: HEAD, 1xx, 204, 304 and 2xx to CONNECT have no body.
        let switch =
            status.as_u16() == 101 || (p.is_connect && (200..300).contains(&status.as_u16()));
        let mut body = if p.is_head || status.is_bodiless() || switch {
            Some(BodyDecoder::length(0))
        } else {
            None
        };
        self.close_after = !head.keep_alive() || switch;
        if body.is_none() {
            let mut te = TransferCodings::default();
            let mut cl = None;
            let mut cl_err = None;
            for (n, v) in head.headers().iter() {
                if n.eq_ignore_ascii_case(b"transfer-encoding") {
                    te.add(v);
                } else if n.eq_ignore_ascii_case(b"content-length") && cl_err.is_none() {
                    if let Err(e) = merge_content_length(&mut cl, v, self.limits.max_body) {
                        cl_err = Some(e);
                    }
                }
            }
            body = Some(if te.present {
                // Item 3: TE overrides CL, and the connection cannot be reused.
                if cl.is_some() || cl_err.is_some() {
                    self.close_after = true;
                }
                if te.check().is_ok() {
                    BodyDecoder::chunked()
                } else {
                    // Item 4: chunked not final: read until close.
                    self.close_after = true;
                    BodyDecoder::UntilEof
                }
            } else if let Some(e) = cl_err {
                self.fail(e);
                return;
            } else if let Some(n) = cl {
                BodyDecoder::length(n)
            } else {
                // Item 8: read until the server closes.
                self.close_after = true;
                BodyDecoder::UntilEof
            });
        }
        self.body = body.unwrap_or_else(|| BodyDecoder::length(0));
        self.read = Read::Body { id: p.id };
        self.events.push_back(ClientEvent::Response { id, head });
    }

    fn on_end(&mut self, id: u64, trailers: Option<Box<Headers>>) {
        self.pending.pop_front();
        self.events.push_back(ClientEvent::BodyEnd {
            id: RequestId(id),
            trailers,
        });
        self.read = if self.close_after {
            Read::Done
        } else {
            Read::Head
        };
    }
}
