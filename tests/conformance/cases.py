"""The conformance cases, by category, after the public descriptions of
the Autobahn|Testsuite fuzzing-client cases (numbered like them where
there is a counterpart), plus the opening handshake and RFC 7692.

Every case states its expected behaviour (Case.expectation()): the
messages echoed (through the frame-mode echo backend, so types,
boundaries and payloads must come back exactly), the pongs, the close
code the gateway sends, and that the gateway itself drops the TCP
connection after the close (RFC 6455 7.1.1: the server closes TCP first).
"""

import codecs
import functools
import os
import random
import struct
import zlib

from wsclient import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG,
                      OP_TEXT, RawClient, build_frame, close_payload,
                      parse_extensions)

SYNC_CLOSE = object()   # step: the close frame must arrive before going on

MIB = 1024 * 1024
MAX_MESSAGE = 16 * MIB

# Autobahn 6.x's sample: "kosme" in Greek, then a lone surrogate
KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"


class Case:
    """close: None -> after the messages the client closes with 1000 and
    expects 1000 back; ("echo", code) -> the steps close with code (None:
    an empty close) and expect it echoed; an int -> the gateway fails the
    connection with that code."""

    def __init__(self, cid, cat, desc, steps=(), msgs=(), pongs=(),
                 close=None, lossy=False, chop="whole", delay=0.0,
                 path="/echo", gate="main", offer=None, need_pmd=False,
                 timeout=20.0, settle=0.03, check=None, custom=None,
                 expect=None):
        self.cid, self.cat, self.desc = cid, cat, desc
        self.steps, self.msgs, self.pongs = steps, msgs, list(pongs)
        self.close, self.lossy, self.chop = close, lossy, chop
        self.delay, self.path, self.gate = delay, path, gate
        self.offer, self.need_pmd = offer, need_pmd
        self.timeout, self.settle = timeout, settle
        self.check, self.custom, self.expect = check, custom, expect

    def close_code(self):
        if self.close is None:
            return 1000
        if isinstance(self.close, tuple):
            return self.close[1]
        return self.close

    def expectation(self):
        if self.expect:
            return self.expect
        parts = []
        if callable(self.msgs):
            parts.append("the messages echoed exactly")
        elif self.msgs:
            parts.append("echo of %s%s" % (
                ", ".join("%s(%d)" % ("text" if op == OP_TEXT else "binary",
                                      len(p)) for op, p in self.msgs[:4]),
                " ... (%d messages)" % len(self.msgs)
                if len(self.msgs) > 4 else ""))
            if self.lossy:
                parts[-1] += " (may be lost to the close)"
        else:
            parts.append("no message echoed")
        parts.append("%d pong(s)" % len(self.pongs) if self.pongs
                     else "no pong")
        if self.close is None:
            parts.append("clean close 1000 when the client closes")
        elif isinstance(self.close, tuple):
            parts.append("close %s echoed" % (self.close[1] if
                                              self.close[1] is not None
                                              else "(empty)"))
        else:
            parts.append("gateway fails the connection with %d"
                         % self.close)
        parts.append("gateway drops TCP")
        return "; ".join(parts)


def T(s):
    return (OP_TEXT, s.encode() if isinstance(s, str) else s)


def B(b):
    return (OP_BINARY, b)


@functools.lru_cache(maxsize=64)
def _text_block(seed):
    """64 KiB of valid UTF-8 words, ending on a code point boundary."""
    rnd = random.Random(seed)
    words = [b"lorem", b"ipsum", b"dolor", b"sit", b"amet", b"gateway",
             b"frame", KOSME]
    out = bytearray()
    while len(out) < 65536 - 16:
        out += rnd.choice(words) + b" "
    return bytes(out)


@functools.lru_cache(maxsize=16)
def text_payload(n, seed=0):
    """n bytes of valid UTF-8 text (deterministic for n and seed)."""
    block = _text_block(seed % 8)
    start = seed * 7919 % 4096
    while 0x80 <= block[start] < 0xc0:     # not inside a code point
        start += 1
    out = (block * (n // len(block) + 2))[start:start + n]
    # never end inside a code point: cut it off, pad with dots
    cut = out
    while True:
        try:
            cut.decode("utf-8")
            break
        except UnicodeDecodeError:
            cut = cut[:-1]
    return cut + b"." * (n - len(cut))


@functools.lru_cache(maxsize=16)
def bin_payload(n, seed=1):
    """n pseudo-random bytes (deterministic for n and seed)."""
    rnd = random.Random(seed)
    if n <= 1 << 16:
        return rnd.randbytes(n)
    block = rnd.randbytes(1 << 16)
    return (block * (n // len(block) + 1))[:n]


def frames(*specs):
    """build_frame for each (opcode, payload[, fin[, rsv]])."""
    out = []
    for s in specs:
        op, p = s[0], s[1]
        fin = s[2] if len(s) > 2 else True
        rsv = s[3] if len(s) > 3 else 0
        out.append(build_frame(op, p, fin=fin, rsv=rsv))
    return out


def fragments(op, payload, size):
    out = []
    if not payload:
        return [build_frame(op, b"")]
    for i in range(0, len(payload), size):
        out.append(build_frame(op if i == 0 else OP_CONT,
                               payload[i:i + size],
                               fin=i + size >= len(payload)))
    return out


def close_frame(code=None, reason=b"", **kw):
    return build_frame(OP_CLOSE, close_payload(code, reason), **kw)


# ---------------------------------------------------------------------------
# 1 Framing

def framing_cases():
    out = []
    sizes = [0, 125, 126, 127, 128, 65535, 65536]
    for k, (op, mk, name) in enumerate([(OP_TEXT, text_payload, "text"),
                                        (OP_BINARY, bin_payload,
                                         "binary")]):
        for i, n in enumerate(sizes):
            p = mk(n)
            out.append(Case("1.%d.%d" % (k + 1, i + 1), "framing",
                            "%s message, payload %d bytes" % (name, n),
                            [build_frame(op, p)], msgs=[(op, p)]))
        p = mk(65536)
        out.append(Case("1.%d.8" % (k + 1), "framing",
                        "%s message, payload 65536 bytes, sent in chops of "
                        "997 bytes" % name,
                        [build_frame(op, p)], msgs=[(op, p)], chop=997))
        p = mk(300)
        out.append(Case("1.%d.9" % (k + 1), "framing",
                        "%s message of 300 bytes, sent byte by byte" % name,
                        [build_frame(op, p)], msgs=[(op, p)], chop="octet"))
    # header rules the gateway enforces (RFC 6455 5.1, 5.2)
    out += [
        Case("1.3.1", "framing", "unmasked client text frame",
             [build_frame(OP_TEXT, b"hi", mask=False)], close=1002),
        Case("1.3.2", "framing",
             "16-bit length form for a 5-byte payload (not minimal)",
             [build_frame(OP_TEXT, b"hello", length_form=16)], close=1002),
        Case("1.3.3", "framing",
             "64-bit length form for a 200-byte payload (not minimal)",
             [build_frame(OP_BINARY, b"x" * 200, length_form=64)],
             close=1002),
        Case("1.3.4", "framing",
             "64-bit length with the most significant bit set",
             [b"\x82\xff\x80\x00\x00\x00\x00\x00\x00\x01"], close=1002),
        Case("1.3.5", "framing",
             "two messages in one TCP segment, then one split across three",
             lambda c: [b"".join(frames((OP_TEXT, b"one"),
                                        (OP_BINARY, b"\x00two")))] +
             [b"\x81", b"\x85" + b"\x00" * 4 + b"th", b"ree"],
             msgs=[T("one"), B(b"\x00two"), T("three")], chop="frame",
             delay=0.01),
    ]
    return out


# ---------------------------------------------------------------------------
# 2 Pings and pongs

def ping_cases():
    bin_small = bytes(range(0, 256, 8))
    p125 = b"\xfe" * 125
    out = [
        Case("2.1", "pings", "ping without payload",
             frames((OP_PING, b"")), pongs=[b""]),
        Case("2.2", "pings", "ping with a small text payload",
             frames((OP_PING, b"Hello, world!")), pongs=[b"Hello, world!"]),
        Case("2.3", "pings", "ping with a small binary payload",
             frames((OP_PING, bin_small)), pongs=[bin_small]),
        Case("2.4", "pings", "ping with a 125-byte binary payload",
             frames((OP_PING, p125)), pongs=[p125]),
        Case("2.5", "pings", "ping with a 126-byte payload (over 125)",
             frames((OP_PING, b"\xfe" * 126)), close=1002),
        Case("2.6", "pings", "ping of 125 bytes sent byte by byte",
             frames((OP_PING, p125)), pongs=[p125], chop="octet"),
        Case("2.7", "pings", "unsolicited pong without payload",
             frames((OP_PONG, b"")), settle=0.2),
        Case("2.8", "pings", "unsolicited pong with a payload",
             frames((OP_PONG, b"unsolicited pong payload")), settle=0.2),
        Case("2.9", "pings", "unsolicited pong, then a ping",
             frames((OP_PONG, b"unsolicited"), (OP_PING, b"solicited")),
             pongs=[b"solicited"], settle=0.2),
        Case("2.10", "pings", "10 pings, answered in order",
             [build_frame(OP_PING, b"ping %d" % i) for i in range(10)],
             pongs=[b"ping %d" % i for i in range(10)]),
        Case("2.11", "pings", "10 pings sent frame by frame",
             [build_frame(OP_PING, b"ping %d" % i) for i in range(10)],
             pongs=[b"ping %d" % i for i in range(10)], chop="frame",
             delay=0.005),
    ]
    return out


# ---------------------------------------------------------------------------
# 3 Reserved bits (no extension negotiated on /echo)

def rsv_cases():
    hello = b"Hello, world!"
    return [
        Case("3.1", "reserved bits", "text message with RSV = 1",
             frames((OP_TEXT, hello, True, 1)), close=1002),
        Case("3.2", "reserved bits",
             "text message, then text with RSV = 2, then a ping",
             frames((OP_TEXT, hello), (OP_TEXT, hello, True, 2),
                    (OP_PING, b"")), msgs=[T(hello)], lossy=True,
             close=1002),
        Case("3.3", "reserved bits",
             "as 3.2 with RSV = 3, sent frame by frame",
             frames((OP_TEXT, hello), (OP_TEXT, hello, True, 3),
                    (OP_PING, b"")), msgs=[T(hello)], lossy=True,
             close=1002, chop="frame"),
        Case("3.4", "reserved bits",
             "as 3.2 with RSV = 4 (RSV1, no extension), byte by byte",
             frames((OP_TEXT, hello), (OP_TEXT, hello, True, 4),
                    (OP_PING, b"")), msgs=[T(hello)], lossy=True,
             close=1002, chop="octet"),
        Case("3.5", "reserved bits", "binary message with RSV = 5",
             frames((OP_BINARY, bytes(range(16)), True, 5)), close=1002),
        Case("3.6", "reserved bits", "ping with RSV = 6",
             frames((OP_PING, hello, True, 6)), close=1002),
        Case("3.7", "reserved bits", "close with RSV = 7",
             [close_frame(1000, rsv=7)], close=1002),
    ]


# ---------------------------------------------------------------------------
# 4 Opcodes

def opcode_cases():
    out = []
    hello = b"Hello, world!"
    for i, op in enumerate([3, 4, 5, 6, 7]):
        if i < 2:
            steps = frames((op, b"" if i == 0 else b"reserved"))
            msgs, lossy = [], False
        else:
            steps = frames((OP_TEXT, hello), (op, b"" if i % 2 else b"x"),
                           (OP_PING, b""))
            msgs, lossy = [T(hello)], True
        out.append(Case("4.1.%d" % (i + 1), "opcodes",
                        "reserved non-control opcode %d%s" % (
                            op, " after a text message, then a ping"
                            if i >= 2 else ""), steps, msgs=msgs,
                        lossy=lossy, close=1002,
                        chop="octet" if i == 4 else "whole"))
    for i, op in enumerate([11, 12, 13, 14, 15]):
        if i < 2:
            steps = frames((op, b"" if i == 0 else b"reserved"))
            msgs, lossy = [], False
        else:
            steps = frames((OP_TEXT, hello), (op, b"" if i % 2 else b"x"),
                           (OP_PING, b""))
            msgs, lossy = [T(hello)], True
        out.append(Case("4.2.%d" % (i + 1), "opcodes",
                        "reserved control opcode %d%s" % (
                            op, " after a text message, then a ping"
                            if i >= 2 else ""), steps, msgs=msgs,
                        lossy=lossy, close=1002,
                        chop="octet" if i == 4 else "whole"))
    return out


# ---------------------------------------------------------------------------
# 5 Fragmentation

def frag_cases():
    f1, f2 = b"fragment1", b"fragment2"
    both = f1 + f2
    two = frames((OP_TEXT, f1, False), (OP_CONT, f2, True))
    with_ping = frames((OP_TEXT, f1, False), (OP_PING, b"ping"),
                       (OP_CONT, f2, True))
    cont_fin = frames((OP_CONT, f1, True), (OP_TEXT, f2),
                      (OP_CONT, f1, True))
    cont_nofin = frames((OP_CONT, f1, False), (OP_TEXT, f2),
                        (OP_CONT, f1, True))
    out = [
        Case("5.1", "fragmentation", "ping in 2 fragments",
             frames((OP_PING, f1, False), (OP_CONT, f2, True)), close=1002),
        Case("5.2", "fragmentation", "pong in 2 fragments",
             frames((OP_PONG, f1, False), (OP_CONT, f2, True)), close=1002),
        Case("5.3", "fragmentation", "text message in 2 fragments",
             two, msgs=[T(both)]),
        Case("5.4", "fragmentation", "as 5.3, frame by frame",
             two, msgs=[T(both)], chop="frame", delay=0.01),
        Case("5.5", "fragmentation", "as 5.3, byte by byte",
             two, msgs=[T(both)], chop="octet"),
        Case("5.6", "fragmentation",
             "text in 2 fragments with a ping in between",
             with_ping, msgs=[T(both)], pongs=[b"ping"]),
        Case("5.7", "fragmentation", "as 5.6, frame by frame",
             with_ping, msgs=[T(both)], pongs=[b"ping"], chop="frame",
             delay=0.01),
        Case("5.8", "fragmentation", "as 5.6, byte by byte",
             with_ping, msgs=[T(both)], pongs=[b"ping"], chop="octet"),
        Case("5.9", "fragmentation",
             "continuation (FIN) without a message, then text, then "
             "continuation", cont_fin, close=1002),
        Case("5.10", "fragmentation", "as 5.9, frame by frame",
             cont_fin, close=1002, chop="frame"),
        Case("5.11", "fragmentation", "as 5.9, byte by byte",
             cont_fin, close=1002, chop="octet"),
        Case("5.12", "fragmentation",
             "continuation (no FIN) without a message, then text, then "
             "continuation", cont_nofin, close=1002),
        Case("5.13", "fragmentation", "as 5.12, frame by frame",
             cont_nofin, close=1002, chop="frame"),
        Case("5.14", "fragmentation", "as 5.12, byte by byte",
             cont_nofin, close=1002, chop="octet"),
        Case("5.15", "fragmentation",
             "text in 2 fragments, then continuation (no FIN) and "
             "continuation (FIN) without a message",
             frames((OP_TEXT, f1, False), (OP_CONT, f2, True),
                    (OP_CONT, f1, False), (OP_CONT, f2, True)),
             msgs=[T(both)], lossy=True, close=1002),
        Case("5.16", "fragmentation",
             "twice: continuation without a message, then a fragmented "
             "text", frames((OP_CONT, f1, False), (OP_TEXT, f2, False),
                            (OP_CONT, f1, True)) * 2, close=1002),
        Case("5.17", "fragmentation",
             "twice: continuation (FIN) without a message, then a "
             "fragmented text", frames((OP_CONT, f1, True),
                                       (OP_TEXT, f2, False),
                                       (OP_CONT, f1, True)) * 2,
             close=1002),
        Case("5.18", "fragmentation",
             "text fragment (no FIN), then another text frame (FIN)",
             frames((OP_TEXT, f1, False), (OP_TEXT, f2, True)), close=1002),
        Case("5.19", "fragmentation",
             "text in 5 fragments with pings in between, frame by frame",
             frames((OP_TEXT, b"a", False), (OP_CONT, b"b", False),
                    (OP_PING, b"p1"), (OP_CONT, b"c", False),
                    (OP_CONT, b"d", False), (OP_PING, b"p2"),
                    (OP_CONT, b"e", True)),
             msgs=[T(b"abcde")], pongs=[b"p1", b"p2"], chop="frame",
             delay=0.01),
        Case("5.20", "fragmentation",
             "as 5.19, sent whole", frames(
                 (OP_TEXT, b"a", False), (OP_CONT, b"b", False),
                 (OP_PING, b"p1"), (OP_CONT, b"c", False),
                 (OP_CONT, b"d", False), (OP_PING, b"p2"),
                 (OP_CONT, b"e", True)),
             msgs=[T(b"abcde")], pongs=[b"p1", b"p2"]),
        Case("5.21", "fragmentation", "empty fragments: text '' + '' + ''",
             frames((OP_TEXT, b"", False), (OP_CONT, b"", False),
                    (OP_CONT, b"", True)), msgs=[T(b"")]),
        Case("5.22", "fragmentation",
             "binary with empty first and last fragments",
             frames((OP_BINARY, b"", False), (OP_CONT, b"\x00\x01", False),
                    (OP_CONT, b"", True)), msgs=[B(b"\x00\x01")]),
        Case("5.23", "fragmentation",
             "close frame between two fragments of a message",
             frames((OP_TEXT, f1, False)) + [close_frame(1000)] +
             frames((OP_CONT, f2, True)), close=("echo", 1000)),
        Case("5.24", "fragmentation",
             "binary in 1000 one-byte fragments",
             fragments(OP_BINARY, bytes(range(250)) * 4, 1),
             msgs=[B(bytes(range(250)) * 4)]),
    ]
    return out


# ---------------------------------------------------------------------------
# 6 UTF-8 handling

def first_bad(b):
    """Bytes up to and including the first one that proves b invalid
    UTF-8 (None if every prefix could still become valid)."""
    for k in range(1, len(b) + 1):
        d = codecs.getincrementaldecoder("utf-8")()
        try:
            d.decode(b[:k], final=False)
        except UnicodeDecodeError:
            return k
    return None


def utf8_vectors():
    """(name, bytes) for Markus Kuhn's decoder test and Autobahn 6.x;
    validity is decided by Python's strict decoder (which follows RFC 3629
    exactly: no surrogates, no overlongs, nothing over U+10FFFF)."""
    v = [
        ("empty", b""),
        ("ASCII", b"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0"
                  b"\xc3\xa1-UTF-8!!"),
        ("kosme", KOSME),
        ("U+0000", b"\x00"),
        ("first 2-byte U+0080", b"\xc2\x80"),
        ("first 3-byte U+0800", b"\xe0\xa0\x80"),
        ("first 4-byte U+10000", b"\xf0\x90\x80\x80"),
        ("last 1-byte U+007F", b"\x7f"),
        ("last 2-byte U+07FF", b"\xdf\xbf"),
        ("last 3-byte U+FFFF", b"\xef\xbf\xbf"),
        ("last U+10FFFF", b"\xf4\x8f\xbf\xbf"),
        ("U+D7FF", b"\xed\x9f\xbf"),
        ("U+E000", b"\xee\x80\x80"),
        ("U+FFFD", b"\xef\xbf\xbd"),
        ("U+FFFE", b"\xef\xbf\xbe"),
        ("U+1FFFF", b"\xf0\x9f\xbf\xbf"),
        ("U+10FFFE", b"\xf4\x8f\xbf\xbe"),
        ("above U+10FFFF", b"\xf4\x90\x80\x80"),
        ("F7 BF BF BF", b"\xf7\xbf\xbf\xbf"),
        ("5-byte F8", b"\xf8\x88\x80\x80\x80"),
        ("6-byte FC", b"\xfc\x84\x80\x80\x80\x80"),
        ("lone 80", b"\x80"),
        ("lone BF", b"\xbf"),
        ("80 BF", b"\x80\xbf"),
        ("80 BF 80 BF 80 BF 80", b"\x80\xbf\x80\xbf\x80\xbf\x80"),
        ("all continuation bytes", bytes(range(0x80, 0xc0))),
        ("lone C0 + space", b"\xc0 "),
        ("lone DF + space", b"\xdf "),
        ("lone E0 + space", b"\xe0 "),
        ("lone EF + space", b"\xef "),
        ("lone F0 + space", b"\xf0 "),
        ("lone F7 + space", b"\xf7 "),
        ("lone F8 + space", b"\xf8 "),
        ("lone FC + space", b"\xfc "),
        ("C2 without continuation at end", b"\xc2"),
        ("E0 A0 at end", b"\xe0\xa0"),
        ("F0 90 80 at end", b"\xf0\x90\x80"),
        ("DF at end", b"\xdf"),
        ("EF BF at end", b"\xef\xbf"),
        ("F4 8F BF at end", b"\xf4\x8f\xbf"),
        ("truncated sequences concatenated",
         b"\xc2\xe0\xa0\xf0\x90\x80\xdf\xef\xbf\xf4\x8f\xbf"),
        ("FE", b"\xfe"),
        ("FF", b"\xff"),
        ("FE FE FF FF", b"\xfe\xfe\xff\xff"),
        ("overlong / C0 AF", b"\xc0\xaf"),
        ("overlong / E0 80 AF", b"\xe0\x80\xaf"),
        ("overlong / F0 80 80 AF", b"\xf0\x80\x80\xaf"),
        ("overlong / F8 80 80 80 AF", b"\xf8\x80\x80\x80\xaf"),
        ("max overlong C1 BF", b"\xc1\xbf"),
        ("max overlong E0 9F BF", b"\xe0\x9f\xbf"),
        ("max overlong F0 8F BF BF", b"\xf0\x8f\xbf\xbf"),
        ("overlong NUL C0 80", b"\xc0\x80"),
        ("overlong NUL E0 80 80", b"\xe0\x80\x80"),
        ("overlong NUL F0 80 80 80", b"\xf0\x80\x80\x80"),
        ("surrogate U+D800", b"\xed\xa0\x80"),
        ("surrogate U+DB7F", b"\xed\xad\xbf"),
        ("surrogate U+DB80", b"\xed\xae\x80"),
        ("surrogate U+DBFF", b"\xed\xaf\xbf"),
        ("surrogate U+DC00", b"\xed\xb0\x80"),
        ("surrogate U+DF80", b"\xed\xbe\x80"),
        ("surrogate U+DFFF", b"\xed\xbf\xbf"),
        ("surrogate pair D800 DC00", b"\xed\xa0\x80\xed\xb0\x80"),
        ("surrogate pair DBFF DFFF", b"\xed\xaf\xbf\xed\xbf\xbf"),
        ("kosme + U+D800 + 'edited'", KOSME + b"\xed\xa0\x80edited"),
        ("valid, then F4 90 in the middle",
         b"valid text " * 3 + b"\xf4\x90\x80\x80" + b" more text"),
    ]
    return v


def utf8_cases():
    out = []
    n = 0
    for name, data in utf8_vectors():
        try:
            data.decode("utf-8")
            valid = True
        except UnicodeDecodeError:
            valid = False
        k = None if valid else first_bad(data)
        for mode in ("whole", "per frame", "byte by byte"):
            n += 1
            cid = "6.%d" % n
            desc = "%s %s: %s" % ("valid" if valid else "invalid", mode,
                                  name)
            if mode == "per frame":
                # one frame per byte; fail fast: the close must come
                # right after the frame with the first bad byte
                fr = fragments(OP_TEXT, data, 1)
                if k is not None:
                    steps = fr[:k] + [SYNC_CLOSE] + fr[k:]
                else:
                    steps = fr
                chop = "frame"
            elif mode == "byte by byte":
                # one frame, its bytes sent one at a time
                f = build_frame(OP_TEXT, data)
                hdr = len(f) - len(data)
                if k is not None:
                    steps = [f[:hdr + k], SYNC_CLOSE, f[hdr + k:]]
                else:
                    steps = [f]
                chop = "octet"
            else:
                steps = [build_frame(OP_TEXT, data)]
                chop = "whole"
            out.append(Case(cid, "utf-8", desc, steps,
                            msgs=[T(data)] if valid else [],
                            close=None if valid else 1007, chop=chop))
    # Autobahn 6.4.x: fail fast with the rest of the message held back
    big = b"x" * 4000
    out += [
        Case("6.4.1", "utf-8",
             "3 fragments: valid, invalid code point, valid; the close "
             "must come before fragment 3",
             frames((OP_TEXT, KOSME, False),
                    (OP_CONT, b"\xf4\x90\x80\x80", False)) +
             [SYNC_CLOSE] + frames((OP_CONT, b"edited", True)),
             close=1007, chop="frame"),
        Case("6.4.2", "utf-8",
             "3 fragments, the 2nd starting with the bad byte",
             frames((OP_TEXT, KOSME + b"\xf4", False),
                    (OP_CONT, b"\x90\x80\x80", False)) +
             [SYNC_CLOSE] + frames((OP_CONT, b"edited", True)),
             close=1007, chop="frame"),
        Case("6.4.3", "utf-8",
             "one frame of 4 KiB sent in 3 chops; the bad byte in chop 2; "
             "the close must come before chop 3",
             lambda c: split_frame(build_frame(
                 OP_TEXT, KOSME + b"\xf4\x90\x80\x80" + big),
                 len(KOSME) - 2, len(KOSME) + 2),
             close=1007, chop="frame"),
        Case("6.4.4", "utf-8",
             "as 6.4.3, the bad byte alone in chop 2",
             lambda c: split_frame(build_frame(
                 OP_TEXT, KOSME + b"\xf4\x90\x80\x80" + big),
                 len(KOSME) + 1, len(KOSME) + 2),
             close=1007, chop="frame"),
        Case("6.4.5", "utf-8",
             "1 MiB text frame with a bad byte in its first KiB: the "
             "close comes before the rest is sent",
             lambda c: split_frame(build_frame(
                 OP_TEXT, b"a" * 1000 + b"\xff" + b"b" * (MIB - 1001)),
                 0, 1001 + 10),
             close=1007, chop="frame"),
        Case("6.5.1", "utf-8", "text split inside a code point across "
             "fragments (valid)",
             frames((OP_TEXT, KOSME[:3], False), (OP_CONT, KOSME[3:6],
                                                  False),
                    (OP_CONT, KOSME[6:], True)), msgs=[T(KOSME)]),
        Case("6.5.2", "utf-8", "text ending inside a code point, the "
             "last fragment empty", frames((OP_TEXT, b"ab\xe2\x82", False),
                                           (OP_CONT, b"", True)),
             close=1007),
    ]
    return out


def hdr_len(f):
    """Header length of the masked client frame f."""
    n = f[1] & 0x7f
    return 2 + (2 if n == 126 else 8 if n == 127 else 0) + 4


def split_frame(f, a, b):
    """Frame f cut into [header+payload[:a]], [payload[a:b]], SYNC, rest,
    where a and b count payload bytes."""
    hdr = hdr_len(f)
    return [f[:hdr + a], f[hdr + a:hdr + b], SYNC_CLOSE, f[hdr + b:]]


# ---------------------------------------------------------------------------
# 7 Close handling

def close_cases():
    hello = b"Hello World!"
    out = [
        Case("7.1.1", "close", "message, then close (sent together)",
             frames((OP_TEXT, hello)) + [close_frame(1000)],
             msgs=[T(hello)], lossy=True, close=("echo", 1000)),
        Case("7.1.2", "close", "close twice",
             [close_frame(1000), close_frame(1000)], close=("echo", 1000)),
        Case("7.1.3", "close", "close, then a ping (no pong)",
             [close_frame(1000)] + frames((OP_PING, b"late")),
             close=("echo", 1000)),
        Case("7.1.4", "close", "close, then a text message (no echo)",
             [close_frame(1000)] + frames((OP_TEXT, hello)),
             close=("echo", 1000)),
        Case("7.1.5", "close", "fragment 1, close, fragment 2",
             frames((OP_TEXT, b"frag1", False)) + [close_frame(1000)] +
             frames((OP_CONT, b"frag2", True)), close=("echo", 1000)),
        Case("7.1.6", "close",
             "256 KiB text, a text, close, then a ping",
             lambda c: frames((OP_TEXT, text_payload(256 * 1024)),
                              (OP_TEXT, hello)) + [close_frame(1000)] +
             frames((OP_PING, b"")),
             msgs=lambda c: [T(text_payload(256 * 1024)), T(hello)],
             lossy=True, close=("echo", 1000)),
        Case("7.1.7", "close", "data after close: the gateway drops TCP "
             "while the client still writes",
             [close_frame(1000)] + frames((OP_BINARY, b"\x00" * 4096)) * 8,
             close=("echo", 1000)),
        Case("7.3.1", "close", "close with an empty payload",
             [close_frame(None)], close=("echo", None)),
        Case("7.3.2", "close", "close with a 1-byte payload",
             [build_frame(OP_CLOSE, b"\x03")], close=1002),
        Case("7.3.3", "close", "close with code 1000 and no reason",
             [close_frame(1000)], close=("echo", 1000)),
        Case("7.3.4", "close", "close with code 1000 and a reason",
             [close_frame(1000, b"Hello World!")], close=("echo", 1000)),
        Case("7.3.5", "close", "close with a 123-byte reason (125 in all)",
             [close_frame(1000, b"*" * 123)], close=("echo", 1000)),
        Case("7.3.6", "close", "close with a 124-byte reason (126 in all)",
             [close_frame(1000, b"*" * 124)], close=1002),
        Case("7.5.1", "close", "close reason that is not UTF-8",
             [close_frame(1000, KOSME + b"\xed\xa0\x80edited")],
             close=1007),
        Case("7.5.2", "close", "close reason ending inside a code point",
             [close_frame(1000, KOSME[:-1])], close=1007),
        Case("7.5.3", "close", "close reason with every kind of valid "
             "UTF-8", [close_frame(1001, KOSME + b"\xf4\x8f\xbf\xbf\x00")],
             close=("echo", 1001)),
        Case("7.5.4", "close", "close sent byte by byte",
             [close_frame(1000, b"bye")], close=("echo", 1000),
             chop="octet"),
    ]
    valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000,
             3999, 4000, 4999]
    for i, code in enumerate(valid):
        out.append(Case("7.7.%d" % (i + 1), "close",
                        "close with valid code %d" % code,
                        [close_frame(code)], close=("echo", code)))
    # 1012-1014 were registered with IANA after RFC 6455; wsgated
    # accepts only the codes RFC 6455 defines (and 3000-4999).
    invalid = [0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016,
               1100, 2000, 2999]
    for i, code in enumerate(invalid):
        out.append(Case("7.9.%d" % (i + 1), "close",
                        "close with invalid code %d" % code,
                        [close_frame(code)], close=1002))
    out.append(Case("7.11.1", "close", "every close code 0-4999 and "
                    "5000-65535 in steps of 97, each on its own "
                    "connection (pipelined behind the upgrade)",
                    custom=every_close_code,
                    expect="valid codes (1000-1003, 1007-1011, "
                    "3000-4999) echoed, all others failed with 1002; "
                    "gateway drops TCP each time"))
    out += [
        Case("7.13.1", "close", "close with code 5000",
             [close_frame(5000)], close=1002),
        Case("7.13.2", "close", "close with code 65535",
             [close_frame(65535)], close=1002),
    ]
    return out


def every_close_code(suite):
    from harness import upgrade_request
    from wsclient import parse_close

    def valid(c):
        return 1000 <= c <= 1003 or 1007 <= c <= 1011 or 3000 <= c <= 4999

    codes = list(range(5000)) + list(range(5000, 65536, 97)) + [65535]
    bad = []
    for i in range(0, len(codes), 100):
        batch = []
        for code in codes[i:i + 100]:
            c = RawClient(suite.port())
            c.send(upgrade_request("/echo") + close_frame(code))
            batch.append((code, c))
        for code, c in batch:
            try:
                r = c.read_response()
                if r.status != 101:
                    bad.append((code, "status %d" % r.status))
                    continue
                got = c.recv_close()[0]
                want = code if valid(code) else 1002
                if got != want:
                    bad.append((code, "close %r" % (got,)))
                elif not c.wait_closed(3.0):
                    bad.append((code, "TCP left open"))
            finally:
                c.close()
    if bad:
        raise AssertionError("%d codes wrong, first: %r" % (len(bad),
                                                             bad[:5]))


# ---------------------------------------------------------------------------
# 9 Limits and performance

def limit_cases():
    out = []
    sizes = [64 * 1024, 256 * 1024, MIB, 4 * MIB, 8 * MIB, 16 * MIB]
    for k, (op, mk, name) in enumerate([(OP_TEXT, text_payload, "text"),
                                        (OP_BINARY, bin_payload,
                                         "binary")]):
        for i, n in enumerate(sizes):
            out.append(Case(
                "9.%d.%d" % (k + 1, i + 1), "limits",
                "%s message of %d bytes%s" % (
                    name, n, " (= max_message_size)" if n == MAX_MESSAGE
                    else ""),
                (lambda op, mk, n: lambda c: [build_frame(op, mk(n))])(
                    op, mk, n),
                msgs=(lambda op, mk, n: lambda c: [(op, mk(n))])(op, mk, n),
                timeout=60))
    frags = [64, 256, 1024, 4096, 16384, 65536, 262144, MIB, 4 * MIB]
    for k, (op, mk, name) in enumerate([(OP_TEXT, text_payload, "text"),
                                        (OP_BINARY, bin_payload,
                                         "binary")]):
        for i, fs in enumerate(frags):
            n = 4 * MIB if fs >= 1024 else MIB
            out.append(Case(
                "9.%d.%d" % (k + 3, i + 1), "limits",
                "%s message of %d bytes in fragments of %d" % (name, n, fs),
                (lambda op, mk, n, fs: lambda c: fragments(op, mk(n), fs))(
                    op, mk, n, fs),
                msgs=(lambda op, mk, n: lambda c: [(op, mk(n))])(op, mk, n),
                timeout=60))
    for k, (op, mk, name) in enumerate([(OP_TEXT, text_payload, "text"),
                                        (OP_BINARY, bin_payload,
                                         "binary")]):
        for i, chop in enumerate([64, 128, 256, 512, 1024, 2048]):
            out.append(Case(
                "9.%d.%d" % (k + 5, i + 1), "limits",
                "%s message of 1 MiB sent in chops of %d bytes"
                % (name, chop),
                (lambda op, mk: lambda c: [build_frame(op, mk(MIB))])(op,
                                                                      mk),
                msgs=(lambda op, mk: lambda c: [(op, mk(MIB))])(op, mk),
                chop=chop, timeout=60))
    for k, (op, mk, name) in enumerate([(OP_TEXT, text_payload, "text"),
                                        (OP_BINARY, bin_payload,
                                         "binary")]):
        for i, n in enumerate([0, 16, 64, 256, 1024, 4096]):
            out.append(Case(
                "9.%d.%d" % (k + 7, i + 1), "limits",
                "1000 %s messages of %d bytes, each waiting for its echo"
                % (name, n),
                (lambda op, mk, n: lambda c: sum(
                    ([build_frame(op, mk(n, j)), ("wait_msgs", j + 1)]
                     for j in range(1000)), []))(op, mk, n),
                msgs=(lambda op, mk, n: lambda c: [(op, mk(n, j))
                                                   for j in range(1000)])(
                    op, mk, n), timeout=60))
    out += [
        Case("9.9.1", "limits",
             "10000 small messages in one burst (many small frames)",
             [b"".join(build_frame(OP_BINARY, struct.pack("!I", j))
                       for j in range(10000))],
             msgs=[B(struct.pack("!I", j)) for j in range(10000)],
             timeout=60),
        Case("9.9.2", "limits",
             "header of a message 1 byte over max_message_size: the "
             "close comes before any payload is sent",
             [build_frame(OP_BINARY, b"", length_form=64)[:2] +
              struct.pack("!Q", MAX_MESSAGE + 1) + b"\x00" * 4,
              SYNC_CLOSE, b"\x00" * 65536], close=1009, chop="frame"),
        Case("9.9.3", "limits",
             "fragments adding up to 1 byte over max_message_size",
             lambda c: [build_frame(OP_BINARY, b"\x00" * (8 * MIB),
                                    fin=False, mask_key=b"\0\0\0\0"),
                        build_frame(OP_CONT, b"", length_form=64)[:2] +
                        struct.pack("!Q", 8 * MIB + 1) + b"\x00" * 4,
                        SYNC_CLOSE],
             close=1009, chop="frame", timeout=60),
    ]
    return out


# ---------------------------------------------------------------------------
# Opening handshake (RFC 6455 4.2)

def handshake_cases():
    def raw_req(port, data):
        c = RawClient(port)
        c.send(data)
        return c

    def expect_refusal(suite, status, header=None, **kw):
        from harness import upgrade_request
        path = kw.pop("path", "/echo")
        c = raw_req(suite.port(), upgrade_request(path, **kw))
        try:
            r = c.read_response()
            if r.status != status:
                raise AssertionError("status %d, expected %d"
                                     % (r.status, status))
            if not r.has_token("connection", "close"):
                raise AssertionError("refusal without Connection: close")
            if header and not r.header(header[0]) == header[1]:
                raise AssertionError("no %s: %s in %r" % (header[0],
                                                          header[1], r))
            if not c.wait_closed(3.0):
                raise AssertionError("gateway kept the connection open "
                                     "after %d" % status)
        finally:
            c.close()

    def expect_ok(suite, path="/echo", check=None, **kw):
        from harness import upgrade_request, accept_for, ws_key
        key = ws_key()
        data = kw.pop("data", None)
        c = raw_req(suite.port(), data(key) if data else
                    upgrade_request(path, key=key, **kw))
        try:
            r = c.read_response()
            if r.status != 101:
                raise AssertionError("status %d, expected 101: %r"
                                     % (r.status, r))
            if r.header("sec-websocket-accept") != accept_for(key):
                raise AssertionError("bad Sec-WebSocket-Accept")
            if not r.has_token("upgrade", "websocket") or \
                    not r.has_token("connection", "upgrade"):
                raise AssertionError("101 without Upgrade/Connection")
            if check:
                check(r, c)
            c.send(build_frame(OP_TEXT, b"after handshake"))
            fin, rsv, op, p = c.recv_frame()
            if (op, p) != (OP_TEXT, b"after handshake"):
                raise AssertionError("no echo after the handshake")
        finally:
            c.close()

    def no_ext(r, c):
        if r.header("sec-websocket-extensions") is not None:
            raise AssertionError("extension agreed on a route without "
                                 "compression: %r" % r)
        if r.header("sec-websocket-protocol") is not None:
            raise AssertionError("subprotocol echoed though none offered")

    def pipelined(key):
        from harness import upgrade_request
        return upgrade_request("/echo", key=key) + build_frame(
            OP_PING, b"pipelined")

    def check_pipelined(r, c):
        fin, rsv, op, p = c.recv_frame()
        if (op, p) != (OP_PONG, b"pipelined"):
            raise AssertionError("pipelined ping not answered: %r"
                                 % ((op, p),))

    def byte_by_byte(suite):
        from harness import upgrade_request, accept_for, ws_key
        key = ws_key()
        c = RawClient(suite.port())
        try:
            c.send_slowly(upgrade_request("/echo", key=key))
            r = c.read_response()
            if r.status != 101 or \
                    r.header("sec-websocket-accept") != accept_for(key):
                raise AssertionError("%r" % r)
        finally:
            c.close()

    def sub_ok(r, c):
        if r.header("sec-websocket-protocol") != "chat.v2":
            raise AssertionError("subprotocol not echoed: %r" % r)

    H = "handshake"
    cases = [
        ("H.1", "valid upgrade: 101 with the right Sec-WebSocket-Accept, "
         "no extension or subprotocol invented",
         lambda s: expect_ok(s, check=no_ext)),
        ("H.2", "tokens in other cases and lists "
         "(Upgrade: WebSocket, Connection: keep-alive, Upgrade)",
         lambda s: expect_ok(s, upgrade="WebSocket",
                             connection="keep-alive, Upgrade")),
        ("H.3", "request sent byte by byte", byte_by_byte),
        ("H.4", "a ping pipelined behind the request is answered",
         lambda s: expect_ok(s, data=pipelined, check=check_pipelined)),
        ("H.5", "permessage-deflate offered on a route without "
         "compression: 101 without the extension",
         lambda s: expect_ok(s, check=no_ext, extra=[
             ("Sec-WebSocket-Extensions",
              "permessage-deflate; client_max_window_bits")])),
        ("H.6", "offered subprotocol chosen and echoed",
         lambda s: expect_ok(s, path="/sub", check=sub_ok,
                             protocols=["x, chat.v2"])),
        ("H.7", "unknown path: 404 and close",
         lambda s: expect_refusal(s, 404, path="/nowhere")),
        ("H.8", "POST: 405 and close",
         lambda s: expect_refusal(s, 405, method="POST")),
        ("H.9", "no Upgrade header: 426 with Upgrade: websocket",
         lambda s: expect_refusal(s, 426, ("upgrade", "websocket"),
                                  upgrade=None)),
        ("H.10", "HTTP/1.0: 400",
         lambda s: expect_refusal(s, 400, http="HTTP/1.0")),
        ("H.11", "no Host: 400",
         lambda s: expect_refusal(s, 400, host=None)),
        ("H.12", "no upgrade token in Connection: 400",
         lambda s: expect_refusal(s, 400, connection="keep-alive")),
        ("H.13", "missing Sec-WebSocket-Key: 400",
         lambda s: expect_refusal(s, 400, key=False)),
        ("H.14", "Sec-WebSocket-Key of 15 bytes: 400",
         lambda s: expect_refusal(s, 400, key="AAAAAAAAAAAAAAAAAAAA")),
        ("H.15", "Sec-WebSocket-Version 8: 426 naming version 13",
         lambda s: expect_refusal(s, 426, ("sec-websocket-version", "13"),
                                  version="8")),
        ("H.16", "missing Sec-WebSocket-Version: 426",
         lambda s: expect_refusal(s, 426, ("sec-websocket-version", "13"),
                                  version=None)),
        ("H.17", "Origin not allowed on the route: 403",
         lambda s: expect_refusal(s, 403, path="/origin",
                                  origin="https://evil.example")),
        ("H.18", "allowed Origin: 101",
         lambda s: expect_ok(s, path="/origin",
                             origin="https://good.example")),
        ("H.19", "no supported subprotocol and no default backend: 400",
         lambda s: expect_refusal(s, 400, path="/sub",
                                  protocols=["chat.v1"])),
    ]
    return [Case(cid, H, desc, custom=fn, expect=desc)
            for cid, desc, fn in cases]


# ---------------------------------------------------------------------------
# 12, 13 permessage-deflate (RFC 7692)

def compressible(n, seed):
    return text_payload(n, seed)


def pmd_echo(cid, cat, desc, offer, payloads, gate="main", frag=None,
             check=None, lossy=False):
    """Send payloads [(op, data)] compressed and expect them back."""
    def steps(c):
        out = []
        for op, p in payloads:
            out += c.message(op, p, frag=frag, compress=True)
        return out
    return Case(cid, cat, desc, steps, msgs=list(payloads), offer=offer,
                path="/deflate", gate=gate, need_pmd=True, check=check,
                lossy=lossy, timeout=60)


def agreed(expect):
    """check(): the response header's parameters are exactly expect."""
    def check(conn, got):
        exts = parse_extensions(conn.response.header(
            "sec-websocket-extensions"))
        if exts != [("permessage-deflate", expect)]:
            return "agreed %r, expected %r" % (exts, expect)
        return None
    return check


def not_agreed(conn, got):
    if conn.pmd is not None:
        return "extension agreed: %r" % conn.response.header(
            "sec-websocket-extensions")
    return None


def compressed_back(conn, got):
    """Every message the gateway sent back over 0 bytes was compressed
    (compression_min_size is 0 on the main gateway)."""
    for op, p, comp in got.msgs:
        if p and not comp:
            return "a %d-byte message came back uncompressed" % len(p)
    return None


def pmd_cases():
    out = []
    cat = "compression"
    sizes = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072,
             262144, 524288, MIB]
    for k, (op, name) in enumerate([(OP_TEXT, "text"),
                                    (OP_BINARY, "binary")]):
        for i, n in enumerate(sizes):
            count = 50 if n <= 65536 else 5
            payloads = [(op, compressible(n, j) if op == OP_TEXT else
                         bin_payload(n, j) if n <= 4096 else
                         compressible(n, j)) for j in range(count)]
            out.append(pmd_echo(
                "12.%d.%d" % (k + 1, i + 1), cat,
                "%d compressed %s messages of %d bytes" % (count, name, n),
                "permessage-deflate", payloads, check=compressed_back))
    p = [(OP_TEXT, compressible(3000, j)) for j in range(10)]
    pb = [(OP_BINARY, bin_payload(2000, j)) for j in range(10)]
    out += [
        pmd_echo("12.3.1", cat, "compressed text messages in 100-byte "
                 "fragments (RSV1 on the first only)",
                 "permessage-deflate", p, frag=100),
        pmd_echo("12.3.2", cat, "incompressible binary messages",
                 "permessage-deflate", pb),
        Case("12.3.3", cat, "uncompressed messages (RSV1 clear) on a "
             "compressed connection", lambda c: frames(
                 (OP_TEXT, b"plain text"), (OP_BINARY, b"\x00plain")),
             msgs=[T(b"plain text"), B(b"\x00plain")],
             offer="permessage-deflate", path="/deflate", need_pmd=True),
        Case("12.3.4", cat, "empty messages, compressed and not",
             lambda c: [c.frame(OP_TEXT, b"", compress=True),
                        build_frame(OP_BINARY, b""),
                        c.frame(OP_BINARY, b"", compress=True)],
             msgs=[T(b""), B(b""), B(b"")], offer="permessage-deflate",
             path="/deflate", need_pmd=True),
        Case("12.3.5", cat, "a message ending with a final (BFINAL) block "
             "instead of a flush (RFC 7692 7.2.3.3)",
             lambda c: [c.frame(OP_TEXT, b"final block " * 20,
                                compress=True, bfinal=True),
                        c.frame(OP_TEXT, b"next one " * 20, compress=True)],
             msgs=[T(b"final block " * 20), T(b"next one " * 20)],
             offer="permessage-deflate; client_no_context_takeover",
             path="/deflate", need_pmd=True),
        Case("12.3.6", cat, "16 MiB of zeros compressed to a few KiB: "
             "inflated size = max_message_size, echoed",
             lambda c: [c.frame(OP_BINARY, bytes(MAX_MESSAGE),
                                compress=True)],
             msgs=[B(bytes(MAX_MESSAGE))], offer="permessage-deflate",
             path="/deflate", need_pmd=True, timeout=60),
        Case("12.3.7", cat, "a 1 MiB message compressed, sent byte by "
             "byte in chops of 7 bytes",
             lambda c: [c.frame(OP_TEXT, compressible(MIB, 7),
                                compress=True)],
             msgs=[T(compressible(MIB, 7))], offer="permessage-deflate",
             path="/deflate", need_pmd=True, chop=7, timeout=60),
    ]

    # protocol errors with the extension agreed
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb_data = bomb.compress(bytes(64 * MIB)) + bomb.flush(
        zlib.Z_SYNC_FLUSH)[:-4]

    def bomb_steps(c):
        f = build_frame(OP_BINARY, bomb_data, rsv=4)
        # 24 KiB of it inflate to over 16 MiB
        hdr = hdr_len(f)
        assert len(f) > hdr + 48 * 1024
        return [f[:hdr + 24 * 1024], SYNC_CLOSE, f[hdr + 24 * 1024:]]

    def bad_utf8_steps(c):
        # valid text, then an invalid byte early, then a lot more text:
        # the inflated bytes are checked as they come out
        payload = b"a" * 5000 + b"\xc0\xaf" + compressible(2 * MIB, 3)
        z = c.pmd.compress(payload)
        assert len(z) > 4000
        fr = [build_frame(OP_TEXT, z[:600], fin=False, rsv=4)]
        fr += [SYNC_CLOSE]
        fr += [build_frame(OP_CONT, z[600:], fin=True)]
        return fr

    def text_bad_after(c):
        return [c.frame(OP_TEXT, b"ok \xce", compress=True)]

    perr = "compression errors"
    out += [
        Case("12.4.1", perr, "RSV1 on a continuation frame",
             lambda c: [build_frame(OP_TEXT, c.pmd.compress(b"abc" * 10),
                                    fin=False, rsv=4),
                        build_frame(OP_CONT, b"x", rsv=4)],
             close=1002, offer="permessage-deflate", path="/deflate",
             need_pmd=True),
        Case("12.4.2", perr, "RSV1 on a ping",
             lambda c: [build_frame(OP_PING, b"x", rsv=4)], close=1002,
             offer="permessage-deflate", path="/deflate", need_pmd=True),
        Case("12.4.3", perr, "RSV1 on a close",
             lambda c: [close_frame(1000, rsv=4)], close=1002,
             offer="permessage-deflate", path="/deflate", need_pmd=True),
        Case("12.4.4", perr, "RSV2 with permessage-deflate agreed",
             lambda c: [build_frame(OP_TEXT, b"x", rsv=2)], close=1002,
             offer="permessage-deflate", path="/deflate", need_pmd=True),
        Case("12.4.5", perr, "RSV1 on a compression route without the "
             "extension agreed", [build_frame(OP_TEXT, b"x", rsv=4)],
             close=1002, path="/deflate"),
        Case("12.4.6", perr, "payload that is not DEFLATE data",
             lambda c: [build_frame(OP_BINARY, b"\xff\xff\xff\xff\xff",
                                    rsv=4)],
             close=1007, offer="permessage-deflate", path="/deflate",
             need_pmd=True),
        Case("12.4.7", perr, "zip bomb (64 MiB of zeros in one frame): "
             "1009 after about 20 KiB, before the rest is sent",
             bomb_steps, close=1009, offer="permessage-deflate",
             path="/deflate", need_pmd=True, chop="frame"),
        Case("12.4.8", perr, "compressed text with invalid UTF-8 early "
             "in a 2 MiB message: 1007 before the rest is sent",
             bad_utf8_steps, close=1007, offer="permessage-deflate",
             path="/deflate", need_pmd=True, chop="frame"),
        Case("12.4.9", perr, "compressed text ending inside a code point",
             text_bad_after, close=1007, offer="permessage-deflate",
             path="/deflate", need_pmd=True),
        Case("12.4.10", perr, "compressed message, then RSV1 ping: the "
             "message is echoed first",
             lambda c: [c.frame(OP_TEXT, b"first", compress=True),
                        ("wait_msgs", 1),
                        build_frame(OP_PING, b"", rsv=4)],
             msgs=[T(b"first")], close=1002, offer="permessage-deflate",
             path="/deflate", need_pmd=True),
    ]

    # 13: negotiation; each agreed variant then carries messages both ways
    neg = "compression offers"
    msgs = [(OP_TEXT, compressible(2000, j)) for j in range(8)]
    rep = os.urandom(700) * 3          # repeats 700 bytes apart
    far = [(OP_BINARY, rep), (OP_BINARY, rep)]
    variants = [
        ("13.1", "plain offer", "permessage-deflate", {}, "main", msgs),
        ("13.2", "client_no_context_takeover",
         "permessage-deflate; client_no_context_takeover",
         {"client_no_context_takeover": True}, "main", msgs),
        ("13.3", "server_no_context_takeover (each message from the "
         "gateway inflates on its own)",
         "permessage-deflate; server_no_context_takeover",
         {"server_no_context_takeover": True}, "main", msgs),
        ("13.4", "server_max_window_bits=9 (the gateway's messages "
         "decode with a 512-byte window)",
         "permessage-deflate; server_max_window_bits=9",
         {"server_max_window_bits": "9"}, "main", far),
        ("13.5", "server_max_window_bits=15",
         "permessage-deflate; server_max_window_bits=15",
         {"server_max_window_bits": "15"}, "main", msgs),
        ("13.6", "client_max_window_bits=9 (value accepted)",
         "permessage-deflate; client_max_window_bits=9",
         {"client_max_window_bits": "9"}, "main", msgs),
        ("13.7", "client_max_window_bits without a value",
         "permessage-deflate; client_max_window_bits", {}, "main", msgs),
        ("13.8", "every parameter at once",
         "permessage-deflate; client_no_context_takeover; "
         "server_no_context_takeover; server_max_window_bits=10; "
         "client_max_window_bits=12",
         {"client_no_context_takeover": True,
          "server_no_context_takeover": True,
          "server_max_window_bits": "10",
          "client_max_window_bits": "12"}, "main", msgs + far),
        ("13.9", "first offer unacceptable (server_max_window_bits=8), "
         "the second one taken",
         "permessage-deflate; server_max_window_bits=8, "
         "permessage-deflate; client_no_context_takeover",
         {"client_no_context_takeover": True}, "main", msgs),
        ("13.10", "another extension offered first",
         "x-webkit-deflate-frame, permessage-deflate", {}, "main", msgs),
        ("13.11", "quoted parameter value",
         'permessage-deflate; server_max_window_bits="11"',
         {"server_max_window_bits": "11"}, "main", msgs),
        ("13.12", "two Sec-WebSocket-Extensions lines: the first "
         "permessage-deflate offer wins",
         None, {"server_no_context_takeover": True}, "main", msgs),
        ("13.13", "window capped to 10 bits by compression_window_bits: "
         "client_max_window_bits answered with 10",
         "permessage-deflate; client_max_window_bits",
         {"client_max_window_bits": "10"}, "small", msgs + far),
        ("13.14", "window capped: server_max_window_bits=12 asked, 10 "
         "answered", "permessage-deflate; server_max_window_bits=12; "
         "client_max_window_bits=9",
         {"server_max_window_bits": "10", "client_max_window_bits": "9"},
         "small", far),
    ]
    for cid, desc, offer, params, gate, payloads in variants:
        c = pmd_echo(cid, neg, desc, offer, payloads, gate=gate,
                     check=agreed(params))
        if offer is None:
            c.offer = ["permessage-deflate; server_no_context_takeover",
                       "permessage-deflate"]
        out.append(c)

    # offers that must be declined, the handshake still succeeding
    declined = [
        ("13.20", "unknown parameter", "permessage-deflate; foo=1"),
        ("13.21", "parameter given twice",
         "permessage-deflate; server_no_context_takeover; "
         "server_no_context_takeover"),
        ("13.22", "server_max_window_bits without a value",
         "permessage-deflate; server_max_window_bits"),
        ("13.23", "server_max_window_bits=16",
         "permessage-deflate; server_max_window_bits=16"),
        ("13.24", "server_max_window_bits=7",
         "permessage-deflate; server_max_window_bits=7"),
        ("13.25", "server_max_window_bits=8 (zlib cannot deflate with a "
         "256-byte window)", "permessage-deflate; server_max_window_bits=8"),
        ("13.26", "leading zero: server_max_window_bits=010",
         "permessage-deflate; server_max_window_bits=010"),
        ("13.27", "client_max_window_bits=7",
         "permessage-deflate; client_max_window_bits=7"),
        ("13.28", "a value on server_no_context_takeover",
         "permessage-deflate; server_no_context_takeover=1"),
        ("13.29", "malformed list", "permessage-deflate;;"),
        ("13.30", "malformed quoted value",
         'permessage-deflate; server_max_window_bits="10'),
    ]
    for cid, desc, offer in declined:
        out.append(Case(cid, neg, "offer declined, 101 without the "
                        "extension: " + desc,
                        frames((OP_TEXT, b"uncompressed")),
                        msgs=[T(b"uncompressed")], offer=offer,
                        path="/deflate", check=not_agreed))
    out.append(Case("13.31", neg, "window capped to 10 bits: an offer "
                    "without client_max_window_bits (the client would "
                    "use 32 KiB) is declined", frames((OP_TEXT, b"plain")),
                    msgs=[T(b"plain")], offer="permessage-deflate",
                    path="/deflate", gate="small", check=not_agreed))
    out.append(Case("13.32", neg, "small messages below "
                    "compression_min_size come back uncompressed, large "
                    "ones compressed",
                    lambda c: [c.frame(OP_TEXT, b"tiny", compress=True),
                               c.frame(OP_TEXT, b"large " * 50,
                                       compress=True)],
                    msgs=[T(b"tiny"), T(b"large " * 50)],
                    offer="permessage-deflate; client_max_window_bits",
                    path="/deflate", gate="small", need_pmd=True,
                    check=lambda conn, got: None if [
                        m[2] for m in got.msgs] == [False, True] else
                    "compressed flags %r" % [m[2] for m in got.msgs]))
    return out


def all_cases():
    return (framing_cases() + ping_cases() + rsv_cases() + opcode_cases() +
            frag_cases() + utf8_cases() + close_cases() + limit_cases() +
            handshake_cases() + pmd_cases())
