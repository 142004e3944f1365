"""Certificates are re-read on SIGHUP: a wss connection open across the
reload keeps working on the old certificate, new connections get the
new one; a bad new certificate (a key that does not match, an expired
certificate, a missing file) is refused with a clear log line and the
one in use stays; no connection is ever dropped by a reload."""

import shutil
import signal
import socket
import ssl

from harness import OP_TEXT
from tlsutil import TLSGatewayTest, der


class TLSReload(TLSGatewayTest):

    def install(self, pair):
        shutil.copyfile(pair[0], self.site_cert)
        shutil.copyfile(pair[1], self.site_key)

    def reload(self, gw, ok=True):
        n = len(gw.log())
        gw.signal(signal.SIGHUP)
        self.wait_log(gw, r"configuration reloaded|reload failed", start=n)
        log = gw.log()[n:]
        if ok:
            self.assertIn("configuration reloaded", log)
        else:
            self.assertIn("reload failed", log)
        return log

    def echo(self, c, text):
        c.send_text(text)
        self.assertEqual(c.recv_message(), (OP_TEXT, text.encode()))

    def test_swap_by_sighup(self):
        old = self.pki.leaf(["a.test"], tag="old")
        new = self.pki.leaf(["a.test"], tag="new")
        other = self.pki.leaf(["a.test"], tag="other")
        expired = self.pki.expired(["a.test"], tag="expired")
        self.site_cert = self.path("site.pem")
        self.site_key = self.path("site.key")
        self.install(old)
        echo = self.start_echo()
        gw = self.start_tls_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            {"cert": self.site_cert, "key": self.site_key}, workers=2)

        first = self.tls_raw(gw)
        self.assertEqual(first.peer_der(), der(old[0]))
        first.handshake("/echo")
        self.echo(first, "before")

        # a good new pair: new connections get it, the open one stays
        self.install(new)
        self.reload(gw)
        self.echo(first, "across the reload")
        second = self.tls_raw(gw)
        self.assertEqual(second.peer_der(), der(new[0]))
        second.handshake("/echo")
        self.echo(second, "new")

        # a key that is not the certificate's: refused, named
        shutil.copyfile(other[0], self.site_cert)   # key stays new's
        log = self.reload(gw, ok=False)
        self.assertRegex(log, r"wsgated\.conf:\d+: key %s does not match "
                         r"certificate %s" % (self.site_key, self.site_cert))
        c = self.tls_raw(gw)
        self.assertEqual(c.peer_der(), der(new[0]), "bad pair taken")
        c.close()

        # an expired certificate: refused, named
        self.install(expired)
        log = self.reload(gw, ok=False)
        self.assertRegex(log, r"wsgated\.conf:\d+: certificate %s expired "
                         r"on 2020-01-02 00:00:00 UTC" % self.site_cert)

        # the key file gone
        self.install(new)
        shutil.move(self.site_key, self.site_key + ".gone")
        log = self.reload(gw, ok=False)
        self.assertRegex(log, r"cannot read key %s: No such file"
                         % self.site_key)
        c = self.tls_raw(gw)
        self.assertEqual(c.peer_der(), der(new[0]))
        c.close()

        # none of this touched the open connections
        self.echo(first, "still the first")
        self.echo(second, "still the second")
        self.assertEqual(first.peer_der(), der(old[0]))
        self.assertTrue(gw.alive())

    def test_sni_set_changes(self):
        # a reload that adds a certificate: the new name is served
        a = self.pki.leaf(["a.test"])
        b = self.pki.leaf(["b.test"])
        echo = self.start_echo()
        routes = [{"path": "/echo", "backend": echo, "framing": "line"}]
        gw = self.start_tls_gateway(routes, {"cert": a[0], "key": a[1]})
        open_c = self.tls_raw(gw)
        open_c.handshake("/echo")
        self.assertEqual(self.tls_raw(gw, server_hostname="a.test")
                         .peer_der(), der(a[0]))
        conf, _ = self.tls_config(routes, {"certificates": [
            {"cert": a[0], "key": a[1]}, {"cert": b[0], "key": b[1]}]},
            port=gw.port)
        self.write_config(conf)
        self.reload(gw)
        self.assertEqual(self.tls_raw(gw, server_hostname="b.test")
                         .peer_der(), der(b[0]))
        self.echo(open_c, "unchanged")

    def test_tickets_survive_reload(self):
        # the ticket keys are the process's, not the reloaded context's:
        # a session from before SIGHUP resumes after it
        a = self.pki.leaf(["a.test"])
        echo = self.start_echo()
        gw = self.start_tls_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            {"cert": a[0], "key": a[1]}, workers=2)
        ctx = self.pki.client_context(maximum_version=ssl.TLSVersion.TLSv1_2)
        c = self.tls_raw(gw, ctx)
        sess = c.sock.session
        c.close()
        self.reload(gw)
        with socket.create_connection(("127.0.0.1", gw.port), 5) as s:
            with ctx.wrap_socket(s, server_hostname="a.test",
                                 session=sess) as t:
                self.assertTrue(t.session_reused)
