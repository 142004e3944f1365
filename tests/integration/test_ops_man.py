"""The man pages: warning-free under groff -ww and mandoc -Tlint, the
synopsis matching usage(), and every key the config parser accepts (the
key tables of src/conf.c) documented in wsgated.conf.5 as an .It Ic entry,
and nothing documented there that the parser does not accept."""

import os
import re
import shutil
import subprocess
import unittest

from harness import WSGATED
from ops import ROOT

PAGES = ["man/wsgated.8", "man/wsgated.conf.5"]


def parser_keys(conf_c):
    """Key names of every table in conf.c: the K<TYPE>("name", ...)
    entries (KINT, KSTR, KAGG, KBOOL, ...) and KLIM(name, ...), whatever
    their nesting level."""
    with open(conf_c) as f:
        src = f.read()
    keys = set(re.findall(r'\bK[A-Z]+\(\s*"([A-Za-z_][A-Za-z0-9_]*)"', src))
    keys |= set(re.findall(r'\bKLIM\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,', src))
    return keys


def documented_keys(page):
    with open(page) as f:
        return set(re.findall(r'^\.It Ic ([A-Za-z_][A-Za-z0-9_]*)', f.read(),
                              re.M))


class ManPages(unittest.TestCase):

    def test_groff_warning_free(self):
        if shutil.which("groff") is None:
            self.skipTest("groff is not installed")
        for p in PAGES:
            r = subprocess.run(["groff", "-ww", "-z", "-mdoc",
                                os.path.join(ROOT, p)],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            self.assertEqual((r.returncode, r.stdout.decode()), (0, ""),
                             "groff on %s" % p)

    def test_mandoc_lint(self):
        if shutil.which("mandoc") is None:
            self.skipTest("mandoc is not installed")
        for p in PAGES:
            # -Wwarning: STYLE notes about manuals that are not installed
            # on this machine (wsgated.8 itself) depend on the machine
            r = subprocess.run(["mandoc", "-Tlint", "-Wwarning",
                                os.path.join(ROOT, p)],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            self.assertEqual((r.returncode, r.stdout.decode()), (0, ""),
                             "mandoc -Tlint on %s" % p)

    def test_every_key_documented(self):
        accepted = parser_keys(os.path.join(ROOT, "src/conf.c"))
        documented = documented_keys(os.path.join(ROOT, "man/wsgated.conf.5"))
        self.assertGreater(len(accepted), 20, accepted)
        self.assertEqual(sorted(accepted - documented), [],
                         "keys the parser accepts but wsgated.conf.5 does "
                         "not document")
        self.assertEqual(sorted(documented - accepted), [],
                         "keys wsgated.conf.5 documents but the parser "
                         "does not accept")

    def test_documented_keys_are_accepted(self):
        # the table scan above is checked against the parser itself: a
        # key it found is not "unknown" to wsgated -t, a made-up one is
        conf = os.path.join(ROOT, "conf/wsgated.conf")
        r = subprocess.run([WSGATED, "-t", "-c", conf],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
            f.write('listen = ( { address = "127.0.0.1"; port = 1; } );\n'
                    'routes = ( { path = "/"; backend = "/x"; } );\n'
                    'user = "root"; log_level = "debug";\n'
                    'status = { path_prefix = "/s"; allow = [ "unix" ]; };\n'
                    'bogus_key = 1;\n')
            f.flush()
            r = subprocess.run([WSGATED, "-t", "-c", f.name],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1)
        self.assertIn('unknown key "bogus_key"', err)
        self.assertEqual(err.count("unknown key"), 1, err)

    def test_synopsis_matches_usage(self):
        r = subprocess.run([WSGATED, "-h"], stdout=subprocess.PIPE)
        usage = r.stdout.decode().splitlines()[0]
        flags = re.findall(r"\[-(\w)", usage)
        with open(os.path.join(ROOT, "man/wsgated.8")) as f:
            page = f.read()
        syn = page[page.index(".Sh SYNOPSIS"):page.index(".Sh DESCRIPTION")]
        self.assertEqual(re.findall(r"^\.Op Fl (\w)", syn, re.M), flags)
        for fl in flags:
            self.assertRegex(page, r"(?m)^\.It Fl %s\b" % fl)
