"""The status endpoint: <prefix>/health, <prefix>/metrics after known
traffic (parsed as Prometheus text and every counter checked), 403 for a
client outside allow, status paths only on the listeners status.listen
names, and the access line at close."""

import re
import time

from harness import GatewayTest, free_port, wait_for
from ops import echo_once, http_get, metric, parse_metrics


class StatusEndpoint(GatewayTest):

    def start(self, status, listen=None, workers=2):
        echo = self.start_echo()
        port = free_port()
        conf = self.make_config(
            [{"path": "/echo", "backend": echo, "framing": "frame"},
             {"path": "/down", "backend": self.path("nobody-home.sock")}],
            workers=workers, port=port, listen=listen)
        conf["status"] = status
        if listen is not None:
            port = listen[0]["port"]
        return self.start_gateway(conf=conf, port=port)

    def scrape(self, gw, path="/_wsgate/metrics"):
        status, headers, body = http_get(gw.host, gw.port, path)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith(
            "text/plain; version=0.0.4"), headers)
        self.assertEqual(int(headers["content-length"]), len(body))
        return parse_metrics(body.decode())

    def test_health(self):
        gw = self.start({"path_prefix": "/_wsgate"})
        status, headers, body = http_get(gw.host, gw.port, "/_wsgate/health")
        self.assertEqual((status, body), (200, b"ok\n"))
        self.assertEqual(headers["connection"], "close")
        status, _, body = http_get(gw.host, gw.port, "/_wsgate/health",
                                   method="HEAD")
        self.assertEqual((status, body), (200, b""))
        status, _, _ = http_get(gw.host, gw.port, "/_wsgate/nothing")
        self.assertEqual(status, 404)
        status, headers, _ = http_get(gw.host, gw.port, "/_wsgate/health",
                                      method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, HEAD")
        # the WebSocket routes are still served beside it
        c = self.raw_ws(gw, "/echo")
        echo_once(c, 1)

    def test_metrics_after_known_traffic(self):
        gw = self.start({})     # default prefix and allow (loopback)
        before, types = self.scrape(gw)
        for name in ("wsgate_connections_open", "wsgate_connections_total",
                     "wsgate_handshake_failures_total",
                     "wsgate_messages_total", "wsgate_bytes_total",
                     "wsgate_backend_connect_failures_total",
                     "wsgate_close_codes_total",
                     "wsgate_tls_handshakes_total",
                     "process_resident_memory_bytes", "process_open_fds",
                     "process_start_time_seconds"):
            self.assertIn(name, types, "no # TYPE for %s" % name)
        self.assertEqual(metric(before, "wsgate_connections_total",
                                route="/echo"), 0)
        self.assertEqual(metric(before, "wsgate_tls_handshakes_total"), 0)

        # 3 connections, 2 messages in and out each, of known sizes
        sizes_in = 0
        clients = [self.raw_ws(gw, "/echo") for _ in range(3)]
        for k, c in enumerate(clients):
            for j in range(2):
                p = b"x" * (10 * (k + 1) + j)
                sizes_in += len(p)
                c.send_binary(p)
                self.assertEqual(c.recv_message()[1], p)
        mid, _ = self.scrape(gw)
        self.assertEqual(metric(mid, "wsgate_connections_open",
                                route="/echo"), 3)
        for c in clients:
            c.send_close(1000)
            self.assertEqual(c.recv_close()[0], 1000)
            c.wait_closed()
        # refusals: one unknown path, one backend that is not there
        self.raw(gw).handshake("/nowhere", expect=404)
        self.raw(gw).handshake("/down", expect=502)
        # an abrupt client: no close frame at all
        c = self.raw_ws(gw, "/echo")
        c.close()

        def settled():
            s, _ = self.scrape(gw)
            return s if metric(s, "wsgate_connections_open",
                               route="/echo") == 0 else None
        s = wait_for(settled, 5.0)
        self.assertIsNotNone(s, "connections_open never went back to 0")
        m = lambda name, **kw: metric(s, name, **kw)
        self.assertEqual(m("wsgate_connections_total", route="/echo"), 4)
        self.assertEqual(m("wsgate_connections_total", route="/down"), 0)
        self.assertEqual(m("wsgate_messages_total", route="/echo",
                           direction="in"), 6)
        self.assertEqual(m("wsgate_messages_total", route="/echo",
                           direction="out"), 6)
        self.assertEqual(m("wsgate_bytes_total", route="/echo",
                           direction="in"), sizes_in)
        self.assertEqual(m("wsgate_bytes_total", route="/echo",
                           direction="out"), sizes_in)
        self.assertEqual(m("wsgate_handshake_failures_total", status="404"),
                         1)
        self.assertEqual(m("wsgate_handshake_failures_total", status="502"),
                         1)
        self.assertEqual(m("wsgate_backend_connect_failures_total",
                           route="/down"), 1)
        self.assertEqual(m("wsgate_backend_connect_failures_total",
                           route="/echo"), 0)
        self.assertEqual(m("wsgate_close_codes_total", code="1000"), 3)
        self.assertEqual(m("wsgate_close_codes_total", code="1006"), 1)
        self.assertEqual(m("wsgate_tls_handshakes_total"), 0)
        self.assertEqual(m("wsgate_workers"), 2)
        # process figures, against /proc
        rss = m("process_resident_memory_bytes")
        self.assertGreater(rss, 1 << 20)
        self.assertLess(abs(rss / 1024 - gw.rss_kb()), 8192)
        self.assertLess(abs(m("process_open_fds") - gw.nfds()), 5)
        self.assertLess(abs(m("process_start_time_seconds") - time.time()),
                        60)
        # status requests are no handshake failures
        self.assertIsNone(m("wsgate_handshake_failures_total",
                            status="200"))

    def test_access_line(self):
        gw = self.start({})
        c = self.raw_ws(gw, "/echo")
        c.send_binary(b"abc")
        c.recv_message()
        c.send_binary(b"defgh")
        c.recv_message()
        c.send_close(1000)
        c.recv_close()
        c.wait_closed()
        line = wait_for(lambda: re.search(r"info: #\d+ 127\.0\.0\.1:\d+: "
                                          r"closed route=/echo .*",
                                          gw.log()), 5.0)
        self.assertIsNotNone(line, gw.log_tail())
        line = line.group(0)
        for want in ("subprotocol=-", "backend=%s" % self.path("echo.sock"),
                     "msgs_in=2", "bytes_in=8", "msgs_out=2", "bytes_out=8",
                     "close=1000", "by=client"):
            self.assertIn(want, line)
        self.assertRegex(line, r"duration=\d+\.\d{3}s")

    def test_403_outside_allow(self):
        gw = self.start({"allow": ["10.0.0.0/8", "::1"]})
        status, _, body = http_get(gw.host, gw.port, "/_wsgate/metrics")
        self.assertEqual(status, 403)
        self.assertNotIn(b"wsgate_", body)
        status, _, _ = http_get(gw.host, gw.port, "/_wsgate/health")
        self.assertEqual(status, 403)
        self.assertIn("403 status request from outside allow", gw.log())

    def test_allow_by_network(self):
        gw = self.start({"allow": ["127.0.0.0/30"], "path_prefix": "/ops/"})
        self.assertEqual(http_get(gw.host, gw.port, "/ops/health",
                                  source="127.0.0.2")[0], 200)
        self.assertEqual(http_get(gw.host, gw.port, "/ops/health",
                                  source="127.0.0.9")[0], 403)
        # the prefix is a path segment: /opsx is not under /ops
        self.assertEqual(http_get(gw.host, gw.port, "/opsx/health")[0], 404)

    def test_status_only_on_named_listeners(self):
        p1, p2 = free_port(), free_port()
        gw = self.start({"listen": ["127.0.0.1:%d" % p2]},
                        listen=[{"address": "127.0.0.1", "port": p1},
                                {"address": "127.0.0.1", "port": p2}])
        # not on p1: the request is an upgrade attempt for an unknown path
        self.assertEqual(http_get(gw.host, p1, "/_wsgate/health")[0], 404)
        self.assertEqual(http_get(gw.host, p2, "/_wsgate/health")[0], 200)
