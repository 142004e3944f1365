"""1,000 concurrent connections, each echoing 100 messages through the C
echo backend with nothing lost or reordered, on two worker threads; then
every descriptor is given back."""

import asyncio
import time

from harness import GatewayTest, raise_nofile_limit, wait_for, ws_connect

NCONN = 1000
NMSG = 100
BATCH = 100


class Concurrency(GatewayTest):

    def test_1000_connections_100_messages(self):
        if raise_nofile_limit() < NCONN + 100:
            self.skipTest("RLIMIT_NOFILE hard limit too low")
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/frame", "backend": echo,
                                  "framing": "frame"}], workers=2)
        fds0 = gw.nfds()
        errors = []
        received = [0]

        async def session(ws, i):
            async def sender():
                for j in range(NMSG):
                    await ws.send("c%d-m%d" % (i, j) if j % 2
                                  else b"c%d-m%d" % (i, j))
            t = asyncio.ensure_future(sender())
            for j in range(NMSG):
                m = await ws.recv()
                want = "c%d-m%d" % (i, j) if j % 2 else b"c%d-m%d" % (i, j)
                if m != want:
                    errors.append("connection %d message %d: got %r want %r"
                                  % (i, j, m, want))
                    break
                received[0] += 1
            await t

        async def run():
            conns = []
            t0 = time.monotonic()
            try:
                for b in range(0, NCONN, BATCH):
                    conns += await asyncio.gather(*[
                        ws_connect(gw.url("/frame"), open_timeout=20)
                        for _ in range(BATCH)])
                t1 = time.monotonic()
                self.assertEqual(len(conns), NCONN)
                await asyncio.gather(*[session(ws, i)
                                       for i, ws in enumerate(conns)])
                t2 = time.monotonic()
                print("\n    connect %.1fs, echo %d messages %.1fs"
                      % (t1 - t0, NCONN * NMSG, t2 - t1), end=" ")
            finally:
                await asyncio.gather(*[ws.close() for ws in conns],
                                     return_exceptions=True)
        self.run_async(run(), timeout=120)
        self.assertEqual(errors[:5], [])
        self.assertEqual(received[0], NCONN * NMSG)
        # every connection's two descriptors are given back
        got = wait_for(lambda: gw.nfds() <= fds0, 5)
        self.assertTrue(got, "wsgated holds %s descriptors, %s before"
                        % (gw.nfds(), fds0))
