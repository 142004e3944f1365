"""Who is calling: a route's `preamble` ("proxy-v1", "proxy-v2",
"headers") reaches the backend, byte for byte, before the first relayed
byte; and a listener with `proxy_protocol = true` takes the client's
address from a balancer's PROXY header (v1 or v2, whole or in pieces),
uses it in the preamble and the access line, and drops connections
without a valid header."""

import socket
import struct
import time

from harness import (GatewayTest, OP_TEXT, free_port, handler_record,
                     wait_for)

V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def parse_headers_block(data):
    """The "headers" preamble: (list of (name, value), rest)."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    assert sep, "no end of the header block in %r" % (data,)
    fields = [tuple(l.split(b": ", 1)) for l in head.split(b"\r\n")]
    return [(n.decode(), v.decode()) for n, v in fields], rest


def parse_v2(data):
    """A PROXY v2 header: (dict, rest)."""
    assert data[:12] == V2SIG, data[:16]
    ver_cmd, fam, length = struct.unpack("!BBH", data[12:16])
    body, rest = data[16:16 + length], data[16 + length:]
    out = {"ver_cmd": ver_cmd, "fam": fam, "tlv": {}}
    if fam == 0x11:
        out["src"] = socket.inet_ntop(socket.AF_INET, body[0:4])
        out["dst"] = socket.inet_ntop(socket.AF_INET, body[4:8])
        out["sport"], out["dport"] = struct.unpack("!HH", body[8:12])
        body = body[12:]
    elif fam == 0x21:
        out["src"] = socket.inet_ntop(socket.AF_INET6, body[0:16])
        out["dst"] = socket.inet_ntop(socket.AF_INET6, body[16:32])
        out["sport"], out["dport"] = struct.unpack("!HH", body[32:36])
        body = body[36:]
    while body:
        t, n = body[0], struct.unpack("!H", body[1:3])[0]
        out["tlv"][t] = body[3:3 + n]
        body = body[3 + n:]
    return out, rest


class Preamble(GatewayTest):

    def setUp(self):
        super().setUp()
        self.be = self.start_backend(handler_record, "rec.sock")

    def gateway(self, route_extra, listen_extra=None, limits=None):
        route = {"path": "/p", "backend": self.be.path, "framing": "line",
                 "subprotocols": [{"name": "chat.v2"}, {"name": "chat.v1"}]}
        route.update(route_extra)
        port = free_port()
        listen = {"address": "127.0.0.1", "port": port}
        listen.update(listen_extra or {})
        conf = self.make_config([route], limits=limits,
                                listen=[listen])
        conf["log_level"] = "debug"
        return self.start_gateway(conf=conf, port=port)

    def exchange(self, gw, client=None, path="/p?room=1&x",
                 protocols=("chat.v1, chat.v2",), extra=None):
        """Handshake, send "hi", wait for the backend to see it; returns
        (bytes the backend got, the client's local port)."""
        c = client or self.raw(gw)
        nth = len(self.be.conns) + 1
        c.handshake(path, protocols=list(protocols), extra=extra)
        c.send_text("hi")
        conn = self.be.wait_conns(nth)
        wait_for(lambda: conn.data.endswith(b"hi\n"), 5.0)
        return bytes(conn.data), c.sock.getsockname()[1]

    def test_none_by_default(self):
        gw = self.gateway({})
        data, _ = self.exchange(gw)
        self.assertEqual(data, b"hi\n")

    def test_headers(self):
        gw = self.gateway({"preamble": "headers",
                           "forward_headers": ["Cookie", "X-Trace",
                                               "X-Absent"]})
        data, port = self.exchange(gw, extra=[
            ("cookie", "a=1; b=2"), ("X-Other", "no"), ("X-TRACE", "t1"),
            ("X-Trace", "t2")])
        fields, rest = parse_headers_block(data)
        self.assertEqual(fields, [
            ("Remote-Addr", "127.0.0.1"), ("Remote-Port", str(port)),
            ("Path", "/p"), ("Query", "room=1&x"),
            ("Subprotocol", "chat.v2"), ("TLS", "no"),
            ("Cookie", "a=1; b=2"), ("X-Trace", "t1"), ("X-Trace", "t2")])
        self.assertEqual(rest, b"hi\n")

    def test_headers_without_query_or_subprotocol(self):
        gw = self.gateway({"preamble": "headers", "subprotocols": [],
                           "backend": self.be.path})
        data, port = self.exchange(gw, path="/p", protocols=())
        self.assertEqual(data, (
            "Remote-Addr: 127.0.0.1\r\nRemote-Port: %d\r\nPath: /p\r\n"
            "Query: \r\nSubprotocol: \r\nTLS: no\r\n\r\nhi\n"
            % port).encode())

    def test_proxy_v1(self):
        gw = self.gateway({"preamble": "proxy-v1"})
        data, port = self.exchange(gw)
        self.assertEqual(data, b"PROXY TCP4 127.0.0.1 127.0.0.1 %d %d\r\n"
                         b"hi\n" % (port, gw.port))

    def test_proxy_v2(self):
        gw = self.gateway({"preamble": "proxy-v2"})
        data, port = self.exchange(gw)
        v2, rest = parse_v2(data)
        self.assertEqual(v2["ver_cmd"], 0x21)
        self.assertEqual(v2["fam"], 0x11)
        self.assertEqual((v2["src"], v2["sport"]), ("127.0.0.1", port))
        self.assertEqual((v2["dst"], v2["dport"]), ("127.0.0.1", gw.port))
        self.assertEqual(v2["tlv"], {0xE0: b"/p?room=1&x",
                                     0xE1: b"chat.v2"})
        self.assertEqual(rest, b"hi\n")

    def test_proxy_v2_target_too_long(self):
        """A target that does not fit the v2 header's 16-bit length is a
        431, and the backend connection made for it is closed unused."""
        gw = self.gateway({"preamble": "proxy-v2"},
                          limits={"max_header_bytes": 131072})
        c = self.raw(gw)
        r = c.handshake("/p?" + "a" * 70000, protocols=["chat.v1"],
                        expect=None)
        self.assertRefused(r, c, 431)
        conn = self.be.wait_conns(1)
        self.assertTrue(conn.eof.wait(5.0))
        self.assertEqual(bytes(conn.data), b"")

    def test_backend_writes_first(self):
        """The preamble precedes what the client sends even when the
        client's first frame is pipelined behind its request."""
        gw = self.gateway({"preamble": "proxy-v1"})
        c = self.raw(gw)
        from harness import build_frame, upgrade_request
        c.send(upgrade_request("/p", protocols=["chat.v1"]) +
               build_frame(OP_TEXT, b"early"))
        self.assertEqual(c.read_response().status, 101)
        conn = self.be.wait_conns(1)
        wait_for(lambda: conn.data.endswith(b"early\n"), 5.0)
        self.assertTrue(conn.data.startswith(b"PROXY TCP4 127.0.0.1 "),
                        conn.data)
        self.assertTrue(conn.data.endswith(b"\r\nearly\n"), conn.data)

    # -- proxy_protocol listeners

    def test_listener_proxy_v1(self):
        gw = self.gateway({"preamble": "headers"},
                          {"proxy_protocol": True})
        c = self.raw(gw)
        c.send(b"PROXY TCP4 203.0.113.7 198.51.100.2 4242 443\r\n")
        data, _ = self.exchange(gw, client=c)
        fields, rest = parse_headers_block(data)
        self.assertEqual(fields[:2], [("Remote-Addr", "203.0.113.7"),
                                      ("Remote-Port", "4242")])
        c.send_close(1000)
        c.recv_close()
        c.close()
        self.assertTrue(wait_for(
            lambda: "203.0.113.7:4242: closed route=/p" in gw.log(), 5.0),
            gw.log_tail())

    def test_listener_proxy_v2_in_pieces(self):
        """A v2 header sent a byte at a time, with the upgrade request
        right behind its last byte; the backend gets a v2 preamble with
        the balancer's client and destination."""
        gw = self.gateway({"preamble": "proxy-v2"},
                          {"proxy_protocol": True})
        hdr = V2SIG + struct.pack("!BBH", 0x21, 0x21, 36 + 7) + \
            socket.inet_pton(socket.AF_INET6, "2001:db8::7") + \
            socket.inet_pton(socket.AF_INET6, "2001:db8::1") + \
            struct.pack("!HH", 50000, 443) + b"\x04\x00\x04abcd"
        c = self.raw(gw)
        for i in range(len(hdr) - 1):
            c.send(hdr[i:i + 1])
            time.sleep(0.002)
        from harness import upgrade_request
        c.send(hdr[-1:] + upgrade_request("/p", protocols=["chat.v1"]))
        self.assertEqual(c.read_response().status, 101)
        c.send_text("hi")
        conn = self.be.wait_conns(1)
        wait_for(lambda: conn.data.endswith(b"hi\n"), 5.0)
        v2, rest = parse_v2(bytes(conn.data))
        self.assertEqual((v2["src"], v2["sport"]), ("2001:db8::7", 50000))
        self.assertEqual((v2["dst"], v2["dport"]), ("2001:db8::1", 443))
        self.assertEqual(rest, b"hi\n")
        self.assertIn("[2001:db8::7]:50000", gw.log())

    def test_listener_proxy_local(self):
        """v2 LOCAL (a balancer's health check) keeps the socket's own
        addresses."""
        gw = self.gateway({"preamble": "proxy-v1"},
                          {"proxy_protocol": True})
        c = self.raw(gw)
        c.send(V2SIG + b"\x20\x00\x00\x00")
        data, port = self.exchange(gw, client=c)
        self.assertEqual(data, b"PROXY TCP4 127.0.0.1 127.0.0.1 %d %d\r\n"
                         b"hi\n" % (port, gw.port))

    def assertDropped(self, gw, c, log_text):
        self.assertEqual(c.read_all(timeout=5.0), b"")
        self.assertTrue(wait_for(lambda: log_text in gw.log(), 5.0),
                        gw.log_tail())
        self.assertEqual(len(self.be.conns), 0)

    def test_listener_drops_without_header(self):
        gw = self.gateway({}, {"proxy_protocol": True})
        c = self.raw(gw)
        from harness import upgrade_request
        c.send(upgrade_request("/p", protocols=["chat.v1"]))
        self.assertDropped(gw, c, "no PROXY header, dropping")

    def test_listener_drops_malformed_header(self):
        gw = self.gateway({}, {"proxy_protocol": True})
        c = self.raw(gw)
        c.send(b"PROXY TCP4 203.0.113.300 127.0.0.1 1 2\r\nGET / HTTP/1.1\r\n")
        self.assertDropped(gw, c, "malformed PROXY header, dropping")

    def test_listener_header_deadline(self):
        gw = self.gateway({}, {"proxy_protocol": True},
                          limits={"handshake_timeout_ms": 300})
        c = self.raw(gw)
        c.send(b"PROXY TCP4 203.0.113.7 ")
        t0 = time.monotonic()
        self.assertDropped(gw, c, "no PROXY header within "
                           "handshake_timeout_ms, dropping")
        self.assertLess(time.monotonic() - t0, 3.0)

    def test_listener_proxy_status_allow(self):
        """The status group's allow list judges the balancer's client,
        not the balancer."""
        port = free_port()
        conf = self.make_config(
            [{"path": "/p", "backend": self.be.path}],
            listen=[{"address": "127.0.0.1", "port": port,
                     "proxy_protocol": True}])
        conf["status"] = {"allow": ["203.0.113.0/24"]}
        gw = self.start_gateway(conf=conf, port=port)

        def get(proxy_line):
            c = self.raw(gw)
            c.send(proxy_line + b"GET /_wsgate/health HTTP/1.1\r\n"
                   b"Host: a\r\nConnection: close\r\n\r\n")
            return c.read_response().status
        self.assertEqual(get(b"PROXY TCP4 203.0.113.7 127.0.0.1 5 80\r\n"),
                         200)
        self.assertEqual(get(b"PROXY TCP4 198.51.100.7 127.0.0.1 5 80\r\n"),
                         403)
        # a health check of the balancer itself (LOCAL: 127.0.0.1)
        self.assertEqual(get(V2SIG + b"\x20\x00\x00\x00"), 403)

    # -- X-Forwarded-For from trusted proxies

    def xff(self, trusted, values, proxy_line=None):
        gw = self.gateway({"preamble": "headers"},
                          {"trusted_proxies": trusted,
                           "proxy_protocol": proxy_line is not None})
        c = self.raw(gw)
        if proxy_line is not None:
            c.send(proxy_line)
        data, port = self.exchange(gw, client=c, extra=[
            ("X-Forwarded-For", v) for v in values])
        fields, _ = parse_headers_block(data)
        return dict(fields[:2]), port, gw

    def test_xff_rightmost_untrusted(self):
        f, _, gw = self.xff(["127.0.0.0/8", "10.0.0.0/8"],
                            ["198.51.100.9, 203.0.113.5", "10.1.2.3"])
        self.assertEqual(f, {"Remote-Addr": "203.0.113.5",
                             "Remote-Port": "0"})
        self.assertIn("203.0.113.5:0: 101 ", gw.log())

    def test_xff_ignored_from_untrusted_peer(self):
        f, port, _ = self.xff(["10.0.0.0/8"], ["203.0.113.5"])
        self.assertEqual(f, {"Remote-Addr": "127.0.0.1",
                             "Remote-Port": str(port)})

    def test_xff_stops_at_garbage(self):
        """An entry that is not an address ends the walk: nothing left
        of it is believed; all trusted: the leftmost."""
        f, _, _ = self.xff(["127.0.0.1"], ["203.0.113.5, junk, 127.0.0.1"])
        self.assertEqual(f["Remote-Addr"], "127.0.0.1")
        f, _, _ = self.xff(["127.0.0.1", "2001:db8::/32"],
                           ["2001:db8::5, 2001:db8::6"])
        self.assertEqual(f["Remote-Addr"], "2001:db8::5")

    def test_xff_after_proxy_header(self):
        """Behind a balancer, the PROXY header's client is the one whose
        X-Forwarded-For is trusted, or not."""
        f, _, _ = self.xff(["192.0.2.0/24"], ["203.0.113.5"],
                           b"PROXY TCP4 192.0.2.1 192.0.2.2 1000 80\r\n")
        self.assertEqual(f["Remote-Addr"], "203.0.113.5")
        f, _, _ = self.xff(["127.0.0.1"], ["203.0.113.5"],
                           b"PROXY TCP4 192.0.2.1 192.0.2.2 1000 80\r\n")
        self.assertEqual(f, {"Remote-Addr": "192.0.2.1",
                             "Remote-Port": "1000"})

    def test_listener_shutdown_while_waiting(self):
        """SIGTERM with a connection still inside its PROXY header: the
        wait is freed with the connection and the gateway exits 0 at
        once (a sanitizer build would report a leak)."""
        import signal
        gw = self.gateway({}, {"proxy_protocol": True})
        c = self.raw(gw)
        c.send(b"PROXY TCP4 203.0.113.7 ")
        time.sleep(0.1)
        t0 = time.monotonic()
        gw.expect_exit = True
        gw.signal(signal.SIGTERM)
        self.assertEqual(gw.wait(5.0), 0, gw.log_tail())
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(c.read_all(timeout=3.0), b"")


class PreambleConfig(GatewayTest):
    """The keys' mistakes, reported by -t as FILE:LINE."""

    def check(self, route_extra, want):
        import subprocess
        from harness import WSGATED
        route = {"path": "/p", "backend": "/nonexistent.sock"}
        route.update(route_extra)
        p = self.write_config(self.make_config([route]))
        r = subprocess.run([WSGATED, "-t", "-c", p], capture_output=True,
                           text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"wsgated\.conf:\d+: .*" + want)

    def test_unknown_preamble(self):
        self.check({"preamble": "proxy-v3"},
                   r'unknown preamble "proxy-v3"')

    def test_forward_headers_needs_headers(self):
        self.check({"preamble": "proxy-v2", "forward_headers": ["Cookie"]},
                   r'forward_headers needs preamble = "headers"')

    def test_forward_headers_fixed_name(self):
        self.check({"preamble": "headers",
                    "forward_headers": ["remote-addr"]},
                   r"written by the preamble itself")

    def test_forward_headers_not_a_token(self):
        self.check({"preamble": "headers",
                    "forward_headers": ["Bad Name"]},
                   r"is not a header name")

    def test_trusted_proxies_bad_entry(self):
        import subprocess
        from harness import WSGATED
        conf = self.make_config([{"path": "/p", "backend": "/x.sock"}],
                                listen=[{"address": "127.0.0.1",
                                         "port": free_port(),
                                         "trusted_proxies": ["10.0.0.0/33"]}])
        p = self.write_config(conf)
        r = subprocess.run([WSGATED, "-t", "-c", p], capture_output=True,
                           text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r'wsgated\.conf:\d+: trusted_proxies: '
                         r'"10\.0\.0\.0/33" is not an address')

    def test_proxy_protocol_is_a_bool(self):
        import subprocess
        from harness import WSGATED
        conf = self.make_config([{"path": "/p", "backend": "/x.sock"}],
                                listen=[{"address": "127.0.0.1",
                                         "port": free_port(),
                                         "proxy_protocol": "yes"}])
        p = self.write_config(conf)
        r = subprocess.run([WSGATED, "-t", "-c", p], capture_output=True,
                           text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("proxy_protocol", r.stderr)
