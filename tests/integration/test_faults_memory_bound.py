"""Fault, many times over: connections whose peers both stop reading
while both keep sending.  40 such connections (client and backend each
flooding the other and reading nothing) are held until every sender
stalls; the gateway's RSS growth divided by their number is the memory
one connection can pin with the default limits (buffer_limit 1 MiB,
max_message_size 1 MiB).  It must stay bounded (under 6 MB each; the
figure is printed for the README), a healthy client is served all along,
and everything is given back when they go."""

import socket
import threading
import time

from faultlib import MIB, FaultTest, sanitized
from harness import OP_BINARY, build_frame, raise_nofile_limit

N = 40
MSG = 256 * 1024


class MemoryBound(FaultTest):

    def test_memory_per_stalled_connection(self):
        raise_nofile_limit()
        stop = threading.Event()
        sent = {"backend": 0}

        def flood_never_read(c, backend):
            data = b"b" * MIB
            c.sock.settimeout(0.2)
            while not stop.is_set():
                try:
                    n = c.sock.send(data)
                    sent["backend"] += n
                except socket.timeout:
                    continue
                except OSError:
                    break
            stop.wait()

        be = self.start_backend(flood_never_read)
        gw = self.start_faulty_gateway([{"path": "/raw", "backend": be.path,
                                         "framing": "raw"}])
        h = self.healthy(gw)
        time.sleep(0.2)
        rss0 = gw.rss_kb()
        fds0 = gw.nfds()
        frame = build_frame(OP_BINARY, b"c" * MSG, mask_key=b"\0\0\0\0")
        clients = []
        for _ in range(N):
            c = self.raw_ws(gw, "/raw")
            c.sock.setblocking(False)
            c.pending = memoryview(frame)
            clients.append(c)
        # every client sends until the gateway stops reading from it
        idle_since = time.monotonic()
        deadline = time.monotonic() + 30
        total = 0
        while time.monotonic() - idle_since < 1.0:
            self.assertLess(time.monotonic(), deadline, "never stalled")
            moved = False
            for c in clients:
                try:
                    n = c.sock.send(c.pending)
                except BlockingIOError:
                    continue
                moved = moved or n > 0
                total += n
                c.pending = c.pending[n:]
                if not c.pending:
                    c.pending = memoryview(frame)
            if moved:
                idle_since = time.monotonic()
            else:
                time.sleep(0.05)
        # and the backend's sends stall too (slower under a sanitizer):
        # half a second without a byte moving, within 15 s
        deadline = time.monotonic() + 15 * self.slack(gw)
        while True:
            b0 = sent["backend"]
            time.sleep(0.5)
            if sent["backend"] == b0:
                break
            self.assertLess(time.monotonic(), deadline,
                            "backend sends not stalled")
        rss = gw.rss_kb()
        per = (rss - rss0) / N
        print("\n    %d stalled connections (client sent %.0f MB, backend "
              "%.0f MB): RSS %.1f -> %.1f MB, %.2f MB per connection"
              % (N, total / MIB, sent["backend"] / MIB, rss0 / 1024,
                 rss / 1024, per / 1024), end=" ")
        if not sanitized(gw.pid):
            self.assertLess(per, 6 * 1024, "memory per connection")
        h.check(self, max_latency=1.0 * self.slack(gw))
        stop.set()
        for c in clients:
            c.close()
        self.assertNoLeak(gw, fds0)
