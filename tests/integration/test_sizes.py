"""Message sizes across the length encodings: 0 B, 125 B (7-bit), 126 B
(16-bit), 64 KiB (64-bit) and 16 MiB with max_message_size raised, both
types, echoed through frame framing; and the 1009 limit itself."""

import asyncio
import os

import websockets

from harness import GatewayTest, OP_BINARY, ws_connect

MIB = 1 << 20


class Sizes(GatewayTest):

    def test_sizes_echoed(self):
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/frame", "backend": echo,
                                  "framing": "frame"}],
                                limits={"max_message_size": 17 * MIB})
        sizes = [0, 1, 125, 126, 127, 65535, 65536, 16 * MIB]

        async def run():
            async with ws_connect(gw.url("/frame"), max_size=None,
                                  write_limit=4 * MIB) as ws:
                for n in sizes:
                    for kind in ("binary", "text"):
                        with self.subTest(size=n, kind=kind):
                            if kind == "binary":
                                m = os.urandom(n) if n < MIB else \
                                    os.urandom(MIB) * 16
                            else:
                                # n bytes, mostly 2-byte sequences
                                m = "\u00e9" * (n // 2) + "a" * (n % 2)
                            await ws.send(m)
                            got = await asyncio.wait_for(ws.recv(), 20)
                            self.assertEqual(type(got), type(m))
                            self.assertEqual(len(got), len(m))
                            self.assertTrue(got == m, "payload differs")
        self.run_async(run(), timeout=90)

    def test_max_message_size_boundary(self):
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/frame", "backend": echo,
                                  "framing": "frame"}],
                                limits={"max_message_size": 4096})
        c = self.raw_ws(gw, "/frame")
        c.send_binary(b"m" * 4096)
        self.assertEqual(c.recv_message(), (OP_BINARY, b"m" * 4096),
                         "a message of exactly max_message_size passes")

        async def run():
            async with ws_connect(gw.url("/frame")) as ws:
                await ws.send(b"x" * 4097)
                with self.assertRaises(websockets.ConnectionClosed) as cm:
                    await asyncio.wait_for(ws.recv(), 3)
                rcvd = cm.exception.rcvd
                self.assertEqual(rcvd.code if rcvd else None, 1009)
        self.run_async(run())
