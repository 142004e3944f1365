"""Subprotocol selection: config-order preference, several header lines,
case-sensitive tokens, the default backend (no header echoed), inherited
backends, and the 400 when nothing fits and there is no default."""

import asyncio

from harness import (GatewayTest, OP_BINARY, OP_TEXT, REC_TEXT,
                     frame_record, handler_script, ws_connect)


class Subprotocols(GatewayTest):

    def setUp(self):
        super().setUp()
        # Each backend greets in its own framing, so the first message
        # tells which backend and framing were chosen.
        self.v2 = self.start_backend(handler_script([
            ("send", frame_record(REC_TEXT, "v2")), ("sleep", 10)]), "v2.sock")
        self.v1 = self.start_backend(handler_script([
            ("send", b"v1\n"), ("sleep", 10)]), "v1.sock")
        self.legacy = self.start_backend(handler_script([
            ("send", b"legacy"), ("sleep", 10)]), "legacy.sock")
        self.gw = self.start_gateway([
            {"path": "/chat",
             "subprotocols": [
                 {"name": "chat.v2", "backend": self.v2.path,
                  "framing": "frame"},
                 {"name": "chat.v1", "backend": self.v1.path,
                  "framing": "line"},
                 # no backend or framing of its own: inherits the route's
                 {"name": "chat.inherit"}],
             "backend": self.legacy.path},
            {"path": "/strict",
             "subprotocols": [
                 {"name": "s.one", "backend": self.v1.path,
                  "framing": "line"},
                 {"name": "s.two", "backend": self.v1.path,
                  "framing": "line"}]},
            {"path": "/plain", "backend": self.legacy.path},
        ])

    def greeting(self, c):
        op, payload = c.recv_message(timeout=3)
        return {OP_TEXT: "text", OP_BINARY: "binary"}[op], payload

    def check(self, path, offers, want_proto, want_greeting):
        c = self.raw(self.gw)
        r = c.handshake(path, protocols=offers)
        got = r.header_all("sec-websocket-protocol")
        self.assertEqual(got, [want_proto] if want_proto else [],
                         "offered %r" % (offers,))
        self.assertEqual(self.greeting(c), want_greeting)
        c.close()

    def test_config_order_wins_over_client_order(self):
        self.check("/chat", ["chat.v1, chat.v2"], "chat.v2",
                   ("text", b"v2"))

    def test_second_choice(self):
        self.check("/chat", ["foo, chat.v1"], "chat.v1", ("text", b"v1"))

    def test_several_header_lines(self):
        self.check("/chat", ["foo, chat.v1", "bar", "chat.v2,baz"],
                   "chat.v2", ("text", b"v2"))

    def test_tokens_are_case_sensitive(self):
        self.check("/chat", ["Chat.V2, CHAT.V1"], None,
                   ("binary", b"legacy"))

    def test_no_offer_uses_default_without_header(self):
        self.check("/chat", None, None, ("binary", b"legacy"))

    def test_unknown_offer_uses_default_without_header(self):
        self.check("/chat", ["nope"], None, ("binary", b"legacy"))

    def test_entry_inherits_route_backend_and_framing(self):
        self.check("/chat", ["chat.inherit"], "chat.inherit",
                   ("binary", b"legacy"))

    def test_route_without_subprotocols_ignores_offers(self):
        self.check("/plain", ["whatever, chat.v2"], None,
                   ("binary", b"legacy"))

    def test_strict_route_picks_listed(self):
        self.check("/strict", ["s.two"], "s.two", ("text", b"v1"))

    def test_strict_route_without_match_is_400(self):
        for offers in (["nope, other"], None):
            with self.subTest(offers=offers):
                c = self.raw(self.gw)
                r = c.handshake("/strict", expect=None, protocols=offers)
                self.assertRefused(r, c, 400)
                body = r.body.decode("latin-1")
                self.assertIn("s.one", body,
                              "400 body should list the supported "
                              "subprotocols")
                self.assertIn("s.two", body)
                self.assertIsNone(r.header("sec-websocket-protocol"))
        self.assertEqual(len(self.v1.conns), 0,
                         "a refused upgrade must not reach the backend")

    def test_websockets_client_negotiates(self):
        async def run():
            async with ws_connect(self.gw.url("/chat"),
                                  subprotocols=["chat.v1", "chat.v2"]) as ws:
                self.assertEqual(ws.subprotocol, "chat.v2")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 3), "v2")
            async with ws_connect(self.gw.url("/chat")) as ws:
                self.assertIsNone(ws.subprotocol)
                self.assertEqual(await asyncio.wait_for(ws.recv(), 3),
                                 b"legacy")
        self.run_async(run())
