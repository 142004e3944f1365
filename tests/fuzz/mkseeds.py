#!/usr/bin/python3
"""Write the seed corpora under tests/fuzz/seeds/<target>/.

Run once after changing it (the seeds are checked in):
    /usr/bin/python3 tests/fuzz/mkseeds.py
Each seed starts with the option/split bytes its target reads first
(see the comment at the top of each fuzz_*.c).
"""

import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frame(op, payload=b"", fin=True, mask=b"\x11\x22\x33\x44", rsv=0,
          form=None):
    n = len(payload)
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    mbit = 0x80 if mask is not None else 0
    form = form or (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        h = struct.pack("!BB", b0, mbit | n)
    elif form == 16:
        h = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        h = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask is None:
        return h + payload
    return h + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def ws_seeds():
    # options byte: bit0 client side, bits1-2 limit, bit3 RSV1 allowed
    for opts, split in ((0, 0), (0, 7), (4, 3), (1, 9)):
        m = None if opts & 1 else b"\x11\x22\x33\x44"
        streams = [
            frame(1, b"Hello", mask=m),
            frame(2, bytes(range(256)) * 2, mask=m),
            frame(1, b"Hel", fin=False, mask=m) + frame(9, b"p", mask=m)
            + frame(0, b"lo", mask=m),
            frame(1, "κόσμε".encode(), mask=m),
            frame(1, b"\xce\xba\xe1\xbd", fin=False, mask=m)
            + frame(0, b"\xb9\xcf\x83", mask=m),
            frame(8, struct.pack("!H", 1000) + b"bye", mask=m),
            frame(8, b"", mask=m),
            frame(10, b"pong", mask=m),
            frame(2, b"x" * 70000, mask=m),
            frame(2, b"short", form=64, mask=m),
            frame(1, b"\xff", mask=m),
            frame(1, b"\xed\xa0\x80", mask=m),
            frame(2, b"", mask=m)[:2] + struct.pack("!Q", 1 << 62),
            b"\x82\xff" + struct.pack("!Q", 1 << 62) + b"\0\0\0\0",
            frame(9, b"p" * 126, form=16, mask=m),
            frame(8, struct.pack("!H", 1005), mask=m),
            frame(0, b"cont", mask=m),
            frame(2, b"abc", rsv=4, mask=m),
            frame(3, b"", mask=m),
        ]
        for s in streams:
            put("ws", bytes([opts, split]) + s)
    put("ws", bytes([0, 1]) + b"".join(
        frame(1, b"m%d" % i) for i in range(20)))


def utf8_seeds():
    for s in ["plain ascii", "κόσμε", "𝄞 clef", "\u07ff\u0800\uffff",
              "\U0010ffff"]:
        put("utf8", b"\x05" + s.encode())
    for b in [b"\xc0\x80", b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
              b"\xf0\x8f\xbf\xbf", b"\xf8\x88\x80\x80\x80", b"\xce", b"\xe2\x82",
              b"ab\xf0\x9f\x98", b"\x80", b"\xfe\xff"]:
        put("utf8", b"\x02" + b)


def rec(t, payload):
    return struct.pack("!BI", t, len(payload)) + payload


def framing_seeds():
    # options byte: %3: 0 line, 1 frame, 2 raw; bit2 binary; bits3-4 limit
    for opts in (0, 4, 8, 24):
        line = opts - opts % 3
        put("framing", bytes([line, 3]) + b"one\ntwo\r\nthree")
        put("framing", bytes([line, 1]) + b"a\r\r\n\r\nb\rc\n")
        put("framing", bytes([line, 2]) + "κόσμε\n".encode() + b"\xff\n")
        put("framing", bytes([line, 5]) + b"x" * 200 + b"\n")
        fr = line + 1
        put("framing", bytes([fr, 3]) + rec(1, b"text") + rec(2, b"\0\1\2")
            + rec(8, struct.pack("!H", 1000) + b"done"))
        put("framing", bytes([fr, 9]) + rec(1, b"\xff") + rec(2, b""))
        put("framing", bytes([fr, 1]) + rec(3, b"x") + rec(8, b"\x03"))
        put("framing", bytes([fr, 4]) + struct.pack("!BI", 2, 0xffffffff))
        put("framing", bytes([fr, 4]) + rec(8, struct.pack("!H", 1005)))
        raw = line + 2
        put("framing", bytes([raw, 6]) + "raw κόσμε bytes".encode())
        put("framing", bytes([raw, 6]) + b"\x00\xff\xce")


REQ = (b"GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\n"
       b"Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       b"Sec-WebSocket-Version: 13\r\n"
       b"Sec-WebSocket-Protocol: chat.v1, chat.v2\r\n"
       b"Origin: https://example.com\r\n\r\n")


def http_seeds():
    put("http", b"\x00" + REQ)
    put("http", b"\x07" + REQ.replace(b"/chat?x=1", b"/strict"))
    put("http", b"\x03" + REQ.replace(b"\r\n", b"\n"))
    put("http", b"\x01" + REQ.replace(b"GET", b"POST"))
    put("http", b"\x02" + REQ.replace(b"HTTP/1.1", b"HTTP/1.0"))
    put("http", b"\x04" + REQ.replace(b"13", b"8"))
    put("http", b"\x05" + b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    put("http", b"\x06" + b"GET / HTTP/2.0\r\n\r\n")
    put("http", b"\x08" + REQ[:-2] + b"".join(b"X-%d: v\r\n" % i
                                              for i in range(101)) + b"\r\n")
    put("http", b"\x09" + REQ.replace(b"Host:", b"Host :"))
    put("http", b"\x0a" + REQ.replace(b"Origin: https://example.com",
                                       b"Origin: https://evil.example"))
    put("http", b"\x0b" + b"GET /echo HTTP/1.1\r\n folded\r\n\r\n")
    # permessage-deflate offers (the /chat route has compression)
    ext = b"Sec-WebSocket-Extensions: "
    put("http", b"\x0c" + REQ[:-2] + ext + b"x-webkit-deflate-frame, "
        b"permessage-deflate; server_max_window_bits=8, permessage-deflate;"
        b" client_no_context_takeover; server_no_context_takeover; "
        b"server_max_window_bits=\"10\"; client_max_window_bits\r\n\r\n")
    put("http", b"\x0d" + REQ[:-2] + ext + b"permessage-deflate; a=\"b,c\""
        b"\r\n" + ext + b"permessage-deflate; client_max_window_bits=9"
        b"\r\n\r\n")


CONF = b"""# a full config
listen = ( { address = "127.0.0.1"; port = 8080; },
           { address = "::1"; port = 8443; },
           { unix = "/tmp/wsgate.sock"; mode = "0660"; } );
workers = 2;
limits = {
  handshake_timeout_ms = 5000;
  max_header_bytes = 8192;
  max_message_size = 1048576L;
  idle_timeout_ms = 0;
  ping_interval_ms = 30000;
  buffer_limit = 1048576;
  max_connections = 100;
  close_timeout_ms = 2000;
};
routes = (
  { path = "/echo"; backend = "/run/echo.sock"; framing = "line"; },
  { path = "/chat"; origins = [ "https://example.com" ];
    subprotocols = (
      { name = "chat.v2"; backend = "/run/v2.sock"; framing = "frame"; },
      { name = "chat.v1"; framing = "raw"; message_type = "text"; }
    );
    backend = "/run/legacy.sock";
  }
);
"""


def conf_seeds():
    put("conf", CONF)
    put("conf", b'listen = ( { address = "127.0.0.1"; port = 1; } );\n'
        b'routes = ( { path = "/"; backend = "/b"; } );\n')
    put("conf", b'listen = ( { port = 70000; } );\nroutes = ();\nbogus = 1;\n')
    put("conf", b'routes = ( { path = "x"; framing = "nope"; '
        b'subprotocols = ( { name = "a b"; } ); } );\n')
    put("conf", b'limits = { buffer_limit = -1; max_message_size = 1.5; };\n')
    put("conf", b'listen = ( { address = "127.0.0.1"; port = 8080; } ;\n')
    put("conf", b'@include "/nonexistent"\n')


if __name__ == "__main__":
    ws_seeds()
    utf8_seeds()
    framing_seeds()
    http_seeds()
    conf_seeds()
