"""RFC 6455 framing rules, checked with hand-made frames a client library
would refuse to send: masking, reserved bits and opcodes, control frame
rules, fragmentation, length encodings, UTF-8 (1007), max_message_size
(1009), ping/pong, and the close handshake."""

import struct
import time

from harness import (GatewayTest, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING,
                     OP_PONG, OP_TEXT, build_frame, handler_record)

LIMIT = 1024


class Protocol(GatewayTest):

    def setUp(self):
        super().setUp()
        self.echo = self.start_echo()
        self.rec = self.start_backend(handler_record)
        self.gw = self.start_gateway([
            {"path": "/frame", "backend": self.echo, "framing": "frame"},
            {"path": "/rec", "backend": self.rec.path, "framing": "raw"},
        ], limits={"max_message_size": LIMIT})

    def client(self, path="/frame"):
        return self.raw_ws(self.gw, path)

    def expect_close(self, c, codes, within=2.0, what=""):
        """The gateway fails the connection: a close frame with one of
        codes, promptly, then the TCP connection ends."""
        if isinstance(codes, int):
            codes = (codes,)
        t0 = time.monotonic()
        try:
            code, reason = c.recv_close(timeout=within + 1)
        except Exception as e:
            self.fail("%s: expected close %s, got %r" % (what, codes, e))
        self.assertIn(code, codes, "%s: close code (reason %r)"
                      % (what, reason))
        self.assertLess(time.monotonic() - t0, within,
                        "%s: close %s came late" % (what, code))
        try:
            c.send_close(code)
        except OSError:
            pass
        self.assertTrue(c.wait_closed(3), "%s: TCP still open after close"
                        % what)

    def test_protocol_errors_1002(self):
        cases = {
            "unmasked frame": build_frame(OP_TEXT, "hi", mask=False),
            "RSV1": build_frame(OP_TEXT, "hi", rsv=4),
            "RSV2": build_frame(OP_BINARY, "hi", rsv=2),
            "RSV3 on ping": build_frame(OP_PING, "", rsv=1),
            "opcode 3": build_frame(3, "x"),
            "opcode 0xB": build_frame(0xB, "x"),
            "fragmented ping": build_frame(OP_PING, "p", fin=False),
            "ping over 125": build_frame(OP_PING, b"p" * 126),
            "close over 125": build_frame(OP_CLOSE, struct.pack("!H", 1000)
                                          + b"r" * 124),
            "continuation without start": build_frame(OP_CONT, "x"),
            "data frame inside a message":
                build_frame(OP_TEXT, "a", fin=False)
                + build_frame(OP_TEXT, "b"),
            "binary inside a text message":
                build_frame(OP_TEXT, "a", fin=False)
                + build_frame(OP_BINARY, "b"),
            "16-bit length for 5 bytes":
                build_frame(OP_TEXT, "hello", length_form=16),
            "64-bit length for 200 bytes":
                build_frame(OP_BINARY, b"b" * 200, length_form=64),
            "1-byte close payload": build_frame(OP_CLOSE, b"\x03"),
        }
        for what, data in cases.items():
            with self.subTest(what):
                c = self.client()
                c.send(data)
                self.expect_close(c, 1002, what=what)
                c.close()

    def test_invalid_close_codes_1002(self):
        for code in (0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535):
            with self.subTest(code=code):
                c = self.client()
                c.send_close(code, "x")
                self.expect_close(c, 1002, what="close code %d" % code)
                c.close()

    def test_64bit_length_with_top_bit(self):
        c = self.client()
        c.send(bytes([0x82, 0xFF]) + struct.pack("!Q", 1 << 63)
               + b"\0\0\0\0")
        self.expect_close(c, (1002, 1009), what="length 2^63")

    def test_invalid_utf8_1007(self):
        cases = {
            "0xff": [(OP_TEXT, b"ab\xffcd", True)],
            "overlong": [(OP_TEXT, b"\xc0\x80", True)],
            "surrogate": [(OP_TEXT, b"\xed\xa0\x80", True)],
            "over U+10FFFF": [(OP_TEXT, b"\xf4\x90\x80\x80", True)],
            "truncated at end": [(OP_TEXT, b"ok\xe2\x98", True)],
            "truncated across fragments": [(OP_TEXT, b"ok\xe2", False),
                                           (OP_CONT, b"\x98", True)],
            "bad in second fragment": [(OP_TEXT, b"ok", False),
                                       (OP_CONT, b"\x80", True)],
        }
        for what, frames in cases.items():
            with self.subTest(what):
                c = self.client()
                for op, p, fin in frames:
                    c.send_frame(op, p, fin=fin)
                self.expect_close(c, 1007, what=what)
                c.close()

    def test_invalid_utf8_fails_fast(self):
        # the message is never finished: the bad byte alone must fail it
        c = self.client()
        c.send_frame(OP_TEXT, b"fine so far \xff", fin=False)
        self.expect_close(c, 1007, within=1.0, what="unfinished bad text")

    def test_valid_utf8_split_across_fragments(self):
        c = self.client()
        snow = "\u2603".encode()
        c.send_frame(OP_TEXT, b"a" + snow[:1], fin=False)
        c.send_frame(OP_CONT, snow[1:2], fin=False)
        c.send_frame(OP_CONT, b"", fin=False)
        c.send_frame(OP_CONT, snow[2:] + b"b", fin=True)
        self.assertEqual(c.recv_message(), (OP_TEXT, b"a" + snow + b"b"))
        # and binary is not UTF-8 checked
        c.send_binary(b"\xff\xfe")
        self.assertEqual(c.recv_message(), (OP_BINARY, b"\xff\xfe"))

    def test_frames_cut_across_reads(self):
        # Each piece arrives in a read of its own: a message, a frame
        # header and a control frame left open between reads must carry
        # on where they stopped (the relay keeps decoder state and the
        # message only while they are open).
        c = self.client()
        text = "h\u00e9llo w\u00f6rld ".encode() * 20
        stream = (build_frame(OP_TEXT, text[:5], fin=False)
                  + build_frame(OP_PING, b"ping!")
                  + build_frame(OP_CONT, text[5:6], fin=False)
                  + build_frame(OP_CONT, text[6:100], fin=False)
                  + build_frame(OP_CONT, text[100:])
                  + build_frame(OP_BINARY, b"\x00" * 300))
        prev = 0
        for cut in (1, 3, 7, 12, 15, 20, 24, 30, 31, 40, 60,
                    len(stream) - 200, len(stream) - 1, len(stream)):
            c.send(stream[prev:cut])
            prev = cut
            time.sleep(0.03)
        self.assertEqual(c.recv_frame()[2:], (OP_PONG, b"ping!"))
        self.assertEqual(c.recv_message(), (OP_TEXT, text))
        self.assertEqual(c.recv_message(), (OP_BINARY, b"\x00" * 300))
        # byte by byte
        c.send_slowly(build_frame(OP_TEXT, "\u2603 ok".encode()), 0.005)
        self.assertEqual(c.recv_message(), (OP_TEXT, "\u2603 ok".encode()))

    def test_too_big_1009(self):
        cases = {
            "one frame": build_frame(OP_BINARY, b"x" * (LIMIT + 1)),
            "fragments": build_frame(OP_BINARY, b"x" * 600, fin=False)
                + build_frame(OP_CONT, b"x" * 600),
            "text": build_frame(OP_TEXT, b"t" * (LIMIT + 1)),
            # only the header of a huge frame: no need to wait for it
            "announced 2^40": bytes([0x82, 0xFF]) + struct.pack("!Q", 1 << 40)
                + b"\0\0\0\0",
        }
        for what, data in cases.items():
            with self.subTest(what):
                c = self.client()
                c.send(data)
                self.expect_close(c, 1009, within=1.0, what=what)
                c.close()

    def test_many_fragments(self):
        c = self.client()
        c.send_frame(OP_BINARY, b"", fin=False)
        data = bytes(range(256)) * 4        # 1 KiB, the limit
        c.send(b"".join(build_frame(OP_CONT, data[i:i + 1], fin=False)
                        for i in range(len(data) - 1)))
        c.send_frame(OP_CONT, data[-1:], fin=True)
        self.assertEqual(c.recv_message(), (OP_BINARY, data))

    def test_ping_pong(self):
        c = self.client()
        for p in (b"", b"abc", b"p" * 125):
            c.send_frame(OP_PING, p)
            fin, rsv, op, payload = c.recv_frame()
            self.assertEqual((fin, op, payload), (1, OP_PONG, p))
        # an unsolicited pong is ignored
        c.send_frame(OP_PONG, b"unasked")
        c.send_text("still here")
        self.assertEqual(c.recv_message(answer_pings=False),
                         (OP_TEXT, b"still here"))

    def test_ping_between_fragments(self):
        c = self.client()
        c.send_frame(OP_TEXT, "Hel", fin=False)
        c.send_frame(OP_PING, "mid")
        fin, rsv, op, payload = c.recv_frame()
        self.assertEqual((op, payload), (OP_PONG, b"mid"),
                         "ping inside a fragmented message not answered")
        c.send_frame(OP_CONT, "lo", fin=False)
        c.send_frame(OP_PONG, "")
        c.send_frame(OP_CONT, ", world", fin=True)
        self.assertEqual(c.recv_message(answer_pings=False),
                         (OP_TEXT, b"Hello, world"))

    def test_control_frames_not_forwarded(self):
        c = self.client("/rec")
        c.send_frame(OP_PING, "ping")
        c.recv_frame()
        c.send_frame(OP_PONG, "pong")
        c.send_binary(b"A")
        c.send_frame(OP_BINARY, b"B", fin=False)
        c.send_frame(OP_PING, "x")
        c.send_frame(OP_CONT, b"C", fin=True)
        bc = self.rec.wait_conns(1)
        self.assertEqual(bc.wait_data(3), b"ABC")
        c.send_close(1000)
        self.assertEqual(c.recv_close()[0], 1000)
        bc.eof.wait(3)
        self.assertEqual(bytes(bc.data), b"ABC",
                         "control frames leaked to the backend")

    def test_close_echoed(self):
        for code, reason in ((1000, b""), (1001, b"going"), (3000, b"lib"),
                             (4999, "r\u00e9ason".encode()), (None, b"")):
            with self.subTest(code=code):
                c = self.client()
                c.send_text("before")
                c.send_close(code, reason)
                # the echo of "before" may come first; then the close
                got, _ = c.recv_close()
                self.assertEqual(got, code, "close not echoed")
                try:
                    rest = c.read_all(timeout=3)
                except Exception:
                    self.fail("TCP not closed after the close handshake")
                self.assertEqual(rest, b"", "bytes after the close frame")
                self.assertFalse(c.reset, "connection reset instead of "
                                 "an orderly close")
                c.close()

    def test_close_reason_not_utf8(self):
        c = self.client()
        c.send_close(1000, b"\xff")
        self.expect_close(c, (1002, 1007), what="close reason not UTF-8")

    def test_nothing_after_close_is_processed(self):
        c = self.client("/rec")
        c.send_binary(b"kept")
        c.send_close(1000)
        try:
            c.send_binary(b"dropped")
        except OSError:
            pass
        self.assertEqual(c.recv_close()[0], 1000)
        bc = self.rec.wait_conns(1)
        bc.eof.wait(3)
        self.assertEqual(bytes(bc.data), b"kept")

    def test_silent_peer_dropped_after_close_timeout(self):
        # the gateway fails the connection and the client never answers
        # its close frame: dropped within close_timeout_ms (2 s here)
        c = self.client()
        c.send(build_frame(OP_TEXT, "x", mask=False))
        t0 = time.monotonic()
        self.assertEqual(c.recv_close()[0], 1002)
        self.assertTrue(c.wait_closed(3.5), "TCP still open after "
                        "close_timeout_ms")
        self.assertLess(time.monotonic() - t0, 3.0)
