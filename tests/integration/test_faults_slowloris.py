"""Fault: 1,000 slowloris clients, each dribbling header bytes and never
finishing its request.  Every one is cut at handshake_timeout_ms with a
408 (not before, not long after), while new clients arriving meanwhile
complete their handshake and a round trip at once, a healthy client is
served throughout, and the descriptors all come back."""

import asyncio
import time

from faultlib import FaultTest
from harness import (OP_TEXT, accept_for, build_frame, raise_nofile_limit,
                     upgrade_request, ws_key)

N = 1000
TIMEOUT_MS = 2000


async def loris(port, results):
    # timed from before the connect: the gateway's timer cannot start
    # earlier, so the 408 can never come sooner than the timeout
    t0 = time.monotonic()
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        results.append(("connect", repr(e), 0))
        return
    w.write(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")

    async def dribble():
        try:
            while True:
                await asyncio.sleep(0.25)
                w.write(b"z")
                await w.drain()
        except (OSError, asyncio.CancelledError):
            pass

    d = asyncio.ensure_future(dribble())
    try:
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 15)
        status = int(head.split(b" ", 2)[1])
        results.append(("ok", status, time.monotonic() - t0))
    except Exception as e:
        results.append(("read", repr(e), time.monotonic() - t0))
    finally:
        d.cancel()
        w.close()


async def newcomer(port):
    """A fresh client: handshake and one echo; returns seconds taken."""
    t0 = time.monotonic()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    key = ws_key()
    w.write(upgrade_request("/echo", key=key))
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101 "), head
    assert accept_for(key).encode() in head
    w.write(build_frame(OP_TEXT, b"quick"))
    frame = await asyncio.wait_for(r.readexactly(7), 10)
    assert frame == b"\x81\x05quick", frame
    took = time.monotonic() - t0
    w.close()
    return took


class Slowloris(FaultTest):

    def test_thousand_slowloris(self):
        raise_nofile_limit()
        echo = self.start_echo()
        gw = self.start_faulty_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            limits={"handshake_timeout_ms": TIMEOUT_MS})
        h = self.healthy(gw)
        time.sleep(0.1)
        fds0 = gw.nfds()
        results = []
        newcomers = []

        async def main():
            peak = 0

            async def count():
                nonlocal peak
                while True:
                    peak = max(peak, gw.nfds() or 0)
                    await asyncio.sleep(0.05)

            counter = asyncio.ensure_future(count())
            lorises = [asyncio.ensure_future(loris(gw.port, results))
                       for _ in range(N)]
            # newcomers while the lorises hold their sockets
            await asyncio.sleep(0.3)
            t_end = time.monotonic() + TIMEOUT_MS / 1000.0 - 0.5
            while time.monotonic() < t_end:
                newcomers.append(await newcomer(gw.port))
                await asyncio.sleep(0.1)
            await asyncio.gather(*lorises)
            counter.cancel()
            return peak

        peak = self.run_async(main(), timeout=60)
        bad = [r for r in results if r[0] != "ok" or r[1] != 408]
        self.assertEqual(bad[:5], [], "%d of %d slowloris clients not "
                         "answered 408" % (len(bad), N))
        took = sorted(r[2] for r in results)
        slack = self.slack(gw)
        print("\n    %d slowloris: 408 after %.2f..%.2fs; gateway held %d "
              "descriptors; %d newcomers, slowest %.0f ms"
              % (N, took[0], took[-1], peak, len(newcomers),
                 max(newcomers) * 1000), end=" ")
        # (a sanitized gateway accepts too slowly to hold them all before
        # the first ones time out)
        self.assertGreater(peak, fds0 + N * (0.9 if slack == 1 else 0.5),
                           "the lorises were not all held at once")
        # (libevent arms timers from its cached clock: a few ms early)
        self.assertGreaterEqual(took[0], TIMEOUT_MS / 1000.0 - 0.05,
                                "408 before handshake_timeout_ms")
        self.assertLess(took[-1], TIMEOUT_MS / 1000.0 + 1.5 * slack,
                        "408 long after handshake_timeout_ms")
        self.assertGreaterEqual(len(newcomers), 5)
        self.assertLess(max(newcomers), 0.5 * slack,
                        "a new client waited behind the slowloris crowd")
        self.assertLogged(gw, r"408 Request Timeout: handshake timeout")
        self.assertNoLeak(gw, fds0)
        h.check(self, max_latency=1.0 * slack)
