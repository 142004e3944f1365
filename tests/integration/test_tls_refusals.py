"""wss:// refusals and deadlines: TLS 1.1 and below refused (and 1.2
with min_version TLSv1.3); no shared cipher; ALPN without http/1.1; a
client that does not trust the certificate; plain HTTP sent to the TLS
port (a plain-text 400, no crash, no descriptor leak); a client that
stalls mid-handshake is cut at handshake_timeout_ms, a deadline that
the TLS handshake and the upgrade request share.  Each failure is
logged with the client's address and the reason."""

import re
import socket
import ssl
import time

from harness import RawClient
from tlsutil import TLSGatewayTest, client_hello, s_client


class TLSRefusals(TLSGatewayTest):

    def setUp(self):
        super().setUp()
        self.cert, self.key = self.pki.leaf(["a.test"])
        self.tls = {"cert": self.cert, "key": self.key}
        self.echo = self.start_echo()
        self.routes = [{"path": "/echo", "backend": self.echo,
                        "framing": "line"}]

    def assert_works(self, gw):
        c = self.tls_raw(gw)
        c.handshake("/echo")
        c.send_text("still here")
        self.assertEqual(c.recv_message()[1], b"still here")
        c.close()

    def test_old_versions_refused(self):
        gw = self.start_tls_gateway(self.routes, self.tls)
        # a control: the same client with TLS 1.2 gets through
        rc, out = s_client(gw.port, ["-tls1_2", "-servername", "a.test",
                                     "-CAfile", self.pki.ca])
        self.assertIn("Verify return code: 0 (ok)", out)
        for flag, name in (("-tls1_1", "TLSv1.1"), ("-tls1", "TLSv1.0")):
            with self.subTest(version=name):
                start = len(gw.log())
                rc, out = s_client(gw.port, [flag, "-cipher",
                                             "DEFAULT:@SECLEVEL=0"])
                self.assertNotEqual(rc, 0, "%s accepted:\n%s" % (name, out))
                self.assertRegex(out, r"alert protocol version|"
                                 r"unsupported protocol")
                self.wait_log(gw, r"#\d+ 127\.0\.0\.1:\d+: TLS handshake "
                              r"failed: unsupported protocol \(the client "
                              r"offers %s at most" % name.replace(".",
                                                                  r"\."),
                              start=start)
        # Python's own client, capped at TLS 1.1
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with socket.create_connection(("127.0.0.1", gw.port), 5) as s:
            with self.assertRaises(ssl.SSLError):
                ctx.wrap_socket(s, server_hostname="a.test")
        self.assert_works(gw)

    def test_min_version_13(self):
        gw = self.start_tls_gateway(self.routes, dict(self.tls,
                                                      min_version="TLSv1.3"))
        ctx = self.pki.client_context(maximum_version=ssl.TLSVersion.TLSv1_2)
        with socket.create_connection(("127.0.0.1", gw.port), 5) as s:
            with self.assertRaises(ssl.SSLError):
                ctx.wrap_socket(s, server_hostname="a.test")
        self.wait_log(gw, r"TLS handshake failed: unsupported protocol")
        c = self.tls_raw(gw)
        self.assertEqual(c.sock.version(), "TLSv1.3")

    def test_no_shared_cipher(self):
        gw = self.start_tls_gateway(self.routes, self.tls)
        # a static-RSA cipher: never in the default list
        rc, out = s_client(gw.port, ["-tls1_2", "-cipher", "AES128-SHA"])
        self.assertNotEqual(rc, 0)
        self.wait_log(gw, r"#\d+ 127\.0\.0\.1:\d+: TLS handshake failed: "
                      r"no shared cipher")
        self.assert_works(gw)

    def test_configured_ciphers(self):
        gw = self.start_tls_gateway(self.routes, dict(
            self.tls, ciphers="ECDHE-ECDSA-CHACHA20-POLY1305",
            ciphersuites="TLS_CHACHA20_POLY1305_SHA256"))
        for ver, want in ((ssl.TLSVersion.TLSv1_2,
                           "ECDHE-ECDSA-CHACHA20-POLY1305"),
                          (ssl.TLSVersion.TLSv1_3,
                           "TLS_CHACHA20_POLY1305_SHA256")):
            c = self.tls_raw(gw, self.pki.client_context(
                maximum_version=ver))
            self.assertEqual(c.sock.cipher()[0], want)
        rc, out = s_client(gw.port, ["-tls1_2", "-cipher",
                                     "ECDHE-ECDSA-AES128-GCM-SHA256"])
        self.assertNotEqual(rc, 0)
        self.wait_log(gw, r"no shared cipher")

    def test_alpn_without_http11(self):
        gw = self.start_tls_gateway(self.routes, self.tls)
        ctx = self.pki.client_context()
        ctx.set_alpn_protocols(["h2"])
        with socket.create_connection(("127.0.0.1", gw.port), 5) as s:
            with self.assertRaises(ssl.SSLError) as cm:
                ctx.wrap_socket(s, server_hostname="a.test")
        self.assertIn("no application protocol", str(cm.exception))
        self.wait_log(gw, r"TLS handshake failed: no application protocol")
        self.assert_works(gw)

    def test_untrusted_certificate_logged(self):
        gw = self.start_tls_gateway(self.routes, self.tls)
        ctx = ssl.create_default_context()     # the system CAs only
        with socket.create_connection(("127.0.0.1", gw.port), 5) as s:
            with self.assertRaises(ssl.SSLCertVerificationError):
                ctx.wrap_socket(s, server_hostname="a.test")
        self.wait_log(gw, r"127\.0\.0\.1:\d+: TLS handshake failed: .*"
                      r"\(the client does not accept the certificate\) "
                      r"sni=a\.test")

    def test_plain_http_to_tls_port(self):
        gw = self.start_tls_gateway(self.routes, self.tls)
        self.assert_works(gw)
        base = gw.nfds()
        for i in range(30):
            c = RawClient(gw.port)
            try:
                c.send(b"GET /echo HTTP/1.1\r\nHost: a.test\r\n"
                       b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       b"Sec-WebSocket-Version: 13\r\n\r\n")
                r = c.read_response()
                if i == 0:
                    self.assertRefused(r, c, 400)
                    self.assertIn(b"TLS", r.body)
                    self.assertEqual(r.header("content-type"),
                                     "text/plain; charset=utf-8")
                else:
                    self.assertEqual(r.status, 400)
                    c.read_all(3)
            finally:
                c.close()
        self.wait_log(gw, r"#\d+ 127\.0\.0\.1:\d+: 400 Bad Request: plain "
                      r"HTTP sent to a TLS port")
        # every descriptor of those 30 connections is given back
        self.assertTrue(self.wait_nfds(gw, base),
                        "descriptors: %s before, %s after"
                        % (base, gw.nfds()))
        self.assertTrue(gw.alive())
        self.assert_works(gw)

    def wait_nfds(self, gw, base, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if gw.nfds() <= base:
                return True
            time.sleep(0.05)
        return False

    def test_garbage_to_tls_port(self):
        gw = self.start_tls_gateway(self.routes, self.tls)
        c = RawClient(gw.port)
        c.send(b"\x00\x01\x02\x03\x04 not TLS at all\r\n\r\n")
        self.assertTrue(c.wait_closed(3))
        self.wait_log(gw, r"TLS handshake failed: wrong version number")
        self.assert_works(gw)

    def test_stall_mid_handshake(self):
        gw = self.start_tls_gateway(self.routes, self.tls,
                                    limits={"handshake_timeout_ms": 700})
        hello = client_hello()
        # half a ClientHello; a whole one and then nothing more
        for part in (hello[:len(hello) // 2], hello):
            with self.subTest(sent=len(part)):
                t0 = time.monotonic()
                c = RawClient(gw.port)
                c.send(part)
                self.assertTrue(c.wait_closed(3), "not cut at the timeout")
                took = time.monotonic() - t0
                self.assertGreater(took, 0.5, "cut before the timeout")
                self.assertLess(took, 1.6, "cut long after the timeout")
                c.close()
        self.wait_log(gw, r"#\d+ 127\.0\.0\.1:\d+: TLS handshake timeout")
        self.assertEqual(len(re.findall(
            r"TLS handshake timeout", gw.log())), 2)
        self.assert_works(gw)

    def test_one_deadline_for_tls_and_http(self):
        # the TLS handshake starts 0.5 s after accept, the request head
        # never ends: the 408 comes 1 s after accept, not after the
        # handshake
        gw = self.start_tls_gateway(self.routes, self.tls,
                                    limits={"handshake_timeout_ms": 1000})
        t0 = time.monotonic()
        s = socket.create_connection(("127.0.0.1", gw.port), 5)
        time.sleep(0.5)
        ctx = self.pki.client_context()
        t = ctx.wrap_socket(s, server_hostname="a.test")
        self.addCleanup(t.close)
        t.sendall(b"GET /echo HTTP/1.1\r\nHost: a.test\r\n")
        t.settimeout(3)
        data = b""
        try:
            while True:
                b = t.recv(4096)
                if not b:
                    break
                data += b
        except (ssl.SSLError, OSError):
            pass
        took = time.monotonic() - t0
        self.assertTrue(data.startswith(b"HTTP/1.1 408 "), data[:100])
        self.assertGreater(took, 0.9)
        self.assertLess(took, 1.4, "the deadline restarted after TLS")
        self.wait_log(gw, r"408 Request Timeout: handshake timeout")

    def test_http_refusal_over_tls(self):
        # a refusal inside TLS: the answer, close_notify, then the FIN
        gw = self.start_tls_gateway(self.routes, self.tls)
        c = self.tls_raw(gw)
        r = c.handshake("/nope", expect=404)
        self.assertTrue(r.has_token("connection", "close"))
        c.sock.settimeout(3)
        self.assertEqual(c.sock.recv(100), b"")     # close_notify
        raw = c.sock.unwrap()
        self.assertEqual(raw.recv(100), b"")        # then the FIN
        raw.close()
        self.wait_log(gw, r"#\d+ 127\.0\.0\.1:\d+: 404 Not Found")
