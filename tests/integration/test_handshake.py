"""The opening handshake: a correct 101, token lists, query strings, the
request arriving byte by byte, and frames pipelined right behind it."""

import asyncio

from harness import (GatewayTest, OP_TEXT, build_frame, upgrade_request,
                     ws_connect)


class Handshake(GatewayTest):

    def setUp(self):
        super().setUp()
        self.echo = self.start_echo()
        self.gw = self.start_gateway([
            {"path": "/echo", "backend": self.echo, "framing": "line"},
            {"path": "/frame", "backend": self.echo, "framing": "frame"},
        ])

    def test_101_response(self):
        c = self.raw(self.gw)
        # the example key of RFC 6455 section 1.3
        r = c.handshake("/echo", key="dGhlIHNhbXBsZSBub25jZQ==")
        self.assertEqual(r.header("sec-websocket-accept"),
                         "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        self.assertTrue(r.has_token("upgrade", "websocket"), r)
        self.assertTrue(r.has_token("connection", "upgrade"), r)
        self.assertIsNone(r.header("sec-websocket-protocol"))
        self.assertIsNone(r.header("sec-websocket-extensions"),
                          "no extension may be negotiated")
        self.assertEqual(c.buf, b"", "bytes after the 101 head")
        c.send_text("hello")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"hello"))

    def test_token_lists_and_case(self):
        for conn, upg in (("keep-alive, Upgrade", "websocket"),
                          ("UPGRADE", "WebSocket"),
                          ("foo,upgrade ,bar", "foo/1, websocket")):
            with self.subTest(connection=conn, upgrade=upg):
                c = self.raw(self.gw)
                c.handshake("/echo", connection=conn, upgrade=upg)
                c.send_text("x")
                self.assertEqual(c.recv_message(), (OP_TEXT, b"x"))
                c.close()

    def test_query_string_ignored_for_matching(self):
        c = self.raw(self.gw)
        c.handshake("/echo?token=abc&x=/frame")
        c.send_text("q")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"q"))

    def test_later_http_version_and_extra_headers(self):
        c = self.raw(self.gw)
        c.handshake("/echo", http="HTTP/1.1", extra=[
            ("User-Agent", "test"), ("Sec-WebSocket-Extensions",
                                     "permessage-deflate")])
        c.send_text("e")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"e"))

    def test_byte_by_byte(self):
        c = self.raw(self.gw)
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        c.send_slowly(upgrade_request("/echo", key=key), delay=0.001)
        r = c.read_response()
        self.assertEqual(r.status, 101, r)
        self.assertEqual(r.header("sec-websocket-accept"),
                         "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        # and a frame byte by byte too
        c.send_slowly(build_frame(OP_TEXT, "slow"), delay=0.001)
        self.assertEqual(c.recv_message(), (OP_TEXT, b"slow"))

    def test_frames_pipelined_behind_headers(self):
        c = self.raw(self.gw)
        c.send(upgrade_request("/frame") + build_frame(OP_TEXT, "one")
               + build_frame(OP_TEXT, "two") + build_frame(2, b"\x00three"))
        r = c.read_response()
        self.assertEqual(r.status, 101, r)
        self.assertEqual(c.recv_message(), (OP_TEXT, b"one"))
        self.assertEqual(c.recv_message(), (OP_TEXT, b"two"))
        self.assertEqual(c.recv_message(), (2, b"\x00three"))

    def test_websockets_client(self):
        async def run():
            async with ws_connect(self.gw.url("/echo")) as ws:
                await ws.send("through a real client")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 3),
                                 "through a real client")
        self.run_async(run())
