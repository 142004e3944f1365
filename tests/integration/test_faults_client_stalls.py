"""Fault: the client stops reading while the backend floods 200 MB.

The gateway must stop reading from the backend once buffer_limit bytes
are queued for the client (the backend's sends stall), keep its RSS under
64 MB with the default buffer_limit, resume when the client reads again,
and deliver every byte in order (SHA-256 over the stream).  A healthy
client is served all along."""

import hashlib
import os
import struct
import threading
import time

from faultlib import MIB, FaultTest, FrameReader, RSSSampler, sanitized
from harness import OP_BINARY, OP_PING, OP_PONG, build_frame

TOTAL = 200 * MIB
SIZE = 1 * MIB
RSS_LIMIT_KB = 64 * 1024
BLOCK = os.urandom(SIZE + 4096)


def chunk(k):
    off = (k * 4099) % 4096
    return struct.pack("!Q", k) + BLOCK[off:off + SIZE - 8]


class ClientStalls(FaultTest):

    def test_backend_floods_stalled_client(self):
        sent = {"n": 0}

        def flooder(c, backend):
            for k in range(TOTAL // SIZE):
                c.send(chunk(k))
                sent["n"] += SIZE
            while c.recv_into_record():
                pass

        want = hashlib.sha256()
        for k in range(TOTAL // SIZE):
            want.update(chunk(k))
        be = self.start_backend(flooder)
        gw = self.start_faulty_gateway([{"path": "/raw", "backend": be.path,
                                         "framing": "raw"}])
        h = self.healthy(gw)
        sampler = RSSSampler(gw.pid)
        sampler.start()
        c = self.raw_ws(gw, "/raw")     # and then it does not read
        prev = -1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if sent["n"] == prev:
                break
            prev = sent["n"]
        stalled_at = sent["n"]
        self.assertEqual(stalled_at, prev, "backend sends never stalled")
        self.assertLess(stalled_at, 48 * MIB,
                        "gateway kept reading from the backend")
        rss_stalled = gw.rss_kb()
        # the client reads again: everything arrives, in order
        t0 = time.monotonic()
        r = FrameReader(c.sock, c.buf)
        c.sock.settimeout(30)
        got = hashlib.sha256()
        n = 0
        while n < TOTAL:
            self.assertLess(time.monotonic() - t0, 120,
                            "only %d of %d bytes arrived" % (n, TOTAL))
            ctl = bytearray()
            fin, op, k = r.frame(lambda p: got.update(p) if not
                                 r.control else ctl.extend(p))
            if op == OP_PING:   # keepalive, if the drain is slow
                c.send(build_frame(OP_PONG, bytes(ctl)))
                continue
            self.assertEqual((fin, op), (1, OP_BINARY))
            n += k
        took = time.monotonic() - t0
        self.assertEqual(n, TOTAL)
        self.assertEqual(got.hexdigest(), want.hexdigest(),
                         "bytes lost, changed or reordered")
        peak = max(sampler.stop(), gw.hwm_kb() or 0)
        print("\n    stalled after %.1f MB sent; RSS stalled %.1f MB, peak "
              "%.1f MB; %d MB drained in %.1fs"
              % (stalled_at / MIB, rss_stalled / 1024, peak / 1024,
                 TOTAL // MIB, took), end=" ")
        if not sanitized(gw.pid):
            self.assertLess(peak, RSS_LIMIT_KB, "gateway RSS over 64 MB")
        h.check(self, max_latency=1.0 * self.slack(gw))
