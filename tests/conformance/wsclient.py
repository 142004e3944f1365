"""Raw-socket WebSocket client pieces for the conformance suite.

The frame builders and the HTTP reader come from the integration
harness (tests/integration/harness.py); this module adds what a
conformance run needs on top: sending that keeps reading (so a large echo
can never deadlock against a large send), a frame reader that
reassembles messages and undoes permessage-deflate, and the client side
of permessage-deflate (RFC 7692) built on Python's zlib.

Python 3 stdlib only; run with /usr/bin/python3.
"""

import os
import select
import socket
import struct
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING,  # noqa: E402
                     OP_PONG, OP_TEXT, Closed, RawClient, build_frame,
                     close_payload, parse_close)

__all__ = ["OP_BINARY", "OP_CLOSE", "OP_CONT", "OP_PING", "OP_PONG",
           "OP_TEXT", "Closed", "Conn", "PMD", "build_frame",
           "close_payload", "parse_close", "parse_extensions", "TAIL"]

TAIL = b"\x00\x00\xff\xff"      # RFC 7692 7.2.1: the stripped flush marker


def parse_extensions(value):
    """Sec-WebSocket-Extensions -> [(name, {param: value or True})].
    Good enough for what the gateway sends (no quoted commas)."""
    out = []
    if not value:
        return out
    for ext in value.split(","):
        parts = [p.strip() for p in ext.split(";")]
        params = {}
        for p in parts[1:]:
            k, eq, v = p.partition("=")
            params[k.strip()] = v.strip().strip('"') if eq else True
        out.append((parts[0], params))
    return out


class PMD:
    """The client side of an agreed permessage-deflate."""

    def __init__(self, params, level=6):
        self.params = params
        self.server_nct = "server_no_context_takeover" in params
        self.client_nct = "client_no_context_takeover" in params
        sb = params.get("server_max_window_bits", 15)
        cb = params.get("client_max_window_bits", 15)
        self.server_bits = 15 if sb is True else int(sb)
        self.client_bits = 15 if cb is True else int(cb)
        self.level = level
        self.comp = None
        self.decomp = None

    def compress(self, data, bfinal=False):
        """One message's payload, compressed as RFC 7692 7.2.1 says.
        bfinal: end with a final block (7.2.3.3) instead of a flush."""
        if self.comp is None or self.client_nct or bfinal:
            # zlib cannot make an 8-bit raw window; 9 stays within 8's
            # promise only for the decoder, so use it for 8 as well
            self.comp = zlib.compressobj(self.level, zlib.DEFLATED,
                                         -max(9, self.client_bits))
        out = self.comp.compress(data)
        if bfinal:
            out += self.comp.flush(zlib.Z_FINISH)
            self.comp = None
            return out
        out += self.comp.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL), out[-8:]
        return out[:-4]

    def decompress(self, data):
        if self.decomp is None or self.server_nct:
            # a fresh window per message checks server_no_context_takeover:
            # a back-reference into an earlier message cannot decode
            self.decomp = zlib.decompressobj(-self.server_bits)
        return self.decomp.decompress(data + TAIL)


class Conn:
    """A handshaken raw connection with a permessage-deflate state."""

    def __init__(self, client, response, pmd=None):
        self.c = client
        self.response = response
        self.pmd = pmd
        self.sent_bytes = 0

    # -- sending

    def pump(self, data):
        """Send data while reading whatever comes back into the client's
        buffer.  Returns False if the peer stopped reading (reset, EPIPE),
        which is allowed after it failed the connection."""
        sock = self.c.sock
        view = memoryview(data)
        sock.setblocking(False)
        try:
            while view:
                r, w, _ = select.select([sock], [sock], [], 10)
                if not r and not w:
                    raise socket.timeout("send stalled for 10 s")
                if r and not self.c.eof:
                    try:
                        b = sock.recv(1 << 20)
                    except BlockingIOError:
                        b = None
                    except (ConnectionResetError, BrokenPipeError):
                        self.c.eof = self.c.reset = True
                        return False
                    if b == b"":
                        self.c.eof = True
                    elif b:
                        self.c.buf += b
                if w:
                    try:
                        n = sock.send(view[:1 << 20])
                    except BlockingIOError:
                        continue
                    except (ConnectionResetError, BrokenPipeError):
                        return False
                    self.sent_bytes += n
                    view = view[n:]
            return True
        finally:
            sock.setblocking(True)

    def frame(self, opcode, payload=b"", fin=True, rsv=0, compress=False,
              bfinal=False, **kw):
        """Wire bytes of one client frame; compress: deflate the payload
        (a whole, unfragmented message) and set RSV1."""
        if compress:
            payload = self.pmd.compress(payload, bfinal)
            rsv |= 4
        return build_frame(opcode, payload, fin=fin, rsv=rsv, **kw)

    def message(self, opcode, payload, frag=None, compress=False):
        """A message as frames: fragments of frag bytes of the (possibly
        compressed) payload, RSV1 on the first only."""
        rsv = 0
        if compress:
            payload = self.pmd.compress(payload)
            rsv = 4
        if not frag or len(payload) <= frag:
            return [build_frame(opcode, payload, rsv=rsv)]
        out = []
        for i in range(0, len(payload), frag):
            last = i + frag >= len(payload)
            out.append(build_frame(opcode if i == 0 else OP_CONT,
                                   payload[i:i + frag], fin=last,
                                   rsv=rsv if i == 0 else 0))
        return out

    # -- receiving

    def recv_frame(self, timeout):
        """(fin, rsv, opcode, payload) of the next server frame."""
        return self.c.recv_frame(timeout)

    def wait_eof(self, timeout):
        """True if the gateway closes the TCP connection within timeout."""
        return self.c.wait_closed(timeout)


class Received:
    """What one connection got back: data messages, pongs, pings, the
    close frame, and anything that broke the rules on the way."""

    def __init__(self):
        self.msgs = []          # (opcode, payload, compressed)
        self.pongs = []
        self.pings = 0
        self.close = None       # (code or None, reason) once received
        self.errors = []
        self._parts = None
        self._first = None
        self._rsv = 0

    def feed(self, conn, fin, rsv, op, payload):
        if op >= 8:
            if rsv:
                self.errors.append("server control frame with RSV %d" % rsv)
            if not fin:
                self.errors.append("server sent a fragmented control frame")
            if op == OP_PONG:
                self.pongs.append(payload)
            elif op == OP_PING:
                self.pings += 1
                conn.pump(build_frame(OP_PONG, payload))
            elif op == OP_CLOSE:
                self.close = parse_close(payload)
            else:
                self.errors.append("server sent opcode %d" % op)
            return
        if op == OP_CONT:
            if self._parts is None:
                self.errors.append("server continuation without a start")
                return
            if rsv:
                self.errors.append("server continuation with RSV %d" % rsv)
        else:
            if self._parts is not None:
                self.errors.append("server data frame inside a message")
            if op not in (OP_TEXT, OP_BINARY):
                self.errors.append("server sent opcode %d" % op)
            allowed = 4 if conn.pmd is not None else 0
            if rsv & ~allowed:
                self.errors.append("server data frame with RSV %d" % rsv)
            self._parts, self._first, self._rsv = [], op, rsv
        self._parts.append(payload)
        if not fin:
            return
        data = b"".join(self._parts)
        compressed = bool(self._rsv & 4)
        if compressed:
            try:
                data = conn.pmd.decompress(data)
            except zlib.error as e:
                self.errors.append("server message does not inflate: %s"
                                   % e)
        if self._first == OP_TEXT:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                self.errors.append("server text message is not UTF-8")
        self.msgs.append((self._first, data, compressed))
        self._parts = None


def now():
    return time.monotonic()


__all__ += ["Received", "now", "RawClient"]
