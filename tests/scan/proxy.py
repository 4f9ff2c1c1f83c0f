#!/usr/bin/python3
"""The scanners' way to meldpuntd during make scan (tests/scan/run.sh).

An HTTP forward proxy on loopback that passes every request on unchanged,
except that requests to the signed routes get a fresh RFC 9421 signature
(PROTOCOL.md section 4) from the scan's own keys, so that sqlmap's payloads
reach the field checks behind the signature instead of stopping at 401.
It counts what passes: one line per request in the traffic file (the scan
target that sent it, from the X-Scan-Target header, which it removes; the
method; the path without the query; the status; "signed" when it signed),
and refuses to forward to anything but the one server.

Usage: proxy.py PORTFILE UPSTREAM_PORT TRAFFIC KEYDIR
  PORTFILE  the port it listens on is written here once it listens
  KEYDIR    caseworker.pem and auditor.pem (Ed25519, PKCS#8), made by
            "proxy.py --keygen KEYDIR", which prints both public keys
"""
import base64
import hashlib
import http.client
import os
import secrets
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

HOP = {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "te",
       "trailer", "transfer-encoding", "upgrade", "content-length", "signature",
       "signature-input", "content-digest", "x-scan-target"}


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def raw_pub(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def keygen(keydir):
    """Two Ed25519 keys (caseworker, auditor) and one X25519 box key each."""
    os.makedirs(keydir, mode=0o700, exist_ok=True)
    for role in ("caseworker", "auditor"):
        sign = Ed25519PrivateKey.generate()
        box = X25519PrivateKey.generate()
        path = os.path.join(keydir, role + ".pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(sign.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        print(role, b64u(raw_pub(sign)), b64u(raw_pub(box)))


def signed_route(path):
    """The routes whose table entry is not public (server/http.c)."""
    if not path.startswith("/api/v1/"):
        return None
    rest = path[len("/api/v1/"):]
    if rest.startswith("audit/"):
        return "auditor"
    for p in ("cases", "recipients", "collectives", "keys"):
        if rest == p or rest.startswith(p + "/"):
            return "caseworker"
    return None


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream_port = 0
    keys = {}
    traffic = None
    lock = threading.Lock()
    local = threading.local()

    def setup(self):
        super().setup()
        # Headers and body leave in two writes: without this, each waits for a delayed ACK.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def quickack(self):
        # Clients that send headers and body in two writes without TCP_NODELAY
        # (wapiti's) would otherwise wait 40 ms a request for our delayed ACK.
        try:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except (AttributeError, OSError):
            pass

    def handle_one_request(self):
        self.quickack()
        super().handle_one_request()

    def log_message(self, fmt, *args):
        pass  # the traffic file is the log; it holds no address

    def record(self, path, status, signed):
        tag = "".join(c for c in self.headers.get("X-Scan-Target", "-") if c.isalnum() or c in "_-")
        line = "%s %s %s %s%s\n" % (tag or "-", self.command, "".join(
            c if 32 < ord(c) < 127 else "?" for c in path[:200]), status, " signed" if signed else "")
        with self.lock:
            self.traffic.write(line)
            self.traffic.flush()

    def body(self):
        self.quickack()
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else None

    def sign(self, role, target, body):
        path, q, query = target.partition("?")
        query = "?" + query if q else "?"
        comps = '("@method" "@path" "@query"%s)' % (' "content-digest"' if body else "")
        params = '%s;created=%d;nonce="%s";keyid="%s";alg="ed25519"' % (
            comps, int(time.time()), b64u(secrets.token_bytes(16)),
            b64u(raw_pub(self.keys[role])))
        lines = ['"@method": ' + self.command, '"@path": ' + path, '"@query": ' + query]
        extra = []
        if body:
            digest = "sha-256=:%s:" % base64.b64encode(hashlib.sha256(body).digest()).decode()
            lines.append('"content-digest": ' + digest)
            extra.append(("Content-Digest", digest))
        lines.append('"@signature-params": ' + params)
        sig = self.keys[role].sign("\n".join(lines).encode("latin-1"))
        extra.append(("Signature-Input", "sig1=" + params))
        extra.append(("Signature", "sig1=:%s:" % base64.b64encode(sig).decode()))
        return extra

    def forward(self):
        target = self.path
        prefix = "http://127.0.0.1:%d" % self.upstream_port
        if target.startswith(prefix):
            target = target[len(prefix):] or "/"
        if not target.startswith("/"):
            self.answer(403, b"this proxy forwards to the scanned server only\n")
            self.record(target.split("?")[0][:80], "proxy-refused", False)
            return
        body = self.body()
        path = target.split("?")[0]
        role = signed_route(path)
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP]
        if role is not None:
            headers += self.sign(role, target, body)
        status = self.send_upstream(target, headers, body)
        self.record(path, status, role is not None)

    def send_upstream(self, target, headers, body):
        for attempt in (0, 1):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.upstream_port, timeout=120)
            try:
                if conn.sock is None:
                    conn.connect()
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    conn.putheader(k, v)
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                r = conn.getresponse()
                data = r.read()
                self.send_response_only(r.status, r.reason)
                for k, v in r.getheaders():
                    if k.lower() not in HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self.local.conn = None
                return r.status
            except (http.client.InvalidURL, ValueError):
                self.answer(400, b"the proxy cannot send this request line or header\n")
                return "proxy-refused"
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
        # Twice no answer: the server is gone or hung; the scan reports it.
        self.answer(502, b"no answer from the scanned server\n")
        return "no-answer"

    def answer(self, status, text):
        self.send_response_only(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def __getattr__(self, name):
        # Every method goes through, the odd ones the scanners try included.
        if name.startswith("do_"):
            return self.forward
        raise AttributeError(name)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A scanner that hangs up mid-request is no news; anything else is.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--keygen":
        keygen(sys.argv[2])
        return
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    portfile, Proxy.upstream_port, traffic, keydir = (sys.argv[1], int(sys.argv[2]),
                                                       sys.argv[3], sys.argv[4])
    for role in ("caseworker", "auditor"):
        with open(os.path.join(keydir, role + ".pem"), "rb") as f:
            Proxy.keys[role] = serialization.load_pem_private_key(f.read(), None)
    Proxy.traffic = open(traffic, "a")
    srv = Server(("127.0.0.1", 0), Proxy)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
