"""Flow control: a client floods 100 MiB while the backend reads slowly
(and the reverse, a backend flooding a slow client).  With the default
buffer_limit the gateway's RSS stays under 64 MB, and every byte arrives
in order (checked with a SHA-256 over the stream)."""

import hashlib
import os
import socket
import struct
import threading
import time

from faultlib import sanitized     # gcc's and clang's ASan alike
from harness import OP_BINARY, OP_PING, GatewayTest, build_frame, proc_status

MIB = 1 << 20
RSS_LIMIT_KB = 64 * 1024
BLOCK = os.urandom(MIB + 8192)


def chunk(k, size):
    """The k-th chunk of a deterministic stream: a counter, then bytes."""
    off = (k * 4099) % 8192
    return struct.pack("!Q", k) + BLOCK[off:off + size - 8]


class RSSSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.max = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.02):
            v = proc_status(self.pid, "VmRSS")
            if v:
                self.max = max(self.max, v)


class Flood(GatewayTest):

    def check_memory(self, gw, sampler):
        sampler.stop.set()
        sampler.join()
        hwm = gw.hwm_kb() or 0
        print("\n    gateway RSS max %.1f MB (VmHWM %.1f MB)"
              % (sampler.max / 1024, hwm / 1024), end=" ")
        if sanitized(gw.pid):
            return      # sanitizer shadow memory: RSS says nothing
        self.assertLess(max(sampler.max, hwm), RSS_LIMIT_KB,
                        "gateway RSS over 64 MB: buffers are not bounded")

    def test_client_floods_slow_backend(self):
        total = 100 * MIB
        size = 64 * 1024
        done = threading.Event()

        def slow_reader(c, backend):
            # about 40 MB/s: slower than loopback, so the gateway must
            # push back on the client
            t0 = time.monotonic()
            while c.nbytes < total:
                if not c.recv_into_record(size, keep=False):
                    break
                lag = c.nbytes / (40 * MIB) - (time.monotonic() - t0)
                if lag > 0:
                    time.sleep(lag)
            done.set()
            while c.recv_into_record(size, keep=False):
                pass

        be = self.start_backend(slow_reader)
        gw = self.start_gateway([{"path": "/raw", "backend": be.path,
                                  "framing": "raw"}])
        c = self.raw_ws(gw, "/raw")
        sampler = RSSSampler(gw.pid)
        sampler.start()
        sha = hashlib.sha256()
        t0 = time.monotonic()
        for k in range(total // size):
            p = chunk(k, size)
            sha.update(p)
            # an all-zero mask key leaves the payload as it is (valid,
            # and cheap in Python)
            c.send(build_frame(OP_BINARY, p, mask_key=b"\0\0\0\0"))
        t1 = time.monotonic()
        self.assertTrue(done.wait(60), "backend got only %d of %d bytes"
                        % (be.conns[0].nbytes if be.conns else 0, total))
        print("\n    sent in %.1fs, received in %.1fs"
              % (t1 - t0, time.monotonic() - t0), end=" ")
        bc = be.conns[0]
        self.assertEqual(bc.nbytes, total)
        self.assertEqual(bc.sha.hexdigest(), sha.hexdigest(),
                         "bytes lost, changed or reordered")
        self.check_memory(gw, sampler)

    def test_backend_floods_slow_client(self):
        total = 64 * MIB
        size = 256 * 1024
        sha = hashlib.sha256()

        def flooder(c, backend):
            for k in range(total // size):
                c.send(chunk(k, size))
            while c.recv_into_record():
                pass

        for k in range(total // size):
            sha.update(chunk(k, size))
        be = self.start_backend(flooder)
        gw = self.start_gateway([{"path": "/raw", "backend": be.path,
                                  "framing": "raw"}])
        c = self.raw_ws(gw, "/raw")
        sampler = RSSSampler(gw.pid)
        sampler.start()
        got = hashlib.sha256()
        n = 0
        t0 = time.monotonic()
        while n < total:
            fin, rsv, op, p = c.recv_frame(timeout=10)
            self.assertEqual((fin, op), (1, OP_BINARY))
            got.update(p)
            n += len(p)
            lag = n / (40 * MIB) - (time.monotonic() - t0)
            if lag > 0:
                time.sleep(lag)
        self.assertEqual(n, total)
        self.assertEqual(got.hexdigest(), sha.hexdigest(),
                         "bytes lost, changed or reordered")
        self.check_memory(gw, sampler)

    def send_until_blocked(self, c, block, limit):
        """Send block repeatedly until limit bytes or until the gateway
        stops reading for 2 s; returns the bytes sent."""
        sent = 0
        c.sock.settimeout(2)
        try:
            while sent < limit:
                c.sock.sendall(block)
                sent += len(block)
        except socket.timeout:
            pass        # the gateway stopped reading: backpressure
        return sent

    def test_echo_client_never_reads(self):
        # echoes pile up towards a client that does not read; the echo
        # backend stops reading, then the gateway must stop reading the
        # client
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/frame", "backend": echo,
                                  "framing": "frame"}])
        c = self.raw_ws(gw, "/frame")
        sampler = RSSSampler(gw.pid)
        sampler.start()
        frame = build_frame(OP_BINARY, BLOCK[:64 * 1024],
                            mask_key=b"\0\0\0\0")
        sent = self.send_until_blocked(c, frame * 16, 100 * MIB)
        print("\n    %d MB sent" % (sent // MIB), end=" ")
        self.check_memory(gw, sampler)

    def test_client_pings_but_never_reads(self):
        # pongs pile up towards a client that does not read: the gateway
        # must stop reading its pings rather than queue pongs forever
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/echo", "backend": echo,
                                  "framing": "line"}])
        c = self.raw_ws(gw)
        sampler = RSSSampler(gw.pid)
        sampler.start()
        ping = build_frame(OP_PING, b"p" * 125, mask_key=b"\0\0\0\0")
        block = ping * (MIB // len(ping))
        sent = self.send_until_blocked(c, block, 100 * MIB)
        print("\n    %d MB of pings sent" % (sent // MIB), end=" ")
        self.check_memory(gw, sampler)
