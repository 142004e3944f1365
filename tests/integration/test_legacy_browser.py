"""A real browser: headless Chromium (Debian `chromium`, driven over the
DevTools protocol on a pipe by tests/browser/cdp.py) loads a page from a
loopback HTTP server and, from that page's script, opens WebSockets
through wsgated with `new WebSocket(url, ["chat.v2", "chat.v1"])`:
checks ws.protocol, echoes text and binary messages, sees the close
codes of a backend close and of its own; and sees the failures a
browser reports for no acceptable subprotocol and a wrong origin.  The
same cases run over ws:// and over wss:// with a throwaway CA.

One Chromium for the whole file (it is the heavy part).  Without
chromium the test is skipped with a message saying so.
"""

import http.server
import json
import os
import subprocess
import sys
import threading
import unittest

from harness import (GatewayTest, REC_CLOSE, REC_TEXT, close_record,
                     free_port, frame_record, handler_echo, parse_records,
                     tail, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER_DIR = os.path.join(os.path.dirname(HERE), "browser")
sys.path.insert(0, BROWSER_DIR)

import cdp  # noqa: E402

TLS_NAME = "wsgate.test"        # mapped to 127.0.0.1 for Chromium only


def handler_frame_echo(c, backend):
    """chat.v2's backend (frame framing): echoes each record; answers
    the text "bye" with a close record 4000 "bye"."""
    buf = b""
    while True:
        b = c.recv_into_record()
        if not b:
            return
        buf += b
        recs, buf = parse_records(buf)
        for t, payload in recs:
            if t == REC_CLOSE:
                continue
            if t == REC_TEXT and payload == b"bye":
                c.send(close_record(4000, "bye"))
            else:
                c.send(frame_record(t, payload))


class PageServer:
    """tests/browser/page.html on http://127.0.0.1:PORT/."""

    def __init__(self):
        page = open(os.path.join(BROWSER_DIR, "page.html"), "rb").read()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = page if self.path == "/" else b"not found\n"
                self.send_response(200 if self.path == "/" else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def spki_sha256_b64(cert, cwd):
    """base64(SHA-256(SubjectPublicKeyInfo)) of cert, for Chromium's
    --ignore-certificate-errors-spki-list."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey",
                          "-noout"], capture_output=True, check=True,
                         cwd=cwd).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"],
                         input=pub, capture_output=True, check=True).stdout
    import base64
    import hashlib
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Browser(GatewayTest):

    def setUp(self):
        super().setUp()
        self.exe = cdp.find_chromium()
        if self.exe is None:
            raise unittest.SkipTest("chromium not installed, browser test "
                                    "skipped (apt-get install chromium)")
        self.v2 = self.start_backend(handler_frame_echo, "v2.sock")
        self.v1 = self.start_backend(handler_echo, "v1.sock")
        self.page = PageServer()
        self.addCleanup(self.page.stop)
        self.origin = "http://127.0.0.1:%d" % self.page.port

        from tlsutil import PKI
        self.pki = PKI(self.path("pki"))
        cert, key = self.pki.leaf([TLS_NAME])
        self.spki = spki_sha256_b64(cert, self.tmp)

        subprotos = [
            {"name": "chat.v2", "backend": self.v2.path, "framing": "frame"},
            {"name": "chat.v1", "backend": self.v1.path, "framing": "line"}]
        routes = [
            {"path": "/chat", "subprotocols": subprotos,
             "origins": [self.origin]},
            {"path": "/private", "subprotocols": subprotos,
             "origins": ["https://example.com"]}]
        self.port, self.tls_port = free_port(), free_port()
        conf = self.make_config(routes, listen=[
            {"address": "127.0.0.1", "port": self.port},
            {"address": "127.0.0.1", "port": self.tls_port,
             "tls": {"cert": cert, "key": key}}])
        self.gw = self.start_gateway(conf=conf, port=self.port)

    def cases(self, base):
        return [
            # 0: both offered, config order picks chat.v2 (frame: types
            # survive); the backend closes with 4000
            {"url": base + "/chat", "protocols": ["chat.v2", "chat.v1"],
             "send": ["hello", [0, 1, 2, 254, 255], "h\u00e9llo \u2603"],
             "last": "bye"},
            # 1: only chat.v1 (line); the page closes with 1000
            {"url": base + "/chat", "protocols": ["chat.v1"],
             "send": ["one line"], "then": "close"},
            # 2: nothing acceptable: 400, the browser reports an error
            {"url": base + "/chat", "protocols": ["chat.v9"]},
            # 3: the page's origin is not allowed: 403
            {"url": base + "/private", "protocols": ["chat.v2"]},
        ]

    def check_results(self, res, scheme):
        ok, v1, noproto, origin = res
        self.assertEqual(ok["events"], ["open", "close"], ok)
        self.assertEqual(ok["protocol"], "chat.v2")
        self.assertEqual(ok["extensions"], "")
        self.assertEqual(ok["echo"], [
            {"type": "text", "data": "hello"},
            {"type": "binary", "data": [0, 1, 2, 254, 255]},
            {"type": "text", "data": "h\u00e9llo \u2603"}])
        self.assertEqual(ok["close"], {"code": 4000, "reason": "bye",
                                       "clean": True}, scheme)

        self.assertEqual(v1["protocol"], "chat.v1")
        self.assertEqual(v1["echo"], [{"type": "text", "data": "one line"}])
        # the gateway answers the page's close with the same code (the
        # reason is the gateway's own, empty)
        self.assertEqual((v1["close"]["code"], v1["close"]["clean"]),
                         (1000, True), scheme)

        for r in (noproto, origin):
            # what a page sees of a refused handshake: error, then 1006
            self.assertEqual(r["events"], ["error", "close"], r)
            self.assertEqual(r["close"]["code"], 1006, r)
            self.assertFalse(r["close"]["clean"], r)

    def test_browser(self):
        udd = self.path("chromium-profile")
        os.mkdir(udd)
        browser = cdp.Chromium(self.exe, udd, extra_flags=[
            "--host-resolver-rules=MAP %s 127.0.0.1" % TLS_NAME,
            "--ignore-certificate-errors-spki-list=" + self.spki],
            log_path=self.path("chromium.log"))
        self.addCleanup(browser.close)
        try:
            session = browser.open_page(self.origin + "/",
                                        "window.testsReady === true")
            base = "ws://127.0.0.1:%d" % self.port
            tls_base = "wss://%s:%d" % (TLS_NAME, self.tls_port)
            res = json.loads(browser.evaluate(session, "runTests(%s)"
                                              % json.dumps(self.cases(base))))
            tls_res = json.loads(browser.evaluate(
                session, "runTests(%s)" % json.dumps(self.cases(tls_base))))
        except cdp.CDPError as e:
            self.fail("%s\nchromium log:\n%s" % (e, tail(self.path(
                "chromium.log"))))
        self.check_results(res, "ws")
        self.check_results(tls_res, "wss")

        # the gateway saw the same: the refusals, with the browser's origin
        log = self.gw.log()
        self.assertEqual(log.count("400 Bad Request"), 2, log)
        self.assertEqual(log.count("403 Forbidden"), 2, log)
        self.assertTrue(wait_for(lambda: self.gw.log().count(
            "closed route=/chat") == 4, 5.0), self.gw.log_tail())
        self.assertIn("subprotocol=chat.v2", log)
