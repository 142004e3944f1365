"""How a connection ends from the backend side: a clean end at a message
boundary gives the client close 1000 after what was queued; a reset, or
an end inside a frame record or an unterminated line, is a backend error:
close 1011 promptly, the partial message not delivered.  And the other
way: a client that vanishes makes the backend connection end too."""

import select
import socket
import struct
import time

from harness import (GatewayTest, OP_BINARY, OP_TEXT, REC_BINARY, REC_TEXT,
                     frame_record, handler_record, handler_script, wait_for)


class Stamp:
    """Records when a backend did its deed."""
    t = None

    def __call__(self, c):
        self.t = time.monotonic()


class BackendEnd(GatewayTest):

    def run_case(self, framing, steps, want_msgs, want_code, first=b"go"):
        stamp = Stamp()
        steps = [("recv", len(first))] + steps[:-1] + [("call", stamp),
                                                      steps[-1]]
        be = self.start_backend(handler_script(steps))
        gw = self.start_gateway([{"path": "/b", "backend": be.path,
                                  "framing": framing}])
        c = self.raw_ws(gw, "/b")
        c.send_binary(first)
        got = []
        while True:
            fin, rsv, op, p = c.recv_frame(timeout=5)
            if op == 0x8:
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
                t = time.monotonic()
                break
            got.append((op, p))
        if framing == "raw":
            # raw: one message per read, so compare the bytes
            got = [(OP_BINARY, b"".join(p for _, p in got))] if got else []
        self.assertEqual(got, want_msgs)
        self.assertEqual(code, want_code)
        # the backend thread may be scheduled after the client saw the
        # close (the gateway reacts to the bytes before the stamp is taken)
        self.assertTrue(wait_for(lambda: stamp.t is not None, 2))
        self.assertLess(t - stamp.t, 1.0, "close %d not prompt" % code)
        # the close handshake is complete: TCP ends now, not at
        # close_timeout_ms (2 s)
        c.send_close(code)
        self.assertTrue(c.wait_closed(1), "TCP still open after the close "
                        "handshake")
        self.assertFalse(c.reset, "reset instead of an orderly close")

    # a clean end at a message boundary: 1000

    def test_frame_clean_end(self):
        self.run_case("frame", [("send", frame_record(REC_TEXT, "last")),
                                ("close",)],
                      [(OP_TEXT, b"last")], 1000)

    def test_line_clean_end(self):
        self.run_case("line", [("send", b"one\ntwo\r\n"), ("close",)],
                      [(OP_TEXT, b"one"), (OP_TEXT, b"two")], 1000)

    def test_raw_clean_end(self):
        self.run_case("raw", [("send", b"bytes"), ("close",)],
                      [(OP_BINARY, b"bytes")], 1000)

    def test_queued_data_flushed_before_close(self):
        # 3 MiB queued at once, more than buffer_limit, then the end
        recs = [bytes([65 + i]) * (1 << 20) for i in range(3)]
        self.run_case("frame", [("send", b"".join(frame_record(REC_BINARY, r)
                                                  for r in recs)),
                                ("close",)],
                      [(OP_BINARY, r) for r in recs], 1000)

    # backend errors: 1011, and no partial message

    def test_frame_end_inside_record(self):
        self.run_case("frame", [("send", frame_record(REC_TEXT, "whole")
                                 + struct.pack("!BI", REC_TEXT, 100)
                                 + b"partial"), ("close",)],
                      [(OP_TEXT, b"whole")], 1011)

    def test_frame_end_inside_header(self):
        self.run_case("frame", [("send", b"\x01\x00\x00"), ("close",)],
                      [], 1011)

    def test_line_end_inside_line(self):
        self.run_case("line", [("send", b"whole\nunterminated"), ("close",)],
                      [(OP_TEXT, b"whole")], 1011)

    def test_reset_mid_stream(self):
        # the backend dies with the client's second message unread: on a
        # Unix socket that is a reset (ECONNRESET), a backend error
        stamp = Stamp()

        def dies(c, backend):
            while c.nbytes < 2:
                if not c.recv_into_record():
                    return
            c.send(b"some")
            select.select([c.sock], [], [], 5)
            stamp(c)
            c.reset()

        be = self.start_backend(dies)
        gw = self.start_gateway([{"path": "/b", "backend": be.path,
                                  "framing": "raw"}])
        c = self.raw_ws(gw, "/b")
        c.send_binary(b"go")
        self.assertEqual(c.recv_message(), (OP_BINARY, b"some"))
        c.send_binary(b"more")
        code, _ = c.recv_close(timeout=3)
        self.assertEqual(code, 1011)
        self.assertLess(time.monotonic() - stamp.t, 1.0, "close not prompt")
        c.send_close(code)
        self.assertTrue(c.wait_closed(3), "TCP still open")

    def test_raw_text_end_inside_utf8_sequence(self):
        be = self.start_backend(handler_script([
            ("recv", 2), ("send", b"ok"), ("sleep", 0.2),
            ("send", b"\xe2\x98"), ("close",)]))
        gw = self.start_gateway([{"path": "/b", "backend": be.path,
                                  "message_type": "text"}])
        c = self.raw_ws(gw, "/b")
        c.send_binary(b"go")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"ok"))
        self.assertEqual(c.recv_close()[0], 1011,
                         "backend ended inside a UTF-8 sequence")

    def test_frame_unknown_record_type(self):
        self.run_case("frame", [("send", struct.pack("!BI", 3, 1) + b"x"),
                                ("sleep", 5)], [], 1011)

    def test_backend_process_killed(self):
        # the C echo backend killed while a client streams to it
        echo = self.start_echo()
        gw = self.start_gateway([{"path": "/b", "backend": echo,
                                  "framing": "frame"}])
        c = self.raw_ws(gw, "/b")
        c.send_text("hi")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"hi"))
        self.echo_proc.kill()
        t0 = time.monotonic()
        code, _ = c.recv_close(timeout=3)
        self.assertLess(time.monotonic() - t0, 1.0, "close not prompt")
        # killed between records: an end at a message boundary (FIN), or
        # a reset if data was in flight
        self.assertIn(code, (1000, 1011))
        c.send_close(code)
        self.assertTrue(c.wait_closed(3))


class ClientEnd(GatewayTest):

    def test_client_vanishes(self):
        be = self.start_backend(handler_record)
        gw = self.start_gateway([{"path": "/b", "backend": be.path,
                                  "framing": "raw"}])
        fds0 = gw.nfds()
        for how in ("fin", "reset", "mid-frame"):
            with self.subTest(how):
                n = len(be.conns)
                c = self.raw_ws(gw, "/b")
                c.send_binary(b"data")
                bc = be.wait_conns(n + 1)
                self.assertEqual(bc.wait_data(4), b"data")
                if how == "mid-frame":
                    c.send(b"\x82\x85\0\0\0\0ab")
                if how == "reset":
                    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      struct.pack("ii", 1, 0))
                t0 = time.monotonic()
                c.close()
                self.assertTrue(bc.eof.wait(2),
                                "backend connection not ended")
                self.assertLess(time.monotonic() - t0, 1.0)
                self.assertTrue(bytes(bc.data).startswith(b"data"))
        self.assertTrue(wait_for(lambda: gw.nfds() <= fds0, 3),
                        "descriptors leaked: %s, %s before"
                        % (gw.nfds(), fds0))
