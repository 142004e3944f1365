"""Fault: the client's TCP connection is reset (SO_LINGER 0, so the
gateway reads ECONNRESET, or gets one writing) in the middle of things:
during the handshake, inside a frame header, inside a payload with part
of a message already reassembled, and while the backend is pouring data
towards it.  Each time the gateway survives, logs the client, closes the
backend's side promptly without passing on the partial message, keeps
serving a healthy client and leaks no descriptor."""

import socket
import struct
import threading
import time

from faultlib import FaultTest
from harness import (OP_BINARY, REC_BINARY, build_frame, frame_record,
                     handler_record, upgrade_request)


def rst(c):
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      struct.pack("ii", 1, 0))
    c.close()


class TcpReset(FaultTest):

    def test_resets_mid_frame(self):
        be = self.start_backend(handler_record, "rec.sock")

        def pour(c, backend):
            # sends until the gateway shuts its side (EOF on read) or
            # the socket fails
            t = threading.Thread(target=handler_record, args=(c, backend),
                                 daemon=True)
            t.start()
            rec = frame_record(REC_BINARY, b"p" * 65536)
            c.sock.settimeout(0.2)
            while not c.eof.is_set():
                try:
                    c.send(rec)
                except socket.timeout:
                    continue
                except OSError:
                    break
            c.eof.wait(5)

        pourer = self.start_backend(pour, "pour.sock")
        gw = self.start_faulty_gateway([
            {"path": "/rec", "backend": be.path, "framing": "frame"},
            {"path": "/pour", "backend": pourer.path, "framing": "frame"}])
        h = self.healthy(gw)
        time.sleep(0.1)
        fds0 = gw.nfds()
        whole = frame_record(REC_BINARY, b"whole")
        cases = {
            "in the handshake": None,
            "inside a frame header": b"\x82\xfe\x10",
            "inside a payload": build_frame(OP_BINARY, b"q" * 10000,
                                            mask_key=b"\0\0\0\0")[:6000],
            "inside a fragmented message":
                build_frame(OP_BINARY, b"f" * 3000, fin=False) +
                build_frame(0, b"g" * 3000)[:100],
        }
        for rounds in range(3):
            for what, tail in cases.items():
                with self.subTest(what):
                    n = len(be.conns)
                    c = self.raw(gw)
                    if tail is None:
                        c.send(upgrade_request("/rec")[:40])
                        time.sleep(0.05)
                        rst(c)
                        continue
                    c.handshake("/rec")
                    c.send_binary(b"whole")
                    bc = be.wait_conns(n + 1)
                    self.assertEqual(bc.wait_data(len(whole)), whole)
                    c.send(tail)
                    time.sleep(0.05)
                    t0 = time.monotonic()
                    rst(c)
                    self.assertTrue(bc.eof.wait(2 * self.slack(gw)),
                                    "backend side not closed")
                    self.assertLess(time.monotonic() - t0,
                                    1.0 * self.slack(gw))
                    self.assertEqual(bytes(bc.data), whole,
                                     "a partial message reached the "
                                     "backend")
            # a client reset while the backend pours data at it
            c = self.raw_ws(gw, "/pour")
            c.recv_frame(timeout=3)
            rst(c)
            pc = pourer.wait_conns(rounds + 1)
            self.assertTrue(pc.eof.wait(3 * self.slack(gw)),
                            "pouring backend not cut off")
        self.assertTrue(gw.alive())
        self.assertLogged(gw, r"127\.0\.0\.1:\d+: client error: "
                          r".*reset by peer")
        self.assertNoLeak(gw, fds0)
        h.check(self, max_latency=1.0 * self.slack(gw))
