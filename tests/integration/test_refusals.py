"""Refused upgrades: 404, 405, 426 (both kinds), 400, 403, 431, 408, 502
and 503, the order they are checked in, and that every refusal carries
Connection: close, closes the socket and never answers a pipelined
second request."""

import os
import select
import socket
import time

from harness import (GatewayTest, RawClient, upgrade_request, wait_for,
                     ws_key)


class Refusals(GatewayTest):

    def setUp(self):
        super().setUp()
        self.echo = self.start_echo()
        self.gw = self.start_gateway([
            {"path": "/echo", "backend": self.echo, "framing": "line"},
            {"path": "/private", "backend": self.echo, "framing": "line",
             "origins": ["https://good.example", "http://also.example:8000"]},
            {"path": "/gone", "backend": self.path("missing.sock")},
        ], limits={"handshake_timeout_ms": 1000})

    def refused(self, request, status, header=None, pipelined=True):
        """Send request (with a valid upgrade pipelined behind it) and
        check the refusal; returns the response."""
        c = self.raw(self.gw)
        data = request
        if pipelined:
            data += upgrade_request("/echo")
        c.send(data)
        r = c.read_response()
        self.assertRefused(r, c, status)
        if header:
            name, value = header
            self.assertEqual(r.header(name), value,
                             "%d without %s: %s" % (status, name, value))
        return r

    def test_404_unknown_path(self):
        self.refused(upgrade_request("/nope"), 404)
        self.refused(upgrade_request("/echo/"), 404)
        self.refused(upgrade_request("/ECHO"), 404)

    def test_405_method(self):
        self.refused(upgrade_request("/echo", method="POST"), 405)
        self.refused(upgrade_request("/echo", method="HEAD"), 405)

    def test_426_plain_http_request(self):
        req = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        self.refused(req, 426, ("upgrade", "websocket"))
        self.refused(upgrade_request("/echo", upgrade="h2c"), 426,
                     ("upgrade", "websocket"))

    def test_400_malformed_upgrade(self):
        cases = {
            "HTTP/1.0": upgrade_request("/echo", http="HTTP/1.0"),
            "no Host": upgrade_request("/echo", host=None),
            "Connection without upgrade":
                upgrade_request("/echo", connection="keep-alive"),
            "no Connection": upgrade_request("/echo", connection=None),
            "no key": upgrade_request("/echo", key=False),
            "key of 15 bytes": upgrade_request("/echo", key=ws_key(b"x" * 15)),
            "key of 17 bytes": upgrade_request("/echo", key=ws_key(b"x" * 17)),
            "key not base64": upgrade_request("/echo",
                                              key="!!!!!!!!!!!!!!!!!!!!!!=="),
        }
        for what, req in cases.items():
            with self.subTest(what):
                self.refused(req, 400)

    def test_426_version(self):
        for v in ("8", "14", None):
            with self.subTest(version=v):
                self.refused(upgrade_request("/echo", version=v), 426,
                             ("sec-websocket-version", "13"))

    def test_403_origin(self):
        self.refused(upgrade_request("/private", origin="https://evil.example"),
                     403)
        # listed origins, and no Origin at all, are accepted
        for origin in ("https://good.example", "http://also.example:8000",
                       None):
            with self.subTest(origin=origin):
                c = self.raw(self.gw)
                c.handshake("/private", origin=origin)
                c.send_text("hi")
                self.assertEqual(c.recv_message(), (1, b"hi"))

    def test_order_of_checks(self):
        # each request is wrong in two ways; the earlier check wins
        self.refused(upgrade_request("/nope", method="POST"), 404)
        self.refused(upgrade_request("/echo", method="POST", upgrade=None),
                     405)
        self.refused(upgrade_request("/echo", upgrade=None, http="HTTP/1.0"),
                     426, ("upgrade", "websocket"))
        self.refused(upgrade_request("/echo", key=False, version="8"), 400)
        self.refused(upgrade_request("/private", version="8",
                                     origin="https://evil.example"), 426,
                     ("sec-websocket-version", "13"))
        self.refused(upgrade_request("/gone", origin=None, version="8"), 426)

    def test_431_huge_headers(self):
        big = [("X-Filler-%d" % i, "a" * 1000) for i in range(10)]
        self.refused(upgrade_request("/echo", extra=big), 431)

    def test_431_before_the_end_of_headers(self):
        # headers that never end: 431 as soon as the limit is passed, not
        # a 408 when the handshake times out
        c = self.raw(self.gw)
        t0 = time.monotonic()
        c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 9000)
        r = c.read_response(timeout=3)
        self.assertLess(time.monotonic() - t0, 0.9,
                        "431 should not wait for the handshake timeout")
        self.assertRefused(r, c, 431)

    def test_408_slow_handshake(self):
        c = self.raw(self.gw)
        t0 = time.monotonic()
        c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
        r = c.read_response(timeout=4)
        took = time.monotonic() - t0
        self.assertRefused(r, c, 408)
        self.assertGreater(took, 0.8, "408 before handshake_timeout_ms")
        self.assertLess(took, 3.0, "408 long after handshake_timeout_ms")

    def test_408_trickled_request(self):
        # the whole request must arrive in time, however steadily it drips
        c = self.raw(self.gw)
        req = upgrade_request("/echo", extra=[("X-Pad", "p" * 200)])
        t0 = time.monotonic()
        try:
            for i in range(len(req)):
                # stop once the answer is there (sending on would only
                # earn a reset)
                if select.select([c.sock], [], [], 0)[0]:
                    break
                c.send(req[i:i + 1])
                time.sleep(0.01)
                if time.monotonic() - t0 > 4:
                    break
        except OSError:
            pass        # closed on us: expected
        r = c.read_response(timeout=4)
        self.assertRefused(r, c, 408)

    def test_502_backend_missing(self):
        self.refused(upgrade_request("/gone"), 502)

    def test_502_backend_not_listening(self):
        # a stale socket file nobody listens on
        path = self.path("missing.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.close()
        self.addCleanup(os.unlink, path)
        self.refused(upgrade_request("/gone"), 502)

    def test_502_backend_not_accepting(self):
        # a backend whose listen queue is full: connect() cannot complete
        path = self.path("missing.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(0)
        self.addCleanup(s.close)
        self.addCleanup(os.unlink, path)
        fillers = []
        for _ in range(4):
            f = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            f.setblocking(False)
            self.addCleanup(f.close)
            try:
                f.connect(path)
            except BlockingIOError:
                break
            fillers.append(f)
        c = self.raw(self.gw)
        t0 = time.monotonic()
        c.send(upgrade_request("/gone"))
        r = c.read_response(timeout=5)
        # The issue says 502 for a backend that cannot be reached; wsgated
        # answers a full listen queue (EAGAIN) with 503 "try again later"
        # on purpose (src/backend.c).  Either way: refused, and at once.
        self.assertIn(r.status, (502, 503), r)
        self.assertRefused(r, c, r.status)
        self.assertLess(time.monotonic() - t0, 2.0)

    def test_no_descriptor_leaks(self):
        fds0 = self.gw.nfds()
        reqs = [upgrade_request("/nope"), upgrade_request("/echo",
                method="POST"), b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
                upgrade_request("/echo", key=False),
                upgrade_request("/echo", version="8"),
                upgrade_request("/private", origin="https://evil.example"),
                upgrade_request("/gone"),
                upgrade_request("/echo", extra=[("X", "y" * 9000)])]
        for _ in range(3):
            for req in reqs:
                c = self.raw(self.gw)
                c.send(req)
                try:
                    c.read_all(timeout=3)
                except socket.timeout:
                    self.fail("not closed after %r" % req[:40])
                c.close()
            c = self.raw(self.gw)       # one that just goes away
            c.send(b"GET /echo HTTP/1.1\r\n")
            c.close()
            c = self.raw_ws(self.gw)    # and one that worked
            c.send_close(1000)
            c.recv_close()
            c.wait_closed(3)
        self.assertTrue(wait_for(lambda: self.gw.nfds() <= fds0, 3),
                        "descriptors leaked: %s, %s before"
                        % (self.gw.nfds(), fds0))

    def test_no_408_after_101(self):
        # the handshake deadline (1 s here) ends with the handshake
        c = self.raw_ws(self.gw)
        time.sleep(1.5)
        c.send_text("late")
        self.assertEqual(c.recv_message(), (1, b"late"))

    def test_byte_by_byte_refusal(self):
        c = self.raw(self.gw)
        c.send_slowly(upgrade_request("/nope"))
        self.assertRefused(c.read_response(), c, 404)


class MaxConnections(GatewayTest):

    def test_503_over_max_connections(self):
        echo = self.start_echo()
        # two workers: the limit is for the whole process
        gw = self.start_gateway([{"path": "/echo", "backend": echo,
                                  "framing": "line"}],
                                limits={"max_connections": 3}, workers=2)
        # two open WebSockets and one socket still in its handshake
        a = self.raw_ws(gw)
        b = self.raw_ws(gw)
        pending = self.raw(gw)
        pending.send(b"GET /echo HTTP/1.1\r\n")
        time.sleep(0.2)
        c = self.raw(gw)
        c.send(upgrade_request("/echo") + upgrade_request("/echo"))
        self.assertRefused(c.read_response(), c, 503)
        # the others still work
        a.send_text("a")
        self.assertEqual(a.recv_message(), (1, b"a"))
        # freeing a slot lets the next one in (the count does not leak)
        b.send_close(1000)
        b.recv_close()
        self.assertTrue(b.wait_closed(3))
        pending.close()
        ok = False
        for _ in range(20):     # the gateway notices the closes soon
            d = RawClient(gw.port)
            self.addCleanup(d.close)
            d.send(upgrade_request("/echo"))
            r = d.read_response()
            if r.status == 101:
                ok = True
                break
            d.close()
            time.sleep(0.1)
        self.assertTrue(ok, "no slot freed after two connections ended")
