"""Fault: the backend stops reading while the client floods 200 MB.

The gateway must stop reading from the client once buffer_limit bytes
are queued for the backend (the client's sends stall), keep its RSS under
64 MB with the default buffer_limit, resume reading when the backend
drains, and deliver every byte in order (SHA-256 over the stream).  A
healthy client is served all along."""

import hashlib
import os
import struct
import threading
import time

from faultlib import MIB, FaultTest, RSSSampler, sanitized
from harness import OP_BINARY, build_frame

TOTAL = 200 * MIB
SIZE = 512 * 1024
RSS_LIMIT_KB = 64 * 1024
BLOCK = os.urandom(SIZE + 4096)


def chunk(k):
    off = (k * 4099) % 4096
    return struct.pack("!Q", k) + BLOCK[off:off + SIZE - 8]


class BackendStalls(FaultTest):

    def test_client_floods_stalled_backend(self):
        resume = threading.Event()
        done = threading.Event()
        got = {"n": 0, "sha": hashlib.sha256()}

        def stalled_then_fast(c, backend):
            resume.wait(30)
            buf = bytearray(4 * MIB)
            mv = memoryview(buf)
            while got["n"] < TOTAL:
                k = c.sock.recv_into(buf)
                if k == 0:
                    break
                got["sha"].update(mv[:k])
                got["n"] += k
            done.set()

        be = self.start_backend(stalled_then_fast)
        gw = self.start_faulty_gateway([{"path": "/raw", "backend": be.path,
                                         "framing": "raw"}])
        h = self.healthy(gw)
        sampler = RSSSampler(gw.pid)
        sampler.start()
        c = self.raw_ws(gw, "/raw")
        sent = {"n": 0, "err": None}
        want = hashlib.sha256()

        def sender():
            try:
                for k in range(TOTAL // SIZE):
                    p = chunk(k)
                    c.send(build_frame(OP_BINARY, p, mask_key=b"\0\0\0\0"))
                    sent["n"] += len(p)
            except Exception as e:
                sent["err"] = e

        for k in range(TOTAL // SIZE):
            want.update(chunk(k))
        t = threading.Thread(target=sender, daemon=True)
        c.sock.settimeout(60)
        t.start()
        # the sender stalls: the gateway stopped reading from it
        prev = -1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if sent["n"] == prev:
                break
            prev = sent["n"]
        stalled_at = sent["n"]
        self.assertEqual(stalled_at, prev, "client sends never stalled")
        self.assertLess(stalled_at, 48 * MIB,
                        "gateway kept reading from the client")
        time.sleep(0.5)
        self.assertEqual(sent["n"], stalled_at, "reading resumed by itself")
        rss_stalled = gw.rss_kb()
        # the backend drains: the flood resumes and completes
        t0 = time.monotonic()
        resume.set()
        self.assertTrue(done.wait(120), "backend got %d of %d bytes"
                        % (got["n"], TOTAL))
        t.join(10)
        took = time.monotonic() - t0
        self.assertIsNone(sent["err"])
        self.assertEqual(got["n"], TOTAL)
        self.assertEqual(got["sha"].hexdigest(), want.hexdigest(),
                         "bytes lost, changed or reordered")
        peak = max(sampler.stop(), gw.hwm_kb() or 0)
        print("\n    stalled after %.1f MB sent; RSS stalled %.1f MB, peak "
              "%.1f MB; %d MB drained in %.1fs"
              % (stalled_at / MIB, rss_stalled / 1024, peak / 1024,
                 TOTAL // MIB, took), end=" ")
        if not sanitized(gw.pid):
            self.assertLess(peak, RSS_LIMIT_KB, "gateway RSS over 64 MB")
        h.check(self, max_latency=1.0 * self.slack(gw))
