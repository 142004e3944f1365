"""Listeners: IPv4, IPv6 and a Unix socket with its mode, all at once;
and the log format on stderr ("LEVEL: message", one line per event)."""

import asyncio
import os
import re
import socket
import stat

import websockets

from harness import (GatewayTest, OP_TEXT, RawClient, free_port,
                     upgrade_request, wait_unix)


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Listen(GatewayTest):

    def test_tcp4_tcp6_and_unix(self):
        echo = self.start_echo()
        port4 = free_port()
        front = self.path("front.sock")
        listen = [{"address": "127.0.0.1", "port": port4},
                  {"unix": front, "mode": "0600"}]
        port6 = None
        if have_ipv6():
            port6 = free_port(socket.AF_INET6, "::1")
            listen.append({"address": "::1", "port": port6})
        conf = self.make_config([{"path": "/echo", "backend": echo,
                                  "framing": "line"}], listen=listen)
        self.start_gateway(conf=conf, port=port4)
        self.assertTrue(wait_unix(front, 3), "no Unix listener at %s" % front)
        self.assertEqual(stat.S_IMODE(os.stat(front).st_mode), 0o600,
                         "mode of the Unix listener")

        clients = [("tcp4", RawClient(port4))]
        if port6:
            clients.append(("tcp6", RawClient(port6, host="::1")))
        clients.append(("unix", RawClient(0, unix=front)))
        for name, c in clients:
            with self.subTest(name):
                self.addCleanup(c.close)
                c.handshake("/echo")
                c.send_text(name)
                self.assertEqual(c.recv_message(), (OP_TEXT, name.encode()))

        async def run():
            async with websockets.unix_connect(front, "ws://localhost/echo",
                                               compression=None) as ws:
                await ws.send("over unix")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 3),
                                 "over unix")
        self.run_async(run())

    def test_log_lines(self):
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/echo", "backend": echo,
                                  "framing": "line"}])
        c = self.raw_ws(gw)
        c.send_text("x")
        c.recv_message()
        c.send_close(1000)
        c.recv_close()
        r = self.raw(gw)
        r.send(upgrade_request("/nope"))
        self.assertEqual(r.read_response().status, 404)
        gw.expect_exit = True
        gw.signal(15)
        self.assertEqual(gw.wait(5), 0)
        log = gw.log()
        self.assertTrue(log.strip(), "nothing logged")
        bad = [ln for ln in log.splitlines()
               if not re.match(r"(error|warning|info|debug): \S", ln)]
        self.assertEqual(bad, [], "log lines not \"LEVEL: message\"")
