"""SNI: several certificates on one listener, chosen by the client's
server_name against each certificate's subjectAltName DNS entries
(wildcards included); the first is the default for no name or an
unknown one.  A plain and a TLS listener side by side."""

import asyncio
import ssl

from harness import OP_TEXT, RawClient, free_port, ws_connect
from tlsutil import TLSGatewayTest, der


class SNI(TLSGatewayTest):

    def setUp(self):
        super().setUp()
        # a: exact names; b: a wildcard (RSA, so both key types are
        # served); c: an exact name under b's wildcard
        self.a = self.pki.leaf(["a.test", "www.a.test"], tag="a")
        self.b = self.pki.leaf(["*.b.test"], key_type="rsa", tag="b")
        self.c = self.pki.leaf(["c.b.test"], tag="c")
        self.echo = self.start_echo()
        self.routes = [{"path": "/echo", "backend": self.echo,
                        "framing": "line"}]
        certs = [{"cert": p[0], "key": p[1]} for p in (self.a, self.b,
                                                       self.c)]
        self.gw = self.start_tls_gateway(self.routes,
                                         {"certificates": certs},
                                         workers=2, log_level="debug")

    def peer(self, name, verify=True):
        if verify:
            ctx = self.pki.client_context()
        else:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        c = self.tls_raw(self.gw, ctx, server_hostname=name)
        return c

    def test_names_pick_certificates(self):
        cases = [("a.test", self.a), ("WWW.A.test", self.a),
                 ("x.b.test", self.b), ("c.b.test", self.c),
                 ("C.B.TEST", self.c)]
        for name, want in cases:
            with self.subTest(name=name):
                c = self.peer(name)     # verified against name by Python
                self.assertEqual(c.peer_der(), der(want[0]))
                c.handshake("/echo")
                c.send_text(name)
                self.assertEqual(c.recv_message(), (OP_TEXT,
                                                    name.encode()))
                c.close()
        self.wait_log(self.gw, r"TLS \S+ \S+ sni=x\.b\.test cert=\S+/b\.pem")

    def test_default_certificate(self):
        # unknown names, names a wildcard does not cover, and no SNI at
        # all (an IP address is not sent as server_name) get the first
        for name in ("unknown.test", "b.test", "y.x.b.test", "127.0.0.1"):
            with self.subTest(name=name):
                c = self.peer(name, verify=False)
                self.assertEqual(c.peer_der(), der(self.a[0]))
                c.close()
        ctx = self.pki.client_context()
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.tls_raw(self.gw, ctx, server_hostname="b.test")

    def test_websockets_client(self):
        async def run(name, want):
            async with ws_connect(self.gw.wss(),
                                  ssl=self.pki.client_context(),
                                  server_hostname=name) as ws:
                obj = ws.transport.get_extra_info("ssl_object")
                self.assertEqual(obj.getpeercert(binary_form=True),
                                 der(want[0]))
                await ws.send("hi " + name)
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5),
                                 "hi " + name)
        self.run_async(run("a.test", self.a))
        self.run_async(run("q.b.test", self.b))


class PlainBeside(TLSGatewayTest):

    def test_plain_and_tls_listeners(self):
        a = self.pki.leaf(["a.test"])
        echo = self.start_echo()
        plain = free_port()
        gw = self.start_tls_gateway(
            [{"path": "/echo", "backend": echo, "framing": "line"}],
            {"cert": a[0], "key": a[1]},
            extra_listen=[{"address": "127.0.0.1", "port": plain}])
        c = self.tls_raw(gw)
        c.handshake("/echo")
        c.send_text("tls")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"tls"))
        p = RawClient(plain)
        self.addCleanup(p.close)
        p.handshake("/echo")
        p.send_text("plain")
        self.assertEqual(p.recv_message(), (OP_TEXT, b"plain"))
