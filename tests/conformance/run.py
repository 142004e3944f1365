#!/usr/bin/python3
"""RFC 6455 / RFC 7692 conformance suite for wsgated.

    WSGATED=./wsgated ECHO_BACKEND=./tests/backends/echo-backend \\
        /usr/bin/python3 tests/conformance/run.py [-v] [PATTERN ...]

Starts the C echo backend and wsgated with a "frame"-mode echo route
(/echo), a compressed one (/deflate) and a second gateway whose
compression window is capped, then drives them with raw sockets through
the case categories of the Autobahn|Testsuite fuzzing client (cases.py
has them, each with its expected behaviour).  A PATTERN runs the cases
whose id or category starts with it.  Prints one line per failed case and
a per-category table; exits non-zero if any case failed.

Outcomes, as in Autobahn: OK (exactly the expected behaviour),
NON-STRICT (the expected behaviour, except that echoes of messages sent
just before the connection was failed or closed did not come back: the
gateway relays through a backend, so such echoes may still be on their
way when it closes) and FAILED.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import wsclient  # noqa: E402  (sets up the harness import path)
from harness import (SANITIZER_RE, free_port, libconfig,  # noqa: E402
                     stop_process, wait_port, wait_unix)
from wsclient import (OP_CLOSE, Closed, Conn, PMD, RawClient,  # noqa: E402
                      Received, build_frame, close_payload, now,
                      parse_extensions)
import cases as casedefs  # noqa: E402

MAX_MESSAGE = 16 * 1024 * 1024

OK, NON_STRICT, FAILED = "OK", "NON-STRICT", "FAILED"


class Gate:
    """One running wsgated with its config and log."""

    def __init__(self, tmp, name, conf):
        self.name = name
        self.port = conf["listen"][0]["port"]
        self.conf_path = os.path.join(tmp, name + ".conf")
        self.log_path = os.path.join(tmp, name + ".log")
        with open(self.conf_path, "w") as f:
            f.write(libconfig(conf))
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [os.environ["WSGATED"], "-c", self.conf_path],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        if not wait_port("127.0.0.1", self.port, 10.0, self.proc):
            raise RuntimeError("%s did not start:\n%s"
                               % (name, self.log_text()[-3000:]))

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        alive = self.proc.poll() is None
        rc, killed = stop_process(self.proc, 5.0)
        self.log.close()
        problems = []
        if not alive:
            problems.append("%s exited during the run (status %s)"
                            % (self.name, rc))
        if killed:
            problems.append("%s ignored SIGTERM" % self.name)
        m = SANITIZER_RE.search(self.log_text())
        if m:
            problems.append("sanitizer report in %s's log:\n%s" % (
                self.name, self.log_text()[max(0, m.start() - 200):][:3000]))
        return problems


class Suite:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="wsgate-conf-")
        self.procs = []
        self.gates = {}

    def start(self):
        sock = os.path.join(self.tmp, "echo.sock")
        self.echo_log = open(os.path.join(self.tmp, "echo.log"), "wb")
        echo = subprocess.Popen([os.environ["ECHO_BACKEND"], sock],
                                stdin=subprocess.DEVNULL,
                                stdout=self.echo_log, stderr=self.echo_log)
        self.procs.append(echo)
        if not wait_unix(sock, 5.0, echo):
            raise RuntimeError("echo backend did not start")
        routes = [
            {"path": "/echo", "backend": sock, "framing": "frame"},
            {"path": "/deflate", "backend": sock, "framing": "frame",
             "compression": True},
            {"path": "/line", "backend": sock, "framing": "line"},
            {"path": "/origin", "backend": sock, "framing": "frame",
             "origins": ["https://good.example"]},
            {"path": "/sub", "framing": "frame",
             "subprotocols": [{"name": "chat.v2", "backend": sock}]},
        ]
        base = {"workers": 2, "routes": routes}
        lim = {"max_message_size": MAX_MESSAGE, "close_timeout_ms": 2000,
               "ping_interval_ms": 0, "compression_min_size": 0}
        conf = dict(base, listen=[{"address": "127.0.0.1",
                                   "port": free_port()}], limits=lim)
        self.gates["main"] = Gate(self.tmp, "wsgated-main", conf)
        # a gateway whose compression memory is capped to a 1 KiB window
        lim2 = dict(lim, compression_window_bits=10,
                    compression_min_size=32, compression_level=1)
        conf2 = dict(base, listen=[{"address": "127.0.0.1",
                                    "port": free_port()}], limits=lim2)
        self.gates["small"] = Gate(self.tmp, "wsgated-small", conf2)

    def stop(self):
        problems = []
        for g in self.gates.values():
            problems += g.stop()
        for p in self.procs:
            stop_process(p, 3.0)
        self.echo_log.close()
        if os.environ.get("KEEP_TMP"):
            print("logs kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, True)
        return problems

    def port(self, gate="main"):
        return self.gates[gate].port

    def connect(self, path="/echo", gate="main", offer=None, expect=101):
        """A raw client after the handshake; Conn with a PMD if the
        gateway agreed to permessage-deflate."""
        c = RawClient(self.port(gate))
        if isinstance(offer, str):
            offer = [offer]
        extra = [("Sec-WebSocket-Extensions", o) for o in offer or []]
        r = c.handshake(path, expect=expect, extra=extra)
        pmd = None
        exts = parse_extensions(r.header("sec-websocket-extensions"))
        if exts:
            if len(exts) != 1 or exts[0][0] != "permessage-deflate":
                raise AssertionError("unexpected extensions %r" % exts)
            pmd = PMD(exts[0][1])
        return Conn(c, r, pmd)


# ---------------------------------------------------------------------------
# Running one case

def plan(steps, chop):
    """The steps as send units: consecutive byte strings joined (whole),
    one per frame (frame), one per byte (octet) or cut every N bytes."""
    out, pending = [], []

    def flush():
        if not pending:
            return
        data = b"".join(pending)
        pending.clear()
        if chop == "whole":
            out.append(data)
        elif chop == "octet":
            out.extend(data[i:i + 1] for i in range(len(data)))
        elif isinstance(chop, int):
            out.extend(data[i:i + chop] for i in range(0, len(data), chop))
        else:
            raise ValueError(chop)

    for s in steps:
        if isinstance(s, (bytes, bytearray)):
            if chop == "frame":
                out.append(bytes(s))
            else:
                pending.append(bytes(s))
        else:
            flush()
            out.append(s)
    flush()
    return out


def collect(conn, got, until, deadline):
    """Read frames into got until until(got) or a close frame; raises
    Closed if the TCP connection ends first, socket.timeout at the
    deadline."""
    while not until(got) and got.close is None:
        left = deadline - now()
        if left <= 0:
            raise socket.timeout()
        fin, rsv, op, p = conn.recv_frame(left)
        got.feed(conn, fin, rsv, op, p)


def run_case(suite, case):
    """(outcome, detail)."""
    if case.custom is not None:
        case.custom(suite)
        return OK, ""
    conn = suite.connect(case.path, case.gate, case.offer)
    if case.need_pmd and conn.pmd is None:
        raise AssertionError("permessage-deflate was not agreed for offer "
                             "%r" % case.offer)
    try:
        return drive(conn, case)
    finally:
        conn.c.close()


def drive(conn, case):
    got = Received()
    steps = case.steps(conn) if callable(case.steps) else case.steps
    deadline = now() + case.timeout
    exp_msgs = case.msgs(conn) if callable(case.msgs) else case.msgs
    for unit in plan(steps, case.chop):
        if unit is casedefs.SYNC_CLOSE:
            # fail fast: the close must come before the rest is sent
            try:
                collect(conn, got, lambda g: False, now() + 2.0)
            except socket.timeout:
                return FAILED, ("no close within 2 s of the bad byte; the "
                                "gateway waited for more")
            except Closed:
                return FAILED, "TCP closed without a close frame"
            continue
        if isinstance(unit, tuple):
            if unit[0] == "sleep":
                time.sleep(unit[1])
            elif unit[0] == "wait_msgs":
                n = unit[1]
                try:
                    collect(conn, got, lambda g: len(g.msgs) >= n, deadline)
                except (socket.timeout, Closed):
                    break
            continue
        if not conn.pump(unit):
            break
        if case.delay:
            time.sleep(case.delay)

    # What comes back: the messages and pongs, then the close.
    try:
        if case.close is None:
            collect(conn, got, lambda g: len(g.msgs) >= len(exp_msgs) and
                    len(g.pongs) >= len(case.pongs), deadline)
            # nothing unexpected may follow: give it a moment
            try:
                collect(conn, got, lambda g: False, now() + case.settle)
            except socket.timeout:
                pass
            if got.close is None:
                conn.pump(build_frame(OP_CLOSE, close_payload(1000)))
        collect(conn, got, lambda g: False, deadline)
    except socket.timeout:
        return FAILED, "timed out; got %s" % summary(got)
    except Closed:
        return FAILED, ("TCP closed without a close frame; got %s"
                        % summary(got))
    dropped = conn.wait_eof(3.0)

    # Judge.
    problems = list(got.errors)
    want_code = case.close_code()
    if got.close[0] != want_code:
        problems.append("close code %r, expected %r"
                        % (got.close[0], want_code))
    try:
        got.close[1].decode("utf-8")
    except UnicodeDecodeError:
        problems.append("close reason is not UTF-8")
    if not dropped:
        problems.append("gateway did not drop the TCP connection after "
                        "the close")
    if got.pongs != list(case.pongs):
        problems.append("pongs %r, expected %r"
                        % (short(got.pongs), short(case.pongs)))
    msgs = [(op, p) for op, p, _ in got.msgs]
    want = [(op, p) for op, p in exp_msgs]
    outcome = OK
    if msgs != want:
        if case.lossy and msgs == want[:len(msgs)]:
            outcome = NON_STRICT
        else:
            problems.append("messages %s, expected %s"
                            % (short(msgs), short(want)))
    if case.check is not None:
        err = case.check(conn, got)
        if err:
            problems.append(err)
    if problems:
        return FAILED, "; ".join(problems)
    return outcome, ""


def short(x):
    s = repr(x)
    return s if len(s) < 160 else s[:150] + "...(%d chars)" % len(s)


def summary(got):
    return "%d messages, %d pongs, close %r%s" % (
        len(got.msgs), len(got.pongs), got.close,
        ", errors: " + "; ".join(got.errors) if got.errors else "")


# ---------------------------------------------------------------------------

def main(argv):
    verbose = "-v" in argv
    pats = [a for a in argv if a != "-v"]
    for var in ("WSGATED", "ECHO_BACKEND"):
        if not os.environ.get(var):
            sys.stderr.write("run.py: %s is not set\n" % var)
            return 2
        os.environ[var] = os.path.abspath(os.environ[var])

    all_cases = casedefs.all_cases()
    if pats:
        all_cases = [c for c in all_cases if any(
            c.cid.startswith(p) or c.cat.startswith(p) for p in pats)]
    suite = Suite()
    t0 = time.monotonic()
    results = []
    try:
        suite.start()
        for case in all_cases:
            t = time.monotonic()
            try:
                outcome, detail = run_case(suite, case)
            except AssertionError as e:
                outcome, detail = FAILED, str(e)
            except Exception as e:
                outcome, detail = FAILED, "%s: %s" % (
                    type(e).__name__, traceback.format_exc(limit=3)
                    if verbose else e)
            took = time.monotonic() - t
            results.append((case, outcome, detail, took))
            if verbose or outcome == FAILED:
                print("%-10s %-11s %-10s %5.2fs  %s" % (
                    case.cid, case.cat, outcome, took, case.desc))
                if verbose or outcome == FAILED:
                    print("           expect: %s" % case.expectation())
                if detail:
                    print("           -> %s" % detail)
                sys.stdout.flush()
    finally:
        problems = suite.stop()
    took = time.monotonic() - t0

    cats = []
    for case, _, _, _ in results:
        if case.cat not in cats:
            cats.append(case.cat)
    print()
    print("%-22s %6s %6s %11s %7s %8s" % ("category", "cases", "OK",
                                           "NON-STRICT", "FAILED", "time"))
    print("-" * 65)
    tot = [0, 0, 0, 0, 0.0]
    for cat in cats:
        rs = [r for r in results if r[0].cat == cat]
        row = [len(rs), sum(r[1] == OK for r in rs),
               sum(r[1] == NON_STRICT for r in rs),
               sum(r[1] == FAILED for r in rs), sum(r[3] for r in rs)]
        tot = [a + b for a, b in zip(tot, row)]
        print("%-22s %6d %6d %11d %7d %7.1fs" % tuple([cat] + row))
    print("-" * 65)
    print("%-22s %6d %6d %11d %7d %7.1fs" % tuple(["total"] + tot))
    for p in problems:
        print("PROBLEM: %s" % p)
    print("conformance: %d cases, %d failed, in %.1fs"
          % (tot[0], tot[3], took))
    return 0 if tot[3] == 0 and not problems and results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
