"""wsgated -t: "FILE: ok" and exit 0 for a good config; "FILE:LINE: ..."
on stderr for every error (not just the first) and exit 1 for a bad
one."""

import glob
import os
import re
import subprocess

from harness import WSGATED, GatewayTest

ISSUE_EXAMPLE = """\
listen = (
  { address = "127.0.0.1"; port = 8080; },      # TCP; IPv6 too ("::1")
  { unix = "/run/wsgate/front.sock"; mode = "0660"; }
);
workers = 1;
limits = {
  handshake_timeout_ms = 10000;
  max_header_bytes = 8192;
  max_message_size = 1048576;
  idle_timeout_ms = 0;
  ping_interval_ms = 30000;
  buffer_limit = 1048576;
  max_connections = 0;
  close_timeout_ms = 5000;
};
routes = (
  { path = "/echo"; backend = "/run/echo.sock"; framing = "line"; },
  { path = "/chat";
    origins = [ "https://example.com" ];
    subprotocols = (
      { name = "chat.v2"; backend = "/run/chat-v2.sock"; framing = "frame"; },
      { name = "chat.v1"; backend = "/run/chat-v1.sock"; framing = "line"; }
    );
    backend = "/run/chat-legacy.sock";
  }
);
"""

# Each error sits on its own line, marked with "#E"; the test finds the
# line numbers from the markers.
BAD = """\
# several errors, all of which must be reported
listen = ( { address = "127.0.0.1"; port = 70000; } );   #E port out of range
workers = 1;
bogus_top = 5;                                            #E unknown key
limits = {
  max_header_bytes = "big";                               #E wrong type
  idle_timeout = 3;                                       #E unknown key
  buffer_limit = 65536;
};
routes = (
  { path = "/a"; backend = "/tmp/a.sock"; },
  { path = "/a"; backend = "/tmp/b.sock"; },              #E duplicate path
  { path = "/f"; backend = "/tmp/f.sock"; framing = "pigeon"; },  #E framing
  { path = "/n"; framing = "line"; },                     #E no backend
  { path = "/s"; subprotocols = ( { name = "x"; } ); },   #E no backend
  { path = "/t"; backend = "/tmp/t.sock"; message_type = 7; }  #E type
);
"""


class ConfigTest(GatewayTest):

    def wsgated(self, *args):
        p = subprocess.run([WSGATED] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=10)
        return p.returncode, p.stdout.decode(errors="replace"), \
            p.stderr.decode(errors="replace")

    def test_good_config(self):
        path = self.write_config(ISSUE_EXAMPLE, "good.conf")
        rc, out, err = self.wsgated("-t", "-c", path)
        self.assertEqual((rc, out), (0, "%s: ok\n" % path),
                         "stderr: %s" % err)

    def test_shipped_configs(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        confs = sorted(glob.glob(os.path.join(root, "conf", "*.conf"))
                       + glob.glob(os.path.join(root, "conf", "*", "*.conf")))
        if not confs:
            self.skipTest("no conf/*.conf yet")
        for path in confs:
            with self.subTest(path):
                rc, out, err = self.wsgated("-t", "-c", path)
                self.assertEqual((rc, out), (0, "%s: ok\n" % path),
                                 "stderr: %s" % err)

    def test_bad_config_reports_every_error(self):
        path = self.write_config(BAD, "bad.conf")
        want = [i + 1 for i, ln in enumerate(BAD.splitlines()) if "#E" in ln]
        rc, out, err = self.wsgated("-t", "-c", path)
        self.assertEqual(rc, 1, "exit status; stderr:\n%s" % err)
        self.assertNotIn("ok", out)
        lines = err.splitlines()
        for ln in lines:
            self.assertTrue(ln.startswith(path + ":"),
                            "stderr line not FILE:LINE: %r" % ln)
        reported = set()
        for ln in lines:
            rest = ln[len(path) + 1:]
            num = rest.split(":", 1)[0]
            if num.isdigit():
                reported.add(int(num))
        missing = [n for n in want if n not in reported]
        self.assertEqual(missing, [], "errors not reported for lines %s "
                         "(%s); stderr:\n%s"
                         % (missing, [BAD.splitlines()[n - 1].split("#E")[1]
                                      for n in missing], err))
        extra = sorted(reported - set(want))
        self.assertEqual(extra, [], "errors on good lines; stderr:\n%s" % err)

    def test_syntax_error(self):
        path = self.write_config('workers = 1;\nlimits = { = 3; };\n'
                                 'routes = ( );\n', "syntax.conf")
        rc, out, err = self.wsgated("-t", "-c", path)
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"(?m)^%s:2: " % re.escape(path))

    def test_missing_file(self):
        path = self.path("nonexistent.conf")
        rc, out, err = self.wsgated("-t", "-c", path)
        self.assertEqual(rc, 1)
        self.assertIn(path, err)

    def test_missing_backend_is_not_a_config_error(self):
        path = self.write_config({
            "listen": [{"address": "127.0.0.1", "port": 1}],
            "routes": [{"path": "/x", "backend": self.path("none.sock")}]},
            "nobackend.conf")
        rc, out, err = self.wsgated("-t", "-c", path)
        self.assertEqual((rc, out), (0, "%s: ok\n" % path), err)

    def test_bad_config_at_startup(self):
        path = self.write_config(BAD, "bad.conf")
        rc, out, err = self.wsgated("-c", path)
        self.assertNotEqual(rc, 0, "started with a bad config")
        self.assertIn(path + ":", err)

    def test_version(self):
        rc, out, err = self.wsgated("-V")
        self.assertEqual(rc, 0)
        self.assertTrue((out + err).strip(), "-V printed nothing")

    def test_long_options(self):
        # --config, --test, --version and --help do what -c, -t, -V, -h do
        path = self.write_config(ISSUE_EXAMPLE, "long.conf")
        self.assertEqual(self.wsgated("--test", "--config", path),
                         self.wsgated("-t", "-c", path))
        self.assertEqual(self.wsgated("--version"), self.wsgated("-V"))
        rc, out, err = self.wsgated("--help")
        self.assertEqual((rc, out, err), self.wsgated("-h"))
        self.assertIn("--config file", out)
        rc, out, err = self.wsgated("--bogus")
        self.assertEqual(rc, 1)
        self.assertIn("usage: wsgated", err)
