"""Helpers for the test_legacy_* tests: real services from Debian
packages (redis-server, memcached, haproxy), each started by the test on
paths of its temporary directory with a config of its own, and torn down
by the test's cleanups.  A missing package skips the test with the
apt-get command that installs it (.ci/run installs them all).

Also a client-side reader that turns the messages of a `line`-framed
Redis route back into RESP replies, as the example config and
wsgated.conf(5) describe.
"""

import os
import shutil
import signal
import subprocess
import unittest

from harness import stop_process, tail, wait_port, wait_unix


def need(prog, package):
    """The path of prog, or skip the test naming the package."""
    path = shutil.which(prog, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        raise unittest.SkipTest("%s not installed (apt-get install %s)"
                                % (prog, package))
    return path


def start_redis(test, name="redis"):
    """redis-server on a Unix socket only (port 0), no persistence.
    Returns the socket path."""
    exe = need("redis-server", "redis-server")
    sock = test.path(name + ".sock")
    conf = test.path(name + ".conf")
    log = test.path(name + ".log")
    with open(conf, "w") as f:
        f.write("port 0\n"
                "unixsocket %s\n"
                "unixsocketperm 700\n"
                "daemonize no\n"
                "supervised no\n"
                'save ""\n'
                "appendonly no\n"
                "dir %s\n"
                "logfile %s\n"
                "databases 2\n"
                "protected-mode no\n" % (sock, test.tmp, log))
    p = subprocess.Popen([exe, conf], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    test.addCleanup(stop_process, p, 5.0)
    if not wait_unix(sock, 10.0, p):
        test.fail("redis-server did not start on %s:\n%s" % (sock, tail(log)))
    return sock


def start_memcached(test, name="memcached"):
    """memcached on a Unix socket only (-s: no TCP, no UDP).  Returns the
    socket path."""
    exe = need("memcached", "memcached")
    sock = test.path(name + ".sock")
    log = test.path(name + ".log")
    argv = [exe, "-s", sock, "-a", "0700", "-m", "16", "-c", "64", "-t", "1"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]      # it refuses to run as root otherwise
    out = open(log, "wb")
    test.addCleanup(out.close)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=out)
    # SIGTERM makes it linger a second (its clock thread); a throwaway
    # cache can be stopped at once
    test.addCleanup(stop_process, p, 5.0, signal.SIGKILL)
    if not wait_unix(sock, 10.0, p):
        test.fail("memcached did not start on %s:\n%s" % (sock, tail(log)))
    return sock


def start_haproxy(test, cfg_text, port, name="haproxy"):
    """haproxy -db (foreground) with cfg_text; waits for 127.0.0.1:port."""
    exe = need("haproxy", "haproxy")
    cfg = test.path(name + ".cfg")
    log = test.path(name + ".log")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    out = open(log, "wb")
    test.addCleanup(out.close)
    p = subprocess.Popen([exe, "-db", "-f", cfg], stdin=subprocess.DEVNULL,
                         stdout=out, stderr=out)
    test.addCleanup(stop_process, p, 5.0)
    if not wait_port("127.0.0.1", port, 10.0, p):
        test.fail("haproxy did not listen on %d:\n%s" % (port, tail(log)))
    return p


class RespReader:
    """Reads RESP replies from a `line`-framed Redis route: each message
    is one line of the reply.  recv() is an async callable returning the
    next message (str).  A bulk value containing "\\n" arrives as several
    messages; they are joined with "\\n" until the announced length is
    reached."""

    def __init__(self, recv):
        self.recv = recv

    async def reply(self):
        line = await self.recv()
        kind, rest = line[:1], line[1:]
        if kind == "+":
            return rest
        if kind == "-":
            return RespError(rest)
        if kind == ":":
            return int(rest)
        if kind == "$":
            n = int(rest)
            if n < 0:
                return None
            value = await self.recv()
            while len(value.encode()) < n:
                value += "\n" + await self.recv()
            if len(value.encode()) != n:
                raise AssertionError("bulk of %d bytes announced, got %r"
                                     % (n, value))
            return value
        if kind == "*":
            n = int(rest)
            if n < 0:
                return None
            return [await self.reply() for _ in range(n)]
        raise AssertionError("not a RESP line: %r" % (line,))


class RespError(str):
    """A RESP error reply ("-ERR ..."), kept apart from status replies."""


def start_named_gateway(test, conf, port, name):
    """Another wsgated beside the test's own (GatewayTest.start_gateway
    names its files wsgated.*): conf (a dict) in NAME.conf, its log in
    NAME.log.  Stopped, and its log checked, like the harness's."""
    from harness import WSGATED, Gateway
    conf_path = test.write_config(conf, name + ".conf")
    log_path = test.path(name + ".log")
    log = open(log_path, "wb")
    test.addCleanup(log.close)
    proc = subprocess.Popen([WSGATED, "-c", conf_path],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    gw = Gateway(proc, conf_path, log_path, port)
    test.addCleanup(test._stop_gateway, gw)
    if not wait_port("127.0.0.1", port, 10.0, proc):
        test.fail("%s did not start:\n%s" % (name, gw.log_tail()))
    return gw
