"""A real memcached (Debian package) behind wsgated, text protocol over
`line` framing, as in conf/examples/memcached.conf.  memcached runs on a
Unix socket of the test's temporary directory (-s: no TCP, no UDP)."""

import asyncio

from harness import GatewayTest, ws_connect
from legacy import start_memcached


class Memcached(GatewayTest):

    def setUp(self):
        super().setUp()
        self.sock = start_memcached(self)
        self.gw = self.start_gateway([
            {"path": "/cache", "backend": self.sock, "framing": "line"}])

    def test_text_protocol(self):
        async def run():
            async with ws_connect(self.gw.url("/cache")) as ws:
                async def cmd(line, n):
                    await ws.send(line)
                    return [await asyncio.wait_for(ws.recv(), 5)
                            for _ in range(n)]

                v = await cmd("version", 1)
                self.assertRegex(v[0], r"^VERSION \d+\.\d+")
                # the data block must end in "\r\n": the message ends in
                # "\r" and the framing adds the "\n"
                self.assertEqual(await cmd("set greeting 0 0 5\r\nhello\r", 1),
                                 ["STORED"])
                self.assertEqual(await cmd("get greeting", 3),
                                 ["VALUE greeting 0 5", "hello", "END"])
                # a command line and its block as two messages
                await ws.send("add n 0 0 2\r")
                await ws.send("40\r")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5),
                                 "STORED")
                self.assertEqual(await cmd("incr n 2", 1), ["42"])
                self.assertEqual(await cmd("get greeting n", 5),
                                 ["VALUE greeting 0 5", "hello",
                                  "VALUE n 0 2", "42", "END"])
                self.assertEqual(await cmd("delete greeting", 1),
                                 ["DELETED"])
                self.assertEqual(await cmd("get greeting", 1), ["END"])
                self.assertEqual(await cmd("bogus", 1), ["ERROR"])
                # quit: memcached closes, the client gets 1000
                await ws.send("quit")
                await asyncio.wait_for(ws.wait_closed(), 5)
                self.assertEqual(ws.close_code, 1000)
        self.run_async(run())

    def test_two_clients_share_the_cache(self):
        async def run():
            async with ws_connect(self.gw.url("/cache")) as a, \
                    ws_connect(self.gw.url("/cache")) as b:
                await a.send("set k 0 0 3\r\nabc\r")
                self.assertEqual(await asyncio.wait_for(a.recv(), 5),
                                 "STORED")
                await b.send("get k")
                self.assertEqual([await asyncio.wait_for(b.recv(), 5)
                                  for _ in range(3)],
                                 ["VALUE k 0 3", "abc", "END"])
        self.run_async(run())
