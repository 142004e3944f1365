"""TLS helpers for the wss:// integration tests (test_tls*.py).

A throwaway PKI made with the openssl CLI at test time (no key is ever
committed): a CA, leaf certificates with chosen subjectAltName DNS names,
expired ones, mismatched pairs.  A client SSLContext that trusts the CA,
a TLS RawClient, a ClientHello to send by halves, `openssl s_client`
runs, and a GatewayTest base that starts wsgated with a TLS listener.
"""

import os
import re
import shutil
import socket
import ssl
import subprocess
import time

from harness import (Closed, GatewayTest, RawClient, free_port, wait_for)

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def run_openssl(args, cwd, input=None, timeout=20):
    p = subprocess.run([OPENSSL] + args, cwd=cwd, input=input,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("openssl %s failed:\n%s" % (
            " ".join(args), p.stderr.decode(errors="replace")))
    return p


class PKI:
    """A CA in directory d and the certificates it signs."""

    def __init__(self, d, name="wsgate test CA"):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.ca_key = os.path.join(d, "ca.key")
        self.ca = os.path.join(d, "ca.pem")
        self.n = 0
        run_openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                     self.ca_key, "-out", self.ca, "-days", "3", "-subj",
                     "/CN=" + name, "-addext",
                     "basicConstraints=critical,CA:TRUE", "-addext",
                     "keyUsage=critical,keyCertSign,cRLSign"], d)

    def _csr(self, base, names, key_type):
        key, csr = base + ".key", base + ".csr"
        if key_type == "rsa":
            newkey = ["-newkey", "rsa:2048"]
        else:
            newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        san = ",".join("DNS:" + n for n in names)
        args = ["req", "-new"] + newkey + ["-nodes", "-keyout", key, "-out",
                                           csr, "-subj", "/CN=" + names[0]]
        if names:
            args += ["-addext", "subjectAltName=" + san]
        run_openssl(args, self.dir)
        return key, csr

    def leaf(self, names, key_type="ec", tag=None):
        """A certificate for names (its subjectAltName DNS entries), signed
        by the CA, valid from now for 2 days.  Returns (cert, key)."""
        self.n += 1
        base = os.path.join(self.dir, tag or "leaf%d" % self.n)
        key, csr = self._csr(base, names, key_type)
        cert = base + ".pem"
        run_openssl(["x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
                     self.ca_key, "-set_serial", str(1000 + self.n),
                     "-days", "2", "-copy_extensions", "copy", "-out",
                     cert], self.dir)
        return cert, key

    def expired(self, names, tag=None):
        """A CA-signed certificate that expired in 2020: (cert, key)."""
        self.n += 1
        base = os.path.join(self.dir, tag or "old%d" % self.n)
        key, csr = self._csr(base, names, "ec")
        db = os.path.join(self.dir, "cadb%d" % self.n)
        os.makedirs(db)
        open(os.path.join(db, "index.txt"), "w").close()
        cnf = os.path.join(db, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\n"
                    "new_certs_dir = %s\nrand_serial = yes\n"
                    "default_md = sha256\npolicy = p\nunique_subject = no\n"
                    "copy_extensions = copy\n[p]\ncommonName = supplied\n"
                    % (db, db))
        cert = base + ".pem"
        run_openssl(["ca", "-batch", "-config", cnf, "-cert", self.ca,
                     "-keyfile", self.ca_key, "-in", csr, "-out", cert,
                     "-startdate", "20200101000000Z", "-enddate",
                     "20200102000000Z", "-notext"], self.dir)
        return cert, key

    def chain(self, cert):
        """cert followed by the CA certificate, as a new PEM file."""
        out = cert[:-4] + "-chain.pem"
        with open(out, "w") as f:
            f.write(open(cert).read() + open(self.ca).read())
        return out

    def client_context(self, **kw):
        """An SSLContext that trusts only this CA."""
        ctx = ssl.create_default_context(cafile=self.ca)
        for k, v in kw.items():
            setattr(ctx, k, v)
        return ctx


def der(cert_path):
    """The DER bytes of the first certificate of a PEM file."""
    return ssl.PEM_cert_to_DER_cert(open(cert_path).read())


def client_hello(server_hostname="a.test"):
    """The bytes of a real TLS ClientHello, as Python's ssl would send."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=server_hostname)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


class TLSRawClient(RawClient):
    """RawClient over TLS: the handshake is done in the constructor."""

    def __init__(self, port, ctx, server_hostname="a.test",
                 host="127.0.0.1", timeout=5.0):
        super().__init__(port, host=host, timeout=timeout)
        self.sock = ctx.wrap_socket(self.sock,
                                    server_hostname=server_hostname)

    def _fill(self, timeout):
        try:
            return super()._fill(timeout)
        except ssl.SSLError:
            # an unclean end of the TLS session is an end all the same
            self.eof = True
            self.close()
            raise Closed()

    def peer_der(self):
        return self.sock.getpeercert(binary_form=True)


def s_client(port, args, timeout=10):
    """Run `openssl s_client` against 127.0.0.1:port with args; returns
    (exit status, its stdout+stderr).  Its stdin is closed at once, so
    it ends after the handshake."""
    p = subprocess.run([OPENSSL, "s_client", "-connect",
                        "127.0.0.1:%d" % port] + args,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")


class TLSGatewayTest(GatewayTest):
    """GatewayTest with a PKI and a gateway on a TLS listener."""

    def setUp(self):
        super().setUp()
        self.pki = PKI(self.path("pki"))

    def tls_config(self, routes, tls, limits=None, workers=1, port=None,
                   extra_listen=None, log_level=None):
        port = port or free_port()
        listen = [{"address": "127.0.0.1", "port": port, "tls": tls}]
        listen += extra_listen or []
        conf = self.make_config(routes, limits, workers, port, listen=listen)
        if log_level:
            conf["log_level"] = log_level
        return conf, port

    def start_tls_gateway(self, routes, tls, limits=None, workers=1,
                          extra_listen=None, log_level=None):
        conf, port = self.tls_config(routes, tls, limits, workers,
                                     extra_listen=extra_listen,
                                     log_level=log_level)
        gw = self.start_gateway(conf=conf, port=port)
        gw.wss = lambda path="/echo", host="127.0.0.1": \
            "wss://%s:%d%s" % (host, port, path)
        return gw

    def tls_raw(self, gw, ctx=None, server_hostname="a.test", **kw):
        c = TLSRawClient(gw.port, ctx or self.pki.client_context(),
                         server_hostname=server_hostname, **kw)
        self.addCleanup(c.close)
        return c

    def wait_log(self, gw, pattern, timeout=5.0, start=0):
        """Wait until the gateway's log (from offset start) matches
        pattern; the match, or a failure with the log's tail."""
        rx = re.compile(pattern)
        m = wait_for(lambda: rx.search(gw.log(), start), timeout)
        if not m:
            self.fail("no %r in the log within %.1f s; log:\n%s"
                      % (pattern, timeout, gw.log_tail(40)))
        return m
