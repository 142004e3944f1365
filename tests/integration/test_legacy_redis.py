"""A real Redis (Debian redis-server) behind wsgated, `line` framing:
inline commands in, one message per RESP line out, as in
conf/examples/redis.conf.  Redis runs on a Unix socket of the test's
temporary directory with a config of its own."""

import asyncio

from harness import GatewayTest, wait_for, ws_connect
from legacy import RespError, RespReader, start_redis


class Redis(GatewayTest):

    def setUp(self):
        super().setUp()
        self.sock = start_redis(self)
        self.gw = self.start_gateway([
            {"path": "/redis", "backend": self.sock, "framing": "line"}])

    def test_commands_and_replies(self):
        async def run():
            async with ws_connect(self.gw.url("/redis")) as ws:
                async def cmd(line, n):
                    await ws.send(line)
                    return [await asyncio.wait_for(ws.recv(), 5)
                            for _ in range(n)]

                # one line per message, each a text message
                self.assertEqual(await cmd("PING", 1), ["+PONG"])
                self.assertEqual(await cmd("SET greeting hello", 1), ["+OK"])
                self.assertEqual(await cmd("GET greeting", 2),
                                 ["$5", "hello"])
                self.assertEqual(await cmd("GET missing", 1), ["$-1"])
                self.assertEqual(await cmd("INCR n", 1), [":1"])
                self.assertEqual(await cmd("RPUSH l a bb ccc", 1), [":3"])
                self.assertEqual(await cmd("LRANGE l 0 -1", 7),
                                 ["*3", "$1", "a", "$2", "bb", "$3", "ccc"])
                err = await cmd("NOSUCHCOMMAND x", 1)
                self.assertTrue(err[0].startswith("-ERR unknown command"),
                                err)
                # quoted arguments keep their spaces; UTF-8 passes through
                self.assertEqual(await cmd('SET q "hello world \xe9"', 1),
                                 ["+OK"])
                self.assertEqual(await cmd("GET q", 2),
                                 ["$14", "hello world \xe9"])
        self.run_async(run())

    def test_resp_reassembly(self):
        """The reader of the example config turns messages back into
        replies, a value with newlines included."""
        async def run():
            async with ws_connect(self.gw.url("/redis")) as ws:
                r = RespReader(lambda: asyncio.wait_for(ws.recv(), 5))
                await ws.send('SET multi "line one\\nline two\\nthree"')
                self.assertEqual(await r.reply(), "OK")
                await ws.send("GET multi")
                self.assertEqual(await r.reply(),
                                 "line one\nline two\nthree")
                await ws.send("HSET h f1 v1 f2 v2")
                self.assertEqual(await r.reply(), 2)
                await ws.send("HGETALL h")
                got = await r.reply()
                self.assertEqual(dict(zip(got[::2], got[1::2])),
                                 {"f1": "v1", "f2": "v2"})
                await ws.send("GET nothing")
                self.assertIsNone(await r.reply())
                await ws.send("LPUSH multi x")
                e = await r.reply()
                self.assertIsInstance(e, RespError)
                self.assertTrue(e.startswith("WRONGTYPE"), e)
                # pipelining: three commands in one message
                await ws.send("INCR c\nINCR c\nINCR c")
                self.assertEqual([await r.reply() for _ in range(3)],
                                 [1, 2, 3])
        self.run_async(run())

    def test_pubsub_pushes_to_the_client(self):
        """A subscriber gets publications it did not ask for, each as the
        lines of a RESP array, and QUIT ends the connection with 1000."""
        async def run():
            async with ws_connect(self.gw.url("/redis")) as sub, \
                    ws_connect(self.gw.url("/redis")) as pub:
                rs = RespReader(lambda: asyncio.wait_for(sub.recv(), 5))
                rp = RespReader(lambda: asyncio.wait_for(pub.recv(), 5))
                await sub.send("SUBSCRIBE news")
                self.assertEqual(await rs.reply(), ["subscribe", "news", 1])
                await pub.send("PUBLISH news \"it works\"")
                self.assertEqual(await rp.reply(), 1)
                self.assertEqual(await rs.reply(),
                                 ["message", "news", "it works"])
                await pub.send("QUIT")
                self.assertEqual(await rp.reply(), "OK")
                await asyncio.wait_for(pub.wait_closed(), 5)
                self.assertEqual(pub.close_code, 1000)
        self.run_async(run())
        # the access line says who ended it
        self.assertTrue(wait_for(lambda: "by=backend" in self.gw.log(), 5.0),
                        self.gw.log_tail())
