"""make install and make uninstall into a temporary DESTDIR (the file
list, the paths written into the unit, the config kept if there is one),
and systemd-analyze verify on the installed units."""

import os
import shutil
import subprocess
import tempfile
import unittest

from ops import ROOT

EXPECTED = {
    "usr/sbin/wsgated",
    "usr/share/man/man8/wsgated.8",
    "usr/share/man/man5/wsgated.conf.5",
    "etc/wsgate/wsgated.conf",
    "units/wsgated.service",
    "units/wsgated.socket",
}


def files_under(d):
    out = set()
    for base, _, files in os.walk(d):
        for f in files:
            out.add(os.path.relpath(os.path.join(base, f), d))
    return out


class Install(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wsgate-install-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def make(self, target, **var):
        # -o wsgated: install the binary under test, never rebuild it
        # (make check may have built it with other flags)
        cmd = ["make", "-s", "-C", ROOT, "-o", "wsgated", target] + \
            ["%s=%s" % kv for kv in var.items()]
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout.decode())
        return r.stdout.decode()

    def test_destdir_file_list_and_uninstall(self):
        dest = os.path.join(self.tmp, "root")
        v = {"DESTDIR": dest, "PREFIX": "/usr", "SYSTEMDUNITDIR": "/units"}
        self.make("install", **v)
        self.assertEqual(files_under(dest), EXPECTED)
        sbin = os.path.join(dest, "usr/sbin/wsgated")
        self.assertTrue(os.access(sbin, os.X_OK))
        self.assertEqual(os.stat(sbin).st_mode & 0o777, 0o755)
        with open(os.path.join(dest, "units/wsgated.service")) as f:
            unit = f.read()
        # the unit names the installed paths, never DESTDIR
        self.assertIn("ExecStart=/usr/sbin/wsgated -c "
                      "/etc/wsgate/wsgated.conf\n", unit)
        self.assertNotIn(dest, unit)
        self.assertIn("Type=notify\n", unit)

        # a config that is there already is kept
        conf = os.path.join(dest, "etc/wsgate/wsgated.conf")
        with open(conf, "w") as f:
            f.write("# mine\n")
        self.make("install", **v)
        with open(conf) as f:
            self.assertEqual(f.read(), "# mine\n")

        # uninstall: everything but the edited config goes
        self.make("uninstall", **v)
        self.assertEqual(files_under(dest), {"etc/wsgate/wsgated.conf"})
        os.unlink(conf)
        self.make("install", **v)
        self.make("uninstall", **v)
        self.assertEqual(files_under(dest), set())
        self.assertFalse(os.path.exists(os.path.join(dest, "etc/wsgate")))

    def test_default_unit_dir(self):
        dest = os.path.join(self.tmp, "root")
        self.make("install", DESTDIR=dest)
        r = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir",
                            "systemd"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        unitdir = r.stdout.decode().strip() or "/lib/systemd/system"
        self.assertTrue(os.path.isfile(os.path.join(
            dest + unitdir, "wsgated.service")))
        self.assertTrue(os.path.isfile(os.path.join(
            dest + "/usr/local/sbin", "wsgated")))

    def test_systemd_analyze_verify(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        # installed for real under a temporary prefix, so that the
        # ExecStart binary exists where the unit says
        pre = os.path.join(self.tmp, "p")
        units = os.path.join(self.tmp, "units")
        self.make("install", PREFIX=pre, SYSCONFDIR=pre + "/etc",
                  SYSTEMDUNITDIR=units)
        r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            os.path.join(units, "wsgated.service"),
                            os.path.join(units, "wsgated.socket")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out)
        self.assertEqual(out.strip(), "", "systemd-analyze verify:\n" + out)
        # and a unit that is wrong is caught (the check can fail)
        bad = os.path.join(units, "wsgated.service")
        with open(bad, "a") as f:
            f.write("[Service]\nNoSuchSetting=1\nType=bogus\n")
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", bad],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        self.assertIn("NoSuchSetting", r.stdout.decode())
