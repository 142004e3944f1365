"""Fault: the backend cannot be reached.  A missing socket file and a
socket nobody listens on are answered 502; a backend whose listen backlog
is full (a Unix listener with backlog 1 that never accepts) is answered
503 at once, not after a timeout.  Each refusal is logged with the
backend's path, a healthy client is served all along, and the gateway's
descriptor count returns to where it was."""

import os
import socket
import time

from faultlib import FaultTest
from harness import upgrade_request


class BackendRefused(FaultTest):

    def setUp(self):
        super().setUp()
        self.missing = self.path("missing.sock")
        self.stale = self.path("stale.sock")
        self.full = self.path("full.sock")
        # a socket file with no listener behind it: ECONNREFUSED
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.stale)
        s.close()
        # a listener with backlog 1 that never accepts, filled up
        self.full_l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.full_l.bind(self.full)
        self.full_l.listen(1)
        self.addCleanup(self.full_l.close)
        self.fillers = []
        for _ in range(16):
            f = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            f.setblocking(False)
            self.addCleanup(f.close)
            try:
                f.connect(self.full)
            except BlockingIOError:
                f.close()
                break
            self.fillers.append(f)
        self.assertLess(len(self.fillers), 16, "backlog never filled")
        self.gw = self.start_faulty_gateway([
            {"path": "/missing", "backend": self.missing},
            {"path": "/stale", "backend": self.stale},
            {"path": "/full", "backend": self.full},
        ])

    def refused(self, path, status):
        c = self.raw(self.gw)
        t0 = time.monotonic()
        c.send(upgrade_request(path))
        r = c.read_response(timeout=5)
        took = time.monotonic() - t0
        self.assertRefused(r, c, status)
        self.assertLess(took, 1.0, "%d took %.1fs" % (status, took))
        c.close()

    def test_refusals_while_serving(self):
        gw = self.gw
        h = self.healthy(gw)
        time.sleep(0.2)     # its descriptors settle
        fds0 = gw.nfds()
        for _ in range(20):
            self.refused("/missing", 502)
            self.refused("/stale", 502)
            self.refused("/full", 503)
        # the backlog is still full: nothing was accepted behind our back
        self.refused("/full", 503)
        self.assertLogged(gw, r"backend %s.*(No such file|connect)"
                          % self.missing)
        self.assertLogged(gw, r"backend %s.*(refused|connect)" % self.stale)
        self.assertLogged(gw, r"503 .*backend busy")
        self.assertNoLeak(gw, fds0)
        h.check(self, max_latency=1.0 * self.slack(gw))
        # once the backend accepts again, so does the route
        self.full_l.close()
        os.unlink(self.full)
        self.refused("/full", 502)
