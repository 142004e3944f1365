"""wsgated under systemd, without systemd: sd_notify messages caught on a
datagram socket the test owns (NOTIFY_SOCKET), the watchdog, socket
activation with a listening socket passed the way systemd passes it
(LISTEN_FDS, LISTEN_PID, descriptor 3), and journald priority prefixes
when stderr is the JOURNAL_STREAM."""

import os
import re
import signal
import socket

from harness import GatewayTest, RawClient, free_port, wait_for
from ops import NotifySocket, echo_once, http_get, start_gateway_env


class Notify(GatewayTest):

    def setUp(self):
        super().setUp()
        self.echo = self.start_echo()
        self.notify = NotifySocket(self.path("notify.sock"))
        self.addCleanup(self.notify.close)

    def conf(self, port):
        return self.make_config([{"path": "/echo", "backend": self.echo,
                                  "framing": "frame"}], workers=2, port=port)

    def test_ready_status_reload_stopping(self):
        port = free_port()
        gw = start_gateway_env(self, self.conf(port), port, env={
            "NOTIFY_SOCKET": self.notify.path}, wait=False)
        ready = self.notify.wait(lambda m: m.get("READY") == "1")
        self.assertIsNotNone(ready, gw.log_tail())
        self.assertTrue(ready["STATUS"].startswith("0 connections"), ready)
        # READY comes after the listeners are up
        socket.create_connection(("127.0.0.1", port), 2).close()

        # STATUS follows the connection count (refreshed once a second)
        clients = [self.raw_ws(gw, "/echo") for _ in range(3)]
        st = self.notify.wait(lambda m: m.get("STATUS", "").startswith(
            "3 connections"), 4.0)
        self.assertIsNotNone(st, self.notify.messages)
        for c in clients:
            echo_once(c, 0)
        # no change, no message (the refresh is once a second at most)
        self.assertIsNone(self.notify.wait(lambda m: True, 2.2),
                          self.notify.messages[-3:])

        gw.signal(signal.SIGHUP)
        rel = self.notify.wait(lambda m: m.get("RELOADING") == "1")
        self.assertIsNotNone(rel, self.notify.messages)
        self.assertRegex(rel.get("MONOTONIC_USEC", ""), r"^\d+$")
        self.assertIsNotNone(self.notify.wait(
            lambda m: m.get("READY") == "1"), self.notify.messages)
        for c in clients:
            echo_once(c, 1)
            c.close()

        gw.expect_exit = True
        gw.signal(signal.SIGTERM)
        stopping = self.notify.wait(lambda m: m.get("STOPPING") == "1")
        self.assertIsNotNone(stopping, self.notify.messages)
        self.assertEqual(gw.wait(10), 0)

    def test_watchdog(self):
        port = free_port()
        gw = start_gateway_env(self, self.conf(port), port, env={
            "NOTIFY_SOCKET": self.notify.path, "WATCHDOG_USEC": "200000"})
        n = 0
        for _ in range(3):
            if self.notify.wait(lambda m: m.get("WATCHDOG") == "1", 2.0):
                n += 1
        self.assertEqual(n, 3, gw.log_tail())

    def test_no_notify_socket_no_messages(self):
        # without NOTIFY_SOCKET nothing is sent anywhere, and all is well
        port = free_port()
        gw = start_gateway_env(self, self.conf(port), port)
        echo_once(self.raw_ws(gw, "/echo"), 0)
        self.assertIsNone(self.notify.wait(lambda m: True, 0.5))


class SocketActivation(GatewayTest):

    def test_listening_socket_from_systemd(self):
        echo = self.start_echo()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        pa = s.getsockname()[1]     # handed over
        pb = free_port()            # opened by wsgated
        upath = self.path("front.sock")     # handed over too
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(u.close)
        u.bind(upath)
        u.listen(64)
        conf = self.make_config(
            [{"path": "/echo", "backend": echo, "framing": "frame"}],
            workers=2, listen=[{"address": "127.0.0.1", "port": pb},
                               {"unix": upath},
                               {"address": "127.0.0.1", "port": pa}])
        # status only on the handed-over entry: its settings must apply
        conf["status"] = {"listen": ["127.0.0.1:%d" % pa]}
        # what systemd does between fork and exec: the sockets become
        # descriptors 3 and 4, inherited (moved out of the way first)
        fds = [os.dup(s.fileno()), os.dup(u.fileno())]
        for f in fds:
            self.addCleanup(os.close, f)

        def as_systemd():
            hi = [os.dup2(f, 100 + i) for i, f in enumerate(fds)]
            for i, f in enumerate(hi):
                os.dup2(f, 3 + i)
                os.set_inheritable(3 + i, True)

        # LISTEN_PID must be the pid of wsgated itself: the shell that
        # execs it has that pid, so it sets the variable.
        gw = start_gateway_env(
            self, conf, pa, env={"LISTEN_FDS": "2"}, preexec_fn=as_systemd,
            close_fds=False,
            wrap=["/bin/sh", "-c", 'LISTEN_PID=$$; export LISTEN_PID; '
                  'exec "$0" "$@"'])
        self.assertTrue(wait_for(lambda: "started" in gw.log(), 5.0),
                        gw.log_tail())
        self.assertIn("listening on 127.0.0.1:%d (from systemd)" % pa,
                      gw.log())
        self.assertIn("listening on 127.0.0.1:%d\n" % pb, gw.log())
        self.assertIn("listening on unix:%s (from systemd)" % upath, gw.log())
        clients = []
        for p in (pa, pb):
            c = RawClient(p)
            self.addCleanup(c.close)
            c.handshake("/echo")
            echo_once(c, p)
            clients.append(c)
        c = RawClient(0, unix=upath)
        self.addCleanup(c.close)
        c.handshake("/echo")
        echo_once(c, 0)
        clients.append(c)
        self.assertEqual(http_get("127.0.0.1", pa, "/_wsgate/health")[0], 200)
        self.assertEqual(http_get("127.0.0.1", pb, "/_wsgate/health")[0], 404)
        # a descriptor systemd passed is not unlinked or re-bound on reload
        gw.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "configuration reloaded" in
                                 gw.log(), 5.0))
        c = RawClient(pa)
        self.addCleanup(c.close)
        c.handshake("/echo")
        clients.append(c)
        for c in clients:
            c.close()
        # the socket file is systemd's: left in place at exit
        gw.expect_exit = True
        gw.signal(signal.SIGTERM)
        self.assertIsNotNone(gw.wait(10))
        self.assertTrue(os.path.exists(upath))


class Journal(GatewayTest):

    def test_priority_prefixes_on_the_journal_stream(self):
        echo = self.start_echo()
        port = free_port()
        conf = self.make_config([{"path": "/echo", "backend": echo}],
                                port=port)
        # stderr is the log file: say that it is the journal stream
        log = self.path("wsgated.log")
        open(log, "wb").close()
        st = os.stat(log)
        gw = start_gateway_env(self, conf, port, env={
            "JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
        self.raw(gw).handshake("/nowhere", expect=404)
        self.assertTrue(wait_for(lambda: "404" in gw.log(), 5.0))
        lines = [ln for ln in gw.log().splitlines() if ln]
        for ln in lines:
            self.assertRegex(ln, r"^<[3467]>(error|warning|info|debug): ")
        self.assertTrue(any(ln.startswith("<6>info: listening on")
                            for ln in lines), lines)

    def test_no_prefixes_when_stderr_is_elsewhere(self):
        echo = self.start_echo()
        port = free_port()
        conf = self.make_config([{"path": "/echo", "backend": echo}],
                                port=port)
        gw = start_gateway_env(self, conf, port,
                               env={"JOURNAL_STREAM": "1:1"})
        self.assertTrue(re.search(r"(?m)^info: listening on", gw.log()),
                        gw.log_tail())
