"""Privilege drop (only when the tests run as root): wsgated binds a port
below 1024 and gives its Unix listener an owner and group as root, then
runs as user "nobody", group "nogroup" (checked in /proc/PID/status), and
still relays to a backend nobody can reach; a user that does not exist
is a configuration error."""

import grp
import os
import pwd
import socket
import subprocess

from harness import WSGATED, GatewayTest, RawClient, free_port, wait_for
from ops import echo_once

USER, GROUP = "nobody", "nogroup"


def free_low_port():
    """A free port below 1024, or None."""
    for p in range(1000, 900, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue
    return None


def proc_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            k, _, v = ln.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                ids[k] = [int(x) for x in v.split()]
    return ids


class PrivilegeDrop(GatewayTest):

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        try:
            self.uid = pwd.getpwnam(USER).pw_uid
            self.gid = grp.getgrnam(GROUP).gr_gid
        except KeyError:
            self.skipTest("no user %s or group %s" % (USER, GROUP))
        super().setUp()
        # nobody must reach the backend: the directory and the socket
        os.chmod(self.tmp, 0o755)

    def test_runs_as_nobody_after_binding(self):
        echo = self.start_echo()
        os.chmod(echo, 0o666)
        low = free_low_port()
        if low is None:
            self.skipTest("no free port below 1024")
        front = self.path("front.sock")
        conf = self.make_config(
            [{"path": "/echo", "backend": echo, "framing": "frame"}],
            workers=2, listen=[{"address": "127.0.0.1", "port": low},
                               {"unix": front, "mode": "0660",
                                "owner": USER, "group": GROUP}])
        conf["user"] = USER
        conf["group"] = GROUP
        gw = self.start_gateway(conf=conf, port=low)
        # the port accepts as soon as it is bound, before the drop
        self.assertTrue(wait_for(lambda: " started: " in gw.log(), 5.0),
                        gw.log_tail())

        ids = proc_ids(gw.pid)
        self.assertEqual(ids["Uid"], [self.uid] * 4, ids)
        self.assertEqual(ids["Gid"], [self.gid] * 4, ids)
        self.assertNotIn(0, ids["Groups"], ids)
        # every thread, not just the main one
        for tid in os.listdir("/proc/%d/task" % gw.pid):
            t = proc_ids(int(tid))
            self.assertEqual(t["Uid"], [self.uid] * 4, (tid, t))
        self.assertIn("running as uid %d, gid %d" % (self.uid, self.gid),
                      gw.log())

        st = os.stat(front)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777),
                         (self.uid, self.gid, 0o660))
        c = self.raw_ws(gw, "/echo")
        echo_once(c, 1)
        u = RawClient(0, unix=front)
        self.addCleanup(u.close)
        u.handshake("/echo")
        echo_once(u, 2)

    def test_group_alone(self):
        echo = self.start_echo()
        port = free_port()
        conf = self.make_config([{"path": "/echo", "backend": echo}],
                                port=port)
        conf["group"] = GROUP
        gw = self.start_gateway(conf=conf, port=port)
        self.assertTrue(wait_for(lambda: " started: " in gw.log(), 5.0),
                        gw.log_tail())
        ids = proc_ids(gw.pid)
        self.assertEqual(ids["Uid"], [0] * 4, ids)
        self.assertEqual(ids["Gid"], [self.gid] * 4, ids)
        self.assertEqual(ids["Groups"], [self.gid], ids)
