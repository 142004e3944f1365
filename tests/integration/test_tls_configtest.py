"""wsgated -t with TLS listeners: each certificate and key must load,
match and be within its dates; errors are "FILE:LINE: message" naming
the file at fault (the key file for a mismatch), all of them at once,
and the daemon refuses to start on the same errors."""

import os
import subprocess

from harness import WSGATED
from tlsutil import TLSGatewayTest, run_openssl


def line_of(text, marker):
    for i, ln in enumerate(text.splitlines(), 1):
        if marker in ln:
            return i
    raise AssertionError("no %r" % marker)


class TLSConfigTest(TLSGatewayTest):

    def setUp(self):
        super().setUp()
        self.good = self.pki.leaf(["a.test"], tag="good")
        self.other = self.pki.leaf(["a.test"], tag="other")
        self.old = self.pki.expired(["a.test"], tag="expired")

    def conf(self, tls_body):
        return ('listen = ( { address = "127.0.0.1"; port = 8443;\n'
                '  tls = {\n%s\n  };\n} );\n'
                'routes = ( { path = "/e"; backend = "/tmp/e.sock"; } );\n'
                % tls_body)

    def check(self, text, rc_want=1):
        p = self.write_config(text)
        r = subprocess.run([WSGATED, "-t", "-c", p], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        out = r.stdout.decode() + r.stderr.decode()
        self.assertEqual(r.returncode, rc_want, out)
        return p, r.stderr.decode().splitlines(), out

    def test_good(self):
        p, err, out = self.check(self.conf(
            '    cert = "%s"; key = "%s";\n    min_version = "TLSv1.3";\n'
            '    ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384";\n'
            '    ciphersuites = "TLS_AES_256_GCM_SHA384";' % self.good), 0)
        self.assertIn("%s: ok" % p, out)
        # a chain file (leaf, then the CA) and several certificates
        chain = self.pki.chain(self.good[0])
        self.check(self.conf(
            '    certificates = ( { cert = "%s"; key = "%s"; },\n'
            '      { cert = "%s"; key = "%s"; } );'
            % ((chain, self.good[1]) + self.other)), 0)

    def test_key_mismatch_names_the_key(self):
        text = self.conf('    cert = "%s";\n    key = "%s"; # KEY'
                         % (self.good[0], self.other[1]))
        p, err, _ = self.check(text)
        self.assertEqual(err, ["%s:%d: key %s does not match certificate %s"
                               % (p, line_of(text, "# KEY"), self.other[1],
                                  self.good[0])])

    def test_expired_certificate(self):
        text = self.conf('    cert = "%s"; # CERT\n    key = "%s";'
                         % self.old)
        p, err, _ = self.check(text)
        self.assertEqual(err, ["%s:%d: certificate %s expired on "
                               "2020-01-02 00:00:00 UTC"
                               % (p, line_of(text, "# CERT"), self.old[0])])
        # and the daemon will not start with it either
        r = subprocess.run([WSGATED, "-c", p], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("expired on 2020-01-02", r.stderr.decode())

    def test_file_errors_all_reported(self):
        enc = self.path("enc.key")
        run_openssl(["pkey", "-in", self.good[1], "-aes256", "-passout",
                     "pass:secret", "-out", enc], self.tmp)
        notpem = self.path("notpem.pem")
        with open(notpem, "w") as f:
            f.write("hello\n")
        missing = self.path("missing.pem")
        text = self.conf(
            '    certificates = (\n'
            '      { cert = "%s"; # MISSING\n        key = "%s"; },\n'
            '      { cert = "%s";\n        key = "%s"; }, # ENC\n'
            '      { cert = "%s"; # NOTPEM\n        key = "%s"; },\n'
            '      { cert = "%s"; key = "%s"; } # OK\n'
            '    );' % (missing, self.good[1], self.good[0], enc, notpem,
                        self.good[1], self.good[0], self.good[1]))
        p, err, _ = self.check(text)
        self.assertEqual(len(err), 3, err)
        self.assertEqual(err[0], "%s:%d: cannot read certificate %s: No "
                         "such file or directory"
                         % (p, line_of(text, "# MISSING"), missing))
        self.assertEqual(err[1], "%s:%d: key %s is encrypted: wsgated "
                         "cannot ask for a passphrase (decrypt it with "
                         "openssl pkey)" % (p, line_of(text, "# ENC"), enc))
        self.assertRegex(err[2], r"^%s:%d: certificate %s: no PEM "
                         r"certificate in it" % (p, line_of(text, "# NOTPEM"),
                                                 notpem))

    def test_path_with_a_newline_one_line(self):
        text = self.conf('    cert = "%s\\nx.pem"; # CERT\n    key = "%s";'
                         % (self.path("missing"), self.good[1]))
        p, err, _ = self.check(text)
        self.assertEqual(err, ["%s:%d: cannot read certificate %s?x.pem: No "
                               "such file or directory"
                               % (p, line_of(text, "# CERT"),
                                  self.path("missing"))])

    def test_shape_errors(self):
        # errors about the group as a whole are at its line, 2
        cases = [
            ('    cert = "/x.pem";', "tls has a cert but no key"),
            ('    key = "/x.key";', "tls has a key but no cert"),
            ('', "tls needs cert and key, or certificates"),
            ('    cert = "/x.pem"; key = "/x.key";\n'
             '    certificates = ( { cert = "/y"; key = "/z"; } ); # E',
             "tls: use either cert and key, or certificates, not both"),
            ('    certificates = ( ); # E', "tls: certificates is empty"),
            ('    certificates = ( { cert = "/y"; } ); # E',
             "certificate has no key"),
            ('    cert = "/x.pem"; key = "/x.key";\n'
             '    min_version = "TLSv1.1"; # E',
             'min_version "TLSv1.1": expected "TLSv1.2" or "TLSv1.3"'),
            ('    cert = "/x.pem"; key = "/x.key"; bogus = 1; # E',
             'unknown key "bogus" in tls'),
            ('    cert = ""; key = "/x.key"; # E', "cert: empty file name"),
            ('    cert = "/x.pem"; key = "/x.key";\n'
             '    ciphers = "A B"; # E', 'ciphers "A B": expected a list'),
        ]
        for body, msg in cases:
            with self.subTest(msg=msg):
                text = self.conf(body)
                p, err, _ = self.check(text)
                ln = line_of(text, "# E") if "# E" in body else 2
                self.assertIn("%s:%d: " % (p, ln), "\n".join(err))
                self.assertTrue(any(e.startswith("%s:%d: " % (p, ln)) and
                                    msg in e for e in err), (ln, err))

    def test_bad_cipher_lists(self):
        text = self.conf('    cert = "%s"; key = "%s";\n'
                         '    ciphers = "RC4-SHA:DES-CBC3-SHA"; # C\n'
                         '    ciphersuites = "TLS_FOO"; # S' % self.good)
        p, err, _ = self.check(text)
        self.assertEqual(len(err), 2, err)
        self.assertTrue(err[0].startswith("%s:%d: ciphers \"RC4-SHA:DES-"
                                          "CBC3-SHA\": no TLS 1.2 cipher"
                                          % (p, line_of(text, "# C"))), err)
        self.assertTrue(err[1].startswith("%s:%d: ciphersuites \"TLS_FOO\""
                                          % (p, line_of(text, "# S"))), err)
