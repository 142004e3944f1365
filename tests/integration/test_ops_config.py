"""wsgated -t on the operations keys: every mistake reported as FILE:LINE
(user, group, log_level, status, listener owner/group and names)."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import WSGATED

HEAD = ('listen = ( { address = "127.0.0.1"; port = 8080; },\n'  # line 1
        '           { unix = "/tmp/x.sock"; } );\n'              # line 2
        'routes = ( { path = "/"; backend = "/x"; } );\n')       # line 3


class OpsConfig(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wsgate-conf-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def check(self, text):
        path = os.path.join(self.tmp, "t.conf")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([WSGATED, "-t", "-c", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return path, r.returncode, r.stderr.decode()

    def test_good(self):
        _, rc, err = self.check(
            HEAD + 'user = "root";\ngroup = "root";\nlog_level = "debug";\n'
            'status = { path_prefix = "/_s/"; allow = [ "10.0.0.0/8", '
            '"::1", "fe80::/10", "unix" ];\n'
            '  listen = [ "127.0.0.1:8080", "unix:/tmp/x.sock" ]; };\n')
        self.assertEqual((rc, err), (0, ""))

    def test_errors_with_lines(self):
        path, rc, err = self.check(
            HEAD +
            'user = "no-such-user-wsgate";\n'                      # 4
            'log_level = "loud";\n'                                # 5
            'status = { allow = [ "10.0.0.0/33",\n'                # 6
            '  "nowhere" ];\n'                                     # 7
            '  listen = [ "127.0.0.1:9999" ];\n'                   # 8
            '  path_prefix = "no-slash"; colour = 1; };\n')        # 9
        self.assertEqual(rc, 1)
        for line, text in (
                (4, 'unknown user "no-such-user-wsgate"'),
                (5, 'unknown log_level "loud"'),
                (6, 'allow: "10.0.0.0/33" is not an address'),
                (7, 'allow: "nowhere" is not an address'),
                (8, 'status listen "127.0.0.1:9999" names no listen entry'),
                (9, 'path "no-slash" must start with "/"'),
                (9, 'unknown key "colour" in status')):
            self.assertIn("%s:%d: %s" % (path, line, text), err)

    def test_listener_names(self):
        path, rc, err = self.check(
            'listen = ( { address = "::1"; port = 80; },\n'
            '  { address = "0:0::1"; port = 80; },\n'
            '  { address = "127.0.0.1"; port = 80; owner = "root"; } );\n'
            'routes = ( { path = "/"; backend = "/x"; } );\n'
            'status = { listen = [ "[0::1]:80" ]; };\n')
        self.assertEqual(rc, 1)
        self.assertIn("%s:2: listen entry \"[::1]:80\" is a duplicate (first "
                      "defined on line 1)" % path, err)
        self.assertIn("%s:3: owner is only for unix listeners" % path, err)
        # "[0::1]:80" is the same name as "[::1]:80": no error for it
        self.assertNotIn("names no listen entry", err)
