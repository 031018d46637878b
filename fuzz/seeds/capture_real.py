#!/usr/bin/env python3
"""Records replies from the real servers `cargo xtask services up` starts and
writes them as fuzz seeds (`real-*` files) under fuzz/seeds/<target>/.

Run from the repository root after `eval "$(cargo xtask services env)"`:

    python3 fuzz/seeds/capture_real.py [http|resp|memcache|pg|all]

Every seed is exactly the bytes the server sent (plus, where the fuzz target
reads a leading layout byte, that byte; see fuzz/seeds/README.md).
"""

import os
import socket
import struct
import sys
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
MAX_SEED = 4096


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if len(data) > MAX_SEED:
        raise SystemExit(f"{target}/{name}: {len(data)} bytes, over {MAX_SEED}")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def addr(var, default):
    host, port = os.environ.get(var, default).split(",")[0].rsplit(":", 1)
    return host, int(port)


def exchange(sock, payload, settle=0.3):
    """Sends `payload` and returns every byte the server sends until it has
    been quiet for `settle` seconds."""
    if payload:
        sock.sendall(payload)
    sock.settimeout(settle)
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return out
        if not chunk:
            return out
        out += chunk


# --- Redis (RESP2 / RESP3) -------------------------------------------------


def resp_cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


RESP_SCRIPT = [
    ("ping", [("PING",)]),
    ("set-get", [("SET", "weftfuzz:k", "hello"), ("GET", "weftfuzz:k")]),
    ("get-missing", [("GET", "weftfuzz:missing")]),
    ("incr", [("INCR", "weftfuzz:n"), ("INCRBY", "weftfuzz:n", "-7")]),
    ("unknown-command", [("NOSUCHCOMMAND", "x")]),
    ("wrongtype", [("LPUSH", "weftfuzz:k", "x")]),
    ("list", [("RPUSH", "weftfuzz:l", "a", "", "c"), ("LRANGE", "weftfuzz:l", "0", "-1")]),
    ("hash", [("HSET", "weftfuzz:h", "f1", "v1", "f2", "v2"), ("HGETALL", "weftfuzz:h")]),
    ("set", [("SADD", "weftfuzz:s", "x", "y"), ("SMEMBERS", "weftfuzz:s")]),
    ("zset-scores", [("ZADD", "weftfuzz:z", "1.5", "a", "-2", "b"), ("ZRANGE", "weftfuzz:z", "0", "-1", "WITHSCORES")]),
    ("empty-array", [("LRANGE", "weftfuzz:none", "0", "-1")]),
    ("mget-nulls", [("MGET", "weftfuzz:k", "weftfuzz:missing", "weftfuzz:n")]),
    ("config-get", [("CONFIG", "GET", "maxmemory*")]),
    ("info-server", [("INFO", "server")]),
    ("eval-types", [("EVAL", "redis.setresp(3); return {1, 'two', {double=3.25}, true, false, {map={a=1}}}", "0")]),
    ("eval-bignum", [("EVAL", "redis.setresp(3); return {big_number='1234567890123456789012345678901234567890'}", "0")]),
    ("eval-error", [("EVAL", "return redis.error_reply('MYERR custom failure')", "0")]),
    ("multi-exec", [("MULTI",), ("INCR", "weftfuzz:n"), ("GET", "weftfuzz:k"), ("EXEC",)]),
    ("scan", [("SCAN", "0", "MATCH", "weftfuzz:*", "COUNT", "100")]),
]


def capture_resp():
    host, port = addr("WEFT_REDIS_ADDR", "127.0.0.1:63790")
    for proto, target in ((2, "resp2_decode"), (3, "resp3_decode")):
        s = socket.create_connection((host, port))
        session = b""
        if proto == 3:
            hello = exchange(s, resp_cmd("HELLO", "3"))
            write(target, "real-hello3", hello)
        exchange(s, resp_cmd("DEL", "weftfuzz:k", "weftfuzz:n", "weftfuzz:l", "weftfuzz:h", "weftfuzz:s", "weftfuzz:z"))
        for name, cmds in RESP_SCRIPT:
            reply = exchange(s, b"".join(resp_cmd(*c) for c in cmds))
            if reply:
                write(target, f"real-{name}", reply)
                session += reply
        if proto == 3:
            # Client-side caching: the invalidation arrives as a push (>).
            exchange(s, resp_cmd("CLIENT", "TRACKING", "on"))
            reply = exchange(s, resp_cmd("GET", "weftfuzz:k") + resp_cmd("SET", "weftfuzz:k", "v2"))
            write(target, "real-tracking-push", reply)
            session += reply
        # Pub/sub on the same connection: subscribe confirmations and a message.
        sub = exchange(s, resp_cmd("SUBSCRIBE", "weftfuzz:chan"))
        p = socket.create_connection((host, port))
        exchange(p, resp_cmd("PUBLISH", "weftfuzz:chan", "payload"))
        p.close()
        sub += exchange(s, b"")
        write(target, "real-pubsub", sub)
        write(target, "real-session", session[:MAX_SEED])
        s.close()
    s = socket.create_connection((host, port))
    exchange(s, resp_cmd("DEL", "weftfuzz:k", "weftfuzz:n", "weftfuzz:l", "weftfuzz:h", "weftfuzz:s", "weftfuzz:z"))
    s.close()


# --- HTTP clients (curl, nghttp) -------------------------------------------


def client_bytes(argv_fn, settle=0.5):
    """Runs a client against a listening socket that never answers and
    returns the bytes the client sent."""
    import subprocess

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    proc = subprocess.Popen(argv_fn(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = srv.accept()
    data = exchange(conn, b"", settle)
    conn.close()
    srv.close()
    proc.kill()
    proc.wait()
    return data


H1_CLIENTS = {
    "curl-get": ["-s", "URL/index.html?x=1"],
    "curl-head": ["-s", "-I", "URL/"],
    "curl-post-form": ["-s", "-d", "name=weft&lang=rust", "URL/form"],
    "curl-post-chunked": ["-s", "-H", "Transfer-Encoding: chunked", "-d", "chunked body", "URL/up"],
    "curl-put-expect": ["-s", "-T", "-", "-H", "Expect: 100-continue", "URL/put"],
    "curl-http10": ["-s", "--http1.0", "URL/old"],
    "curl-h2c-upgrade": ["-s", "--http2", "URL/"],
    "curl-headers": ["-s", "-H", "Accept: application/json", "-H", "Cookie: a=b; c=d",
                     "-H", "X-Empty;", "-A", "weft-fuzz-seed", "URL/api/v1/items"],
}


def capture_http():
    for name, args in H1_CLIENTS.items():
        argv = lambda port: ["curl", "--max-time", "2"] + [
            a.replace("URL", f"http://127.0.0.1:{port}") for a in args]
        data = client_bytes(argv)
        write("h1_request", f"real-{name}", data)
        write("h1_server_conn", f"real-{name}", b"\x00" + data)
    # HTTP/2 with prior knowledge (RFC 9113 §3.3): preface, SETTINGS,
    # WINDOW_UPDATE, HEADERS. Layout byte 1 (odd): the preface is in the input.
    h2_clients = {
        "curl-prior-knowledge": lambda port: ["curl", "-s", "--max-time", "2", "--http2-prior-knowledge",
                                              f"http://127.0.0.1:{port}/index.html"],
        "curl-prior-knowledge-post": lambda port: ["curl", "-s", "--max-time", "2", "--http2-prior-knowledge",
                                                   "-d", "a=1", f"http://127.0.0.1:{port}/form"],
        "nghttp-prior-knowledge": lambda port: ["nghttp", "-t", "2", f"http://127.0.0.1:{port}/"],
    }
    for name, argv in h2_clients.items():
        data = client_bytes(argv)
        write("h2_server_conn", f"real-{name}", b"\x01\x00" + data)
        # The frames after the preface, for the frame codec.
        if data.startswith(b"PRI * HTTP/2.0"):
            write("h2_frame", f"real-{name}", data[24:])
            write("hpack_decode", f"real-{name}", header_blocks(data[24:]))


def header_blocks(frames):
    """The HPACK blocks of the HEADERS frames in `frames` (RFC 9113 §6.2:
    padding and priority fields removed), each prefixed with its length as
    the hpack_decode target reads them."""
    out = b""
    while len(frames) >= 9:
        length = int.from_bytes(frames[:3], "big")
        ftype, flags = frames[3], frames[4]
        payload, frames = frames[9:9 + length], frames[9 + length:]
        if ftype != 1:
            continue
        pad = 0
        if flags & 0x8:
            pad, payload = payload[0], payload[1:]
        if flags & 0x20:
            payload = payload[5:]
        block = payload[:len(payload) - pad]
        assert len(block) < 256
        out += bytes([len(block)]) + block
    return out


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("http", "all"):
        capture_http()
    if what in ("resp", "all"):
        capture_resp()
    if what in ("memcache", "all"):
        capture_memcache()
    if what in ("pg", "all"):
        capture_pg()


# Exactly what proto_memcache::check's scripted connection sends for each
# flavour (get a b c, set a, add b noreply, delete c, incr n, touch a, stats,
# version, noop, gets a), dumped from `Connection::poll_transmit` at commit
# 817da0e (the meta flavour sends a multi-get as one text `get` line).
MC_SCRIPTED = {
    "text": "6765742061206220630d0a73657420612030203020310d0a310d0a6164642062203020302031206e6f7265706c790d0a"
    "320d0a64656c65746520630d0a696e6372206e20310d0a746f75636820612031300d0a73746174730d0a76657273696f6e0d0a"
    "6765747320610d0a",
    "meta": "6765742061206220630d0a6d7320612031204f310d0a310d0a6d7320622031204f32204d4520710d0a320d0a6d6e0d0a6d64"
    "2063204f330d0a6d61206e204f34204d4920443120760d0a6d672061204f35205431300d0a73746174730d0a76657273696f"
    "6e0d0a6d6e0d0a6d67206120762066206b204f3620630d0a",
    "binary": "800d0001000000000000000100000001000000000000000061800d00010000000000000001000000020000000000000000"
    "62800d0001000000000000000100000003000000000000000063800a000000000000000000000000000400000000000000008001"
    "0001080000000000000a000000050000000000000000000000000000000061318012000108000000000000"
    "0a000000060000000000000000000000000000000062328004000100000000000000010000000700000000000000006380050001"
    "140000000000001500000008000000000000000000000000000000010000000000000000ffffffff6e801c000104000000000000"
    "050000000900000000000000000000000a618010000000000000000000000000000a0000000000000000800b0000000000000000"
    "00000000000b0000000000000000800a000000000000000000000000000c0000000000000000800c000100000000000000010000"
    "000d000000000000000061",
}


def shorten_stats(flavour, data, keep=8):
    """Binary `stat` replies are one packet per statistic (protocol-binary.txt
    "Stat"), which takes a whole session over the 4 KiB seed size: keep the
    first `keep` statistics and the empty-key packet that ends the list."""
    if flavour != "binary":
        return data[:MAX_SEED]
    out, seen, i = b"", 0, 0
    while i + 24 <= len(data):
        key_len, body_len = struct.unpack(">H", data[i + 2:i + 4])[0], struct.unpack(">I", data[i + 8:i + 12])[0]
        packet = data[i:i + 24 + body_len]
        i += 24 + body_len
        if data[i - 24 - body_len + 1] == 0x10 and key_len > 0:
            seen += 1
            if seen > keep:
                continue
        out += packet
    return out + data[i:]


def capture_memcache():
    host, port = addr("WEFT_MEMCACHED_ADDRS", "127.0.0.1:11311")
    for flavour, target in (("text", "memcache_text"), ("meta", "memcache_meta"), ("binary", "memcache_binary")):
        # The set-up goes over its own text connection: memcached picks a
        # connection's protocol from its first byte.
        setup = socket.create_connection((host, port))
        s = socket.create_connection((host, port))
        exchange(setup, b"delete a\r\ndelete b\r\ndelete c\r\ndelete n\r\n")
        # Cold: every key missing.
        cold = exchange(s, bytes.fromhex(MC_SCRIPTED[flavour]))
        write(target, "real-scripted-cold", shorten_stats(flavour, cold))
        # Warm: a, b, c present and n a counter.
        exchange(setup, b"set b 5 0 2\r\nbb\r\nset c 0 0 1\r\nc\r\nset n 0 0 2\r\n41\r\n")
        warm = exchange(s, bytes.fromhex(MC_SCRIPTED[flavour]))
        write(target, "real-scripted-warm", shorten_stats(flavour, warm))
        exchange(setup, b"delete a\r\ndelete b\r\ndelete c\r\ndelete n\r\n")
        s.close()
        setup.close()
    # A few single replies of the text and meta flavours.
    s = socket.create_connection((host, port))
    singles = {
        "memcache_text": {
            "set-get-gets": b"set weftfuzz:k 7 0 5\r\nhello\r\nget weftfuzz:k\r\ngets weftfuzz:k\r\n",
            "cas-exists": b"cas weftfuzz:k 0 0 1 1\r\nx\r\n",
            "append-incr-nonnumeric": b"append weftfuzz:k 0 0 1\r\n!\r\nincr weftfuzz:k 1\r\n",
            "bad-command": b"bogus\r\n",
            "stats-slabs": b"stats slabs\r\n",
            "verbosity": b"verbosity 1\r\n",
        },
        "memcache_meta": {
            "mg-flags": b"mg weftfuzz:k s v f t c k O77 q\r\nmn\r\n",
            "mg-miss": b"mg weftfuzz:none v\r\nmg weftfuzz:none v q\r\nmn\r\n",
            "ms-invalid-mode": b"ms weftfuzz:k 2 MZ\r\nhi\r\n",
            "ma-counter": b"ms weftfuzz:c 1\r\n5\r\nma weftfuzz:c v\r\nma weftfuzz:c MD D10 v\r\nma weftfuzz:none\r\n",
            "me-debug": b"me weftfuzz:k\r\n",
            "md-delete": b"md weftfuzz:c q\r\nmd weftfuzz:c\r\nmn\r\n",
            "bad-flags": b"mg weftfuzz:k !!\r\n",
        },
    }
    for target, cases in singles.items():
        for name, req in cases.items():
            write(target, f"real-{name}", exchange(s, req))
    exchange(s, b"delete weftfuzz:k\r\ndelete weftfuzz:c\r\n")
    s.close()


# The requests proto_pg::fuzzing's ready connection queues (simple query
# SELECT 1; query SELECT $1; prepare s; bind p; execute p 2; execute p 0;
# close portal p; sync; simple query COPY t FROM STDIN; function call oid 1),
# dumped from `Connection::poll_transmit`.
PG_PIPELINE = (
    "510000000d53454c45435420310050000000110053454c4543542024310000004200000013000000010000000100000001310000"
    "440000000650004500000009000000000053000000045000000011730053454c454354203200000044000000075373004200000010"
    "700073000000000000010001450000000a700000000002450000000a700000000000430000000750700053000000045100000016"
    "434f505920742046524f4d20535444494e0046000000120000000100000001ffffffff0001"
)


def pg_frontend(tag, body=b""):
    return tag + struct.pack(">I", len(body) + 4) + body


def pg_startup(s, user, db):
    params = b"user\0" + user + b"\0database\0" + db + b"\0application_name\0weft-fuzz-seed\0\0"
    return exchange(s, struct.pack(">II", len(params) + 8, 196608) + params)


def capture_pg():
    host = os.environ.get("WEFT_PG_HOST", "127.0.0.1")
    port = int(os.environ.get("WEFT_PG_PORT", "54329"))
    db = os.environ.get("WEFT_PG_DB", "weft").encode()
    user = os.environ.get("WEFT_PG_USER", "weft").encode()

    def q(sql):
        return pg_frontend(b"Q", sql + b"\0")

    s = socket.create_connection((host, port))
    startup = pg_startup(s, user, db)
    write("pg_backend", "real-startup", startup)
    write("pg_client_conn", "real-startup", b"\x00" + startup)
    pipeline = exchange(s, bytes.fromhex(PG_PIPELINE))
    write("pg_backend", "real-pipeline", pipeline)
    write("pg_client_conn", "real-pipeline", b"\x01" + pipeline)
    queries = {
        "types": q(b"SELECT 1::int4 AS i, 'x'::text AS t, NULL AS n, 1.5::float8 AS f, true AS b, "
                   b"'\\x01ff'::bytea AS y, '2026-11-24'::date AS d, ARRAY[1,2] AS a"),
        "empty-query": q(b""),
        "syntax-error": q(b"SELEC 1"),
        "notice": q(b"DO $$BEGIN RAISE NOTICE 'hello from plpgsql'; END$$"),
        "multi-statement": q(b"BEGIN; SELECT 1; SELECT 1/0; COMMIT"),
        "failed-tx": q(b"BEGIN") + q(b"SELECT 1/0") + q(b"SELECT 1") + q(b"ROLLBACK"),
        "set-parameter": q(b"SET application_name = 'weft-fuzz-2'; SET TimeZone = 'UTC'"),
        "copy-out": q(b"COPY (SELECT g, g * 2 FROM generate_series(1, 3) g) TO STDOUT"),
        "copy-in-aborted": q(b"CREATE TEMP TABLE weftfuzz(a int)") + q(b"COPY weftfuzz FROM STDIN")
        + pg_frontend(b"d", b"1\n2\n") + pg_frontend(b"f", b"seed capture\0"),
        "copy-in": q(b"COPY weftfuzz FROM STDIN") + pg_frontend(b"d", b"1\n2\n") + pg_frontend(b"c"),
        "listen-notify": q(b"LISTEN weftfuzz; NOTIFY weftfuzz, 'payload'"),
        "extended-binary": (
            pg_frontend(b"P", b"st\0SELECT $1::int8 + 1, $2::text\0" + struct.pack(">HII", 2, 20, 25))
            + pg_frontend(b"D", b"Sst\0")
            + pg_frontend(b"B", b"po\0st\0" + struct.pack(">HHH", 2, 1, 0) + struct.pack(">H", 2)
                          + struct.pack(">i", 8) + struct.pack(">q", 41) + struct.pack(">i", 2) + b"hi"
                          + struct.pack(">HH", 1, 1))
            + pg_frontend(b"D", b"Ppo\0") + pg_frontend(b"E", b"po\0" + struct.pack(">I", 0))
            + pg_frontend(b"C", b"Sst\0") + pg_frontend(b"S")
        ),
        "portal-suspended": (
            pg_frontend(b"P", b"\0SELECT generate_series(1, 5)\0\0\0")
            + pg_frontend(b"B", b"\0\0\0\0\0\0\0\0") + pg_frontend(b"E", b"\0" + struct.pack(">I", 2))
            + pg_frontend(b"E", b"\0" + struct.pack(">I", 0)) + pg_frontend(b"S")
        ),
        "extended-error": (
            pg_frontend(b"P", b"\0SELECT nosuchcolumn\0\0\0") + pg_frontend(b"B", b"\0\0\0\0\0\0\0\0")
            + pg_frontend(b"E", b"\0\0\0\0\0") + pg_frontend(b"S")
        ),
        "function-call": pg_frontend(b"F", struct.pack(">IHH", 1317, 1, 0) + struct.pack(">Hi", 1, 5)
                                     + b"hello" + struct.pack(">H", 0)),
    }
    for name, req in queries.items():
        write("pg_backend", f"real-{name}", exchange(s, req))
    exchange(s, pg_frontend(b"X"))
    s.close()
    # A start-up that fails: an unknown database.
    s = socket.create_connection((host, port))
    failed = pg_startup(s, user, b"weft_fuzz_no_such_db")
    write("pg_backend", "real-startup-unknown-db", failed)
    write("pg_client_conn", "real-startup-unknown-db", b"\x00" + failed)
    s.close()


if __name__ == "__main__":
    main()
