//! Limits and timeouts of a [`ServerConnection`](super::ServerConnection),
//! with defaults safe to expose to the Internet.

use std::time::Duration;

/// At most `count` occurrences of something within `window`; one more is a
/// flood. Used for the rapid-reset (CVE-2023-44487) and control-frame flood
/// defences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloodLimit {
    /// Occurrences allowed per window.
    pub count: u32,
    /// Length of the window, counted from its first occurrence.
    pub window: Duration,
}

impl FloodLimit {
    /// `count` per `window`.
    #[must_use]
    pub const fn new(count: u32, window: Duration) -> FloodLimit {
        FloodLimit { count, window }
    }
}

/// Configuration of an HTTP/2 [`ServerConnection`](super::ServerConnection).
///
/// Build it with struct-update syntax:
/// `Config { max_concurrent_streams: 32, ..Config::default() }`.
///
/// Memory per connection is bounded by these values whatever the peer sends:
/// at most `max_concurrent_streams` streams, request bodies of at most
/// `max_connection_body` in all while they arrive, one header block of at most
/// `max_header_block_size` octets being assembled, an HPACK table of
/// `header_table_size`, at most `max_tx_backlog` octets of control frames
/// queued before input stops being consumed, and request body data limited
/// by the flow-control windows until the application takes it.
#[derive(Clone, Debug)]
pub struct Config {
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` announced and enforced
    /// (RFC 9113 §5.1.2): a stream beyond it is refused with
    /// `REFUSED_STREAM`. Default 100.
    pub max_concurrent_streams: u32,
    /// `SETTINGS_INITIAL_WINDOW_SIZE` announced: how much request body each
    /// stream may send ahead of the application (RFC 9113 §6.9.2); values
    /// below 65 535 are raised to it. Default 256 KiB.
    pub initial_window_size: u32,
    /// Receive window of the whole connection (RFC 9113 §6.9): the total of
    /// request bodies in flight. Default 1 MiB.
    pub connection_window_size: u32,
    /// `SETTINGS_MAX_FRAME_SIZE` announced: the largest frame payload
    /// accepted (RFC 9113 §4.2, 16 384..=16 777 215). Default 16 384.
    pub max_frame_size: u32,
    /// `SETTINGS_MAX_HEADER_LIST_SIZE` announced and enforced (RFC 9113
    /// §6.5.2, §10.5.1): a larger request is answered 431. Default 16 KiB.
    pub max_header_list_size: u32,
    /// `SETTINGS_HEADER_TABLE_SIZE` announced: the HPACK dynamic table the
    /// peer may make us keep (RFC 7541 §4.2). Default 4096.
    pub header_table_size: u32,
    /// Longest HPACK string literal accepted, after Huffman decoding
    /// (RFC 7541 §5.2). Default 8 KiB.
    pub max_header_string_len: usize,
    /// Largest field block (HEADERS plus CONTINUATIONs, counting 9 octets
    /// per CONTINUATION) buffered before HPACK decoding; beyond it the
    /// connection ends with `ENHANCE_YOUR_CALM` (CVE-2024-27316). Default
    /// 32 KiB.
    pub max_header_block_size: usize,
    /// Most CONTINUATION frames in one field block (CVE-2024-27316):
    /// `ENHANCE_YOUR_CALM` beyond. Default 16.
    pub max_continuation_frames: u32,
    /// Largest request body (declared by `content-length` or received):
    /// the connection answers 413 and resets the stream. Default 8 MiB.
    pub max_request_body: u64,
    /// Most request body octets, summed over the streams whose request is
    /// still arriving, that one connection accepts: what a server that
    /// collects whole bodies holds at worst. The stream that would pass it
    /// is answered 413 and reset. Default 32 MiB.
    pub max_connection_body: u64,
    /// Streams reset by the peer, refused by us, or reset by us because of
    /// a stream error the peer caused, per window, before the connection
    /// ends with `ENHANCE_YOUR_CALM` (rapid reset, CVE-2023-44487, and its
    /// malformed-frame variant). Default 200 per 10 s.
    pub max_resets: FloodLimit,
    /// SETTINGS frames (not ACKs) per window. Default 100 per 10 s.
    pub max_settings: FloodLimit,
    /// PING frames (not ACKs) per window. Default 100 per 10 s.
    pub max_pings: FloodLimit,
    /// PRIORITY frames per window. Default 1000 per 10 s.
    pub max_priority: FloodLimit,
    /// Empty DATA frames without END_STREAM, and unknown frame types, per
    /// window. Default 100 per 10 s.
    pub max_empty_frames: FloodLimit,
    /// Reset (`CANCEL`, reported as a reset) a stream whose request has
    /// been incomplete with nothing received for it this long: the HTTP/2
    /// form of a slow-loris body. `None` disables. Default 30 s.
    pub request_timeout: Option<Duration>,
    /// How long the peer may take to acknowledge our SETTINGS before the
    /// connection ends with `SETTINGS_TIMEOUT` (RFC 9113 §6.5.3). Default 10 s.
    pub settings_timeout: Duration,
    /// Close (GOAWAY `NO_ERROR`) a connection with no open stream for this
    /// long; this also bounds how long a peer may take to send its preface.
    /// `None` disables. Default 60 s.
    pub idle_timeout: Option<Duration>,
    /// End the connection (`ENHANCE_YOUR_CALM`) when response data has been
    /// waiting this long for the peer to open a flow-control window that
    /// stays at zero (zero-window stall). `None` disables. Default 30 s.
    pub send_stall_timeout: Option<Duration>,
    /// Control frames and response heads queued for the wire beyond which
    /// input is no longer consumed until the caller writes (a peer that
    /// floods PINGs but never reads cannot grow the queue). Default 64 KiB.
    pub max_tx_backlog: usize,
    /// Largest HPACK dynamic table our encoder uses for responses, whatever
    /// the peer allows. Default 4096.
    pub encoder_table_size: usize,
    /// Add a `date` field to responses once the date is set. Default true.
    pub date_header: bool,
}

impl Default for Config {
    fn default() -> Self {
        let ten = Duration::from_secs(10);
        Config {
            max_concurrent_streams: 100,
            initial_window_size: 256 * 1024,
            connection_window_size: 1024 * 1024,
            max_frame_size: 16_384,
            max_header_list_size: 16 * 1024,
            header_table_size: 4096,
            max_header_string_len: 8 * 1024,
            max_header_block_size: 32 * 1024,
            max_continuation_frames: 16,
            max_request_body: 8 * 1024 * 1024,
            max_connection_body: 32 * 1024 * 1024,
            max_resets: FloodLimit::new(200, ten),
            max_settings: FloodLimit::new(100, ten),
            max_pings: FloodLimit::new(100, ten),
            max_priority: FloodLimit::new(1000, ten),
            max_empty_frames: FloodLimit::new(100, ten),
            request_timeout: Some(Duration::from_secs(30)),
            settings_timeout: ten,
            idle_timeout: Some(Duration::from_secs(60)),
            send_stall_timeout: Some(Duration::from_secs(30)),
            max_tx_backlog: 64 * 1024,
            encoder_table_size: 4096,
            date_header: true,
        }
    }
}
