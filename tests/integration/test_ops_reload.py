"""Reload (SIGHUP) without dropping anyone: clients echoing continuously
through 20 reloads lose no message and no connection; new connections use
the new routes while old ones keep going; listeners added and removed by
a reload are opened and closed; an invalid config is refused with FILE:LINE
and the old one stays in force."""

import os
import signal
import socket
import tempfile
import threading
import time

from harness import GatewayTest, RawClient, free_port, libconfig, wait_for, \
    wait_port, wait_unix
from ops import echo_once

NCLIENTS = 8
NRELOADS = 20


class Reload(GatewayTest):

    def setUp(self):
        super().setUp()
        self.echo = self.start_echo()

    def routes(self, extra=None):
        r = [{"path": "/echo", "backend": self.echo, "framing": "frame"}]
        if extra:
            r.append({"path": extra, "backend": self.echo,
                      "framing": "frame"})
        return r

    def rewrite(self, gw, conf):
        with open(gw.conf_path, "w") as f:
            f.write(conf if isinstance(conf, str) else libconfig(conf))

    def reload(self, gw, n_before):
        """SIGHUP and wait for the outcome line number n_before + 1."""
        # the port accepts before the signal handlers are in place
        self.assertTrue(wait_for(lambda: " started: " in gw.log(), 5.0))
        gw.signal(signal.SIGHUP)
        ok = wait_for(lambda: gw.log().count("reloading ") > n_before and
                      ("configuration reloaded" in gw.log().split(
                          "reloading ")[-1] or "reload failed" in
                       gw.log().split("reloading ")[-1]), 5.0)
        self.assertTrue(ok, "no reload outcome in the log:\n%s"
                        % gw.log_tail())

    def test_20_reloads_under_load(self):
        port = free_port()
        conf = self.make_config(self.routes(), workers=2, port=port)
        gw = self.start_gateway(conf=conf, port=port)
        stop = threading.Event()
        counts = [0] * NCLIENTS
        errors = []

        def client(i):
            try:
                c = RawClient(port)
                c.handshake("/echo")
                n = 0
                while not stop.is_set():
                    echo_once(c, n, "c%d" % i)
                    n += 1
                    counts[i] = n
                echo_once(c, n, "c%d-last" % i)   # still open after all
                c.send_close(1000)
                if c.recv_close()[0] != 1000:
                    errors.append("client %d: bad close" % i)
                c.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append("client %d after %d messages: %r"
                              % (i, counts[i], e))

        threads = [threading.Thread(target=client, args=(i,))
                   for i in range(NCLIENTS)]
        for t in threads:
            t.start()
        try:
            self.assertTrue(wait_for(lambda: min(counts) > 0, 5.0))
            for k in range(NRELOADS):
                # alternate between two route sets; new connections see it
                self.rewrite(gw, self.make_config(
                    self.routes("/r%d" % k), workers=2, port=port))
                before = list(counts)
                self.reload(gw, k)
                # everybody keeps echoing between reloads
                self.assertTrue(wait_for(lambda: all(
                    counts[i] > before[i] for i in range(NCLIENTS)) or
                    errors, 5.0), "clients stalled after reload %d" % k)
                self.assertEqual(errors, [])
            c = self.raw_ws(gw, "/r%d" % (NRELOADS - 1))
            echo_once(c, 0)
            self.raw(gw).handshake("/r%d" % (NRELOADS - 2), expect=404)
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        self.assertEqual(errors, [])
        self.assertEqual(gw.log().count("configuration reloaded"), NRELOADS)
        self.assertGreater(sum(counts), NCLIENTS * NRELOADS)
        print("\n    %d messages echoed through %d reloads"
              % (sum(counts), NRELOADS), end=" ")

    def test_listeners_added_and_removed(self):
        pa, pb = free_port(), free_port()
        ua = self.path("a.sock")
        conf = self.make_config(self.routes(), workers=2, listen=[
            {"address": "127.0.0.1", "port": pa}, {"unix": ua}])
        gw = self.start_gateway(conf=conf, port=pa)
        old = self.raw_ws(gw, "/echo")
        echo_once(old, 0)
        oldu = RawClient(0, unix=ua)
        self.addCleanup(oldu.close)
        oldu.handshake("/echo")

        # A and the Unix socket go, B comes
        self.rewrite(gw, self.make_config(self.routes(), workers=2, listen=[
            {"address": "127.0.0.1", "port": pb}]))
        self.reload(gw, 0)
        self.assertTrue(wait_port("127.0.0.1", pb, 5.0, gw.proc))
        c = RawClient(pb)
        self.addCleanup(c.close)
        c.handshake("/echo")
        echo_once(c, 1)

        def refused():
            try:
                socket.create_connection(("127.0.0.1", pa), 0.5).close()
                return False
            except ConnectionRefusedError:
                return True
        self.assertTrue(wait_for(refused, 5.0), "port A still accepts")
        self.assertTrue(wait_for(lambda: not __import__("os").path.exists(
            ua), 5.0), "the removed Unix socket file is still there")
        self.assertIn("closed listener 127.0.0.1:%d" % pa, gw.log())
        # connections accepted on the removed listeners are untouched
        echo_once(old, 2)
        echo_once(oldu, 3)

        # and back: A reopened on the next reload, B kept as it is
        self.rewrite(gw, self.make_config(self.routes(), workers=2, listen=[
            {"address": "127.0.0.1", "port": pb},
            {"address": "127.0.0.1", "port": pa}, {"unix": ua}]))
        self.reload(gw, 1)
        self.assertTrue(wait_port("127.0.0.1", pa, 5.0, gw.proc))
        self.assertTrue(wait_unix(ua, 5.0, gw.proc))
        echo_once(c, 4)
        self.assertEqual(gw.log().count("listening on 127.0.0.1:%d" % pb), 1)

    def test_invalid_config_refused(self):
        port = free_port()
        gw = self.start_gateway(conf=self.make_config(self.routes(),
                                                      port=port), port=port)
        c = self.raw_ws(gw, "/echo")
        conf = self.make_config(self.routes("/new"), port=port)
        conf["routes"][1]["framing"] = "morse"
        text = libconfig(conf)
        self.rewrite(gw, text)
        self.reload(gw, 0)
        line = [i + 1 for i, ln in enumerate(text.splitlines())
                if "morse" in ln][0]
        self.assertIn("%s:%d: unknown framing" % (gw.conf_path, line),
                      gw.log())
        self.assertIn("keeping the running configuration", gw.log())
        echo_once(c, 0)
        self.raw(gw).handshake("/new", expect=404)
        self.raw_ws(gw, "/echo")

    def test_include_of_a_directory_refused(self):
        # libconfig's scanner would exit() reading a directory: the
        # running daemon must refuse the file and carry on instead
        port = free_port()
        gw = self.start_gateway(conf=self.make_config(self.routes(),
                                                      port=port), port=port)
        c = self.raw_ws(gw, "/echo")
        inc = tempfile.mkdtemp()
        self.addCleanup(os.rmdir, inc)
        text = libconfig(self.make_config(self.routes("/new"), port=port))
        self.rewrite(gw, text + '\n@include "%s"\n' % inc)
        self.reload(gw, 0)
        line = len(text.splitlines()) + 2
        self.assertIn('%s:%d: @include "%s": not a regular file'
                      % (gw.conf_path, line, inc), gw.log())
        self.assertIn("keeping the running configuration", gw.log())
        echo_once(c, 0)
        self.raw(gw).handshake("/new", expect=404)
        self.raw_ws(gw, "/echo")

    def test_unbindable_listener_refuses_reload(self):
        port = free_port()
        gw = self.start_gateway(conf=self.make_config(self.routes(),
                                                      port=port), port=port)
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        self.rewrite(gw, self.make_config(self.routes("/new"), listen=[
            {"address": "127.0.0.1", "port": port},
            {"address": "127.0.0.1", "port": busy.getsockname()[1]}]))
        self.reload(gw, 0)
        self.assertIn("reload failed: a listener cannot be opened",
                      gw.log())
        self.raw(gw).handshake("/new", expect=404)   # old routes in force
        echo_once(self.raw_ws(gw, "/echo"), 0)
