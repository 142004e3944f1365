"""A headless Chromium driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: commands on the child's fd 3, replies and
events on its fd 4, each a JSON message ended by a NUL byte).  Just
enough for the browser test: open a page, wait for it, evaluate a
promise.  Python stdlib only; no browser download, no npm.
"""

import fcntl
import json
import os
import select
import shutil
import subprocess
import time

# The launch flags of the brief: no sandbox (root, containers), no GPU,
# no QUIC, and nothing that phones home while the test runs.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-pipe"]


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name, path="/usr/bin:/usr/local/bin:/bin")
        if p:
            return p
    return None


def high_fd(fd):
    """fd moved to a number of at least 10 (close-on-exec)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class CDPError(Exception):
    pass


class Chromium:
    """A running headless Chromium with a fresh profile in user_data_dir."""

    def __init__(self, exe, user_data_dir, extra_flags=(), log_path=None):
        cmd_r, self.cmd_w = os.pipe()       # we write, it reads (fd 3)
        self.out_r, out_w = os.pipe()       # it writes (fd 4), we read
        # Above 3 and 4, so that the dup2()s below cannot clobber them.
        cmd_r, out_w = high_fd(cmd_r), high_fd(out_w)

        def pre():
            os.dup2(cmd_r, 3)
            os.dup2(out_w, 4)

        log = open(log_path or os.devnull, "wb")
        env = dict(os.environ, HOME=user_data_dir)
        self.proc = subprocess.Popen(
            [exe] + FLAGS + ["--user-data-dir=" + user_data_dir] +
            list(extra_flags) + ["about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            close_fds=False, preexec_fn=pre, env=env)
        log.close()
        os.close(cmd_r)
        os.close(out_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=30.0):
        """One command; its result (a dict) or CDPError."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._recv(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise CDPError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def _recv(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("no answer from chromium in time")
            r, _, _ = select.select([self.out_r], [], [], left)
            if not r:
                continue
            b = os.read(self.out_r, 65536)
            if not b:
                raise CDPError("chromium closed the pipe (exit %s)"
                               % self.proc.poll())
            self.buf += b
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def open_page(self, url, ready_expr, timeout=30.0):
        """Attach to the page target, load url, wait until ready_expr is
        true; returns the session id."""
        targets = self.send("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"]
        if page:
            tid = page[0]["targetId"]
        else:
            tid = self.send("Target.createTarget",
                            {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": tid, "flatten": True})["sessionId"]
        self.send("Page.navigate", {"url": url}, session)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(session, ready_expr, timeout=5.0) is True:
                    return session
            except CDPError:
                pass                # the old document went away
            time.sleep(0.05)
        raise CDPError("page %s not ready" % url)

    def evaluate(self, session, expr, timeout=30.0):
        """The value of expr (a promise is awaited), or CDPError."""
        r = self.send("Runtime.evaluate",
                      {"expression": expr, "awaitPromise": True,
                       "returnByValue": True}, session, timeout)
        if "exceptionDetails" in r:
            raise CDPError("exception: %s" % (r["exceptionDetails"],))
        return r["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close", timeout=5.0)
        except (CDPError, OSError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.cmd_w, self.out_r):
            try:
                os.close(fd)
            except OSError:
                pass
