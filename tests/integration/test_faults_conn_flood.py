"""Fault: a connection flood past max_connections.  With 40 allowed,
400 clients rush in at once, each asking for an upgrade: the gateway
holds at most 40 connections, answers the rest 503 promptly (logged),
keeps serving a healthy client that was there first, and once the flood
is gone serves newcomers again, with no descriptor left behind."""

import asyncio
import re
import time

from faultlib import FaultTest
from harness import (OP_TEXT, RawClient, raise_nofile_limit,
                     upgrade_request)

MAX = 40
FLOOD = 400


class ConnFlood(FaultTest):

    def test_flood_past_max_connections(self):
        raise_nofile_limit()
        echo = self.start_echo()
        gw = self.start_faulty_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            limits={"max_connections": MAX})
        h = self.healthy(gw)
        time.sleep(0.1)
        fds0 = gw.nfds()
        statuses = []
        held = []

        async def rusher():
            try:
                r, w = await asyncio.open_connection("127.0.0.1", gw.port)
            except OSError as e:
                statuses.append(repr(e))
                return
            t0 = time.monotonic()
            w.write(upgrade_request("/echo"))
            try:
                head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
                st = int(head.split(b" ", 2)[1])
            except Exception as e:
                statuses.append(repr(e))
                w.close()
                return
            statuses.append((st, time.monotonic() - t0))
            if st == 101:
                held.append(w)      # keep its slot
            else:
                w.close()

        async def flood():
            await asyncio.gather(*[rusher() for _ in range(FLOOD)])
            peak = gw.nfds()
            # the flood ends
            for w in held:
                w.close()
            await asyncio.sleep(0.1)
            return peak

        peak = self.run_async(flood(), timeout=60)
        ok = [s for s in statuses if isinstance(s, tuple) and s[0] == 101]
        busy = [s for s in statuses if isinstance(s, tuple) and s[0] == 503]
        other = [s for s in statuses if s not in ok and s not in busy]
        print("\n    %d rushed in: %d upgraded, %d answered 503 (slowest "
              "%.0f ms)" % (FLOOD, len(ok), len(busy),
                            max(t for _, t in busy) * 1000), end=" ")
        self.assertEqual(other, [], "neither 101 nor 503")
        # the healthy client holds one of the MAX slots
        self.assertLessEqual(len(ok), MAX - 1)
        self.assertGreater(len(ok), 0)
        self.assertEqual(len(ok) + len(busy), FLOOD)
        self.assertLess(max(t for _, t in busy), 1.0 * self.slack(gw),
                        "503 not prompt")
        self.assertLogged(gw, r"503 Service Unavailable: max_connections")
        # recovery: newcomers are served again
        def served():
            try:
                c = RawClient(gw.port, timeout=3)
            except OSError:
                return False
            try:
                c.send(upgrade_request("/echo"))
                if c.read_response().status != 101:
                    return False
                c.send_text("back")
                return c.recv_message() == (OP_TEXT, b"back")
            finally:
                c.close()
        deadline = time.monotonic() + 5
        while not served():
            self.assertLess(time.monotonic(), deadline,
                            "not serving after the flood")
            time.sleep(0.1)
        for _ in range(MAX - 2):    # all the slots came back
            self.assertTrue(served())
        self.assertNoLeak(gw, fds0)
        h.check(self, max_latency=1.0 * self.slack(gw))
