#!/usr/bin/python3
"""make bench: wsgated side by side with a direct WebSocket echo, nginx,
websockify and websocketd.

    /usr/bin/python3 bench/run.py [--quick] [--only NAME,...] [--json FILE]
    BENCH_QUICK=1 make bench          # about a minute instead of under ten

Every setup runs on this machine, its server processes pinned to CPU 0
and wsbench to CPU 1 (taskset), driven by the same wsbench settings:

  wsgated      frame framing to bench-backend (C, epoll byte echo) on a
               Unix socket; one worker
  direct       bench/ws-echo (C, epoll WebSocket echo, one thread) on TCP,
               no backend hop: the upper bound for a gateway on this CPU
  nginx        (Debian package nginx-light) one worker, proxying to ws-echo
               on a Unix socket: one hop, like wsgated
  websockify   (Debian package) --unix-target to the same bench-backend
  websocketd   (Debian package) cat, line mode: text messages
  websocketd   --binary cat

Figures (medians of 3 runs; 1 with --quick): closed-loop echo of 32-byte
and 16 KiB messages over 100 connections (messages/s, MB/s of payload
echoed, p99 round trip); handshakes/s (connect, upgrade, one 32-byte echo,
close; 32 in flight over 16 loopback source addresses); memory per idle
connection: RSS and PSS of the server's whole process tree (gateway,
backend, per-connection processes) before and after opening N idle
connections on a freshly started server, divided by N.  wsgated also gets
one-way flood bandwidth and a 1 vs 2 worker comparison (unpinned).

websockify 0.10 serves connections with select() and fails past about 500,
so its connection counts are capped (the table says so).  websockify,
websocketd and nginx-light are installed with apt-get when missing and
running as root (on a systemd machine Debian then also starts the
packaged nginx service; make bench runs its own nginx beside it, with a
configuration of its own in the temporary directory).
Raw results go to --json FILE (default /tmp/wsgate-bench-TIME.json).
On a machine other work is loading, the rates drop with the share of CPU 0
the servers get (the report says how much others took); the server CPU
per message does not, and --nice N (BENCH_NICE) gives the measured
processes a larger share.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# main() replaces these with copies, so a rebuild of the tree during the
# run (make SANITIZE=1 in another shell) cannot change what is measured.
WSGATED = os.path.join(ROOT, "wsgated")
WSBENCH = os.path.join(ROOT, "bench", "wsbench")
BACKEND = os.path.join(ROOT, "bench", "bench-backend")
WS_ECHO = os.path.join(ROOT, "bench", "ws-echo")

SERVER_CPU = "0"
CLIENT_CPU = "1"
WEBSOCKIFY_CAP = 400        # select() gives out near 500 connections
WSGATED_10K = 9900          # 2 fds per connection under a 20,000 fd limit
# Debian package to install for each anchor's command, in order of choice.
ANCHOR_PACKAGES = {"websockify": ("websockify",),
                   "websocketd": ("websocketd",),
                   "nginx": ("nginx-light", "nginx")}
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# The machine and the processes

def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/etc/debian_version") as f:
            distro = "Debian " + f.read().strip()
    except OSError:
        distro = platform.system()
    try:
        mem_kb = int(open("/proc/meminfo").readline().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "distro": distro,
        "memory_gib": round(mem_kb / 1048576, 1),
        "loadavg_start": os.getloadavg(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%d %H:%M UTC"),
    }


def version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        return out.splitlines()[0] if out else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(roots):
    """roots and all their descendants."""
    kids = children_map()
    out, todo = [], list(roots)
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def mem_kb(pids):
    """(RSS, PSS) summed over pids, in KiB."""
    rss = pss = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except (OSError, ValueError):
            pass
    return rss, pss


def cpu_s(pids):
    """User + system CPU seconds of the live pids (all their threads)."""
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            t += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return t / CLK_TCK


def all_cpu():
    """{pid: user + system ticks} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            out[int(d)] = int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return out


def others_cpu(a, b, ours, seconds):
    """CPUs' worth of time the processes not in ours used between the
    snapshots a and b (processes that lived through both)."""
    t = sum(b[p] - a[p] for p in b if p in a and p not in ours)
    return t / CLK_TCK / seconds


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_unix(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(proc, timeout=5.0):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


NICE = 0    # --nice: run servers and client at this niceness
NGINX = None    # main() finds it


def pinned(cpu, argv):
    pre = ["nice", "-n", str(NICE)] if NICE else []
    return pre + (["taskset", "-c", cpu] if cpu else []) + argv


# ---------------------------------------------------------------------------
# Setups: each starts its server processes and says how to drive them

class Setup:
    name = ""
    label = ""
    wsbench_args = []       # message type and echo checking
    conn_cap = None         # most connections it survives
    has_connect = True
    idle_sizes = ()

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []
        self.port = None

    scheme = "ws"

    def url(self):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, self.path)

    def roots(self):
        return [p.pid for p in self.procs if p.poll() is None]

    def spawn(self, argv, name, cpu=SERVER_CPU):
        logf = open(os.path.join(self.tmp, name + ".log"), "ab")
        p = subprocess.Popen(pinned(cpu, argv),
                             stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=subprocess.STDOUT, cwd=self.tmp)
        logf.close()
        p.bench_name = name
        self.procs.append(p)
        return p

    def mem_by_process(self):
        """{name: (RSS, PSS)} of each started process with its children."""
        return {p.bench_name: mem_kb(tree([p.pid])) for p in self.procs
                if p.poll() is None}

    def start_backend(self):
        self.sock = os.path.join(self.tmp, "echo-%d.sock" % time.monotonic_ns())
        self.spawn([BACKEND, self.sock], "bench-backend",
                   cpu=self.server_cpu)
        if not wait_unix(self.sock):
            raise RuntimeError("bench-backend did not start")

    def stop(self):
        for p in reversed(self.procs):
            stop(p)
        self.procs = []


class Wsgated(Setup):
    name = "wsgated"
    path = "/frame"
    wsbench_args = []
    idle_sizes = (1000, WSGATED_10K)

    def __init__(self, tmp, workers=1, server_cpu=SERVER_CPU):
        super().__init__(tmp)
        self.workers = workers
        self.server_cpu = server_cpu
        self.label = "wsgated %s (frame, C echo backend)" % version(
            [WSGATED, "-V"]).split()[-1]

    def listen_extra(self):
        return ""

    def start(self):
        self.start_backend()
        self.port = free_port()
        conf = os.path.join(self.tmp, "wsgated.conf")
        text = ('listen = ( { address = "127.0.0.1"; port = %d;%s } );\n'
                'workers = %d;\n%s'
                'routes = ( { path = "/frame"; backend = "%s"; '
                'framing = "frame"; } );\n')
        quiet = 'log_level = "warning";\n'
        for extra in (quiet, ""):
            with open(conf, "w") as f:
                f.write(text % (self.port, self.listen_extra(), self.workers,
                                extra, self.sock))
            if subprocess.run([WSGATED, "-t", "-c", conf],
                              capture_output=True).returncode == 0:
                break
        p = self.spawn([WSGATED, "-c", conf], "wsgated", cpu=self.server_cpu)
        if not wait_port(self.port, p):
            raise RuntimeError("wsgated did not start")


class WsgatedTLS(Wsgated):
    """wsgated with a TLS listener (self-signed P-256 certificate)."""
    name = "wsgated-tls"
    scheme = "wss"

    def __init__(self, tmp):
        super().__init__(tmp)
        self.label = self.label.replace("(frame,", "wss:// (TLS, P-256; frame,")
        self.cert = os.path.join(tmp, "cert.pem")
        self.key = os.path.join(tmp, "key.pem")

    def listen_extra(self):
        return ' tls = { cert = "%s"; key = "%s"; };' % (self.cert, self.key)

    def usable(self):
        """Make the certificate; can this wsgated serve TLS?"""
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                            "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                            "-keyout", self.key, "-out", self.cert, "-days",
                            "2", "-subj", "/CN=localhost"],
                           capture_output=True)
        if p.returncode != 0:
            return False
        conf = os.path.join(self.tmp, "tls-check.conf")
        with open(conf, "w") as f:
            f.write('listen = ( { address = "127.0.0.1"; port = 1;%s } );\n'
                    'routes = ( { path = "/"; backend = "/x"; } );\n'
                    % self.listen_extra())
        return subprocess.run([WSGATED, "-t", "-c", conf],
                              capture_output=True).returncode == 0


class Direct(Setup):
    """ws-echo alone on TCP: a WebSocket server with no backend hop."""
    name = "direct"
    path = "/"
    wsbench_args = []
    idle_sizes = (1000, WSGATED_10K)
    server_cpu = SERVER_CPU
    label = "direct: ws-echo (C epoll WebSocket echo, no backend hop)"

    def start(self):
        self.port = free_port()
        p = self.spawn([WS_ECHO, "-p", str(self.port)], "ws-echo")
        if not wait_port(self.port, p):
            raise RuntimeError("ws-echo did not start")


class Nginx(Setup):
    """nginx, one worker, proxying WebSocket to ws-echo on a Unix socket.

    Configured as an operator would for many WebSocket connections:
    HTTP/1.1 to the backend with the Upgrade and Connection headers, no
    access log, no proxy buffering, long proxy timeouts, and enough
    worker_connections for 9,900 proxied connections (2 each, and nginx
    starts dropping connections still in their handshake when fewer than
    1/16 are free).  Everything else is nginx's default."""
    name = "nginx"
    path = "/"
    wsbench_args = []
    idle_sizes = (1000, WSGATED_10K)
    server_cpu = SERVER_CPU
    worker_connections = 32768

    def __init__(self, tmp):
        super().__init__(tmp)
        v = "?"
        try:
            p = subprocess.run([NGINX, "-v"], capture_output=True,
                               text=True, timeout=10)
            v = (p.stderr + p.stdout).strip().split("/")[-1] or "?"
        except (OSError, subprocess.SubprocessError):
            pass
        self.label = "nginx %s (1 worker; proxy to ws-echo, Unix socket)" % v

    def config(self, prefix):
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        return """daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile %(nofile)d;
%(user)spid %(prefix)s/nginx.pid;
error_log stderr warn;
events {
	worker_connections %(wc)d;
}
http {
	access_log off;
	client_body_temp_path %(prefix)s/body;
	proxy_temp_path %(prefix)s/proxy;
	fastcgi_temp_path %(prefix)s/fastcgi;
	uwsgi_temp_path %(prefix)s/uwsgi;
	scgi_temp_path %(prefix)s/scgi;
	upstream ws_echo {
		server unix:%(sock)s;
	}
	server {
		listen 127.0.0.1:%(port)d;
		location / {
			proxy_pass http://ws_echo;
			proxy_http_version 1.1;
			proxy_set_header Upgrade $http_upgrade;
			proxy_set_header Connection "upgrade";
			proxy_buffering off;
			proxy_read_timeout 1h;
			proxy_send_timeout 1h;
		}
	}
}
""" % {"nofile": nofile, "prefix": prefix, "sock": self.sock,
       "port": self.port, "wc": self.worker_connections,
       # the worker must reach the socket in our 0700 directory
       "user": "user root;\n" if os.geteuid() == 0 else ""}

    def start(self):
        self.sock = os.path.join(self.tmp, "ws-%d.sock" % time.monotonic_ns())
        self.spawn([WS_ECHO, "-u", self.sock], "ws-echo")
        if not wait_unix(self.sock):
            raise RuntimeError("ws-echo did not start")
        self.port = free_port()
        prefix = tempfile.mkdtemp(prefix="nginx-", dir=self.tmp)
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(self.config(prefix))
        p = self.spawn([NGINX, "-p", prefix, "-c", conf, "-e", "stderr"],
                       "nginx")
        if not wait_port(self.port, p):
            raise RuntimeError("nginx did not start (see %s)" %
                               os.path.join(self.tmp, "nginx.log"))


class Websockify(Setup):
    name = "websockify"
    path = "/"
    wsbench_args = ["--split"]
    conn_cap = WEBSOCKIFY_CAP
    idle_sizes = (1000,)
    server_cpu = SERVER_CPU

    def __init__(self, tmp):
        super().__init__(tmp)
        v = version(["dpkg-query", "-W", "-f", "${Version}", "websockify"])
        self.label = "websockify %s (--unix-target, C echo)" % v.split("+")[0]

    def start(self):
        self.start_backend()
        self.port = free_port()
        p = self.spawn(["websockify", "--unix-target=" + self.sock,
                        "127.0.0.1:%d" % self.port], "websockify")
        if not wait_port(self.port, p):
            raise RuntimeError("websockify did not start")


class Websocketd(Setup):
    name = "websocketd"
    path = "/"
    wsbench_args = ["--text"]
    binary = False
    idle_sizes = (1000,)

    def __init__(self, tmp, binary=False):
        super().__init__(tmp)
        self.binary = binary
        if binary:
            self.name = "websocketd-binary"
            self.wsbench_args = ["--split"]
        v = version(["dpkg-query", "-W", "-f", "${Version}", "websocketd"])
        self.label = "websocketd %s (cat, %s)" % (
            v.split("-")[0], "--binary" if binary else "line mode, text")

    def start(self):
        self.port = free_port()
        argv = ["websocketd", "--address=127.0.0.1",
                "--port=%d" % self.port, "--loglevel=error"]
        if self.binary:
            argv.append("--binary")
        p = self.spawn(argv + ["cat"], self.name)
        if not wait_port(self.port, p):
            raise RuntimeError("websocketd did not start")


# ---------------------------------------------------------------------------
# Running wsbench

def wsbench(setup, mode, conns, size, seconds, warmup, extra=(),
            client_cpu=CLIENT_CPU):
    """One wsbench run: its JSON result plus the CPU the client and the
    server's processes used, or {"ok": False, "error": ...}."""
    argv = [WSBENCH, "-m", mode, "-c", str(conns), "-s", str(size),
            "-t", str(seconds), "-w", str(warmup), "--json", "-q"]
    argv += setup.wsbench_args + list(extra) + [setup.url()]
    argv = pinned(client_cpu, argv)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    # CPU use inside the measured window: sampled from 20% to 90% of it
    # (connections take a moment to open, so start a little late).
    marks = (warmup + 0.2 + 0.2 * seconds, warmup + 0.2 + 0.9 * seconds)
    samples = []
    pids = None
    for m in marks:
        delay = t0 + m - time.monotonic()
        if delay > 0 and p.poll() is None:
            time.sleep(delay)
        if pids is None:
            # the per-connection processes exist by now
            pids = tree(setup.roots())
        samples.append((time.monotonic(), cpu_s(pids), cpu_s([p.pid]),
                        all_cpu()))
    try:
        out, err = p.communicate(timeout=seconds + warmup + 60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return {"ok": False, "error": "wsbench timed out"}
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {"ok": False, "error": "no result: %s" % err.strip()[-200:]}
    (ta, sa, ca, ba), (tb, sb, cb, bb) = samples
    if res.get("ok") and tb > ta:
        res["server_cpu_frac"] = (sb - sa) / (tb - ta)
        res["client_cpu"] = (cb - ca) / (tb - ta)
        # what else ran on the machine meanwhile
        res["others_cpu"] = others_cpu(ba, bb, set(pids) | {p.pid,
                                                            os.getpid()},
                                       tb - ta)
    return res


def idle_run(setup, n):
    """Memory per idle connection on a freshly started setup."""
    setup.start()
    try:
        time.sleep(0.5)
        before = mem_kb(tree(setup.roots()))
        before_each = setup.mem_by_process()
        argv = pinned(CLIENT_CPU, [WSBENCH, "-m", "idle", "-c", str(n),
                                   "-t", "0", "--json", "-q"]
                      + setup.wsbench_args + [setup.url()])
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        try:
            ready = json.loads(line)
        except ValueError:
            ready = {}
        if ready.get("event") != "ready":
            p.kill()
            out, err = p.communicate()
            try:
                res = json.loads((line + out).strip().splitlines()[-1])
            except (ValueError, IndexError):
                res = {}
            return {"ok": False, "error": res.get("error") or
                    err.strip()[-200:] or "no ready line"}
        time.sleep(1.0)
        after = mem_kb(tree(setup.roots()))
        after_each = setup.mem_by_process()
        nprocs = len(tree(setup.roots()))
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = {"ok": False, "error": err.strip()[-200:]}
        if res.get("ok"):
            res["rss_kib_per_conn"] = (after[0] - before[0]) / n
            res["pss_kib_per_conn"] = (after[1] - before[1]) / n
            res["rss_kib_before"] = before[0]
            res["rss_kib_after"] = after[0]
            res["processes"] = nprocs
            res["rss_kib_per_conn_by_process"] = {
                k: (after_each[k][0] - before_each[k][0]) / n
                for k in after_each if k in before_each}
        return res
    finally:
        setup.stop()


def median_of(runs, key):
    vals = [r[key] for r in runs if r.get("ok") and key in r]
    if len(vals) != len(runs) or not vals:
        return None
    return statistics.median(vals)


def first_error(runs):
    for r in runs:
        if not r.get("ok"):
            return r.get("error", "failed")
    return None


# ---------------------------------------------------------------------------
# The table

def fmt_num(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return "{:,.0f}".format(v)
    return "{:,.{}f}".format(v, digits)


def fmt_cell(v, ref, digits=0, unit=""):
    if v is None:
        return "-"
    s = fmt_num(v, digits) + unit
    if ref is not None and ref > 0 and v > 0:
        s += " (%.2f×)" % (v / ref)
    return s


def fmt_mem(kib):
    if kib is None:
        return "-"
    if kib >= 1024:
        return "%.2f MiB" % (kib / 1024)
    return "%.1f KiB" % kib


def table(results, info, quick):
    rows = []
    ref = results.get("wsgated", {})
    hdr = ("| setup | 32 B msgs/s | 32 B p99 | server CPU per 32 B msg | "
           "16 KiB MB/s | 16 KiB p99 | handshakes/s | "
           "RSS (PSS) per idle conn, 1k | same, 10k |")
    rows.append(hdr)
    rows.append("|" + "---|" * 9)
    for name, r in results.items():
        if name.startswith("_"):
            continue
        base = None if name == "wsgated" else ref

        def cell(key, digits=0, unit=""):
            v = r.get(key)
            if v is None and r.get(key + "_err"):
                return "FAILED: " + r[key + "_err"][:60]
            return fmt_cell(v, base.get(key) if base else None, digits, unit)

        def mem(key):
            v = r.get(key)
            if v is None:
                if r.get(key + "_err"):
                    return "FAILED: " + r[key + "_err"][:60]
                return "-"
            s = "%s (%s)" % (fmt_mem(v[0]), fmt_mem(v[1]))
            if base and base.get(key) and base[key][0] > 0 and v[0] > 0:
                s += " %.1f×" % (v[0] / base[key][0])
            if r.get(key + "_n"):
                s += " at %s" % fmt_num(r[key + "_n"])
            return s

        p99_32 = r.get("echo32_p99")
        p99_16 = r.get("echo16k_p99")
        cpu_us = r.get("echo32_cpu_us")
        rows.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["label"], cell("echo32_rate"),
            "-" if p99_32 is None else "%s µs" % fmt_num(p99_32),
            "-" if cpu_us is None else "%.1f µs" % cpu_us,
            cell("echo16k_mbs", 1),
            "-" if p99_16 is None else "%s µs" % fmt_num(p99_16),
            cell("connect_rate"), mem("idle1k"), mem("idle10k")))
    return "\n".join(rows)


# ---------------------------------------------------------------------------

def which(cmd):
    """cmd's path, looking in the sbin directories too (nginx)."""
    return shutil.which(cmd) or shutil.which(cmd, path="/usr/sbin:/sbin")


def ensure_anchors():
    """Install the anchors' Debian packages that are missing; returns the
    commands still missing."""
    missing = [c for c in ANCHOR_PACKAGES if not which(c)]
    if not missing:
        return []
    if os.geteuid() != 0:
        log("not root: cannot install %s; skipping them" % " ".join(missing))
        return missing
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")

    def install(pkgs):
        log("installing %s with apt-get" % " ".join(pkgs))
        return subprocess.run(["apt-get", "install", "-y", "-q"] + pkgs,
                              env=env, stdout=subprocess.DEVNULL).returncode

    if install([ANCHOR_PACKAGES[c][0] for c in missing]):
        subprocess.run(["apt-get", "update", "-q"], env=env,
                       stdout=subprocess.DEVNULL)
        # one at a time, each with its alternatives
        for c in missing:
            for pkg in ANCHOR_PACKAGES[c]:
                if install([pkg]) == 0:
                    break
    return [c for c in missing if not which(c)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    default=os.environ.get("BENCH_QUICK", "") not in ("", "0"))
    ap.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""),
                    help="comma-separated setups: wsgated, wsgated-tls, "
                    "direct, nginx, websockify, websocketd, "
                    "websocketd-binary, scaling")
    ap.add_argument("--json", dest="json_out",
                    default=os.environ.get("BENCH_JSON", ""))
    ap.add_argument("--nice", type=int,
                    default=int(os.environ.get("BENCH_NICE", "0") or 0),
                    help="niceness of the servers and the client (e.g. -5 "
                    "on a machine others are using; needs root)")
    args = ap.parse_args()
    global NICE
    NICE = args.nice

    global WSGATED, WSBENCH, BACKEND, WS_ECHO, NGINX
    # not /tmp: test suites running meanwhile may clean it up
    tmp = tempfile.mkdtemp(prefix="wsgate-bench-", dir="/var/tmp")
    copies = []
    for f in (WSGATED, WSBENCH, BACKEND, WS_ECHO):
        if not os.access(f, os.X_OK):
            sys.exit("bench: %s is not built (run make)" % f)
        with open(f, "rb") as fh:
            if b"__asan_init" in fh.read():
                sys.exit("bench: %s is a sanitizer build; run make "
                         "without SANITIZE=1 first" % f)
        copies.append(os.path.join(tmp, os.path.basename(f)))
        shutil.copy2(f, copies[-1])
    WSGATED, WSBENCH, BACKEND, WS_ECHO = copies
    if (os.cpu_count() or 1) < 2:
        sys.exit("bench: needs 2 CPUs (server on 0, client on 1)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    quick = args.quick
    reps = 1 if quick else 3
    secs, warm = (1.0, 0.5) if quick else (4.0, 1.0)
    only = set(x for x in args.only.split(",") if x)
    t_start = time.monotonic()
    info = machine()
    missing = ensure_anchors()
    NGINX = which("nginx")

    setups = [Wsgated(tmp)]
    tls = WsgatedTLS(tmp)
    if tls.usable():
        setups.append(tls)
    else:
        log("this wsgated has no TLS: no wss:// row")
    setups.append(Direct(tmp))
    if "nginx" not in missing:
        setups.append(Nginx(tmp))
    if "websockify" not in missing:
        setups.append(Websockify(tmp))
    if "websocketd" not in missing:
        setups += [Websocketd(tmp), Websocketd(tmp, binary=True)]
    if only:
        setups = [s for s in setups if s.name in only]
    results = {}
    extra = {}

    for s in setups:
        t_setup = time.monotonic()
        r = results.setdefault(s.name, {"label": s.label})
        conns = 100 if s.conn_cap is None else min(100, s.conn_cap)
        log("%s: echo and connect" % s.name)
        s.start()
        try:
            for key, size in (("echo32", 32), ("echo16k", 16384)):
                runs = [wsbench(s, "echo", conns, size, secs, warm)
                        for _ in range(reps)]
                r[key + "_runs"] = runs
                if first_error(runs):
                    r[key + "_rate_err"] = r[key + "_mbs_err"] = \
                        first_error(runs)
                    continue
                r[key + "_rate"] = median_of(runs, "msgs_per_sec")
                r[key + "_mbs"] = median_of(runs, "mb_per_sec")
                r[key + "_p99"] = statistics.median(
                    x["latency_us"]["p99"] for x in runs)
                r[key + "_server_cpu"] = median_of(runs, "server_cpu_frac")
                per = [x["server_cpu_frac"] * 1e6 / x["msgs_per_sec"]
                       for x in runs if x.get("server_cpu_frac")]
                if len(per) == len(runs):
                    r[key + "_cpu_us"] = statistics.median(per)
                others = [x.get("others_cpu", 0) for x in runs]
                r["others_cpu_max"] = max(others +
                                          [r.get("others_cpu_max", 0)])
            if s.has_connect and not s.name.endswith("binary"):
                runs = [wsbench(s, "connect", 32, 32, secs, warm)
                        for _ in range(reps)]
                r["connect_runs"] = runs
                if first_error(runs):
                    r["connect_rate_err"] = first_error(runs)
                else:
                    r["connect_rate"] = median_of(runs, "handshakes_per_sec")
        finally:
            s.stop()
        # websocketd --binary runs the same processes as line mode
        sizes = () if s.name.endswith("binary") else \
            s.idle_sizes if not quick else s.idle_sizes[:1]
        for key, n in zip(("idle1k", "idle10k"), sizes):
            if s.conn_cap is not None:
                n = min(n, s.conn_cap)
            log("%s: %d idle connections" % (s.name, n))
            runs = [idle_run(s, n) for _ in range(reps)]
            r[key + "_runs"] = runs
            r[key + "_n"] = n
            if first_error(runs):
                r[key + "_err"] = first_error(runs)
            else:
                r[key] = (median_of(runs, "rss_kib_per_conn"),
                          median_of(runs, "pss_kib_per_conn"))
        r["seconds"] = round(time.monotonic() - t_setup)
        log("%s: %d s" % (s.name, r["seconds"]))

    # wsgated only: flood bandwidth, and 1 vs 2 workers
    if not only or "wsgated" in only or "scaling" in only:
        extra = wsgated_extras(tmp, reps, secs, warm, only)

    took = time.monotonic() - t_start
    info["loadavg_end"] = os.getloadavg()
    info["seconds"] = round(took)
    results["_extra"] = extra
    print_report(results, extra, info, quick, reps, secs, warm)
    out = args.json_out or "/tmp/wsgate-bench-%s.json" % time.strftime(
        "%Y%m%d-%H%M%S")
    with open(out, "w") as f:
        json.dump({"machine": info, "results": results}, f, indent=1)
    log("raw results in %s (%.0f s)" % (out, took))
    shutil.rmtree(tmp, ignore_errors=True)


def wsgated_extras(tmp, reps, secs, warm, only):
    extra = {}
    if not only or "wsgated" in only:
        log("wsgated: flood")
        s = FloodWsgated(tmp)
        s.start()
        try:
            for key, down in (("flood_up", ()), ("flood_down", ("--down",))):
                runs = [wsbench(s, "flood", 4, 16384, secs, warm, down)
                        for _ in range(reps)]
                extra[key + "_runs"] = runs
                if first_error(runs):
                    extra[key + "_err"] = first_error(runs)
                else:
                    extra[key] = median_of(runs, "mb_per_sec")
        finally:
            s.stop()
    if not only or "scaling" in only:
        for w in (1, 2):
            log("wsgated: %d worker(s), unpinned" % w)
            s = Wsgated(tmp, workers=w, server_cpu=None)
            s.start()
            try:
                runs = [wsbench(s, "echo", 100, 32, secs, warm,
                                client_cpu=None) for _ in range(reps)]
            finally:
                s.stop()
            extra["workers%d_runs" % w] = runs
            if first_error(runs):
                extra["workers%d_err" % w] = first_error(runs)
            else:
                extra["workers%d" % w] = median_of(runs, "msgs_per_sec")
                extra["workers%d_cpu" % w] = median_of(runs, "client_cpu")
    return extra


class FloodWsgated(Wsgated):
    """wsgated in front of bench-backend -m flood."""

    def start_backend(self):
        self.sock = os.path.join(self.tmp, "flood-%d.sock" %
                                 time.monotonic_ns())
        self.spawn([BACKEND, "-m", "flood", self.sock], "bench-backend",
                   cpu=self.server_cpu)
        if not wait_unix(self.sock):
            raise RuntimeError("bench-backend did not start")


# Issue 4's targets for wsgated against the anchors: (key, anchor, at
# least wsgated/anchor).
TARGETS = (("echo32_rate", "nginx", 1.3), ("echo32_rate", "direct", 0.6),
           ("echo16k_mbs", "nginx", 3.0), ("echo16k_mbs", "direct", 0.5),
           ("connect_rate", "nginx", 1.2))
TARGET_NAMES = {"echo32_rate": "32 B msgs/s", "echo16k_mbs": "16 KiB MB/s",
                "connect_rate": "handshakes/s"}


def targets(results, quick):
    """wsgated's figures as multiples of the anchors', against issue 4's
    targets."""
    w = results.get("wsgated", {})
    parts = []
    for key, anchor, goal in TARGETS:
        a = results.get(anchor, {}).get(key)
        if a and w.get(key):
            ratio = w[key] / a
            parts.append("%s %.2f× %s (target ≥ %.1f×: %s)" % (
                TARGET_NAMES[key], ratio, anchor, goal,
                "met" if ratio >= goal else "missed"))
    rss = (w.get("idle10k") or (None,))[0]
    if rss is not None:
        parts.append("RSS per idle connection at %s %s (target ≤ 2 KiB: "
                     "%s)" % (fmt_num(w.get("idle10k_n")), fmt_mem(rss),
                              "met" if rss <= 2 else "missed"))
    if not parts:
        return []
    return ["wsgated against the anchors, as issue 4 states its targets "
            "(wsgated's figure over the anchor's%s): " % (
                "; BENCH_QUICK's single 1 s runs are no verdict"
                if quick else "") + "; ".join(parts) + "."]


def print_report(results, extra, info, quick, reps, secs, warm):
    print()
    print("wsgate benchmark, %s%s" % (info["date_utc"],
                                      " (BENCH_QUICK: 1 run each, "
                                      "short)" if quick else ""))
    print("machine: %d CPUs, %s; kernel %s; %s; %.1f GiB; load average "
          "%.2f at start, %.2f at end" % (
              info["cpus"], info["cpu_model"], info["kernel"],
              info["distro"], info["memory_gib"], info["loadavg_start"][0],
              info["loadavg_end"][0]))
    print("server processes pinned to CPU %s, wsbench to CPU %s%s; medians "
          "of %d run(s) of %.1f s after %.1f s warm-up; 100 connections "
          "(websockify: at most %d)" % (
              SERVER_CPU, CLIENT_CPU,
              ", both at niceness %d" % NICE if NICE else "", reps, secs,
              warm, WEBSOCKIFY_CAP))
    print()
    print(table(results, info, quick))
    print()
    print("Ratios (×) are to wsgated's figure.  MB/s: 10^6 payload bytes "
          "echoed per second, one direction.  Memory: growth of the summed "
          "RSS (and PSS) of the server's processes (gateway, backend, "
          "per-connection processes) per idle connection, each having "
          "done one 32-byte echo.")
    w = results.get("wsgated", {})
    notes = []
    busy = max([r.get("others_cpu_max", 0) for k, r in results.items()
                if not k.startswith("_")] + [0])
    notes.append("Processes other than the benchmark's used up to %.2f of "
                 "the %d CPUs during the echo runs%s.  \"Server CPU per "
                 "32 B msg\" (user + system time of the server's processes "
                 "per echoed message) depends much less on that." % (
                     busy, info["cpus"],
                     ": the rates are lower than on an idle machine"
                     if busy > 0.05 else ""))
    if "websockify" in results:
        notes.append("websockify: %d connections at most (select() fails "
                     "near 500); its echo runs used %d connections, its idle "
                     "figure %d." % (WEBSOCKIFY_CAP, min(100, WEBSOCKIFY_CAP),
                                     results["websockify"].get("idle1k_n",
                                                               0)))
    if "direct" in results or "nginx" in results:
        notes.append("direct: bench/ws-echo, a single-threaded epoll "
                     "WebSocket echo server in C, answering wsbench itself "
                     "with no backend hop (the upper bound a gateway can "
                     "approach on this CPU).  nginx: one worker process "
                     "proxying to the same ws-echo on a Unix socket (one "
                     "hop, like wsgated), access log and proxy buffering "
                     "off, %s worker_connections; master, worker and "
                     "ws-echo pinned to CPU %s." % (
                         fmt_num(Nginx.worker_connections), SERVER_CPU))
    for name, gw, back in (("wsgated", "wsgated", "bench-backend"),
                           ("nginx", "nginx", "ws-echo")):
        r = results.get(name, {})
        for key in ("idle1k", "idle10k"):
            runs = r.get(key + "_runs") or []
            split = [x.get("rss_kib_per_conn_by_process") for x in runs
                     if x.get("ok")]
            if split and len(split) == len(runs) and gw in split[0]:
                notes.append("%s %s: of the RSS per idle connection, "
                             "%.2f KiB is %s's and %.2f KiB %s's." % (
                                 name, fmt_num(r.get(key + "_n")),
                                 statistics.median(x[gw] for x in split), gw,
                                 statistics.median(x.get(back, 0)
                                                   for x in split), back))
    if w.get("idle10k_n"):
        notes.append("\"10k\" is %d connections: a proxied connection "
                     "takes 2 descriptors in the gateway and the open-files "
                     "hard limit is 20,000." % w["idle10k_n"])
    notes += targets(results, quick)
    bound = []
    for name, r in results.items():
        if name.startswith("_"):
            continue
        for key, what in (("echo32", "32 B echo"), ("echo16k", "16 KiB echo"),
                          ("connect", "handshakes")):
            cli = [x.get("client_cpu") for x in r.get(key + "_runs") or []
                   if x.get("ok") and x.get("client_cpu") is not None]
            if cli and statistics.median(cli) >= 0.9:
                bound.append("%s %s (%.0f%%)" % (
                    name, what, statistics.median(cli) * 100))
    if bound:
        notes.append("wsbench used 90%% or more of CPU %s in: %s.  These "
                     "rates are what one client core drives, so the "
                     "server could do more; its CPU per message is the "
                     "fairer comparison." % (CLIENT_CPU, ", ".join(bound)))
    for key in ("echo32", "echo16k"):
        cpu = w.get(key + "_server_cpu")
        if cpu is not None and w.get(key + "_rate"):
            notes.append("wsgated %s: server processes used %.0f%% of "
                         "CPU %s, %.2f µs of CPU per message." % (
                             key, cpu * 100, SERVER_CPU,
                             cpu * 1e6 / w[key + "_rate"]))
    if extra.get("flood_up") is not None or extra.get("flood_down"):
        notes.append("wsgated one-way flood, 4 connections, 16 KiB "
                     "messages: client to backend %s MB/s, backend to "
                     "client %s MB/s." % (
                         fmt_num(extra.get("flood_up"), 1),
                         fmt_num(extra.get("flood_down"), 1)))
    for k in ("flood_up_err", "flood_down_err", "workers1_err",
              "workers2_err"):
        if extra.get(k):
            notes.append("%s: FAILED: %s" % (k[:-4], extra[k]))
    if extra.get("workers1") and extra.get("workers2"):
        notes.append("wsgated 32 B echo, nothing pinned: 1 worker %s msgs/s, "
                     "2 workers %s msgs/s (%.2f×); wsbench used %.0f%% / "
                     "%.0f%% of a CPU%s." % (
                         fmt_num(extra["workers1"]), fmt_num(extra["workers2"]),
                         extra["workers2"] / extra["workers1"],
                         (extra.get("workers1_cpu") or 0) * 100,
                         (extra.get("workers2_cpu") or 0) * 100,
                         " -- on 2 CPUs the client, the backend and the "
                         "gateway share the cores, so this cannot show "
                         "scaling"))
    for n in notes:
        print("- " + n)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
