"""Helpers for the fault tests (test_faults_*.py).

- HealthyClient: a WebSocket client that keeps talking to the gateway
  while a fault is being injected next to it, and fails the test if it is
  not served promptly the whole time.
- FaultTest: GatewayTest plus a gateway with a healthy route, descriptor
  and CPU accounting, and the sanitizer check.
- ws_reference(): a small reference decoder of the RFC 6455 rules a
  server applies to client frames, to compute the close code the gateway
  must answer a byte stream with.
- FrameReader: reads server frames fast (for floods of hundreds of MB).
"""

import os
import socket
import struct
import threading
import time

from harness import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG,
                     OP_TEXT, Closed, GatewayTest, RawClient, proc_status,
                     wait_for)

MIB = 1 << 20


_sanitized_exe = {}


def sanitized(pid):
    """True if pid runs with ASan/TSan (RSS and timings mean little):
    gcc links the runtime as a shared library, clang into the binary."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            if any(s in f.read() for s in ("libasan", "libtsan")):
                return True
        exe = os.readlink("/proc/%d/exe" % pid)
        key = (exe, os.stat(exe).st_mtime)
        if key not in _sanitized_exe:
            with open(exe, "rb") as f:
                data = f.read()
            _sanitized_exe[key] = b"__asan_init" in data or \
                b"__tsan_init" in data
        return _sanitized_exe[key]
    except OSError:
        return False


def cpu_seconds(pid):
    """User + system CPU time of pid so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / \
        float(os.sysconf("SC_CLK_TCK"))


class RSSSampler(threading.Thread):
    """Samples a process's VmRSS every 20 ms; .max in kB."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.max = 0
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(0.02):
            v = proc_status(self.pid, "VmRSS")
            if v:
                self.max = max(self.max, v)

    def stop(self):
        self.stopped.set()
        self.join()
        return self.max


class HealthyClient(threading.Thread):
    """Sends a short text message every interval seconds on its own
    WebSocket and waits for the echo.  Records every round trip; check()
    fails the test if any went wrong or took longer than max_latency."""

    def __init__(self, port, path="/healthy", interval=0.02):
        super().__init__(daemon=True)
        self.port = port
        self.path = path
        self.interval = interval
        self.latencies = []
        self.error = None
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.client = None

    def run(self):
        n = 0
        try:
            self.client = RawClient(self.port, timeout=10)
            self.client.handshake(self.path)
            self.ready.set()
            while not self.stopping.is_set():
                msg = b"healthy %d" % n
                t0 = time.monotonic()
                self.client.send_text(msg)
                got = self.client.recv_message(timeout=10)
                self.latencies.append(time.monotonic() - t0)
                if got != (OP_TEXT, msg):
                    raise AssertionError("healthy client got %r for %r"
                                         % (got, msg))
                n += 1
                self.stopping.wait(self.interval)
        except Exception as e:          # reported by check()
            self.error = e
        finally:
            self.ready.set()

    def check(self, test, max_latency=1.0, min_count=3):
        self.stopping.set()
        self.join(15)
        if self.client is not None:
            self.client.close()
        test.assertIsNone(self.error, "healthy client failed: %r"
                          % (self.error,))
        test.assertGreaterEqual(len(self.latencies), min_count,
                                "healthy client barely served")
        worst = max(self.latencies)
        print("\n    healthy client: %d round trips, worst %.0f ms"
              % (len(self.latencies), worst * 1000), end=" ")
        test.assertLess(worst, max_latency, "healthy client waited %.2fs"
                        % worst)


class FaultTest(GatewayTest):
    """A GatewayTest whose gateway also has a /healthy route to the C echo
    backend (line framing) for a HealthyClient."""

    def start_faulty_gateway(self, routes, limits=None, **kw):
        self.healthy_sock = self.start_echo("healthy.sock")
        routes = list(routes) + [{"path": "/healthy",
                                  "backend": self.healthy_sock,
                                  "framing": "line"}]
        return self.start_gateway(routes, limits=limits, **kw)

    def healthy(self, gw, **kw):
        h = HealthyClient(gw.port, **kw)
        h.start()
        self.assertTrue(h.ready.wait(10), "healthy client did not start")
        self.assertIsNone(h.error, "healthy client: %r" % (h.error,))
        self.addCleanup(lambda: (h.stopping.set(), h.client and
                                 h.client.close()))
        return h

    def slack(self, gw):
        """A factor for time limits: sanitized builds are slower."""
        return 4.0 if sanitized(gw.pid) else 1.0

    def assertNoLeak(self, gw, fds0, timeout=5.0):
        """The gateway's descriptor count comes back to fds0."""
        ok = wait_for(lambda: (gw.nfds() or 0) <= fds0, timeout)
        self.assertTrue(ok, "descriptors leaked: %s now, %s before; "
                        "log:\n%s" % (gw.nfds(), fds0, gw.log_tail()))

    def assertLogged(self, gw, pattern, timeout=3.0):
        """Some line of the gateway's log matches the regex pattern."""
        import re
        rx = re.compile(pattern)
        ok = wait_for(lambda: rx.search(gw.log()), timeout)
        self.assertTrue(ok, "no log line matching %r; log:\n%s"
                        % (pattern, gw.log_tail()))


# ---------------------------------------------------------------------------
# Fast frame reading

class FrameReader:
    """Server frames from a blocking socket, parsed out of a large
    buffer; payloads are handed to a callback instead of being kept.
    Start it with what the client read past the 101 response (the first
    frames can come in the same segment), or the stream is misaligned."""

    def __init__(self, sock, pending=b""):
        self.sock = sock
        self.buf = bytearray(pending)
        self.control = False

    def _fill(self):
        b = self.sock.recv(4 * MIB)
        if not b:
            raise Closed()
        self.buf += b

    def frame(self, on_payload):
        """Read one frame; on_payload(memoryview) gets its payload (maybe
        in pieces).  Returns (fin, opcode, length)."""
        while len(self.buf) < 2:
            self._fill()
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        hl = 2 + (2 if n == 126 else 8 if n == 127 else 0)
        while len(self.buf) < hl:
            self._fill()
        if n == 126:
            n = struct.unpack_from("!H", self.buf, 2)[0]
        elif n == 127:
            n = struct.unpack_from("!Q", self.buf, 2)[0]
        if b1 & 0x80:
            raise AssertionError("server frame is masked")
        self.control = (b0 & 0x08) != 0     # for on_payload
        del self.buf[:hl]
        left = n
        while left > 0:
            if not self.buf:
                self._fill()
            k = min(left, len(self.buf))
            on_payload(memoryview(self.buf)[:k])
            del self.buf[:k]
            left -= k
        return b0 >> 7, b0 & 0x0F, n


# ---------------------------------------------------------------------------
# RFC 6455 reference decoder (client-to-server direction)

VALID_CLOSE = set(range(1000, 1004)) | set(range(1007, 1012)) | \
    set(range(3000, 5000))


class Utf8:
    """Incremental UTF-8 validation that fails at the first byte that
    cannot be part of a valid sequence (overlongs, surrogates and code
    points over U+10FFFF included), as RFC 6455 8.1 asks."""

    def __init__(self):
        self.need = 0
        self.lo, self.hi = 0x80, 0xBF

    def feed(self, data):
        """False at the first invalid byte."""
        for b in data:
            if self.need:
                if not self.lo <= b <= self.hi:
                    return False
                self.need -= 1
                self.lo, self.hi = 0x80, 0xBF
                continue
            if b < 0x80:
                continue
            if 0xC2 <= b <= 0xDF:
                self.need = 1
            elif b == 0xE0:
                self.need, self.lo = 2, 0xA0
            elif 0xE1 <= b <= 0xEC or 0xEE <= b <= 0xEF:
                self.need = 2
            elif b == 0xED:
                self.need, self.hi = 2, 0x9F
            elif b == 0xF0:
                self.need, self.lo = 3, 0x90
            elif 0xF1 <= b <= 0xF3:
                self.need = 3
            elif b == 0xF4:
                self.need, self.hi = 3, 0x8F
            else:
                return False
        return True

    def complete(self):
        return self.need == 0


def ws_reference(data, max_message):
    """What a strict server must do with the client byte stream data (no
    extension negotiated).  Returns ("fail", code) for the first
    violation (1002, 1007 or 1009), ("close", code or None) for a valid
    close frame (which ends the stream), or ("open", None) if the data ends
    without either.  Also returns the list of complete data messages
    [(opcode, payload)] before that point."""
    i = 0
    n = len(data)
    msgs = []
    in_msg = False
    msg_op = None
    msg = bytearray()
    utf = None
    while True:
        # header byte 0
        if i >= n:
            return ("open", None), msgs
        b0 = data[i]
        fin, rsv, op = b0 >> 7, (b0 >> 4) & 7, b0 & 0xF
        if rsv:
            return ("fail", 1002), msgs
        if op == OP_CONT:
            if not in_msg:
                return ("fail", 1002), msgs
        elif op in (OP_TEXT, OP_BINARY):
            if in_msg:
                return ("fail", 1002), msgs
        elif op in (OP_CLOSE, OP_PING, OP_PONG):
            if not fin:
                return ("fail", 1002), msgs
        else:
            return ("fail", 1002), msgs
        control = op >= 8
        # header byte 1
        if i + 1 >= n:
            return ("open", None), msgs
        b1 = data[i + 1]
        if not b1 & 0x80:
            return ("fail", 1002), msgs     # client frames must be masked
        len7 = b1 & 0x7F
        if control and len7 > 125:
            return ("fail", 1002), msgs
        if op == OP_CLOSE and len7 == 1:
            return ("fail", 1002), msgs
        j = i + 2
        if len7 == 126:
            if j + 2 > n:
                return ("open", None), msgs
            length = struct.unpack_from("!H", data, j)[0]
            if length < 126:
                return ("fail", 1002), msgs
            j += 2
        elif len7 == 127:
            if j < n and data[j] & 0x80:
                return ("fail", 1002), msgs
            if j + 6 <= n and not any(data[j:j + 6]):
                return ("fail", 1002), msgs     # fits in 16 bits
            if j + 8 > n:
                return ("open", None), msgs
            length = struct.unpack_from("!Q", data, j)[0]
            j += 8
        else:
            length = len7
        if not control and max_message:
            base = len(msg) if op == OP_CONT else 0
            if length > max_message - base:
                return ("fail", 1009), msgs
        if j + 4 > n:
            return ("open", None), msgs
        key = data[j:j + 4]
        j += 4
        avail = min(length, n - j)
        payload = bytes(b ^ key[k % 4] for k, b in
                        enumerate(data[j:j + avail]))
        if not control:
            if op != OP_CONT:
                in_msg, msg_op, msg = True, op, bytearray()
                utf = Utf8() if op == OP_TEXT else None
            if utf is not None and not utf.feed(payload):
                return ("fail", 1007), msgs
            if avail < length:
                return ("open", None), msgs
            msg += payload
            if fin:
                if utf is not None and not utf.complete():
                    return ("fail", 1007), msgs
                msgs.append((msg_op, bytes(msg)))
                in_msg = False
        else:
            if avail < length:
                return ("open", None), msgs
            if op == OP_CLOSE:
                if not payload:
                    return ("close", None), msgs
                code = struct.unpack("!H", payload[:2])[0]
                if code not in VALID_CLOSE:
                    return ("fail", 1002), msgs
                u = Utf8()
                if not u.feed(payload[2:]) or not u.complete():
                    return ("fail", 1007), msgs
                return ("close", code), msgs
        i = j + length
