"""Fault: random and mangled bytes after a valid handshake.  Each stream
(pure noise, or frames built mostly right and then mangled) is run
through faultlib.ws_reference(), a small reference decoder of the RFC
6455 rules, to find the first violation; the gateway must answer with a
close frame carrying exactly that code (1002, 1007 or 1009), or echo the
client's close if the stream holds a valid one first, then close the
TCP connection.  Messages it passes on before that must be whole and in
order.  A healthy client is served throughout; nothing leaks.

The seed is printed; FAULT_SEED=N reproduces a run."""

import os
import random
import struct
import time

from faultlib import FaultTest, ws_reference
from harness import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG,
                     OP_TEXT, Closed, build_frame)

TRIALS = int(os.environ.get("FAULT_TRIALS", 1000))
MAX_MESSAGE = 4096

TEXTS = ["", "hello", "κόσμε", "𝄞", "\u07ff\u0800\uffff", "x" * 200]
BAD_UTF8 = [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
            b"\xce", b"ok\xe2\x82"]
CODES = [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1011, 1012,
         1015, 2999, 3000, 4999, 5000, 0, 65535]


def random_frame(rng):
    op = rng.choice([OP_TEXT] * 4 + [OP_BINARY] * 3 + [OP_CONT] * 3 +
                    [OP_CLOSE] * 2 + [OP_PING] * 2 + [OP_PONG, 3, 0xB])
    fin = rng.random() < 0.85
    rsv = rng.choice([0] * 30 + [1, 2, 4])
    mask = rng.random() < 0.95
    if op == OP_CLOSE:
        r = rng.random()
        if r < 0.1:
            payload = b""
        elif r < 0.2:
            payload = b"\x03"
        else:
            reason = rng.choice(TEXTS[:4]).encode() if rng.random() < 0.8 \
                else rng.choice(BAD_UTF8)
            payload = struct.pack("!H", rng.choice(CODES)) + reason
    elif op == OP_TEXT or (op == OP_CONT and rng.random() < 0.5):
        payload = rng.choice(TEXTS).encode() if rng.random() < 0.8 \
            else rng.choice(BAD_UTF8)
    elif rng.random() < 0.1:
        payload = os.urandom(rng.choice([126, 300, MAX_MESSAGE + 1]))
    else:
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
    form = None
    r = rng.random()
    if r < 0.05:
        form = 16
    elif r < 0.1:
        form = 64
    frame = build_frame(op, payload, fin=fin, rsv=rsv, mask=mask,
                        mask_key=bytes(rng.getrandbits(8) for _ in range(4)),
                        length_form=form)
    if rng.random() < 0.03:
        # announce more than max_message_size, or 2^63
        frame = bytes([frame[0], 0xFF]) + struct.pack(
            "!Q", rng.choice([MAX_MESSAGE + 1, 1 << 62, 1 << 63])) + \
            b"\1\2\3\4"
    return frame


def random_stream(rng):
    if rng.random() < 0.2:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    data = bytearray(b"".join(random_frame(rng)
                              for _ in range(rng.randint(1, 6))))
    for _ in range(rng.choice([0, 0, 1, 2])):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    if rng.random() < 0.5:
        data += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 32)))
    return bytes(data)


class RandomBytes(FaultTest):

    def test_first_violation_decides_the_code(self):
        seed = int(os.environ.get("FAULT_SEED", random.randrange(1 << 30)))
        print("\n    FAULT_SEED=%d" % seed, end=" ")
        rng = random.Random(seed)
        echo = self.start_echo()
        gw = self.start_faulty_gateway(
            [{"path": "/echo", "backend": echo, "framing": "frame"}],
            limits={"max_message_size": MAX_MESSAGE})
        h = self.healthy(gw)
        time.sleep(0.1)
        fds0 = gw.nfds()
        tally = {}
        done = 0
        while done < TRIALS:
            data = random_stream(rng)
            (what, code), msgs = ws_reference(data, MAX_MESSAGE)
            if what == "open":
                continue        # no verdict before the bytes ran out
            done += 1
            tally[(what, code)] = tally.get((what, code), 0) + 1
            c = self.raw_ws(gw, "/echo")
            c.send(data)
            got = []
            try:
                while True:
                    fin, rsv, op, p = c.recv_frame(timeout=3)
                    if op == OP_CLOSE:
                        break
                    if op in (OP_TEXT, OP_BINARY):
                        got.append((op, p))
            except Closed:
                self.fail("no close frame for %r (expected %s %s)"
                          % (data, what, code))
            gcode = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
            self.assertEqual(gcode, code, "stream %r: expected %s %s, got "
                             "close %s" % (data, what, code, gcode))
            self.assertEqual(got, msgs[:len(got)],
                             "stream %r: messages passed on wrong" % data)
            if what == "close":
                pass            # our close was answered: done
            else:
                c.send_close(gcode)
            self.assertTrue(c.wait_closed(3), "TCP left open after %r"
                            % data)
            c.close()
        print("verdicts: %s" % ", ".join(
            "%s %s: %d" % (w, c, n) for (w, c), n in
            sorted(tally.items(), key=lambda kv: -kv[1])), end=" ")
        self.assertTrue({1002, 1007, 1009} <=
                        {c for (w, c) in tally if w == "fail"},
                        "the streams did not reach every kind of violation")
        self.assertNoLeak(gw, fds0)
        h.check(self, max_latency=1.0 * self.slack(gw))
