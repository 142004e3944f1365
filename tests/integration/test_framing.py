"""Every framing mode, both directions: raw (binary and text), line and
frame, against recording/scripted Python backends and the C echo
backend."""

import asyncio
import struct

import websockets

from harness import (GatewayTest, REC_BINARY, REC_CLOSE, REC_TEXT,
                     close_record, frame_record, handler_record,
                     handler_script, parse_records, ws_connect, OP_TEXT,
                     OP_BINARY, OP_CONT)


class RawFraming(GatewayTest):

    def test_client_payload_reaches_backend_as_is(self):
        be = self.start_backend(handler_record)
        gw = self.start_gateway([{"path": "/raw", "backend": be.path,
                                  "framing": "raw"}])
        msgs = [b"abc", b"", b"\x00\x01\xff\n", "t\u00e9xt", b"z" * 300]
        want = b"".join(m.encode() if isinstance(m, str) else m
                        for m in msgs)

        async def run():
            async with ws_connect(gw.url("/raw")) as ws:
                for m in msgs:
                    await ws.send(m)
                c = await asyncio.get_running_loop().run_in_executor(
                    None, be.wait_conns, 1)
                got = await asyncio.get_running_loop().run_in_executor(
                    None, c.wait_data, len(want))
                self.assertEqual(got, want)
        self.run_async(run())

    def test_backend_bytes_become_binary_messages(self):
        be = self.start_backend(handler_script([
            ("send", b"hello\x00\xff"), ("sleep", 0.2), ("send", b"again"),
            ("sleep", 5)]))
        gw = self.start_gateway([{"path": "/raw", "backend": be.path}])

        async def run():
            async with ws_connect(gw.url("/raw")) as ws:
                m1 = await asyncio.wait_for(ws.recv(), 3)
                m2 = await asyncio.wait_for(ws.recv(), 3)
                self.assertIsInstance(m1, bytes, "raw default is binary")
                self.assertEqual(m1, b"hello\x00\xff")
                self.assertEqual(m2, b"again")
        self.run_async(run())

    def test_text_message_type(self):
        snow = "\u2603".encode()        # 3-byte UTF-8 sequence
        be = self.start_backend(handler_script([
            ("send", b"caf\xc3\xa9"), ("sleep", 0.2),
            # a sequence split across two backend writes must not be split
            # across two messages
            ("send", b"a" + snow[:1]), ("sleep", 0.2),
            ("send", snow[1:] + b"b"), ("sleep", 5)]))
        gw = self.start_gateway([{"path": "/rawt", "backend": be.path,
                                  "framing": "raw", "message_type": "text"}])

        async def run():
            async with ws_connect(gw.url("/rawt")) as ws:
                m1 = await asyncio.wait_for(ws.recv(), 3)
                self.assertEqual(m1, "caf\u00e9")
                got = ""
                while got != "a\u2603b":
                    m = await asyncio.wait_for(ws.recv(), 3)
                    self.assertIsInstance(m, str)
                    got += m
                    self.assertTrue("a\u2603b".startswith(got), got)
        self.run_async(run())

    def test_text_invalid_utf8_from_backend_is_1011(self):
        be = self.start_backend(handler_script([
            ("send", b"ok"), ("sleep", 0.2), ("send", b"bad\xff\xfe"),
            ("sleep", 5)]))
        gw = self.start_gateway([{"path": "/rawt", "backend": be.path,
                                  "message_type": "text"}])

        async def run():
            async with ws_connect(gw.url("/rawt")) as ws:
                self.assertEqual(await asyncio.wait_for(ws.recv(), 3), "ok")
                with self.assertRaises(websockets.ConnectionClosed) as cm:
                    await asyncio.wait_for(ws.recv(), 3)
                self.assertEqual(cm.exception.rcvd.code if cm.exception.rcvd
                                 else None, 1011)
        self.run_async(run())

    def test_echo_backend(self):
        sock = self.start_echo()
        gw = self.start_gateway([{"path": "/raw", "backend": sock}])

        async def run():
            async with ws_connect(gw.url("/raw")) as ws:
                for m in (b"one", b"\x00" * 1000):
                    await ws.send(m)
                    got = b""
                    while len(got) < len(m):
                        got += await asyncio.wait_for(ws.recv(), 3)
                    self.assertEqual(got, m)
        self.run_async(run())


class LineFraming(GatewayTest):

    def test_newline_appended_to_client_messages(self):
        be = self.start_backend(handler_record)
        gw = self.start_gateway([{"path": "/line", "backend": be.path,
                                  "framing": "line"}])

        async def run():
            async with ws_connect(gw.url("/line")) as ws:
                await ws.send("hello")
                await ws.send("w\u00f6rld")
                await ws.send(b"bin")
                loop = asyncio.get_running_loop()
                c = await loop.run_in_executor(None, be.wait_conns, 1)
                want = "hello\nw\u00f6rld\nbin\n".encode()
                got = await loop.run_in_executor(None, c.wait_data, len(want))
                self.assertEqual(got, want)
        self.run_async(run())

    def test_backend_lines_become_text_messages(self):
        be = self.start_backend(handler_script([
            ("send", b"one\r\ntwo\nthr"), ("sleep", 0.2),
            ("send", b"ee\r"), ("sleep", 0.2), ("send", b"\n\n"),
            ("sleep", 5)]))
        gw = self.start_gateway([{"path": "/line", "backend": be.path,
                                  "framing": "line"}])

        async def run():
            async with ws_connect(gw.url("/line")) as ws:
                got = []
                for _ in range(4):
                    got.append(await asyncio.wait_for(ws.recv(), 3))
                self.assertEqual(got, ["one", "two", "three", ""])
                for m in got:
                    self.assertIsInstance(m, str, "line default is text")
        self.run_async(run())

    def test_backend_line_too_long_is_1011(self):
        be = self.start_backend(handler_script([
            ("send", b"short\n"), ("sleep", 0.1),
            ("send", b"x" * 3000 + b"\n"), ("sleep", 5)]))
        gw = self.start_gateway([{"path": "/line", "backend": be.path,
                                  "framing": "line"}],
                                limits={"max_message_size": 1024})

        async def run():
            async with ws_connect(gw.url("/line")) as ws:
                self.assertEqual(await asyncio.wait_for(ws.recv(), 3),
                                 "short")
                with self.assertRaises(websockets.ConnectionClosed) as cm:
                    m = await asyncio.wait_for(ws.recv(), 3)
                    self.fail("over-long line delivered (%d bytes)" % len(m))
                rcvd = cm.exception.rcvd
                self.assertEqual(rcvd.code if rcvd else None, 1011)
        self.run_async(run())

    def test_echo_backend(self):
        sock = self.start_echo()
        gw = self.start_gateway([{"path": "/echo", "backend": sock,
                                  "framing": "line"}])

        async def run():
            async with ws_connect(gw.url("/echo")) as ws:
                for m in ("hello", "", "caf\u00e9 \u2603", "x" * 5000):
                    await ws.send(m)
                    self.assertEqual(await asyncio.wait_for(ws.recv(), 3), m)
        self.run_async(run())


class FrameFraming(GatewayTest):

    def test_echo_types_and_boundaries(self):
        sock = self.start_echo()
        gw = self.start_gateway([{"path": "/frame", "backend": sock,
                                  "framing": "frame"}])
        msgs = ["hello", b"\x00\x01\x02", "", b"", "\u2603" * 100,
                b"x" * 70000, "a\nb\r\n", b"\n"]

        async def run():
            async with ws_connect(gw.url("/frame")) as ws:
                for m in msgs:          # pipelined, then read back
                    await ws.send(m)
                for m in msgs:
                    got = await asyncio.wait_for(ws.recv(), 3)
                    self.assertEqual(type(got), type(m), repr(m)[:40])
                    self.assertEqual(got, m)
        self.run_async(run())

    def test_records_seen_by_backend(self):
        be = self.start_backend(handler_record)
        gw = self.start_gateway([{"path": "/frame", "backend": be.path,
                                  "framing": "frame"}])
        c = self.raw_ws(gw, "/frame")
        c.send_text("hi")
        c.send_binary(b"\x00\xff")
        c.send_text("")
        # one message in three fragments is one record
        c.send_frame(OP_TEXT, "fr", fin=False)
        c.send_frame(OP_CONT, "ag", fin=False)
        c.send_frame(OP_CONT, "ment", fin=True)
        bc = be.wait_conns(1)
        want = (frame_record(REC_TEXT, "hi") + frame_record(REC_BINARY,
                b"\x00\xff") + frame_record(REC_TEXT, b"")
                + frame_record(REC_TEXT, "fragment"))
        self.assertEqual(bc.wait_data(len(want)), want)

    def test_backend_close_record_closes_client_with_its_code(self):
        be = self.start_backend(handler_script([
            ("send", frame_record(REC_TEXT, "bye soon")),
            ("send", close_record(4321, "backend done")),
            ("sleep", 5)]))
        gw = self.start_gateway([{"path": "/frame", "backend": be.path,
                                  "framing": "frame"}])

        async def run():
            async with ws_connect(gw.url("/frame")) as ws:
                self.assertEqual(await asyncio.wait_for(ws.recv(), 3),
                                 "bye soon")
                with self.assertRaises(websockets.ConnectionClosed) as cm:
                    await asyncio.wait_for(ws.recv(), 3)
                rcvd = cm.exception.rcvd
                self.assertIsNotNone(rcvd, "no close frame received")
                self.assertEqual((rcvd.code, rcvd.reason),
                                 (4321, "backend done"))
        self.run_async(run())

    def test_client_close_reaches_backend(self):
        be = self.start_backend(handler_record)
        gw = self.start_gateway([{"path": "/frame", "backend": be.path,
                                  "framing": "frame"}])

        async def run():
            ws = await ws_connect(gw.url("/frame"))
            await ws.send("last")
            await ws.close(4002, "client leaving")
            self.assertEqual(ws.close_code, 4002,
                             "the gateway should echo the client's close code")
        self.run_async(run())
        bc = be.wait_conns(1)
        bc.eof.wait(3)
        self.assertTrue(bc.eof.is_set(), "backend socket not shut down")
        recs, rest = parse_records(bc.data)
        self.assertEqual(rest, b"")
        self.assertEqual(recs, [(REC_TEXT, b"last"),
                                (REC_CLOSE, struct.pack("!H", 4002)
                                 + b"client leaving")])

    def test_empty_client_close_is_empty_record(self):
        be = self.start_backend(handler_record)
        gw = self.start_gateway([{"path": "/frame", "backend": be.path,
                                  "framing": "frame"}])
        c = self.raw_ws(gw, "/frame")
        c.send_close()
        self.assertEqual(c.recv_close(), (None, b""),
                         "an empty close is answered with an empty close")
        bc = be.wait_conns(1)
        bc.eof.wait(3)
        self.assertEqual(bytes(bc.data), close_record(),
                         "backend should get an empty type-8 record")
        self.assertTrue(c.wait_closed(3), "TCP not closed after close")

    def test_backend_records_are_single_frames(self):
        big = bytes(range(256)) * 800          # 200 KiB
        be = self.start_backend(handler_script([
            ("send", frame_record(REC_BINARY, big)
             + frame_record(REC_TEXT, "t" * 70000)
             + frame_record(REC_BINARY, b"")), ("sleep", 5)]))
        gw = self.start_gateway([{"path": "/frame", "backend": be.path,
                                  "framing": "frame"}])
        c = self.raw_ws(gw, "/frame")
        for op, payload in ((OP_BINARY, big), (OP_TEXT, b"t" * 70000),
                            (OP_BINARY, b"")):
            fin, rsv, got_op, got = c.recv_frame()
            self.assertEqual((fin, rsv, got_op), (1, 0, op),
                             "backend messages go out as single frames")
            self.assertEqual(got, payload)

    def test_backend_record_too_big_is_1011(self):
        be = self.start_backend(handler_script([
            ("send", frame_record(REC_TEXT, "ok")),
            ("send", struct.pack("!BI", REC_BINARY, 4097) + b"x" * 4097),
            ("sleep", 5)]))
        gw = self.start_gateway([{"path": "/frame", "backend": be.path,
                                  "framing": "frame"}],
                                limits={"max_message_size": 4096})
        c = self.raw_ws(gw, "/frame")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"ok"))
        self.assertEqual(c.recv_close()[0], 1011,
                         "a backend record over max_message_size")
