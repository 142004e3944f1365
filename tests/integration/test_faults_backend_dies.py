"""Fault: the backend dies in the middle of things.

- mid-stream: it dies while the client's data is still unread in its
  socket (on a Unix socket that is the peer's ECONNRESET, the nearest
  thing to a TCP reset), or it is SIGKILLed with data in flight;
- mid-message: it ends inside a frame record (frame framing) or inside a
  line (line framing), after sending a complete message first.

The client gets close 1011 promptly (well under a second), the complete
message before it is delivered, nothing of the partial one is, the
gateway logs the backend's path, a healthy client is served throughout
and no descriptor is left behind."""

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

from faultlib import FaultTest
from harness import (OP_BINARY, OP_CLOSE, OP_TEXT, REC_BINARY, REC_TEXT,
                     frame_record)

PROMPT = 1.0


class BackendDies(FaultTest):

    def expect_1011(self, c, want_msgs, t_death):
        """Read until the close: the messages, then 1011, promptly."""
        got = []
        while True:
            fin, rsv, op, p = c.recv_frame(timeout=5)
            if op == OP_CLOSE:
                t = time.monotonic()
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
                break
            got.append((op, p))
        self.assertEqual(got, want_msgs, "partial message passed on")
        self.assertEqual(code, 1011)
        self.assertLess(t - t_death(), PROMPT * self.slack(self.gw),
                        "close 1011 not prompt")
        c.send_close(1011)
        self.assertTrue(c.wait_closed(3), "TCP still open after the close")

    def test_mid_message_and_mid_stream(self):
        deaths = {}

        def dies_mid_record(c, backend):
            # a whole record, then a header announcing 1000 bytes and 10
            # of them, then the end of the process's socket
            c.recv_into_record()
            c.send(frame_record(REC_TEXT, "whole")
                   + struct.pack("!BI", REC_BINARY, 1000) + b"0123456789")
            time.sleep(0.2)
            deaths[c] = time.monotonic()
            c.kill()

        def dies_mid_line(c, backend):
            c.recv_into_record()
            c.send(b"whole line\npartial li")
            time.sleep(0.2)
            deaths[c] = time.monotonic()
            c.kill()

        def dies_with_unread_data(c, backend):
            # reads the first message, answers it, then dies with the
            # client's second message unread: ECONNRESET at the gateway
            c.recv_into_record()
            c.send(b"answer\n")
            select.select([c.sock], [], [], 5)
            deaths[c] = time.monotonic()
            c.reset()

        rec = self.start_backend(dies_mid_record, "rec.sock")
        line = self.start_backend(dies_mid_line, "line.sock")
        rst = self.start_backend(dies_with_unread_data, "rst.sock")
        self.gw = gw = self.start_faulty_gateway([
            {"path": "/rec", "backend": rec.path, "framing": "frame"},
            {"path": "/line", "backend": line.path, "framing": "line"},
            {"path": "/rst", "backend": rst.path, "framing": "line"},
        ])
        h = self.healthy(gw)
        time.sleep(0.1)
        fds0 = gw.nfds()

        for i in range(3):
            c = self.raw_ws(gw, "/rec")
            c.send_binary(b"go")
            bc = rec.wait_conns(i + 1)
            self.expect_1011(c, [(OP_TEXT, b"whole")],
                             lambda: deaths[bc])

            c = self.raw_ws(gw, "/line")
            c.send_text("go")
            bc = line.wait_conns(i + 1)
            self.expect_1011(c, [(OP_TEXT, b"whole line")],
                             lambda: deaths[bc])

            c = self.raw_ws(gw, "/rst")
            c.send_text("first")
            self.assertEqual(c.recv_message(), (OP_TEXT, b"answer"))
            c.send_text("second, never read")
            bc = rst.wait_conns(i + 1)
            self.expect_1011(c, [], lambda: deaths[bc])

        self.assertLogged(gw, r"backend %s ended in the middle of a message"
                          % rec.path)
        self.assertLogged(gw, r"backend %s ended in the middle of a message"
                          % line.path)
        self.assertLogged(gw, r"backend %s: .*reset" % rst.path)
        self.assertNoLeak(gw, fds0)
        h.check(self, max_latency=1.0 * self.slack(gw))

    def test_backend_process_killed_while_streaming(self):
        # the C echo backend SIGKILLed while a client streams through it
        # in frame mode: the client sees 1011 (data in flight: a reset or
        # a cut record) or 1000 (killed exactly between records), never a
        # hang, and never a truncated message
        echo = self.start_echo("victim.sock")
        victim = self.echo_proc
        self.gw = gw = self.start_faulty_gateway([
            {"path": "/v", "backend": echo, "framing": "frame"}])
        h = self.healthy(gw)
        time.sleep(0.1)
        fds0 = gw.nfds()
        c = self.raw_ws(gw, "/v")
        payload = os.urandom(200000)
        for _ in range(20):
            c.send_binary(payload)
        victim.send_signal(signal.SIGKILL)
        t_kill = time.monotonic()
        code = None
        while True:
            fin, rsv, op, p = c.recv_frame(timeout=5)
            if op == OP_CLOSE:
                code = struct.unpack("!H", p[:2])[0]
                break
            self.assertEqual((op, p), (OP_BINARY, payload),
                             "a message was cut short")
        self.assertIn(code, (1000, 1011))
        self.assertLess(time.monotonic() - t_kill, PROMPT * self.slack(gw))
        c.send_close(code)
        self.assertTrue(c.wait_closed(3))
        self.assertNoLeak(gw, fds0)
        h.check(self, max_latency=1.0 * self.slack(gw))
