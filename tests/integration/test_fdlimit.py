"""Running out of descriptors: wsgated started with a tiny RLIMIT_NOFILE
hard limit must neither crash nor spin when accept() fails with EMFILE,
and must serve again once connections go away."""

import os
import time

from harness import GatewayTest, OP_TEXT, RawClient, free_port

HARD = 48


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 (1-based), i.e. 11, 12 here
    return (int(fields[11]) + int(fields[12])) / \
        float(os.sysconf("SC_CLK_TCK"))


class FdLimit(GatewayTest):

    def test_emfile(self):
        echo = self.start_echo()
        port = free_port()
        conf = self.make_config([{"path": "/echo", "backend": echo,
                                  "framing": "line"}], port=port)
        gw = self.start_gateway(conf=conf, port=port, nofile=HARD)

        # more connections than the gateway has descriptors for: it
        # accepts until EMFILE, the rest wait in the listen queue
        clients = []
        for i in range(HARD + 8):
            c = RawClient(port, timeout=2)
            self.addCleanup(c.close)
            clients.append(c)
        time.sleep(0.3)
        self.assertTrue(gw.alive(), "wsgated died on EMFILE:\n%s"
                        % gw.log_tail())
        cpu0 = cpu_seconds(gw.pid)
        time.sleep(1.0)
        spent = cpu_seconds(gw.pid) - cpu0
        self.assertLess(spent, 0.3, "wsgated spins while out of "
                        "descriptors (%.2fs CPU in 1s)" % spent)
        for c in clients:
            c.close()
        # it serves again
        ok = False
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not ok:
            try:
                c = RawClient(port, timeout=2)
                self.addCleanup(c.close)
                c.handshake("/echo")
                c.send_text("back")
                ok = c.recv_message() == (OP_TEXT, b"back")
            except Exception:
                time.sleep(0.2)
        self.assertTrue(ok, "not serving after descriptors were freed:\n%s"
                        % gw.log_tail())
