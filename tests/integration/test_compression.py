"""permessage-deflate (RFC 7692) with a real client, and the fidelity of
"frame" framing with and without it: python3-websockets (which offers
permessage-deflate by default) against a compression route, a recording
frame-mode backend for what reaches the backend, a scripted one for what
reaches the client, and the log line that says compression was agreed."""

import asyncio
import os
import random

import websockets
from websockets.extensions.permessage_deflate import PerMessageDeflate

from harness import (GatewayTest, REC_BINARY, REC_TEXT, frame_record,
                     handler_record, handler_script, parse_records,
                     ws_connect)


def messages():
    """Text and binary, empty and large, compressible and not."""
    rnd = random.Random(5)
    words = ["gateway", "frame", "\u03ba\u1f79\u03c3\u03bc\u03b5", "x"]
    text = " ".join(rnd.choice(words) for _ in range(40000))
    return [
        "", b"", "a", b"\x00", "hello \u00e9\u00e8 \U0001f600",
        bytes(range(256)) * 4, text, text[:5000],
        os.urandom(200000), b"\x00" * 300000, "\n\r\n", b"\r\n",
    ]


def rec_of(m):
    return (REC_TEXT, m.encode()) if isinstance(m, str) else (REC_BINARY, m)


class Compression(GatewayTest):

    def route(self, backend, **kw):
        r = {"path": "/z", "backend": backend, "framing": "frame",
             "compression": True}
        r.update(kw)
        return r

    def test_websockets_negotiates_and_round_trips(self):
        sock = self.start_echo()
        gw = self.start_gateway([self.route(sock)],
                                limits={"compression_min_size": 16,
                                        "max_message_size": 4 << 20})
        msgs = messages()

        async def run():
            # websockets' own default offer: permessage-deflate with
            # client_max_window_bits, and server_max_window_bits=12
            async with ws_connect(gw.url("/z"),
                                  compression="deflate") as ws:
                exts = ws.extensions
                self.assertEqual(len(exts), 1, exts)
                self.assertIsInstance(exts[0], PerMessageDeflate)
                for m in msgs:
                    await ws.send(m)
                for m in msgs:
                    got = await asyncio.wait_for(ws.recv(), 10)
                    self.assertEqual(type(got), type(m))
                    self.assertEqual(got, m)
        self.run_async(run())
        self.assertIn("compression=permessage-deflate", gw.log())

    def test_websockets_variants(self):
        sock = self.start_echo()
        gw = self.start_gateway([self.route(sock)],
                                limits={"compression_min_size": 0,
                                        "compression_level": 1})
        from websockets.extensions import permessage_deflate as pmd
        variants = [
            dict(server_no_context_takeover=True),
            dict(client_no_context_takeover=True),
            dict(server_max_window_bits=9, client_max_window_bits=9),
            dict(server_max_window_bits=15, client_max_window_bits=15,
                 compress_settings={"memLevel": 9}),
        ]
        msgs = messages()[:8]

        async def one(kw):
            f = pmd.ClientPerMessageDeflateFactory(**kw)
            async with ws_connect(gw.url("/z"), compression=None,
                                  extensions=[f]) as ws:
                self.assertEqual(len(ws.extensions), 1, kw)
                for m in msgs:
                    await ws.send(m)
                    self.assertEqual(await asyncio.wait_for(ws.recv(), 10),
                                     m, kw)

        async def run():
            for kw in variants:
                await one(kw)
        self.run_async(run())

    def test_route_without_compression_declines(self):
        sock = self.start_echo()
        gw = self.start_gateway([{"path": "/p", "backend": sock,
                                  "framing": "frame"}])

        async def run():
            async with ws_connect(gw.url("/p"),
                                  compression="deflate") as ws:
                self.assertEqual(ws.extensions, [])
                await ws.send("plain")
                self.assertEqual(await ws.recv(), "plain")
        self.run_async(run())

    def fidelity_client_to_backend(self, compression):
        be = self.start_backend(handler_record)
        gw = self.start_gateway([self.route(be.path)],
                                limits={"compression_min_size": 0})
        msgs = messages()
        want = [rec_of(m) for m in msgs]

        async def run():
            async with ws_connect(gw.url("/z"),
                                  compression=compression) as ws:
                self.assertEqual(bool(ws.extensions), bool(compression))
                for m in msgs:
                    await ws.send(m)
                # fragmented: reaches the backend as one record
                await ws.send(iter(["frag", "ment", "", "ed"]))
                await ws.send(iter([b"\x01", b"", b"\x02"]))
                loop = asyncio.get_running_loop()
                c = await loop.run_in_executor(None, be.wait_conns, 1)
                total = sum(5 + len(p) for _, p in want) + 5 + 10 + 5 + 2
                data = await loop.run_in_executor(None, c.wait_data, total)
                recs, rest = parse_records(data)
                self.assertEqual(rest, b"")
                self.assertEqual(recs, want + [(REC_TEXT, b"fragmented"),
                                               (REC_BINARY, b"\x01\x02")])
        self.run_async(run())

    def fidelity_backend_to_client(self, compression):
        msgs = messages()
        script = [("send", b"".join(frame_record(*rec_of(m))
                                    for m in msgs)), ("sleep", 10)]
        be = self.start_backend(handler_script(script))
        gw = self.start_gateway([self.route(be.path)],
                                limits={"compression_min_size": 0})

        async def run():
            async with ws_connect(gw.url("/z"),
                                  compression=compression) as ws:
                for m in msgs:
                    got = await asyncio.wait_for(ws.recv(), 10)
                    self.assertEqual(type(got), type(m))
                    self.assertEqual(got, m)
        self.run_async(run())

    def test_fidelity_to_backend_plain(self):
        self.fidelity_client_to_backend(None)

    def test_fidelity_to_backend_compressed(self):
        self.fidelity_client_to_backend("deflate")

    def test_fidelity_to_client_plain(self):
        self.fidelity_backend_to_client(None)

    def test_fidelity_to_client_compressed(self):
        self.fidelity_backend_to_client("deflate")

    def test_config_keys_checked(self):
        bad = self.make_config([{"path": "/z", "backend": "/tmp/x.sock",
                                 "compression": 1}],
                               limits={"compression_window_bits": 8,
                                       "compression_level": 10})
        path = self.write_config(bad)
        import subprocess
        from harness import WSGATED
        r = subprocess.run([WSGATED, "-t", "-c", path],
                           capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        err = r.stderr
        self.assertIn("compression: expected true or false", err)
        self.assertIn("compression_window_bits = 8 is out of range", err)
        self.assertIn("compression_level = 10 is out of range", err)
