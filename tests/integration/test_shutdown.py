"""Graceful shutdown: SIGTERM (or SIGINT) stops accepting, sends close
1001 to every client, waits at most close_timeout_ms for them, and exits
0."""

import asyncio
import signal
import socket
import time

import websockets

from harness import (GatewayTest, raise_nofile_limit, upgrade_request,
                     ws_connect)


class Shutdown(GatewayTest):

    def setUp(self):
        super().setUp()
        self.echo = self.start_echo()

    def start(self, close_timeout_ms=1000):
        return self.start_gateway(
            [{"path": "/echo", "backend": self.echo, "framing": "line"}],
            limits={"close_timeout_ms": close_timeout_ms})

    def test_sigterm_closes_clients_with_1001(self):
        gw = self.start()
        # one raw client that will not answer the close, one still in its
        # handshake
        silent = self.raw_ws(gw)
        half = self.raw(gw)
        half.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n")

        async def run():
            conns = [await ws_connect(gw.url()) for _ in range(3)]
            for ws in conns:
                await ws.send("before")
                self.assertEqual(await ws.recv(), "before")
            gw.expect_exit = True
            t0 = time.monotonic()
            gw.signal(signal.SIGTERM)
            for ws in conns:
                with self.assertRaises(websockets.ConnectionClosed) as cm:
                    await asyncio.wait_for(ws.recv(), 3)
                rcvd = cm.exception.rcvd
                self.assertEqual(rcvd.code if rcvd else None, 1001)
            self.assertLess(time.monotonic() - t0, 1.5, "1001 not prompt")
        t0 = time.monotonic()
        self.run_async(run())
        code, _ = silent.recv_close(timeout=2)
        self.assertEqual(code, 1001)
        rc = gw.wait(5)
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, "exit status after SIGTERM; log:\n%s"
                         % gw.log_tail())
        self.assertLess(took, 1.0 + 2.5,
                        "did not exit within close_timeout_ms")
        self.assertTrue(half.wait_closed(1))
        self.assertTrue(silent.wait_closed(1))
        with self.assertRaises(OSError, msg="still accepting after exit"):
            socket.create_connection(("127.0.0.1", gw.port), timeout=1)

    def test_sigterm_with_1000_clients(self):
        raise_nofile_limit()
        gw = self.start()

        async def run():
            conns = []
            try:
                for _ in range(10):
                    conns += await asyncio.gather(*[
                        ws_connect(gw.url(), open_timeout=20)
                        for _ in range(100)])
                gw.expect_exit = True
                gw.signal(signal.SIGTERM)
                await asyncio.wait_for(asyncio.gather(
                    *[ws.wait_closed() for ws in conns]), 10)
                codes = {}
                for ws in conns:
                    codes[ws.close_code] = codes.get(ws.close_code, 0) + 1
                self.assertEqual(codes, {1001: len(conns)})
            finally:
                await asyncio.gather(*[ws.close() for ws in conns],
                                     return_exceptions=True)
        self.run_async(run())
        self.assertEqual(gw.wait(5), 0)

    def test_sigint_idle(self):
        gw = self.start()
        gw.expect_exit = True
        gw.signal(signal.SIGINT)
        self.assertEqual(gw.wait(3), 0, "exit status after SIGINT")

    def test_stops_accepting(self):
        gw = self.start(close_timeout_ms=3000)
        # a client that never answers keeps the gateway in its drain
        silent = self.raw_ws(gw)
        gw.expect_exit = True
        gw.signal(signal.SIGTERM)
        self.assertEqual(silent.recv_close(timeout=2)[0], 1001)
        time.sleep(0.2)
        self.assertTrue(gw.alive())
        try:
            c = socket.create_connection(("127.0.0.1", gw.port), timeout=1)
        except OSError:
            pass        # refused: the listener is closed
        else:
            # accepted by the kernel backlog at most: never upgraded
            self.addCleanup(c.close)
            c.settimeout(2)
            try:
                c.sendall(upgrade_request("/echo"))
                data = c.recv(100)
            except OSError:
                data = b""
            self.assertFalse(data.startswith(b"HTTP/1.1 101"),
                             "upgraded a new client while shutting down")
        self.assertEqual(gw.wait(6), 0)

    def test_queued_data_drains_before_1001(self):
        # the backend has queued a lot towards a client that is not
        # reading when SIGTERM comes: what the gateway sends is whole
        # frames of the stream, in order, then close 1001, then EOF
        stream = bytes(range(256)) * (16 * 1024)    # 4 MiB

        def flooder(c, backend):
            try:
                c.send(stream)
            except OSError:
                pass
            c.wake.wait(10)

        be = self.start_backend(flooder)
        gw = self.start_gateway([{"path": "/raw", "backend": be.path}],
                                limits={"close_timeout_ms": 3000})
        c = self.raw_ws(gw, "/raw")
        time.sleep(0.5)         # let buffers fill up
        gw.expect_exit = True
        gw.signal(signal.SIGTERM)
        got = bytearray()
        while True:
            fin, rsv, op, p = c.recv_frame(timeout=5)
            if op == 0x8:
                code = int.from_bytes(p[:2], "big") if len(p) >= 2 else None
                break
            self.assertEqual((fin, op), (1, 2))
            got += p
        self.assertEqual(code, 1001)
        self.assertGreater(len(got), 0, "nothing queued was delivered")
        self.assertTrue(stream.startswith(bytes(got)),
                        "data before the close is not a prefix of the stream")
        c.send_close(1001)
        self.assertTrue(c.wait_closed(3))
        self.assertFalse(c.reset, "reset instead of an orderly close")
        self.assertEqual(gw.wait(5), 0)
