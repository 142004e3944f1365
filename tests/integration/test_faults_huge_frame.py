"""Fault: frame headers announcing absurd payloads.  A header announcing
2^62 bytes is answered with close 1009 as soon as its length is read,
without allocating anything like it (the gateway's peak RSS does not
move); 2^63 (the most significant bit set, forbidden by RFC 6455 5.2)
is 1002; 2^62 in a continuation of a fragmented message is 1009 too.
Each is logged with the client's address; a healthy client is served
throughout and no descriptor is left behind."""

import struct
import time

from faultlib import FaultTest, sanitized
from harness import OP_BINARY, OP_CONT, OP_TEXT, build_frame


def header(opcode, length, fin=True):
    return struct.pack("!BBQ", (0x80 if fin else 0) | opcode, 0x80 | 127,
                       length) + b"\x01\x02\x03\x04"


class HugeFrame(FaultTest):

    def test_absurd_lengths(self):
        echo = self.start_echo()
        gw = self.start_faulty_gateway(
            [{"path": "/echo", "backend": echo, "framing": "frame"}])
        h = self.healthy(gw)
        time.sleep(0.1)
        fds0 = gw.nfds()
        hwm0 = gw.hwm_kb()
        cases = [
            ("2^62 binary", header(OP_BINARY, 1 << 62), 1009),
            ("2^62 text, payload following", header(OP_TEXT, 1 << 62)
             + b"x" * 65536, 1009),
            ("max_message_size + 1", header(OP_BINARY, (1 << 20) + 1),
             1009),
            ("2^63", header(OP_BINARY, 1 << 63), 1002),
            ("2^64 - 1", header(OP_BINARY, (1 << 64) - 1), 1002),
            ("2^62 continuation", build_frame(OP_TEXT, b"start", fin=False)
             + header(OP_CONT, 1 << 62), 1009),
        ]
        for what, data, code in cases:
            with self.subTest(what):
                c = self.raw_ws(gw, "/echo")
                t0 = time.monotonic()
                c.send(data)
                got, _ = c.recv_close(timeout=3)
                self.assertEqual(got, code)
                self.assertLess(time.monotonic() - t0, 0.5 * self.slack(gw))
                self.assertTrue(c.wait_closed(3), "TCP left open")
        self.assertLogged(gw, r"127\.0\.0\.1:\d+: client protocol error: "
                          r".*closing with 1009")
        self.assertLogged(gw, r"client protocol error: .*closing with 1002")
        hwm = gw.hwm_kb()
        print("\n    peak RSS %.1f MB before, %.1f MB after"
              % (hwm0 / 1024, hwm / 1024), end=" ")
        if not sanitized(gw.pid):
            self.assertLess(hwm - hwm0, 4096, "the gateway allocated for "
                            "an announced length")
        self.assertNoLeak(gw, fds0)
        h.check(self, max_latency=1.0 * self.slack(gw))
