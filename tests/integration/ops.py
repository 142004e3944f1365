"""Helpers for the operations tests (test_ops_*.py): plain HTTP GETs for
the status paths, a Prometheus text parser, a datagram socket standing
in for systemd's NOTIFY_SOCKET, and an echo loop on a raw client."""

import os
import re
import socket
import time

from harness import OP_TEXT

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def http_get(host, port, path, method="GET", timeout=5.0, unix=None,
             source=None):
    """(status, headers dict, body bytes) of one request (from the source
    address if given); the gateway closes the connection after answering."""
    if unix is not None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        addr = unix
    else:
        s = socket.socket(socket.AF_INET6 if ":" in host
                          else socket.AF_INET, socket.SOCK_STREAM)
        addr = (host, port)
    s.settimeout(timeout)
    with s:
        if source is not None:
            s.bind((source, 0))
        s.connect(addr)
        s.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                   % (method, path, host)).encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset(labels)): value}, and
    the {name: type} of the # TYPE lines.  Raises ValueError on a line
    that is neither a comment nor a sample."""
    samples, types = {}, {}
    for ln in text.splitlines():
        if not ln:
            continue
        if ln.startswith("# TYPE "):
            _, _, name, typ = ln.split(" ", 3)
            types[name] = typ
            continue
        if ln.startswith("#"):
            continue
        m = _SAMPLE.match(ln)
        if m is None:
            raise ValueError("not a sample: %r" % ln)
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        key = (m.group(1), labels)
        if key in samples:
            raise ValueError("duplicate sample: %r" % ln)
        samples[key] = float(m.group(4))
    return samples, types


def metric(samples, name, **labels):
    """The value of one sample, or None."""
    return samples.get((name, frozenset(labels.items())))


class NotifySocket:
    """A datagram socket where wsgated sends its sd_notify messages."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def close(self):
        self.sock.close()

    def wait(self, pred, timeout=5.0):
        """The first message (a dict of its KEY=value lines) for which
        pred is true, reading until timeout; None if none came."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return None
            msg = dict(ln.split("=", 1) for ln in
                       data.decode().splitlines() if "=" in ln)
            self.messages.append(msg)
            if pred(msg):
                return msg


def echo_once(client, i, tag="m"):
    """Send one text message through a line/frame echo and check it."""
    payload = ("%s-%d" % (tag, i)).encode()
    client.send_text(payload)
    op, got = client.recv_message()
    if op != OP_TEXT or got != payload:
        raise AssertionError("sent %r, got %r (opcode %d)"
                             % (payload, got, op))


def start_gateway_env(test, conf, port, env=None, wait=True, wrap=(),
                      **popen):
    """Like GatewayTest.start_gateway(conf=..., port=...), with extra
    environment variables, Popen arguments (preexec_fn, close_fds) and a
    command that execs wsgated (wrap + [wsgated, -c, conf])."""
    import subprocess
    from harness import WSGATED, Gateway, wait_port
    conf_path = test.write_config(conf)
    log_path = test.path("wsgated.log")
    log = open(log_path, "wb")
    test.addCleanup(log.close)
    e = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC",
              "WATCHDOG_PID", "JOURNAL_STREAM"):
        e.pop(k, None)
    e.update(env or {})
    proc = subprocess.Popen(list(wrap) + [WSGATED, "-c", conf_path],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            env=e, **popen)
    gw = Gateway(proc, conf_path, log_path, port)
    test.addCleanup(test._stop_gateway, gw)
    if wait and not wait_port("127.0.0.1", port, 10.0, proc):
        test.fail("wsgated did not accept on %d; log:\n%s"
                  % (port, gw.log_tail()))
    return gw
