"""wsbench against wsgated, briefly, in each mode: the figures it prints
are sane and error-free; and it refuses to print figures when an echo
comes back corrupted or a connection is dropped."""

import json
import os
import subprocess
import threading
import time

from harness import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG,
                     OP_TEXT, GatewayTest, RawClient, free_port,
                     stop_process, tail, upgrade_request, wait_port,
                     wait_unix)
from harness import build_frame as build

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
WSBENCH = os.environ.get("WSBENCH", os.path.join(ROOT, "bench", "wsbench"))
BENCH_BACKEND = os.environ.get("BENCH_BACKEND",
                               os.path.join(ROOT, "bench", "bench-backend"))
WS_ECHO = os.environ.get("WS_ECHO", os.path.join(ROOT, "bench", "ws-echo"))

REC_HDR = 5


class Wsbench(GatewayTest):

    def setUp(self):
        super().setUp()
        for f in (WSBENCH, BENCH_BACKEND):
            if not os.access(f, os.X_OK):
                self.fail("%s is not built" % f)

    def start_bench_backend(self, mode="echo", name="bench.sock"):
        sock = self.path(name)
        log = open(self.path(name + ".log"), "wb")
        self.addCleanup(log.close)
        p = subprocess.Popen([BENCH_BACKEND, "-m", mode, sock],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.addCleanup(stop_process, p, 3.0)
        if not wait_unix(sock, 5.0, p):
            self.fail("bench-backend did not start:\n%s"
                      % tail(self.path(name + ".log")))
        return sock

    def wsbench(self, url, *args, timeout=30):
        """Run wsbench --json; (exit status, its last JSON line, stderr)."""
        argv = [WSBENCH, "--json", "-t", "0.6", "-w", "0.2"] + \
            list(args) + [url]
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout)
        lines = p.stdout.strip().splitlines()
        res = json.loads(lines[-1]) if lines else None
        return p.returncode, res, p.stderr

    def assertFigures(self, rc, res, err, key="msgs_per_sec"):
        self.assertEqual(rc, 0, "wsbench failed: %r %s" % (res, err))
        self.assertTrue(res["ok"])
        self.assertGreater(res["messages"], 0)
        self.assertGreater(res[key], 0)
        # the rate is the count over the measured time
        self.assertAlmostEqual(res[key], res["messages"] / res["seconds"],
                               delta=res[key] * 0.01 + 1)
        self.assertAlmostEqual(res["mb_per_sec"],
                               res["messages"] * res["size"] / 1e6 /
                               res["seconds"] if key == "msgs_per_sec"
                               else 0, delta=0.01 + res["mb_per_sec"] * 0.01)
        self.assertEqual(res["unclean_close"], 0)
        self.assertNotIn("NO FIGURES", err)
        lat = res.get("latency_us")
        if lat is not None:
            seq = [lat["p50"], lat["p90"], lat["p99"], lat["p99.9"],
                   lat["max"]]
            self.assertEqual(seq, sorted(seq), "percentiles out of order")
            self.assertGreater(lat["p50"], 0)
            self.assertLessEqual(lat["mean"], lat["max"])
            # a round trip on loopback: above 1 µs, well below 10 s
            self.assertLess(lat["max"], 10e6)

    def assertRefused(self, rc, res, err, counter):
        self.assertEqual(rc, 1, "wsbench did not refuse: %r %s" % (res, err))
        self.assertFalse(res["ok"])
        self.assertGreater(res["errors"][counter], 0, res)
        for figure in ("msgs_per_sec", "mb_per_sec", "handshakes_per_sec",
                       "latency_us"):
            self.assertNotIn(figure, res)
        self.assertIn("NO FIGURES", err)

    def routes(self, echo, flood=None):
        r = [{"path": "/frame", "backend": echo, "framing": "frame"},
             {"path": "/raw", "backend": echo, "framing": "raw"},
             {"path": "/line", "backend": echo, "framing": "line"},
             {"path": "/proto", "subprotocols": [
                 {"name": "bench.v1", "backend": echo, "framing": "frame"}]}]
        if flood:
            r.append({"path": "/flood", "backend": flood,
                      "framing": "frame"})
        return r

    def test_echo(self):
        gw = self.start_gateway(self.routes(self.start_bench_backend()))
        for path, args in (("/frame", ("-c", "4")),
                           ("/frame", ("-c", "2", "-s", "16k", "--text")),
                           ("/line", ("-c", "2", "--text")),
                           ("/raw", ("-c", "2", "-s", "100k", "--split")),
                           ("/proto", ("-c", "2", "-p", "bench.v1"))):
            with self.subTest(path=path, args=args):
                rc, res, err = self.wsbench(gw.url(path), *args)
                self.assertFigures(rc, res, err)
                self.assertEqual(res["mode"], "echo")
                self.assertEqual(res["type"],
                                 "text" if "--text" in args else "binary")

    def test_connect(self):
        gw = self.start_gateway(self.routes(self.start_bench_backend()))
        rc, res, err = self.wsbench(gw.url("/frame"), "-m", "connect",
                                    "-c", "4")
        self.assertFigures(rc, res, err, key="handshakes_per_sec")
        self.assertEqual(res["latency"], "cycle")

    def test_idle(self):
        gw = self.start_gateway(self.routes(self.start_bench_backend()))
        p = subprocess.Popen([WSBENCH, "--json", "-m", "idle", "-c", "50",
                              "-t", "0", gw.url("/frame")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        self.addCleanup(stop_process, p, 5.0)
        ready = json.loads(p.stdout.readline())
        self.assertEqual(ready["event"], "ready")
        self.assertEqual(ready["connections"], 50)
        # held until told to stop
        time.sleep(0.3)
        self.assertIsNone(p.poll())
        p.terminate()
        out, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 0, err)
        res = json.loads(out.strip().splitlines()[-1])
        self.assertTrue(res["ok"])
        self.assertEqual(res["connections"], 50)
        self.assertEqual(res["unclean_close"], 0)

    def test_flood(self):
        gw = self.start_gateway(self.routes(
            self.start_bench_backend(),
            self.start_bench_backend("flood", "flood.sock")))
        for args in ((), ("--down",)):
            with self.subTest(args=args):
                rc, res, err = self.wsbench(gw.url("/flood"), "-m", "flood",
                                            "-c", "2", "-s", "4k", *args)
                self.assertFigures(rc, res, err)
                self.assertEqual(res["direction"],
                                 "down" if args else "up")

    def test_refuses_corrupted_echo(self):
        """A frame-mode echo that changes one payload byte of one message
        on one connection: no figures, exit 1, the corruption counted."""
        state = {"done": False}
        lock = threading.Lock()
        # message 20 of 32 bytes (5-byte record header each), byte 10
        where = 20 * (REC_HDR + 32) + REC_HDR + 10

        def handler(c, backend):
            seen = 0
            while True:
                b = c.recv_into_record(keep=False)
                if not b:
                    break
                if seen <= where < seen + len(b):
                    with lock:
                        if not state["done"]:
                            state["done"] = True
                            b = bytearray(b)
                            b[where - seen] ^= 0x01
                            b = bytes(b)
                seen += len(b)
                c.send(b)
        backend = self.start_backend(handler)
        gw = self.start_gateway([{"path": "/frame", "backend": backend.path,
                                  "framing": "frame"}])
        rc, res, err = self.wsbench(gw.url("/frame"), "-c", "2",
                                    "-t", "1.0")
        self.assertTrue(state["done"], "the backend corrupted nothing")
        self.assertRefused(rc, res, err, "corrupt")
        self.assertEqual(res["errors"]["corrupt"], 1)
        self.assertIn("payload differs", res["error"])

    def test_refuses_dropped_connection(self):
        """A backend that hangs up on one connection mid-run."""
        def handler(c, backend):
            seen = 0
            while True:
                b = c.recv_into_record(keep=False)
                if not b:
                    break
                seen += len(b)
                if seen > 50 * (REC_HDR + 32) and \
                        backend.conns and c is backend.conns[0]:
                    return      # the harness closes the socket
                c.send(b)
        backend = self.start_backend(handler)
        gw = self.start_gateway([{"path": "/frame", "backend": backend.path,
                                  "framing": "frame"}])
        rc, res, err = self.wsbench(gw.url("/frame"), "-c", "2",
                                    "-t", "1.0")
        self.assertRefused(rc, res, err, "dropped")

    def test_refuses_wrong_subprotocol(self):
        gw = self.start_gateway(self.routes(self.start_bench_backend()))
        rc, res, err = self.wsbench(gw.url("/proto"), "-c", "2",
                                    "-p", "other")
        self.assertRefused(rc, res, err, "failed")
        self.assertIn("400", res["error"])


class WsEcho(GatewayTest):
    """bench/ws-echo, make bench's direct anchor and nginx's backend:
    wsbench's checked echo through it, and its answers to fragments,
    control frames and protocol errors."""

    def start_ws_echo(self, *args):
        if not os.access(WS_ECHO, os.X_OK):
            self.fail("%s is not built" % WS_ECHO)
        log = open(self.path("ws-echo.log"), "wb")
        self.addCleanup(log.close)
        p = subprocess.Popen([WS_ECHO] + list(args), stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log)
        self.addCleanup(stop_process, p, 3.0)
        return p

    def start_tcp(self):
        port = free_port()
        p = self.start_ws_echo("-p", str(port))
        if not wait_port("127.0.0.1", port, 5.0, p):
            self.fail("ws-echo did not start:\n%s"
                      % tail(self.path("ws-echo.log")))
        return port

    def test_wsbench(self):
        url = "ws://127.0.0.1:%d/" % self.start_tcp()
        for args in (("-c", "4"), ("-c", "2", "-s", "100k", "--text"),
                     ("-m", "connect", "-c", "4")):
            with self.subTest(args=args):
                argv = [WSBENCH, "--json", "-q", "-t", "0.5", "-w", "0.1"] + \
                    list(args) + [url]
                p = subprocess.run(argv, capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                res = json.loads(p.stdout.strip().splitlines()[-1])
                self.assertTrue(res["ok"])
                self.assertGreater(res["messages"], 0)

    def test_frames(self):
        port = self.start_tcp()
        c = RawClient(port)
        self.addCleanup(c.close)
        c.handshake("/")
        # a fragmented message with a ping between its fragments, sent a
        # byte at a time: echoed fragment by fragment, the ping answered
        c.send_slowly(build(OP_TEXT, b"frag", fin=False) +
                      build(OP_PING, b"hi") +
                      build(OP_CONT, b"ment", fin=False) +
                      build(OP_CONT, b"!" * 300) +
                      build(OP_PONG, b"dropped") +
                      build(OP_BINARY, b"x" * 70000))
        self.assertEqual(c.recv_frame(), (0, 0, OP_TEXT, b"frag"))
        self.assertEqual(c.recv_frame(), (1, 0, OP_PONG, b"hi"))
        self.assertEqual(c.recv_frame(), (0, 0, OP_CONT, b"ment"))
        self.assertEqual(c.recv_frame(), (1, 0, OP_CONT, b"!" * 300))
        self.assertEqual(c.recv_frame(), (1, 0, OP_BINARY, b"x" * 70000))
        # close: echoed, then the server closes the TCP connection
        c.send_close(1000, b"bye")
        self.assertEqual(c.recv_frame(),
                         (1, 0, OP_CLOSE, b"\x03\xe8bye"))
        self.assertTrue(c.wait_closed())

    def test_protocol_errors(self):
        port = self.start_tcp()
        for name, data in (
                ("unmasked", build(OP_BINARY, b"abc", mask=False)),
                ("reserved bit", build(OP_BINARY, b"abc", rsv=4)),
                ("continuation outside a message", build(OP_CONT, b"a")),
                ("data inside a message",
                 build(OP_TEXT, b"a", fin=False) + build(OP_TEXT, b"b")),
                ("long ping", build(OP_PING, b"p" * 126)),
                ("fragmented ping", build(OP_PING, b"p", fin=False)),
                ("unknown opcode", build(3, b""))):
            with self.subTest(name=name):
                c = RawClient(port)
                self.addCleanup(c.close)
                c.handshake("/")
                c.send(data)
                self.assertEqual(c.recv_close(), (1002, b""))
                self.assertTrue(c.wait_closed())
        # no Sec-WebSocket-Key
        c = RawClient(port)
        self.addCleanup(c.close)
        c.send(upgrade_request("/", key=False))
        self.assertEqual(c.read_response().status, 400)
        self.assertTrue(c.wait_closed())
