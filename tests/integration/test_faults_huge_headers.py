"""Fault: a client sends 1 MB of request headers.  The gateway answers
431 as soon as max_header_bytes is passed (it does not wait for the end
of the head, nor for the handshake timeout), reads and discards the rest
without buffering it (its RSS stays flat), closes cleanly, logs it, and
keeps serving a healthy client; no descriptor is left behind."""

import socket
import threading
import time

from faultlib import FaultTest, sanitized
from harness import upgrade_request

MB = 1 << 20


class HugeHeaders(FaultTest):

    def test_megabyte_of_headers(self):
        echo = self.start_echo()
        gw = self.start_faulty_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}])
        h = self.healthy(gw)
        time.sleep(0.1)
        fds0 = gw.nfds()
        hwm0 = gw.hwm_kb()
        for shape in ("many headers", "one huge header", "no end"):
            with self.subTest(shape):
                if shape == "many headers":
                    extra = [("X-Filler-%d" % i, "v" * 100)
                             for i in range(MB // 110)]
                    data = upgrade_request("/echo", extra=extra)
                elif shape == "one huge header":
                    data = upgrade_request("/echo",
                                           extra=[("X-Big", "b" * MB)])
                else:
                    data = b"GET /echo HTTP/1.1\r\nHost: x\r\nX: " + \
                        b"n" * MB
                self.assertGreater(len(data), MB - 1024)
                c = self.raw(gw)
                t0 = time.monotonic()
                err = []

                def send():
                    try:
                        c.sock.sendall(data)
                    except OSError as e:
                        err.append(e)
                t = threading.Thread(target=send, daemon=True)
                t.start()
                r = c.read_response(timeout=5)
                took = time.monotonic() - t0
                t.join(10)
                self.assertEqual(err, [], "the gateway reset the client")
                self.assertRefused(r, c, 431)
                self.assertLess(took, 1.0 * self.slack(gw))
        self.assertLogged(gw, r"127\.0\.0\.1:\d+: 431 .*max_header_bytes")
        hwm = gw.hwm_kb()
        print("\n    peak RSS %.1f MB before, %.1f MB after"
              % (hwm0 / 1024, hwm / 1024), end=" ")
        if not sanitized(gw.pid):
            self.assertLess(hwm - hwm0, 4096, "headers were buffered")
        self.assertNoLeak(gw, fds0)
        h.check(self, max_latency=1.0 * self.slack(gw))
