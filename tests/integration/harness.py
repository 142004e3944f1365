"""Integration test harness for wsgated.

Each test gets a fresh temporary directory, free TCP ports, a generated
libconfig file, a real wsgated process (from $WSGATED) with its stderr in
a log file, and real backends on Unix sockets: the C echo backend (from
$ECHO_BACKEND) or small Python backends for special behaviours.  Every
process, thread and path a test starts is registered with addCleanup, so
it is torn down whether the test passes or fails.

Raw-socket helpers build what a WebSocket library would refuse to send:
hand-made (masked or not) frames, upgrade requests sent byte by byte or
with frames pipelined behind them; and read back HTTP responses, frames,
close codes and the TCP close.

Python 3 stdlib plus Debian's python3-websockets 10.4; run with
/usr/bin/python3.
"""

import asyncio
import base64
import faulthandler
import hashlib
import os
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

WSGATED = os.environ.get("WSGATED", "")
ECHO_BACKEND = os.environ.get("ECHO_BACKEND", "")

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

# frame-mode backend records
REC_TEXT, REC_BINARY, REC_CLOSE = 1, 2, 8

# Limits written into every generated config unless a test overrides
# them: short close timeouts keep teardown fast.
DEFAULT_LIMITS = {"close_timeout_ms": 2000}

# With SANITIZE=1, sanitizer reports go to SANITIZER_LOG.PID files in the
# test's temp dir (see GatewayTest._sanitizer_logs); libconfig's own leak
# on some syntax errors is suppressed (tests/fuzz/lsan.supp).
SANITIZER_LOG = "sanitizer"
LSAN_SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         os.pardir, "fuzz", "lsan.supp")
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1",
    "UBSAN_OPTIONS": "print_stacktrace=1",
    "LSAN_OPTIONS": "suppressions=" + os.path.normpath(LSAN_SUPP),
}

SANITIZER_RE = re.compile(
    r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:"
    r"|ThreadSanitizer)")


# ---------------------------------------------------------------------------
# Small utilities

def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A TCP port that was free a moment ago (bind to port 0)."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def raise_nofile_limit(want=None):
    """Raise this process's RLIMIT_NOFILE soft limit (to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if want is None else min(want, hard)
    if hard == resource.RLIM_INFINITY and want is None:
        target = 1 << 20
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def proc_status(pid, field):
    """A /proc/PID/status field in kB (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def count_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def wait_for(pred, timeout, interval=0.02):
    """Poll pred() until it is true or timeout seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        return "(no log: %s)" % e
    return "".join(lines[-n:])


# ---------------------------------------------------------------------------
# libconfig writer

def _lc_value(v, indent):
    pad = "  " * (indent + 1)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        # libconfig integers are 32-bit unless suffixed L
        return str(v) if -2**31 <= v < 2**31 else "%dL" % v
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(v, dict):
        items = ["%s%s = %s;" % (pad, k, _lc_value(x, indent + 1))
                 for k, x in v.items()]
        return "{\n%s\n%s}" % ("\n".join(items), "  " * indent)
    if isinstance(v, (list, tuple)):
        if any(isinstance(x, dict) for x in v) or not v:
            # a list ( ... ) of groups
            items = ["%s%s" % (pad, _lc_value(x, indent + 1)) for x in v]
            return "(\n%s\n%s)" % (",\n".join(items), "  " * indent)
        # an array [ ... ] of scalars
        return "[ %s ]" % ", ".join(_lc_value(x, indent) for x in v)
    raise TypeError("cannot write %r as libconfig" % (v,))


def libconfig(conf):
    """Render a dict as libconfig text (top-level "key = value;" lines)."""
    return "".join("%s = %s;\n" % (k, _lc_value(v, 0))
                   for k, v in conf.items())


# ---------------------------------------------------------------------------
# Processes

class Gateway:
    """A running wsgated."""

    def __init__(self, proc, conf_path, log_path, port, host="127.0.0.1"):
        self.proc = proc
        self.pid = proc.pid
        self.conf_path = conf_path
        self.log_path = log_path
        self.port = port
        self.host = host
        self.expect_exit = False

    def url(self, path="/echo"):
        return "ws://%s:%d%s" % (self.host, self.port, path)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=30):
        return tail(self.log_path, n)

    def rss_kb(self):
        return proc_status(self.pid, "VmRSS")

    def hwm_kb(self):
        return proc_status(self.pid, "VmHWM")

    def nfds(self):
        return count_fds(self.pid)

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Exit status, or None if it did not exit in time."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def stop_process(proc, timeout=5.0, sig=signal.SIGTERM):
    """SIGTERM, wait, then SIGKILL.  Returns (returncode, killed)."""
    if proc.poll() is not None:
        return proc.returncode, False
    try:
        proc.send_signal(sig)
        return proc.wait(timeout), False
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        pass
    proc.kill()
    return proc.wait(), True


def wait_port(host, port, timeout, proc=None, family=None):
    """Wait until host:port accepts a connection.  False on timeout/exit."""
    family = family or (socket.AF_INET6 if ":" in host else socket.AF_INET)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect((host, port))
                return True
        except OSError:
            time.sleep(0.02)
    return False


def wait_unix(path, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect(path)
                return True
        except OSError:
            time.sleep(0.02)
    return False


# ---------------------------------------------------------------------------
# Python backends on Unix sockets

class UnixBackend:
    """A threaded Unix-socket server; handler(conn, backend) runs per
    connection in its own thread.  Keeps every accepted connection (and
    whatever handlers store on it) for inspection."""

    def __init__(self, path, handler):
        self.path = path
        self.handler = handler
        self.conns = []         # BackendConn objects, in accept order
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.stopping = False
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1024)
        self.threads = []
        self.accept_thread = threading.Thread(target=self._accept_loop,
                                              daemon=True)
        self.accept_thread.start()

    def _accept_loop(self):
        while True:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            if self.stopping:
                s.close()
                return
            c = BackendConn(s)
            with self.cond:
                self.conns.append(c)
                self.cond.notify_all()
            t = threading.Thread(target=self._run, args=(c,), daemon=True)
            self.threads.append(t)
            t.start()

    def _run(self, c):
        try:
            self.handler(c, self)
        except OSError as e:
            c.error = e
        finally:
            # a handler that returns is done with its connection
            c.kill()
            c.finished.set()
            with self.cond:
                self.cond.notify_all()

    def wait_conns(self, n, timeout=5.0):
        """Wait until n connections were accepted; the n-th one or None."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.conns) >= n, timeout)
            return self.conns[n - 1] if len(self.conns) >= n else None

    def stop(self):
        self.stopping = True
        try:
            # wake accept()
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in list(self.conns):
            c.wake.set()
            c.kill()
        for t in self.threads:
            t.join(2)
        self.accept_thread.join(2)
        try:
            os.unlink(self.path)
        except OSError:
            pass


class BackendConn:
    """One connection to a Python backend, with what it received."""

    def __init__(self, sock):
        self.sock = sock
        self.data = bytearray()
        self.eof = threading.Event()        # peer shut down or closed
        self.wake = threading.Event()       # EOF or backend stopping
        self.finished = threading.Event()   # handler returned
        self.error = None
        self.cond = threading.Condition()
        self.nbytes = 0
        self.sha = hashlib.sha256()

    def recv_into_record(self, n=65536, keep=True):
        """One recv(); appends to data (or just hashes); b'' at EOF."""
        try:
            b = self.sock.recv(n)
        except OSError as e:
            self.error = e
            b = b""
        with self.cond:
            if b:
                self.nbytes += len(b)
                if keep:
                    self.data += b
                else:
                    self.sha.update(b)
            else:
                self.eof.set()
                self.wake.set()
            self.cond.notify_all()
        return b

    def wait_data(self, n, timeout=5.0):
        """Wait until at least n bytes were received; a copy of data."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.data) >= n
                               or self.eof.is_set(), timeout)
            return bytes(self.data)

    def send(self, b):
        self.sock.sendall(b)

    def reset(self, timeout=5.0):
        """The Unix-socket analogue of a TCP reset: close while data the
        peer sent is still unread, so that its next read fails with
        ECONNRESET.  Waits (up to timeout) for such data to arrive.  No
        other thread may be blocked reading this socket (it would keep the
        socket alive past close())."""
        select.select([self.sock], [], [], timeout)
        self.sock.close()

    def kill(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def handler_record(c, backend):
    """Read everything, keep it in c.data, until EOF."""
    while c.recv_into_record():
        pass


def handler_echo(c, backend):
    while True:
        b = c.recv_into_record()
        if not b:
            break
        c.send(b)
    c.sock.close()


def handler_script(steps):
    """A handler that plays steps: ("send", bytes), ("sleep", secs),
    ("recv", nbytes) (waits for that many bytes in total), ("call", fn)
    runs fn(conn), ("close",) for a clean close, ("shutdown",) to shut down
    the write side only.  A reader thread records what arrives meanwhile.
    A sleep ends early (and the script with it) when the connection ends."""
    def handler(c, backend):
        reader = threading.Thread(target=handler_record, args=(c, backend),
                                  daemon=True)
        reader.start()
        for step in steps:
            op = step[0]
            if op == "send":
                c.send(step[1])
            elif op == "sleep":
                # cut short when the gateway ends the connection or the
                # backend stops
                if c.wake.wait(step[1]):
                    return
            elif op == "recv":
                c.wait_data(step[1])
            elif op == "call":
                step[1](c)
            elif op == "close":
                c.sock.shutdown(socket.SHUT_WR)
                c.eof.wait(5)
                c.sock.close()
                return
            elif op == "shutdown":
                c.sock.shutdown(socket.SHUT_WR)
            else:
                raise ValueError(op)
        reader.join()
    return handler


def frame_record(rtype, payload):
    """A frame-mode backend record."""
    if isinstance(payload, str):
        payload = payload.encode()
    return struct.pack("!BI", rtype, len(payload)) + payload


def close_record(code=None, reason=b""):
    if code is None:
        return frame_record(REC_CLOSE, b"")
    if isinstance(reason, str):
        reason = reason.encode()
    return frame_record(REC_CLOSE, struct.pack("!H", code) + reason)


def parse_records(data):
    """Split frame-mode bytes into [(type, payload)] and the rest."""
    out = []
    i = 0
    while len(data) - i >= 5:
        t, n = struct.unpack_from("!BI", data, i)
        if len(data) - i - 5 < n:
            break
        out.append((t, bytes(data[i + 5:i + 5 + n])))
        i += 5 + n
    return out, bytes(data[i:])


# ---------------------------------------------------------------------------
# Raw WebSocket client

def ws_key(raw16=None):
    return base64.b64encode(raw16 or os.urandom(16)).decode()


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID)
                            .digest()).decode()


def upgrade_request(path="/echo", host="127.0.0.1", key=None,
                    version="13", method="GET", http="HTTP/1.1",
                    upgrade="websocket", connection="Upgrade",
                    protocols=None, origin=None, extra=None):
    """An upgrade request; any standard header set to None is left out.
    protocols: list of header values (one Sec-WebSocket-Protocol line
    each); extra: list of (name, value)."""
    if key is None:
        key = ws_key()
    lines = ["%s %s %s" % (method, path, http)]
    if host is not None:
        lines.append("Host: %s" % host)
    if upgrade is not None:
        lines.append("Upgrade: %s" % upgrade)
    if connection is not None:
        lines.append("Connection: %s" % connection)
    if key is not False:
        lines.append("Sec-WebSocket-Key: %s" % key)
    if version is not None:
        lines.append("Sec-WebSocket-Version: %s" % version)
    for p in protocols or []:
        lines.append("Sec-WebSocket-Protocol: %s" % p)
    if origin is not None:
        lines.append("Origin: %s" % origin)
    for name, value in extra or []:
        lines.append("%s: %s" % (name, value))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def build_frame(opcode, payload=b"", fin=True, rsv=0, mask=True,
                mask_key=None, length_form=None):
    """A client frame.  mask_key b'\\0\\0\\0\\0' leaves payload as is
    (fast for big floods).  length_form: force 7, 16 or 64-bit length
    encoding (to build non-minimal lengths)."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if mask else 0
    form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        hdr = struct.pack("!BB", b0, mbit | n)
    elif form == 16:
        hdr = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return hdr + payload
    if mask_key is None:
        mask_key = os.urandom(4)
    if mask_key == b"\0\0\0\0":
        return hdr + mask_key + payload
    return hdr + mask_key + xor_mask(payload, mask_key)


def xor_mask(data, key):
    if not data:
        return b""
    n = len(data)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little")
            ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


class Closed(Exception):
    """The peer closed the TCP connection (EOF or reset)."""


class HTTPResponse:
    def __init__(self, status, reason, headers, body, raw):
        self.status = status
        self.reason = reason
        self.headers = headers      # [(lower-case name, value)]
        self.body = body
        self.raw = raw

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def has_token(self, name, token):
        token = token.lower()
        for v in self.header_all(name):
            if token in [t.strip().lower() for t in v.split(",")]:
                return True
        return False

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.raw[:400])


class RawClient:
    """A TCP client that speaks WebSocket by hand."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0, family=None,
                 unix=None):
        if unix is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(unix)
        else:
            family = family or (socket.AF_INET6 if ":" in host
                                else socket.AF_INET)
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- bytes

    def send(self, data):
        self.sock.sendall(data)

    def send_slowly(self, data, delay=0.0):
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            if delay:
                time.sleep(delay)

    def _fill(self, timeout):
        """Read more into buf.  Raises Closed at EOF/reset,
        socket.timeout if nothing came."""
        if self.eof:
            raise Closed()
        self.sock.settimeout(timeout)
        try:
            b = self.sock.recv(1 << 20)
        except (ConnectionResetError, BrokenPipeError):
            self.eof = self.reset = True
            b = b""
        if not b:
            # the peer is done: close our end too, as a real client
            # would, so the gateway can let go of the connection
            self.eof = True
            self.close()
            raise Closed()
        self.buf += b

    def _deadline_left(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        return left

    def read_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            self._fill(self._deadline_left(deadline))
        b = bytes(self.buf[:n])
        del self.buf[:n]
        return b

    def read_until(self, sep, timeout=None, limit=1 << 20):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                b = bytes(self.buf[:i + len(sep)])
                del self.buf[:i + len(sep)]
                return b
            if len(self.buf) > limit:
                raise AssertionError("no %r in %d bytes" % (sep, limit))
            self._fill(self._deadline_left(deadline))

    def read_all(self, timeout=None):
        """Everything until the peer closes; raises socket.timeout if it
        does not close in time."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while True:
                self._fill(self._deadline_left(deadline))
        except Closed:
            pass
        b = bytes(self.buf)
        self.buf.clear()
        return b

    def wait_closed(self, timeout=3.0):
        """True if the peer closes the TCP connection within timeout
        (data arriving meanwhile is discarded)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.buf.clear()
                self._fill(self._deadline_left(deadline))
        except Closed:
            return True
        except socket.timeout:
            return False

    # -- HTTP

    def read_response(self, timeout=None):
        head = self.read_until(b"\r\n\r\n", timeout).decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise AssertionError("bad status line %r" % lines[0])
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for ln in lines[1:]:
            if not ln:
                continue
            k, _, v = ln.partition(":")
            headers.append((k.strip().lower(), v.strip()))
        body = b""
        r = HTTPResponse(status, reason, headers, body, head.encode())
        cl = r.header("content-length")
        if cl is not None and status != 101:
            body = self.read_exact(int(cl), timeout)
        r.body = body
        r.raw += body
        return r

    def handshake(self, path="/echo", expect=101, **kw):
        """Send an upgrade request and read the response; checks the
        accept key on a 101."""
        key = kw.pop("key", None) or ws_key()
        self.send(upgrade_request(path, key=key, **kw))
        r = self.read_response()
        if expect is not None and r.status != expect:
            raise AssertionError("expected %d, got %r" % (expect, r))
        if r.status == 101:
            got = r.header("sec-websocket-accept")
            if got != accept_for(key):
                raise AssertionError("bad Sec-WebSocket-Accept %r for key %r"
                                     % (got, key))
        return r

    # -- frames

    def send_frame(self, opcode, payload=b"", **kw):
        self.send(build_frame(opcode, payload, **kw))

    def send_text(self, s):
        self.send_frame(OP_TEXT, s.encode() if isinstance(s, str) else s)

    def send_binary(self, b):
        self.send_frame(OP_BINARY, b)

    def send_close(self, code=None, reason=b""):
        self.send_frame(OP_CLOSE, close_payload(code, reason))

    def recv_frame(self, timeout=None):
        """(fin, rsv, opcode, payload) of the next server frame.  Raises
        AssertionError if the server masked it."""
        deadline = time.monotonic() + (timeout or self.timeout)
        left = lambda: self._deadline_left(deadline)
        h = self.read_exact(2, left())
        fin, rsv, op = h[0] >> 7, (h[0] >> 4) & 7, h[0] & 0xF
        masked, n = h[1] >> 7, h[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.read_exact(2, left()))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.read_exact(8, left()))[0]
        if masked:
            raise AssertionError("server frame is masked")
        payload = self.read_exact(n, left()) if n else b""
        return fin, rsv, op, payload

    def recv_message(self, timeout=None, answer_pings=True):
        """The next data message (opcode, payload), reassembled; control
        frames are skipped (pings answered).  A close frame raises
        AssertionError naming its code."""
        deadline = time.monotonic() + (timeout or self.timeout)
        parts, first = [], None
        while True:
            fin, rsv, op, p = self.recv_frame(self._deadline_left(deadline))
            if op == OP_PING:
                if answer_pings:
                    self.send_frame(OP_PONG, p)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                raise AssertionError("got close %r instead of a message"
                                     % (parse_close(p),))
            if first is None:
                first = op
            parts.append(p)
            if fin:
                return first, b"".join(parts)

    def recv_close(self, timeout=None):
        """Skip data and control frames until a close frame; returns
        (code, reason) with code None for an empty close.  Raises Closed if
        the connection ends without one."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            fin, rsv, op, p = self.recv_frame(self._deadline_left(deadline))
            if op == OP_CLOSE:
                return parse_close(p)


def parse_close(p):
    if not p:
        return None, b""
    if len(p) == 1:
        return ("1-byte", p)
    return struct.unpack("!H", p[:2])[0], p[2:]


# ---------------------------------------------------------------------------
# The test case base class

class GatewayTest(unittest.TestCase):
    """Base class: temp dir, backends and a gateway, all cleaned up."""

    # A test that expects the gateway to stop sets gw.expect_exit.

    # No test takes minutes: one that hangs fails the run, with every
    # thread's traceback, instead of stalling CI until its time limit.
    WATCHDOG_SECONDS = int(os.environ.get("TEST_WATCHDOG", "300"))

    def setUp(self):
        if not WSGATED or not os.access(WSGATED, os.X_OK):
            self.fail("WSGATED=%r is not an executable wsgated" % WSGATED)
        faulthandler.dump_traceback_later(self.WATCHDOG_SECONDS, exit=True)
        self.addCleanup(faulthandler.cancel_dump_traceback_later)
        self.tmp = tempfile.mkdtemp(prefix="wsgate-it-")
        if os.environ.get("KEEP_TMP"):
            # for debugging: keep configs and logs
            print("\n    [%s]" % self.tmp, end=" ")
        else:
            self.addCleanup(shutil.rmtree, self.tmp, True)
        self._sanitizer_logs()

    def _sanitizer_logs(self):
        """Sanitizer reports of every process the test starts (built with
        SANITIZE=1) go to files in its temp dir; any such file fails the
        test once everything it started has been stopped.  (Cleanups run
        last-in first-out, so this check runs after them.)"""
        saved = {k: os.environ.get(k) for k in SANITIZER_ENV}
        log = os.path.join(self.tmp, SANITIZER_LOG)
        for k, opts in SANITIZER_ENV.items():
            os.environ[k] = ":".join(filter(None, [saved[k], opts,
                                                   "log_path=" + log]))

        def check():
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            reports = sorted(f for f in os.listdir(self.tmp)
                             if f.startswith(SANITIZER_LOG + "."))
            if reports:
                texts = []
                for f in reports:
                    with open(os.path.join(self.tmp, f),
                              errors="replace") as fh:
                        texts.append("%s:\n%s" % (f, fh.read()[:3000]))
                raise AssertionError("sanitizer reports:\n"
                                     + "\n".join(texts))
        self.addCleanup(check)

    def path(self, name):
        return os.path.join(self.tmp, name)

    # -- backends

    def start_echo(self, name="echo.sock"):
        """Start the C echo backend; returns its socket path."""
        if not ECHO_BACKEND or not os.access(ECHO_BACKEND, os.X_OK):
            self.fail("ECHO_BACKEND=%r is not an executable" % ECHO_BACKEND)
        sock = self.path(name)
        log = open(self.path(name + ".log"), "wb")
        self.addCleanup(log.close)
        p = subprocess.Popen([ECHO_BACKEND, sock], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log)
        self.addCleanup(stop_process, p, 3.0)
        if not wait_unix(sock, 5.0, p):
            self.fail("echo backend did not start on %s:\n%s"
                      % (sock, tail(self.path(name + ".log"))))
        self.echo_proc = p
        return sock

    def start_backend(self, handler, name="py.sock"):
        """Start a Python backend; returns the UnixBackend."""
        b = UnixBackend(self.path(name), handler)
        self.addCleanup(b.stop)
        return b

    # -- the gateway

    def write_config(self, conf, name="wsgated.conf"):
        """Write conf (a dict, rendered as libconfig, or a string)."""
        p = self.path(name)
        with open(p, "w") as f:
            f.write(conf if isinstance(conf, str) else libconfig(conf))
        return p

    def make_config(self, routes, limits=None, workers=1, port=None,
                    listen=None):
        lim = dict(DEFAULT_LIMITS)
        lim.update(limits or {})
        if listen is None:
            listen = [{"address": "127.0.0.1", "port": port or free_port()}]
        return {"listen": listen, "workers": workers, "limits": lim,
                "routes": routes}

    def start_gateway(self, routes=None, limits=None, workers=1, conf=None,
                      wait=True, host="127.0.0.1", port=None, nofile=None):
        """Start wsgated with a generated config (or conf, a dict/string
        naming its own listener, then port must be given) and wait until it
        accepts connections.  nofile: RLIMIT_NOFILE (soft and hard) to
        start it with."""
        if conf is None:
            port = port or free_port()
            conf = self.make_config(routes, limits, workers, port)
        conf_path = self.write_config(conf)
        log_path = self.path("wsgated.log")
        log = open(log_path, "wb")
        self.addCleanup(log.close)
        pre = None
        if nofile is not None:
            def pre():
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        proc = subprocess.Popen([WSGATED, "-c", conf_path],
                                stdin=subprocess.DEVNULL, stdout=log,
                                stderr=log, preexec_fn=pre)
        gw = Gateway(proc, conf_path, log_path, port, host)
        self.addCleanup(self._stop_gateway, gw)
        if wait and not wait_port(host, port, 10.0, proc):
            rc = proc.poll()
            self.fail("wsgated did not accept on %s:%d (%s); config:\n%s\n"
                      "log:\n%s" % (host, port,
                                    "exited %s" % rc if rc is not None
                                    else "still running",
                                    open(conf_path).read(), gw.log_tail()))
        return gw

    def _stop_gateway(self, gw):
        crashed = None
        if not gw.expect_exit and gw.proc.poll() is not None:
            crashed = gw.proc.returncode
        rc, killed = stop_process(gw.proc, 5.0)
        log = gw.log()
        m = SANITIZER_RE.search(log)
        if m:
            raise AssertionError("sanitizer report in wsgated log:\n%s"
                                 % log[max(0, m.start() - 200):][:4000])
        if crashed is not None:
            raise AssertionError("wsgated exited on its own during the test "
                                 "(status %s); log:\n%s"
                                 % (crashed, gw.log_tail()))
        if killed:
            raise AssertionError("wsgated ignored SIGTERM for 5 s and was "
                                 "killed; log:\n%s" % gw.log_tail())

    # -- clients

    def raw(self, gw, **kw):
        c = RawClient(gw.port, gw.host, **kw)
        self.addCleanup(c.close)
        return c

    def raw_ws(self, gw, path="/echo", **kw):
        """A raw client that completed the handshake."""
        c = self.raw(gw)
        c.handshake(path, **kw)
        return c

    def run_async(self, coro, timeout=60):
        return asyncio.run(asyncio.wait_for(coro, timeout))

    def assertRefused(self, resp, client, status):
        """A refusal: the status, Connection: close, and the connection
        closed after it with nothing more sent."""
        self.assertEqual(resp.status, status, "response: %r" % (resp,))
        self.assertTrue(resp.has_token("connection", "close"),
                        "refusal without Connection: close: %r" % (resp,))
        try:
            rest = client.read_all(timeout=3.0)
        except socket.timeout:
            self.fail("connection still open 3 s after a %d refusal" % status)
        self.assertEqual(rest, b"", "bytes after the %d refusal: %r"
                         % (status, rest[:200]))


def ws_connect(url, **kw):
    """websockets.connect with test-friendly defaults."""
    import websockets
    kw.setdefault("ping_interval", None)
    kw.setdefault("compression", None)
    kw.setdefault("open_timeout", 5)
    kw.setdefault("close_timeout", 3)
    return websockets.connect(url, **kw)
