#!/usr/bin/python3
"""Soak test (make soak): CONNS WebSocket connections for SOAK_SECONDS
through wsgated to the C echo backend in frame mode.  Each connection
sends messages of random size (0..256 KiB), randomly fragmented and
written in pieces cut at random points, each carrying its connection,
sequence number and a SHA-256 of its body; every echo is checked in
order.  At the end: zero messages lost, corrupted or reordered, and the
gateway's RSS flat after warm-up: data in flight makes it swing, so all
connections pause (stay open, everything echoed) once after warm-up
(SOAK_SECONDS / 4) and once at the end, and RSS at the second rest may
be no more than 10% + 2 MB above the first.

    SOAK_SECONDS=60 SOAK_CONNS=200 SOAK_SEED=N
    WSGATED=./wsgated ECHO_BACKEND=tests/backends/echo-backend \\
        /usr/bin/python3 tests/soak/soak.py
"""

import asyncio
import hashlib
import os
import random
import struct
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "integration"))

from faultlib import FaultTest, sanitized                      # noqa: E402
from harness import (OP_BINARY, OP_CONT, OP_PING, OP_PONG,     # noqa: E402
                     OP_TEXT, accept_for,
                     build_frame, proc_status, raise_nofile_limit,
                     upgrade_request, ws_key)

SECONDS = float(os.environ.get("SOAK_SECONDS", 60))
CONNS = int(os.environ.get("SOAK_CONNS", 200))
MAX_SIZE = 256 * 1024
IN_FLIGHT = 3           # messages a connection may have unanswered
HDR = struct.Struct("!IQ32s")   # connection, sequence, sha256(body)
BLOCK = os.urandom(MAX_SIZE + 65536)


class Stats:
    def __init__(self):
        self.sent = self.received = self.bytes = 0
        self.lost = self.corrupt = self.reordered = 0
        self.errors = []


async def read_frame(r):
    h = await r.readexactly(2)
    n = h[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", await r.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await r.readexactly(8))[0]
    return h[0] >> 7, h[0] & 0x0F, await r.readexactly(n) if n else b""


async def connection(cid, port, phases, rest, rng, st):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    key = ws_key()
    w.write(upgrade_request("/soak", key=key))
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
    if not head.startswith(b"HTTP/1.1 101") or \
            accept_for(key).encode() not in head:
        raise AssertionError("handshake failed: %r" % head[:100])
    expect = []                     # (seq, digest) in send order
    room = asyncio.Semaphore(IN_FLIGHT)
    done_sending = asyncio.Event()
    wlock = asyncio.Lock()          # one frame on the wire at a time

    async def reader():
        while not (done_sending.is_set() and not expect):
            fin, op, p = await asyncio.wait_for(read_frame(r), 30)
            if op == OP_PING:       # the gateway's keepalive
                async with wlock:
                    w.write(build_frame(OP_PONG, p))
                    await w.drain()
                continue
            if op not in (OP_TEXT, OP_BINARY) or not fin:
                raise AssertionError("unexpected frame op %d fin %d"
                                     % (op, fin))
            room.release()
            if len(p) < HDR.size:
                st.corrupt += 1
                expect.pop(0)
                continue
            c, seq, digest = HDR.unpack_from(p)
            want_seq, want_digest = expect.pop(0)
            if c != cid or hashlib.sha256(p[HDR.size:]).digest() != digest:
                st.corrupt += 1
            elif seq != want_seq or digest != want_digest:
                st.reordered += 1
            st.received += 1
            st.bytes += len(p)

    async def send_until(t_end):
        nonlocal seq
        while time.monotonic() < t_end:
            await room.acquire()
            size = rng.randint(0, MAX_SIZE - HDR.size)
            off = rng.randrange(65536)
            body = BLOCK[off:off + size]
            digest = hashlib.sha256(body).digest()
            payload = HDR.pack(cid, seq, digest) + body
            expect.append((seq, digest))
            seq += 1
            # fragments: 1..3 frames
            cuts = sorted(rng.sample(range(1, len(payload)),
                                     min(rng.choice([0, 0, 1, 2]),
                                         len(payload) - 1)))
            parts = [payload[a:b] for a, b in
                     zip([0] + cuts, cuts + [len(payload)])]
            wire = b"".join(
                build_frame(OP_BINARY if i == 0 else OP_CONT, part,
                            fin=i == len(parts) - 1)
                for i, part in enumerate(parts))
            # written in pieces cut at random points
            i = 0
            async with wlock:
                while i < len(wire):
                    n = rng.choice([1, 7, 100, 4096, 65536, len(wire)])
                    w.write(wire[i:i + n])
                    i += n
                    await w.drain()
                    if rng.random() < 0.01:
                        await asyncio.sleep(0.005)
            st.sent += 1
        # quiet: every echo back before the rest
        t_out = time.monotonic() + 60
        while expect and not rt.done() and time.monotonic() < t_out:
            await asyncio.sleep(0.01)

    rt = asyncio.ensure_future(reader())
    seq = 0
    try:
        for t_end in phases:
            await send_until(t_end)
            await rest.wait()       # everyone quiet: RSS is sampled
            await rest.wait()
        done_sending.set()
        await asyncio.wait_for(rt, 60)
    finally:
        if not rt.done():
            rt.cancel()
            st.lost += len(expect)
    w.write(build_frame(0x8, struct.pack("!H", 1000)))
    await w.drain()
    try:
        while True:
            fin, op, p = await asyncio.wait_for(read_frame(r), 5)
            if op == 0x8:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    w.close()


class Soak(FaultTest):

    def test_soak(self):
        raise_nofile_limit()
        seed = int(os.environ.get("SOAK_SEED", random.randrange(1 << 30)))
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/soak", "backend": echo,
                                  "framing": "frame"}])
        st = Stats()
        samples = []
        t0 = time.monotonic()
        deadline = t0 + SECONDS

        async def sample():
            while True:
                samples.append((time.monotonic() - t0,
                                proc_status(gw.pid, "VmRSS") or 0))
                await asyncio.sleep(0.5)

        warm = SECONDS / 4
        phases = [t0 + warm, deadline]
        rests = []

        async def main():
            s = asyncio.ensure_future(sample())
            rest = asyncio.Barrier(CONNS + 1)
            conns = asyncio.gather(
                *[connection(i, gw.port, phases, rest,
                             random.Random(seed + i), st)
                  for i in range(CONNS)], return_exceptions=True)
            for _ in phases:
                await rest.wait()
                await asyncio.sleep(1.0)
                rests.append(proc_status(gw.pid, "VmRSS") or 0)
                await rest.wait()
            results = await conns
            s.cancel()
            return [e for e in results if isinstance(e, BaseException)]

        errors = self.run_async(main(), timeout=SECONDS + 120)
        took = time.monotonic() - t0
        # Data in flight makes RSS swing (each connection may pin up to
        # about 2 x buffer_limit per direction), so it is compared at
        # rest: all 200 connections open and quiet, once after warm-up
        # and once at the end.
        peak = max(r for _, r in samples)
        if os.environ.get("SOAK_VERBOSE"):
            print("\n" + " ".join("%.0f:%.1f" % (t, r / 1024)
                                  for t, r in samples))
        print("\nsoak: seed %d, %d connections, %.0fs: %d messages sent, "
              "%d echoed (%.0f MB each way, %.0f MB/s), lost %d, "
              "corrupted %d, reordered %d, connection errors %d"
              % (seed, CONNS, took, st.sent, st.received,
                 st.bytes / 2**20, st.bytes / 2**20 / took, st.lost,
                 st.corrupt, st.reordered, len(errors)))
        print("soak: gateway RSS at rest with %d connections open: %.1f MB "
              "after %.0fs of warm-up, %.1f MB at the end; peak %.1f MB "
              "under load" % (CONNS, rests[0] / 1024, warm, rests[1] / 1024,
                              peak / 1024))
        self.assertEqual(errors, [], "connections failed: %r" % errors[:3])
        self.assertGreater(st.sent, 0)
        self.assertEqual((st.lost, st.corrupt, st.reordered), (0, 0, 0))
        self.assertEqual(st.sent, st.received)
        if not sanitized(gw.pid):
            self.assertLessEqual(rests[1], rests[0] * 1.10 + 2048,
                                 "gateway RSS grew after warm-up")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
