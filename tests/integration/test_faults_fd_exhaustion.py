"""Fault: the gateway runs out of file descriptors.  Its RLIMIT_NOFILE
is lowered to 64 (soft and hard, with prlimit once it runs: wsgated
raises its soft limit to the hard one at start), then clients pile in
until accept() fails with EMFILE.  The gateway must log it and pause
accepting without a busy loop (its CPU time stays flat while the
listen queue is full of waiting clients), keep serving the healthy
client it already has, and resume as soon as descriptors are freed."""

import resource
import select
import time

from faultlib import FaultTest, cpu_seconds
from harness import OP_TEXT, RawClient, upgrade_request

LIMIT = 64


class FdExhaustion(FaultTest):

    def test_emfile_pauses_and_resumes(self):
        echo = self.start_echo()
        gw = self.start_faulty_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}])
        h = self.healthy(gw)
        time.sleep(0.1)
        fds0 = gw.nfds()
        resource.prlimit(gw.pid, resource.RLIMIT_NOFILE, (LIMIT, LIMIT))

        clients, answered = [], {}
        for i in range(LIMIT * 2):
            c = RawClient(gw.port, timeout=2)
            self.addCleanup(c.close)
            clients.append(c)
            c.send(upgrade_request("/echo"))
        # collect the answers until none has come for half a second
        waiting = list(clients)
        while waiting:
            ready = select.select([c.sock for c in waiting], [], [], 0.5)[0]
            if not ready:
                break
            for c in [c for c in waiting if c.sock in ready]:
                waiting.remove(c)
                try:
                    st = c.read_response(timeout=1).status
                except Exception as e:
                    st = repr(e)
                answered[st] = answered.get(st, 0) + 1
        if waiting:
            answered[None] = len(waiting)   # still in the listen queue
        # (a client accepted when no descriptor is left for its backend
        # connection is answered 503; then accept() itself fails)
        print("\n    %d clients: %s" % (len(clients), answered), end=" ")
        self.assertIn(None, answered, "descriptors never ran out")
        self.assertTrue(gw.alive(), "wsgated died:\n%s" % gw.log_tail())
        self.assertLogged(gw, r"accept paused.*(Too many open files|EMFILE)")
        self.assertGreater(gw.nfds(), LIMIT - 8)

        # out of descriptors, with clients waiting: no busy loop
        cpu0 = cpu_seconds(gw.pid)
        time.sleep(1.5)
        spent = cpu_seconds(gw.pid) - cpu0
        print("CPU while exhausted: %.2fs in 1.5s" % spent, end=" ")
        self.assertLess(spent, 0.15, "wsgated spins while out of "
                        "descriptors")
        h.check(self, max_latency=1.0 * self.slack(gw))

        # descriptors come back: accepting resumes
        for c in clients:
            c.close()
        deadline = time.monotonic() + 5
        ok = False
        while not ok and time.monotonic() < deadline:
            try:
                c = RawClient(gw.port, timeout=2)
                self.addCleanup(c.close)
                c.handshake("/echo")
                c.send_text("back")
                ok = c.recv_message() == (OP_TEXT, b"back")
                c.close()
            except Exception:
                time.sleep(0.1)
        self.assertTrue(ok, "not serving after descriptors were freed:\n%s"
                        % gw.log_tail())
        self.assertNoLeak(gw, fds0)
