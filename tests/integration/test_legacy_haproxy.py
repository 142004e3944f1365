"""A real HAProxy (Debian package) in TCP mode balancing over two wsgated
instances with send-proxy-v2: each wsgated takes the client's address
from the PROXY header, so the backend (told through a `headers`
preamble) and both access logs see the original client, and the
connections spread over both gateways.

The client connects from 127.0.0.2 so that its address differs from
HAProxy's (127.0.0.1) towards the gateways."""

import asyncio

from harness import (GatewayTest, free_port, handler_echo, wait_for,
                     ws_connect)
from legacy import need, start_haproxy, start_named_gateway

CLIENT_ADDR = "127.0.0.2"


class HAProxy(GatewayTest):

    def setUp(self):
        super().setUp()
        need("haproxy", "haproxy")
        self.be = self.start_backend(handler_echo, "echo.sock")
        self.gws = []
        for name in ("gw1", "gw2"):
            port = free_port()
            conf = self.make_config(
                [{"path": "/chat", "backend": self.be.path,
                  "framing": "line", "preamble": "headers",
                  "forward_headers": ["X-Client"]}],
                workers=2,
                listen=[{"address": "127.0.0.1", "port": port,
                         "proxy_protocol": True}])
            conf["log_level"] = "debug"
            self.gws.append(start_named_gateway(self, conf, port, name))
        self.port = free_port()
        start_haproxy(self, """\
global
    maxconn 200
    nbthread 1

defaults
    mode tcp
    timeout connect 3s
    timeout client 30s
    timeout server 30s

frontend ws
    bind 127.0.0.1:%d
    default_backend wsgated

backend wsgated
    balance roundrobin
    # health checks send a PROXY v2 LOCAL header, as in the README
    server gw1 127.0.0.1:%d send-proxy-v2 check inter 100ms check-send-proxy
    server gw2 127.0.0.1:%d send-proxy-v2 check inter 100ms check-send-proxy
""" % (self.port, self.gws[0].port, self.gws[1].port), self.port)

    def test_client_address_and_spread(self):
        n = 6

        async def one(i):
            url = "ws://127.0.0.1:%d/chat" % self.port
            async with ws_connect(url, local_addr=(CLIENT_ADDR, 0),
                                  extra_headers={"X-Client": str(i)}) as ws:
                port = ws.transport.get_extra_info("sockname")[1]
                await ws.send("hello %d" % i)
                # the echo backend returns the preamble's lines first
                lines = []
                while True:
                    m = await asyncio.wait_for(ws.recv(), 5)
                    if m == "hello %d" % i:
                        break
                    lines.append(m)
                return port, lines

        async def run():
            # one at a time: round robin alternates exactly
            return [await one(i) for i in range(n)]

        results = self.run_async(run())
        for i, (port, lines) in enumerate(results):
            self.assertEqual(lines[:2], ["Remote-Addr: %s" % CLIENT_ADDR,
                                         "Remote-Port: %d" % port])
            self.assertIn("X-Client: %d" % i, lines)
        # both gateways served, and logged the original client
        for gw in self.gws:
            self.assertTrue(wait_for(lambda: gw.log().count(
                "closed route=/chat") >= n // 2, 5.0), gw.log_tail())
            # HAProxy's health checks (v2 LOCAL) reached it and were
            # accepted, not dropped as clients without a header
            self.assertTrue(wait_for(lambda: "PROXY v2 without addresses"
                                     in gw.log(), 5.0), gw.log_tail())
        for gw in self.gws:
            log = gw.log()
            self.assertNotIn("dropping", log)
            lines = [l for l in log.splitlines()
                     if ": 101 /chat" in l or "closed route=/chat" in l]
            self.assertEqual(len(lines), n, log)
            for l in lines:
                self.assertRegex(l, r"#\d+ %s:\d+: " % CLIENT_ADDR)

    def test_send_proxy_v1(self):
        """HAProxy's text header (send-proxy) works the same."""
        port = free_port()
        start_haproxy(self, """\
global
    maxconn 20
    nbthread 1

defaults
    mode tcp
    timeout connect 3s
    timeout client 30s
    timeout server 30s

frontend ws
    bind 127.0.0.1:%d
    default_backend wsgated

backend wsgated
    server gw1 127.0.0.1:%d send-proxy
""" % (port, self.gws[0].port), port, name="haproxy-v1")

        async def run():
            url = "ws://127.0.0.1:%d/chat" % port
            async with ws_connect(url, local_addr=(CLIENT_ADDR, 0)) as ws:
                await ws.send("x")
                first = await asyncio.wait_for(ws.recv(), 5)
                return ws.transport.get_extra_info("sockname")[1], first
        cport, first = self.run_async(run())
        self.assertEqual(first, "Remote-Addr: %s" % CLIENT_ADDR)
        self.assertTrue(wait_for(lambda: "PROXY v1 from 127.0.0.1:" in
                                 self.gws[0].log(), 5.0))
        self.assertIn("%s:%d: 101 /chat" % (CLIENT_ADDR, cport),
                      self.gws[0].log())
