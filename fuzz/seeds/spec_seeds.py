#!/usr/bin/env python3
"""Writes the `spec-*` fuzz seeds under fuzz/seeds/<target>/: the examples
of each protocol's specification, byte for byte, laid out the way each fuzz
target reads its input (see fuzz/seeds/README.md).

    python3 fuzz/seeds/spec_seeds.py

Deterministic: running it again rewrites the same files.
"""

import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
MAX_SEED = 4096


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    assert len(data) <= MAX_SEED, (target, name, len(data))
    with open(os.path.join(d, "spec-" + name), "wb") as f:
        f.write(data)


# --- RESP (https://github.com/redis/redis-specifications, RESP3 spec) ------

RESP2 = {
    # RESP2 types: simple string, error, integer, bulk, null bulk, array,
    # null array, nested array.
    "simple-string": b"+OK\r\n",
    "error": b"-ERR unknown command 'foobar'\r\n",
    "error-wrongtype": b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    "integer": b":1000\r\n",
    "integer-negative": b":-42\r\n",
    "bulk": b"$5\r\nhello\r\n",
    "bulk-empty": b"$0\r\n\r\n",
    "null-bulk": b"$-1\r\n",
    "array": b"*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n",
    "array-mixed": b"*5\r\n:1\r\n:2\r\n:3\r\n:4\r\n$5\r\nhello\r\n",
    "array-empty": b"*0\r\n",
    "null-array": b"*-1\r\n",
    "array-nested": b"*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n",
    "array-with-null": b"*3\r\n$5\r\nhello\r\n$-1\r\n$5\r\nworld\r\n",
    "pipeline": b"+OK\r\n:1\r\n$3\r\nfoo\r\n*1\r\n+bar\r\n",
}

RESP3 = {
    # Every RESP3 type, as the RESP3 specification shows it.
    "blob-string": b"$11\r\nhello world\r\n",
    "simple-string": b"+hello world\r\n",
    "simple-error": b"-ERR this is the error description\r\n",
    "number": b":1234\r\n",
    "null": b"_\r\n",
    "double": b",1.23\r\n",
    "double-inf": b",inf\r\n,-inf\r\n",
    "double-int": b",10\r\n",
    "boolean": b"#t\r\n#f\r\n",
    "blob-error": b"!21\r\nSYNTAX invalid syntax\r\n",
    "verbatim": b"=15\r\ntxt:Some string\r\n",
    "big-number": b"(3492890328409238509324850943850943825024385\r\n",
    "array": b"*3\r\n:1\r\n:2\r\n:3\r\n",
    "array-nested": b"*2\r\n*3\r\n:1\r\n$5\r\nhello\r\n:2\r\n#f\r\n",
    "map": b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
    "set": b"~5\r\n+orange\r\n+apple\r\n#t\r\n:100\r\n:999\r\n",
    "attribute": (
        b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
        b"*2\r\n:2039123\r\n:9543892\r\n"
    ),
    "attribute-in-array": b"*3\r\n:1\r\n:2\r\n|1\r\n+ttl\r\n:3600\r\n:3\r\n",
    "push": b">4\r\n+pubsub\r\n+message\r\n+somechannel\r\n+this is the message\r\n",
    "push-between-replies": b"*2\r\n:1\r\n>3\r\n+message\r\n+ch\r\n+x\r\n:2\r\n",
    "streamed-string": b"$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n",
    "streamed-array": b"*?\r\n:1\r\n:2\r\n:3\r\n.\r\n",
    "streamed-map": b"%?\r\n+a\r\n:1\r\n+b\r\n:2\r\n.\r\n",
    "streamed-set": b"~?\r\n+a\r\n+b\r\n.\r\n",
    "hello-reply": (
        b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n6.0.0\r\n"
        b"$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:10\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
        b"$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    ),
    "resp2-nulls": b"$-1\r\n*-1\r\n",
}
RESP3.update({"resp2-" + k: v for k, v in RESP2.items()})


def resp():
    for name, data in RESP2.items():
        write("resp2_decode", name, data)
    for name, data in RESP3.items():
        write("resp3_decode", name, data)


# --- HTTP/1.1 (RFC 9112) ---------------------------------------------------

H1 = {
    # §3.2.1 origin-form.
    "origin-form": b"GET /where?q=now HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
    # §3.2.2 absolute-form.
    "absolute-form": (
        b"GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\n"
        b"Host: www.example.org\r\n\r\n"
    ),
    # §3.2.3 authority-form.
    "authority-form": b"CONNECT www.example.com:80 HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
    # §3.2.4 asterisk-form.
    "asterisk-form": b"OPTIONS * HTTP/1.1\r\nHost: www.example.org:8001\r\n\r\n",
    # RFC 9110 §1.2 / RFC 9112 example exchange.
    "hello-txt": (
        b"GET /hello.txt HTTP/1.1\r\nUser-Agent: curl/7.64.1\r\n"
        b"Host: www.example.com\r\nAccept-Language: en, mi\r\n\r\n"
    ),
    # §2.2: a server SHOULD ignore at least one empty line before the request-line.
    "leading-crlf": b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    # §2.2: a bare LF may be recognised as a line terminator.
    "bare-lf": b"GET / HTTP/1.1\nHost: a\n\n",
    # §5.2: obs-fold in a request is rejected (400).
    "obs-fold": b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n",
    # §5.1: whitespace between field name and colon is rejected.
    "space-before-colon": b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    # §6.2 Content-Length body.
    "content-length": b"POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    # §7.1 chunked with extension and trailer section (§7.1.2).
    "chunked-trailer": (
        b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: Expires\r\n\r\n"
        b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n"
    ),
    # §6.3: Transfer-Encoding and Content-Length together (smuggling shape).
    "te-and-cl": (
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
    "duplicate-cl": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "http10": b"GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "expect-continue": b"PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    # §9.3.2 pipelining.
    "pipelined": b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "h2c-upgrade": (
        b"GET / HTTP/1.1\r\nHost: server.example.com\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
    ),
    "bad-version": b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
    "lowercase-method": b"get / HTTP/1.1\r\nHost: a\r\n\r\n",
}


def h1():
    for name, data in H1.items():
        write("h1_request", name, data)
        # h1_server_conn: [n = 0 cut points] [input].
        write("h1_server_conn", name, b"\x00" + data)
    # With cut points: [n] [n u16 LE] [input], splitting inside the head and body.
    data = H1["chunked-trailer"]
    cuts = [3, 40, 90, 100]
    write("h1_server_conn", "chunked-trailer-split",
          bytes([len(cuts)]) + b"".join(struct.pack("<H", c) for c in cuts) + data)
    data = H1["pipelined"]
    cuts = [1, 33, 34]
    write("h1_server_conn", "pipelined-split",
          bytes([len(cuts)]) + b"".join(struct.pack("<H", c) for c in cuts) + data)


# --- HPACK (RFC 7541 Appendix C) -------------------------------------------


def unhex(s):
    return bytes.fromhex("".join(s.split()))


C2 = {
    "c2-1-literal-indexed": "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
    "c2-2-literal-not-indexed": "040c 2f73 616d 706c 652f 7061 7468",
    "c2-3-literal-never-indexed": "1008 7061 7373 776f 7264 0673 6563 7265 74",
    "c2-4-indexed": "82",
}
C3 = [
    "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "8286 84be 5808 6e6f 2d63 6163 6865",
    "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
]
C4 = [
    "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
    "8286 84be 5886 a8eb 1064 9cbf",
    "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
]
C5 = [
    "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230"
    "3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65"
    "7861 6d70 6c65 2e63 6f6d",
    "4803 3330 37c1 c0bf",
    "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220"
    "474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157"
    "454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076"
    "6572 7369 6f6e 3d31",
]
C6 = [
    "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0"
    "82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
    "4883 640e ffc1 c0bf",
    "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b"
    "d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27"
    "0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
]
# §6.3 dynamic table size update to 256 octets, as C.5/C.6 assume.
UPDATE_256 = "3fe1 01"


def blocks(*blks):
    """hpack_decode input: each block prefixed with its one-byte length."""
    out = b""
    for b in blks:
        assert len(b) < 256
        out += bytes([len(b)]) + b
    return out


def hpack():
    for name, wire in C2.items():
        write("hpack_decode", name, blocks(unhex(wire)))
    write("hpack_decode", "c3-requests", blocks(*map(unhex, C3)))
    write("hpack_decode", "c4-requests-huffman", blocks(*map(unhex, C4)))
    c5 = [unhex(UPDATE_256 + C5[0])] + [unhex(w) for w in C5[1:]]
    c6 = [unhex(UPDATE_256 + C6[0])] + [unhex(w) for w in C6[1:]]
    write("hpack_decode", "c5-responses", blocks(*c5))
    write("hpack_decode", "c6-responses-huffman", blocks(*c6))
    # §4.2 / §6.3: a size update to 0 evicts everything, then a reference to
    # the old entry must fail.
    write("hpack_decode", "evict-then-index", blocks(unhex(C3[0]), unhex("20 be")))


# --- HTTP/2 frames (RFC 9113) ----------------------------------------------

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, stream, payload):
    """§4.1 frame layout: 24-bit length, type, flags, R + 31-bit stream id."""
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


DATA, HEADERS, PRIORITY, RST, SETTINGS, PUSH, PING, GOAWAY, WINDOW, CONT = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


GET_BLOCK = unhex(C3[0])  # :method GET, :scheme http, :path /, :authority www.example.com
GET_BLOCK_HUFFMAN = unhex(C4[0])

FRAMES = {
    # §6.5 SETTINGS: header table size, enable push 0, max concurrent
    # streams, initial window, max frame size, max header list size.
    "settings": settings((1, 4096), (2, 0), (3, 100), (4, 65535), (5, 16384), (6, 8192)),
    "settings-ack": frame(SETTINGS, ACK, 0, b""),
    "headers-end-stream": frame(HEADERS, END_HEADERS | END_STREAM, 1, GET_BLOCK),
    # §6.2 HEADERS with padding and priority.
    "headers-padded-priority": frame(
        HEADERS, END_HEADERS | PADDED | PRIO, 3,
        bytes([4]) + struct.pack(">I", 0x80000001) + bytes([15]) + GET_BLOCK_HUFFMAN + b"\0" * 4),
    # §6.10 CONTINUATION completing a header block.
    "headers-continuation": frame(HEADERS, END_STREAM, 5, GET_BLOCK[:6])
    + frame(CONT, END_HEADERS, 5, GET_BLOCK[6:]),
    # §6.1 DATA, padded.
    "data-padded": frame(DATA, PADDED | END_STREAM, 1, bytes([3]) + b"hello" + b"\0\0\0"),
    "data": frame(DATA, 0, 1, b"hello world"),
    "priority": frame(PRIORITY, 0, 3, struct.pack(">I", 1) + bytes([200])),
    "rst-stream": frame(RST, 0, 1, struct.pack(">I", 8)),  # CANCEL
    "ping": frame(PING, 0, 0, b"12345678"),
    "ping-ack": frame(PING, ACK, 0, b"12345678"),
    "goaway": frame(GOAWAY, 0, 0, struct.pack(">II", 3, 2) + b"debug info"),
    "window-update-conn": frame(WINDOW, 0, 0, struct.pack(">I", 1 << 20)),
    "window-update-stream": frame(WINDOW, 0, 1, struct.pack(">I", 1000)),
    "push-promise": frame(PUSH, END_HEADERS, 1, struct.pack(">I", 2) + GET_BLOCK),
    # §5.5 unknown frame types are ignored.
    "unknown-type": frame(0xfa, 0xff, 7, b"extension"),
    # §4.2 a frame over SETTINGS_MAX_FRAME_SIZE (16384) is a FRAME_SIZE_ERROR.
    "oversized-header": struct.pack(">I", 16385)[1:] + bytes([DATA, 0]) + struct.pack(">I", 1),
}


def h2_cuts(cuts):
    return bytes([len(cuts)]) + b"".join(struct.pack("<H", c) for c in cuts)


def h2():
    for name, data in FRAMES.items():
        write("h2_frame", name, data)
    # A client's opening flight as a sequence of frames.
    flight = FRAMES["settings"] + FRAMES["window-update-conn"] + FRAMES["headers-end-stream"]
    write("h2_frame", "client-flight", flight)

    # h2_server_conn layout: [flags] [n] [n u16 LE cuts] [input]; an even
    # flags byte prepends the client preface, an odd one does not.
    # §3.4 prior knowledge: the full preface, SETTINGS, then a GET.
    full = PREFACE + FRAMES["settings"] + FRAMES["window-update-conn"] + FRAMES["headers-end-stream"]
    write("h2_server_conn", "prior-knowledge-get", b"\x01\x00" + full)
    write("h2_server_conn", "prior-knowledge-get-split", b"\x01" + h2_cuts([5, 24, 30, 60]) + full)
    # Two streams, a POST with a body, the client's SETTINGS ACK, PING and a clean GOAWAY.
    # :method POST, :scheme http, :path /, :authority (literal, indexed), content-length: 5.
    post_block = unhex("83 86 84 41 0f") + b"www.example.com" + unhex("5c 01") + b"5"
    body = (
        FRAMES["settings"] + FRAMES["settings-ack"]
        + frame(HEADERS, END_HEADERS | END_STREAM, 1, GET_BLOCK)
        + frame(HEADERS, END_HEADERS, 3, post_block)
        + frame(DATA, END_STREAM, 3, b"hello")
        + FRAMES["ping"]
        + frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0))
    )
    write("h2_server_conn", "two-streams-post-goaway", b"\x00\x00" + body)
    write("h2_server_conn", "continuation-and-rst", b"\x00\x00" + FRAMES["settings"]
          + FRAMES["headers-continuation"] + frame(RST, 0, 5, struct.pack(">I", 8)))
    write("h2_server_conn", "padded-priority-window", b"\x00\x00" + FRAMES["settings"]
          + FRAMES["headers-padded-priority"] + FRAMES["window-update-stream"] + FRAMES["priority"])
    # Protocol errors: DATA on an idle stream, SETTINGS with a bad initial window.
    write("h2_server_conn", "data-on-idle-stream", b"\x00\x00" + FRAMES["settings"] + FRAMES["data"])
    write("h2_server_conn", "bad-settings", b"\x00\x00" + settings((4, 0x80000000)))
    # An HTTP/1.1 request where a preface is expected.
    write("h2_server_conn", "not-a-preface", b"\x01\x00" + H1["origin-form"])


# --- memcached (protocol.txt, protocol-binary.txt) --------------------------

MC_TEXT = {
    # protocol.txt "Retrieval command": VALUE <key> <flags> <bytes> [<cas unique>].
    "get-hit": b"VALUE foo 0 3\r\nbar\r\nEND\r\n",
    "gets-multi": b"VALUE a 1 2 101\r\nhi\r\nVALUE b 4294967295 0 102\r\n\r\nEND\r\n",
    "get-miss": b"END\r\n",
    # Storage replies.
    "storage-replies": b"STORED\r\nNOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\n",
    "delete-touch": b"DELETED\r\nNOT_FOUND\r\nTOUCHED\r\n",
    # incr/decr: the new value, or NOT_FOUND.
    "incr": b"42\r\n18446744073709551615\r\nNOT_FOUND\r\n",
    # Error strings.
    "errors": b"ERROR\r\nCLIENT_ERROR bad data chunk\r\nSERVER_ERROR out of memory storing object\r\n",
    "stats": b"STAT pid 1234\r\nSTAT uptime 10\r\nSTAT version 1.6.21\r\nSTAT curr_items 0\r\nEND\r\n",
    "version": b"VERSION 1.6.21\r\n",
    "ok": b"OK\r\n",
    "value-with-crlf-inside": b"VALUE k 0 6\r\na\r\nb\r\n\r\nEND\r\n",
}

MC_META = {
    # protocol.txt "Meta Get": VA <size> <flags>*\r\n<data>, HD, EN.
    "mg-value": b"VA 2 f30 c5 t-1 kfoo\r\nhi\r\n",
    "mg-hit-no-value": b"HD f0 c7 s2\r\n",
    "mg-miss": b"EN\r\n",
    "mg-base64-key": b"VA 1 b kZm9v\r\nx\r\n",
    "mg-win-stale": b"VA 3 W Z X\r\nold\r\n",
    "opaque-and-noop": b"HD O123\r\nEN O124\r\nMN\r\n",
    # Meta Set / Delete / Arithmetic replies.
    "ms-replies": b"HD\r\nNS\r\nEX\r\nNF\r\n",
    "ma-value": b"VA 2 c9\r\n43\r\n",
    # Meta Debug.
    "me-debug": b"ME foo exp=-1 la=3 cas=2 fetch=no cls=1 size=63\r\n",
    "errors": b"CLIENT_ERROR bad command line format\r\nSERVER_ERROR out of memory\r\nERROR\r\n",
    "stats-version": b"STAT pid 1\r\nEND\r\nVERSION 1.6.21\r\n",
}


def mc_binary(magic, opcode, key=b"", extras=b"", value=b"", status=0, opaque=0, cas=0, data_type=0):
    """protocol-binary.txt §3: the 24-byte header, then extras, key, value."""
    body = extras + key + value
    return struct.pack(">BBHBBHIIQ", magic, opcode, len(key), len(extras), data_type, status,
                       len(body), opaque, cas) + body


RES = 0x81
MC_BINARY = {
    # §4.1.1 / Appendix A examples: GetK hit with flags, miss, Add that
    # exists, Delete, Increment, Version, Noop, Stat sequence.
    "getk-hit": mc_binary(RES, 0x0C, key=b"Hello", extras=b"\xde\xad\xbe\xef", value=b"World", opaque=1, cas=1),
    "get-hit": mc_binary(RES, 0x00, extras=b"\xde\xad\xbe\xef", value=b"World", cas=1),
    "get-miss": mc_binary(RES, 0x00, value=b"Not found", status=0x0001),
    "add-exists": mc_binary(RES, 0x02, value=b"Data exists for key.", status=0x0002),
    "set-ok": mc_binary(RES, 0x01, cas=7),
    "delete-ok": mc_binary(RES, 0x04),
    "incr": mc_binary(RES, 0x05, value=struct.pack(">Q", 42), cas=5),
    "version": mc_binary(RES, 0x0B, value=b"1.6.21"),
    "noop": mc_binary(RES, 0x0A),
    "stat-then-end": mc_binary(RES, 0x10, key=b"pid", value=b"1234") + mc_binary(RES, 0x10),
    "unknown-command": mc_binary(RES, 0x44, value=b"Unknown command", status=0x0081),
    "value-too-large": mc_binary(RES, 0x01, value=b"Too large.", status=0x0003),
    "auth-error": mc_binary(RES, 0x21, value=b"Auth failure.", status=0x0020),
}


def memcache():
    for name, data in MC_TEXT.items():
        write("memcache_text", name, data)
    for name, data in MC_META.items():
        write("memcache_meta", name, data)
    for name, data in MC_BINARY.items():
        write("memcache_binary", name, data)
    # A quiet GetKQ pipeline answered by its terminating Noop.
    write("memcache_binary", "getkq-pipeline",
          mc_binary(RES, 0x0D, key=b"a", extras=b"\0\0\0\0", value=b"1", opaque=1)
          + mc_binary(RES, 0x0A, opaque=4))


# --- PostgreSQL (protocol chapter: "Message Flow", "Message Formats") -------


def pg(tag, body=b""):
    """A backend message: type byte, Int32 length (itself included), body."""
    return tag + struct.pack(">I", len(body) + 4) + body


def cstr(s):
    return s + b"\0"


AUTH_OK = pg(b"R", struct.pack(">I", 0))
PARAMS = (
    pg(b"S", cstr(b"server_version") + cstr(b"16.4"))
    + pg(b"S", cstr(b"client_encoding") + cstr(b"UTF8"))
    + pg(b"S", cstr(b"DateStyle") + cstr(b"ISO, MDY"))
    + pg(b"S", cstr(b"integer_datetimes") + cstr(b"on"))
)
KEY = pg(b"K", struct.pack(">II", 4242, 0x01020304))
IDLE = pg(b"Z", b"I")
READY_AFTER_AUTH = AUTH_OK + PARAMS + KEY + IDLE


def row_description(*cols):
    """RowDescription: per column name, table oid, attnum, type oid, typlen, typmod, format."""
    body = struct.pack(">H", len(cols))
    for name, oid, typlen, fmt in cols:
        body += cstr(name) + struct.pack(">IhIhiH", 0, 0, oid, typlen, -1, fmt)
    return pg(b"T", body)


def data_row(*vals):
    body = struct.pack(">H", len(vals))
    for v in vals:
        body += struct.pack(">i", -1) if v is None else struct.pack(">i", len(v)) + v
    return pg(b"D", body)


def error(code, message, severity=b"ERROR"):
    return pg(b"E", b"S" + cstr(severity) + b"V" + cstr(severity) + b"C" + cstr(code) + b"M" + cstr(message) + b"\0")


def notice(message):
    return pg(b"N", b"SNOTICE\0VNOTICE\0C00000\0M" + cstr(message) + b"\0")


def scram_exchange(password=b"pw", client_nonce=b"clientnonce"):
    """SASL SCRAM-SHA-256 (RFC 5802/7677 as the protocol chapter's "SASL
    Authentication" section uses it), computed for the nonce and password
    proto_pg::fuzzing's connection uses, so the exchange succeeds."""
    import base64
    import hashlib
    import hmac

    salt, iterations = b"weft-fuzz-salt!!", 4096
    nonce = client_nonce + b"3rfcNHYJY1ZVvWVs7j"
    server_first = b"r=" + nonce + b",s=" + base64.b64encode(salt) + b",i=%d" % iterations
    client_first_bare = b"n=,r=" + client_nonce
    without_proof = b"c=biws,r=" + nonce
    auth_message = client_first_bare + b"," + server_first + b"," + without_proof
    salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
    return (
        pg(b"R", struct.pack(">I", 10) + cstr(b"SCRAM-SHA-256") + b"\0")
        + pg(b"R", struct.pack(">I", 11) + server_first)
        + pg(b"R", struct.pack(">I", 12) + b"v=" + base64.b64encode(signature))
    )


PG_FLOWS = {
    # "Start-up": trust, then parameters, key data and ReadyForQuery.
    "startup-trust": READY_AFTER_AUTH,
    "startup-cleartext": pg(b"R", struct.pack(">I", 3)) + READY_AFTER_AUTH,
    "startup-md5": pg(b"R", struct.pack(">I", 5) + b"\x01\x02\x03\x04") + READY_AFTER_AUTH,
    "startup-scram": scram_exchange() + READY_AFTER_AUTH,
    "startup-auth-failed": error(b"28P01", b'password authentication failed for user "fuzz"', b"FATAL"),
    "startup-negotiate-version": pg(b"v", struct.pack(">II", 0, 1) + cstr(b"_pq_.x")) + READY_AFTER_AUTH,
    # "Simple Query".
    "simple-query": (
        row_description((b"?column?", 23, 4, 0)) + data_row(b"1") + pg(b"C", cstr(b"SELECT 1")) + IDLE
    ),
    "simple-query-empty": pg(b"I") + IDLE,
    "simple-query-error": error(b"42601", b'syntax error at or near "SELEC"') + pg(b"Z", b"I"),
    "simple-query-multi": (
        pg(b"C", cstr(b"BEGIN")) + notice(b"there is already a transaction in progress")
        + row_description((b"a", 25, -1, 0), (b"b", 16, 1, 0)) + data_row(b"x", None) + data_row(b"", b"t")
        + pg(b"C", cstr(b"SELECT 2")) + pg(b"Z", b"T")
    ),
    "failed-transaction": error(b"25P02", b"current transaction is aborted") + pg(b"Z", b"E"),
    # "Extended Query": Parse, Bind, Describe, Execute, Sync.
    "extended-query": (
        pg(b"1") + pg(b"2") + row_description((b"x", 23, 4, 1)) + data_row(b"\0\0\0\x01")
        + pg(b"C", cstr(b"SELECT 1")) + IDLE
    ),
    "describe-statement": (
        pg(b"1") + pg(b"t", struct.pack(">HII", 2, 23, 25)) + pg(b"n") + IDLE
    ),
    "portal-suspended": pg(b"2") + data_row(b"1") + data_row(b"2") + pg(b"s") + pg(b"3") + IDLE,
    # "COPY Operations".
    "copy-in": pg(b"G", b"\0" + struct.pack(">Hhh", 2, 0, 0)) + pg(b"C", cstr(b"COPY 2")) + IDLE,
    "copy-out": (
        pg(b"H", b"\0" + struct.pack(">Hh", 1, 0)) + pg(b"d", b"1\n") + pg(b"d", b"2\n") + pg(b"c")
        + pg(b"C", cstr(b"COPY 2")) + IDLE
    ),
    "copy-both": pg(b"W", b"\1" + struct.pack(">H", 0)) + pg(b"d", b"w\0\0\0"),
    # "Asynchronous Operations".
    "notification": pg(b"A", struct.pack(">I", 1234) + cstr(b"chan") + cstr(b"payload")),
    "parameter-status": pg(b"S", cstr(b"TimeZone") + cstr(b"UTC")),
    # "Function Call".
    "function-call": pg(b"V", struct.pack(">i", 4) + b"\0\0\0\x2a") + IDLE,
    "function-call-null": pg(b"V", struct.pack(">i", -1)) + IDLE,
    "fatal-termination": error(b"57P01", b"terminating connection due to administrator command", b"FATAL"),
}


def postgres():
    for name, data in PG_FLOWS.items():
        write("pg_backend", name, data)
    # pg_client_conn: first byte even = the input drives start-up.
    for name in ("startup-trust", "startup-cleartext", "startup-md5", "startup-scram",
                 "startup-auth-failed", "startup-negotiate-version"):
        write("pg_client_conn", name, b"\x00" + PG_FLOWS[name])
    # Odd = start-up done, a pipeline queued (see proto_pg::fuzzing): simple
    # query, query(), prepare, bind, execute x2, close, sync, COPY, function call.
    one = row_description((b"?column?", 23, 4, 0)) + data_row(b"1") + pg(b"C", cstr(b"SELECT 1")) + IDLE
    query = pg(b"1") + pg(b"2") + row_description((b"?column?", 25, -1, 0)) + data_row(b"1") \
        + pg(b"C", cstr(b"SELECT 1")) + IDLE
    prepare = pg(b"1") + pg(b"t", struct.pack(">H", 0)) + row_description((b"?column?", 23, 4, 1))
    portal = pg(b"2") + data_row(b"\0\0\0\x02") + pg(b"C", cstr(b"SELECT 1")) + pg(b"C", cstr(b"SELECT 0")) \
        + pg(b"3") + IDLE
    copy = pg(b"G", b"\0" + struct.pack(">H", 0))
    write("pg_client_conn", "pipeline", b"\x01" + one + query + prepare + portal + copy)
    write("pg_client_conn", "pipeline-errors", b"\x01" + error(b"42P01", b'relation "t" does not exist')
          + IDLE + notice(b"skipped") + pg(b"A", struct.pack(">I", 7) + cstr(b"c") + cstr(b"")))


def pg_types():
    # pg_types: `[format] [value]`, 0 = binary (each type's send/recv
    # layout), 1 = text (the server's output with DateStyle ISO,
    # IntervalStyle postgres).
    text = {
        "numeric": b"-123456789.000100",
        "timestamptz": b"2026-11-24 12:00:00.000001+05:30",
        "timestamp-bc": b"4714-11-24 00:00:00 BC",
        "interval": b"1 year 2 mons -3 days 04:05:06.789",
        "array-2d": b'[0:1][-3:-2]={{a,NULL},{"b c",""}}',
        "bytea-escape": b"a\\\\b\\001",
        "inet": b"::ffff:1.2.3.4/120",
        "char-octal": b"\\377",
    }
    for name, value in text.items():
        write("pg_types", "text-" + name, b"\x01" + value)
    # numeric 12345.678: ndigits 3, weight 1, sign +, dscale 3.
    numeric = struct.pack(">hhHH3H", 3, 1, 0, 3, 1, 2345, 6780)
    # int4[] 2 x 2 with a NULL: ndim, has-null flag, element OID, dims.
    array = struct.pack(">iiIiiii", 2, 1, 23, 2, 1, 2, 1)
    for v in (1, None, 3, 4):
        array += struct.pack(">i", -1) if v is None else struct.pack(">ii", 4, v)
    binary = {
        "numeric": numeric,
        "numeric-nan": struct.pack(">hhHH", 0, 0, 0xC000, 0),
        "int4-array": array,
        "timestamp": struct.pack(">q", 848_000_000_000_000),
        "interval": struct.pack(">qii", 14_706_789_000, 3, 14),
        "inet": bytes([2, 24, 0, 4, 192, 168, 1, 5]),
        "jsonb": b'\x01{"a": [1, null]}',
    }
    for name, value in binary.items():
        write("pg_types", "binary-" + name, b"\x00" + value)


def main():
    resp()
    h1()
    hpack()
    h2()
    memcache()
    postgres()
    pg_types()


if __name__ == "__main__":
    main()
