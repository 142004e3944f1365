"""A real browser: headless Chromium (Debian `chromium`, driven by
playwright-core from npm through tests/browser/run.mjs, with
executablePath /usr/bin/chromium and no browser download) loads a page
from a loopback HTTP server and, from that page's script, opens
WebSockets through wsgated with `new WebSocket(url, ["chat.v2",
"chat.v1"])`: checks ws.protocol, echoes text and binary messages, sees
the close codes of a backend close and of its own; and sees the
failures a browser reports for no acceptable subprotocol and a wrong
origin.  The same cases run over ws:// and over wss:// with a throwaway
CA.

One Chromium for the whole file (it is the heavy part).  Without
chromium, node or tests/browser/node_modules (`npm ci` there; make
check runs it through tests/deps.sh) the test is skipped with a message
saying which.
"""

import http.server
import json
import os
import shutil
import subprocess
import threading
import unittest

from harness import (GatewayTest, REC_CLOSE, REC_TEXT, close_record,
                     free_port, frame_record, handler_echo, parse_records,
                     tail, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER_DIR = os.path.join(os.path.dirname(HERE), "browser")
RUNNER = os.path.join(BROWSER_DIR, "run.mjs")

TLS_NAME = "wsgate.test"        # mapped to 127.0.0.1 for Chromium only


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name, path="/usr/bin:/usr/local/bin:/bin")
        if p:
            return p
    return None


def browser_missing():
    """Why the browser test cannot run here, or None."""
    if find_chromium() is None:
        return ("chromium not installed, browser test skipped "
                "(apt-get install chromium)")
    if shutil.which("node") is None:
        return ("node not installed, browser test skipped "
                "(apt-get install nodejs npm)")
    if not os.path.isfile(os.path.join(BROWSER_DIR, "node_modules",
                                       "playwright-core", "package.json")):
        return ("tests/browser/node_modules/playwright-core missing, "
                "browser test skipped (cd tests/browser && npm ci)")
    return None


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
        why = browser_missing()
        if why is not None:
            raise unittest.SkipTest(why)
        self.exe = find_chromium()
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

    def run_browser(self, runs):
        """tests/browser/run.mjs: one Chromium loads the page and runs
        each set of cases; their results by name."""
        job = {"executablePath": self.exe, "page": self.origin + "/",
               "args": ["--host-resolver-rules=MAP %s 127.0.0.1" % TLS_NAME,
                        "--ignore-certificate-errors-spki-list=" +
                        self.spki],
               "runs": runs}
        home = self.path("home")
        os.mkdir(home)
        # DEBUG=pw:browser: Chromium's own output goes to the log too;
        # its throwaway profile lands under TMPDIR, removed with the rest
        env = dict(os.environ, HOME=home, TMPDIR=home,
                   DEBUG="pw:browser")
        log_path = self.path("browser.log")
        with open(log_path, "wb") as log:
            try:
                p = subprocess.run(["node", RUNNER], cwd=BROWSER_DIR,
                                   input=json.dumps(job).encode(),
                                   stdout=subprocess.PIPE, stderr=log,
                                   env=env, timeout=120)
            except subprocess.TimeoutExpired:
                self.fail("run.mjs timed out\nbrowser log:\n%s"
                          % tail(log_path))
        try:
            out = json.loads(p.stdout)
        except ValueError:
            out = {"error": "no JSON from run.mjs (exit %d): %r"
                   % (p.returncode, p.stdout[-500:])}
        if p.returncode != 0 or "error" in out:
            self.fail("%s\npage console: %s\nbrowser log:\n%s"
                      % (out.get("error"), out.get("console"),
                         tail(log_path)))
        return out["runs"]

    def test_browser(self):
        base = "ws://127.0.0.1:%d" % self.port
        tls_base = "wss://%s:%d" % (TLS_NAME, self.tls_port)
        runs = self.run_browser({"ws": self.cases(base),
                                 "wss": self.cases(tls_base)})
        res, tls_res = runs["ws"], runs["wss"]
        self.check_results(res, "ws")
        self.check_results(tls_res, "wss")

        # the gateway saw the same: the refusals, with the browser's origin
        log = self.gw.log()
        self.assertEqual(log.count("400 Bad Request"), 2, log)
        self.assertEqual(log.count("403 Forbidden"), 2, log)
        self.assertTrue(wait_for(lambda: self.gw.log().count(
            "closed route=/chat") == 4, 5.0), self.gw.log_tail())
        self.assertIn("subprotocol=chat.v2", log)
