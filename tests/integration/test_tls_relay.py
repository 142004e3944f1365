"""wss://: python3-websockets over TLS with a throwaway CA; the relay
tests of the core gateway repeated over TLS (message sizes across the
length encodings through frame framing, line framing, a backend that
talks first, backpressure with a big message); ALPN http/1.1, TLS 1.2
and 1.3, session resumption by ticket across workers; the close
handshake ends with close_notify."""

import asyncio
import os
import signal
import socket
import ssl

from harness import (OP_BINARY, OP_TEXT, free_port, handler_script,
                     wait_for, ws_connect)
from ops import http_get, metric, parse_metrics
from tlsutil import TLSGatewayTest

MIB = 1 << 20


class TLSRelay(TLSGatewayTest):

    def setUp(self):
        super().setUp()
        self.cert, self.key = self.pki.leaf(["a.test"])
        self.tls = {"cert": self.cert, "key": self.key}

    def test_sizes_frame_framing(self):
        echo = self.start_echo()
        gw = self.start_tls_gateway(
            [{"path": "/frame", "backend": echo, "framing": "frame"}],
            self.tls, limits={"max_message_size": 5 * MIB})
        sizes = [0, 1, 125, 126, 127, 65535, 65536, 4 * MIB]
        ctx = self.pki.client_context()

        async def run():
            async with ws_connect(gw.wss("/frame"), ssl=ctx,
                                  server_hostname="a.test", max_size=None,
                                  write_limit=MIB) as ws:
                sslobj = ws.transport.get_extra_info("ssl_object")
                self.assertEqual(sslobj.selected_alpn_protocol(), None,
                                 "no ALPN asked, none chosen")
                for n in sizes:
                    for kind in ("binary", "text"):
                        with self.subTest(size=n, kind=kind):
                            if kind == "binary":
                                m = os.urandom(n)
                            else:
                                m = "\u00e9" * (n // 2) + "a" * (n % 2)
                            await ws.send(m)
                            got = await asyncio.wait_for(ws.recv(), 20)
                            self.assertEqual(type(got), type(m))
                            self.assertTrue(got == m, "payload differs "
                                            "(%d bytes)" % n)
        self.run_async(run(), timeout=90)
        self.wait_log(gw, r"closed route=/frame .*close=1000 by=client")

    def test_line_framing_and_alpn(self):
        echo = self.start_echo()
        gw = self.start_tls_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            self.tls, workers=2)
        ctx = self.pki.client_context()
        ctx.set_alpn_protocols(["h2", "http/1.1"])

        async def run():
            async with ws_connect(gw.wss(), ssl=ctx,
                                  server_hostname="a.test") as ws:
                sslobj = ws.transport.get_extra_info("ssl_object")
                self.assertEqual(sslobj.selected_alpn_protocol(),
                                 "http/1.1")
                self.assertEqual(sslobj.version(), "TLSv1.3")
                for i, n in enumerate([1, 10, 1000, 60000]):
                    line = ("%d:" % i) + "x" * n
                    await ws.send(line)
                    self.assertEqual(await asyncio.wait_for(ws.recv(), 5),
                                     line)
                # several messages in flight at once
                msgs = ["m%d" % i for i in range(200)]
                for m in msgs:
                    await ws.send(m)
                got = [await asyncio.wait_for(ws.recv(), 5) for _ in msgs]
                self.assertEqual(got, msgs)
        self.run_async(run())

    def test_tls12_client(self):
        echo = self.start_echo()
        gw = self.start_tls_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            self.tls)
        ctx = self.pki.client_context(maximum_version=ssl.TLSVersion.TLSv1_2)
        c = self.tls_raw(gw, ctx)
        self.assertEqual(c.sock.version(), "TLSv1.2")
        self.assertRegex(c.sock.cipher()[0], r"^ECDHE-ECDSA-.*(GCM|CHACHA)")
        c.handshake("/echo")
        c.send_text("over TLS 1.2")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"over TLS 1.2"))

    def test_backend_first_and_close_notify(self):
        # the backend talks first; the gateway's close reaches the client
        # as a close frame, then close_notify, then the TCP FIN
        be = self.start_backend(handler_script([
            ("send", b"hello\n"), ("recv", 4), ("close",)]))
        gw = self.start_tls_gateway(
            [{"path": "/b", "backend": be.path, "framing": "line"}],
            self.tls)
        c = self.tls_raw(gw)
        c.handshake("/b")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"hello"))
        c.send_text("bye")
        self.assertEqual(c.recv_close()[0], 1000)
        c.send_close(1000)
        # close_notify: unwrap() completes only when it arrives
        c.sock.settimeout(3)
        raw = c.sock.unwrap()
        self.assertEqual(raw.recv(100), b"", "no TCP FIN after close_notify")
        raw.close()

    def test_big_message_backpressure(self):
        # a 3 MiB message through a 64 KiB buffer_limit, both ways
        echo = self.start_echo()
        gw = self.start_tls_gateway(
            [{"path": "/frame", "backend": echo, "framing": "frame"}],
            self.tls, limits={"max_message_size": 4 * MIB,
                              "buffer_limit": 65536})
        ctx = self.pki.client_context()
        m = os.urandom(3 * MIB)

        async def run():
            async with ws_connect(gw.wss("/frame"), ssl=ctx,
                                  server_hostname="a.test",
                                  max_size=None) as ws:
                for _ in range(3):
                    await ws.send(m)
                for _ in range(3):
                    got = await asyncio.wait_for(ws.recv(), 30)
                    self.assertTrue(got == m)
        self.run_async(run(), timeout=90)

    def test_session_resumption(self):
        echo = self.start_echo()
        gw = self.start_tls_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            self.tls, workers=2, log_level="debug")
        for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = self.pki.client_context(maximum_version=ver)
            sess = None
            reused = []
            for i in range(4):
                with socket.create_connection(("127.0.0.1", gw.port)) as s:
                    with ctx.wrap_socket(s, server_hostname="a.test",
                                         session=sess) as t:
                        t.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n"
                                  b"Upgrade: websocket\r\n"
                                  b"Connection: Upgrade\r\n"
                                  b"Sec-WebSocket-Key: "
                                  b"dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  b"Sec-WebSocket-Version: 13\r\n\r\n")
                        self.assertTrue(t.recv(200).startswith(
                            b"HTTP/1.1 101 "))
                        reused.append(t.session_reused)
                        sess = t.session
            with self.subTest(version=ver.name):
                self.assertEqual(reused, [False, True, True, True])
        self.wait_log(gw, r"TLS TLSv1\.3 \S+ sni=a\.test cert=\S+ resumed")

    def test_many_clients_two_workers(self):
        echo = self.start_echo()
        gw = self.start_tls_gateway(
            [{"path": "/raw", "backend": echo, "framing": "frame"}],
            self.tls, workers=2)
        clients = [self.tls_raw(gw) for _ in range(20)]
        for c in clients:
            c.handshake("/raw")
        for i, c in enumerate(clients):
            c.send_binary(bytes([i]) * (1000 + i))
        for i, c in enumerate(clients):
            self.assertEqual(c.recv_message(),
                             (OP_BINARY, bytes([i]) * (1000 + i)))

    def test_handshakes_counted(self):
        # wsgate_tls_handshakes_total counts completed handshakes only
        echo = self.start_echo()
        plain = free_port()
        conf, port = self.tls_config(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            self.tls, workers=2,
            extra_listen=[{"address": "127.0.0.1", "port": plain}])
        conf["status"] = {"allow": ["127.0.0.1"],
                          "listen": ["127.0.0.1:%d" % plain]}
        gw = self.start_gateway(conf=conf, port=port)
        for _ in range(5):
            c = self.tls_raw(gw)
            c.handshake("/echo")
            c.close()
        with socket.create_connection(("127.0.0.1", port), 5) as s:
            s.sendall(b"GET /echo HTTP/1.1\r\n\r\n")     # not TLS
            s.recv(100)

        def count():
            status, _, body = http_get("127.0.0.1", plain, "/_wsgate/metrics")
            self.assertEqual(status, 200, body)
            return metric(parse_metrics(body.decode())[0],
                          "wsgate_tls_handshakes_total")
        self.assertTrue(wait_for(lambda: count() == 5, 3), count())

    def test_graceful_stop(self):
        # SIGTERM: close 1001 over TLS, the close handshake, close_notify
        echo = self.start_echo()
        gw = self.start_tls_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            self.tls)
        c = self.tls_raw(gw)
        c.handshake("/echo")
        c.send_text("x")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"x"))
        gw.expect_exit = True
        gw.signal(signal.SIGTERM)
        self.assertEqual(c.recv_close()[0], 1001)
        c.send_close(1001)
        c.sock.settimeout(3)
        raw = c.sock.unwrap()           # the gateway's close_notify
        self.assertEqual(raw.recv(100), b"")
        raw.close()
        self.assertEqual(gw.wait(5), 0)
