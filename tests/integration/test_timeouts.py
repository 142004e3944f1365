"""Timers: idle_timeout_ms closes a quiet connection with 1001 (traffic
keeps it open); ping_interval_ms makes the gateway ping, a client that
answers stays, one that never answers is dropped."""

import asyncio
import time

import websockets

from harness import (GatewayTest, OP_PING, OP_PONG, OP_TEXT, handler_script,
                     ws_connect)


class IdleTimeout(GatewayTest):

    def test_idle_close_1001(self):
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/echo", "backend": echo,
                                  "framing": "line"}],
                                limits={"idle_timeout_ms": 600,
                                        "ping_interval_ms": 0})

        async def run():
            async with ws_connect(gw.url()) as ws:
                # messages every 200 ms for 1.2 s keep it open
                for i in range(6):
                    await ws.send("m%d" % i)
                    self.assertEqual(await asyncio.wait_for(ws.recv(), 2),
                                     "m%d" % i)
                    await asyncio.sleep(0.2)
                t0 = time.monotonic()
                with self.assertRaises(websockets.ConnectionClosed) as cm:
                    await asyncio.wait_for(ws.recv(), 3)
                took = time.monotonic() - t0
                rcvd = cm.exception.rcvd
                self.assertEqual(rcvd.code if rcvd else None, 1001)
                self.assertGreater(took, 0.3, "closed before idle_timeout_ms")
                self.assertLess(took, 1.5, "closed long after idle_timeout_ms")
        self.run_async(run())

    def test_backend_traffic_counts(self):
        # messages from the backend alone also keep the connection busy
        be = self.start_backend(handler_script(
            [("send", b"tick\n"), ("sleep", 0.2)] * 6 + [("sleep", 5)]))
        gw = self.start_gateway([{"path": "/b", "backend": be.path,
                                  "framing": "line"}],
                                limits={"idle_timeout_ms": 600,
                                        "ping_interval_ms": 0})
        c = self.raw_ws(gw, "/b")
        for _ in range(6):
            self.assertEqual(c.recv_message(timeout=2), (OP_TEXT, b"tick"))
        self.assertEqual(c.recv_close(timeout=3)[0], 1001)
        c.send_close(1001)
        self.assertTrue(c.wait_closed(1), "TCP still open after the close "
                        "handshake")


class PingInterval(GatewayTest):

    def test_pings_and_drop(self):
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/echo", "backend": echo,
                                  "framing": "line"}],
                                limits={"ping_interval_ms": 300})
        c = self.raw_ws(gw)
        # answer pings for 1.2 s: still connected
        pings = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.2:
            fin, rsv, op, p = c.recv_frame(timeout=1)
            self.assertEqual(op, OP_PING, "unexpected frame %d" % op)
            pings += 1
            c.send_frame(OP_PONG, p)
        self.assertGreaterEqual(pings, 2, "gateway does not ping")
        c.send_text("alive")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"alive"))
        # now never answer: dropped within about two intervals
        self.assertTrue(c.wait_closed(2.5),
                        "a client that never answers pings is not dropped")

    def test_real_client_stays(self):
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/echo", "backend": echo,
                                  "framing": "line"}],
                                limits={"ping_interval_ms": 200})

        async def run():
            async with ws_connect(gw.url()) as ws:
                await asyncio.sleep(1.0)
                await ws.send("still")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 2),
                                 "still")
        self.run_async(run())
