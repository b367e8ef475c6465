#!/usr/bin/python3
"""A test origin server for the black-box suite.

    origin.py --bind ADDR [--port N] [--tls CERT KEY] [--git-root DIR]

Prints "origin: listening ADDR PORT" once it accepts connections, then
serves until stdin closes. HTTP/1.1 with keep-alive; routes:

    /echo            JSON: method, path, headers (lower-case), body
    /bytes/N         N bytes of a repeating pattern, Content-Length
    /chunked/N       N bytes, chunked in pieces of 1000
    /eof/N           N bytes, no length, the connection closes after
    /reset/N         the head and N bytes of a longer body, then a reset
    /status/N        an empty answer with status N
    /digest          the SHA-256 of the request body, in hex
    /peer            the address the request came from (ip:port)
    /close           a small answer with Connection: close
    /ws              a websocket echo (RFC 6455, text and binary)
    /git/...         git http-backend for the repositories in --git-root
    anything else    200 "hello from origin"

The pattern of /bytes, /chunked, /eof and /reset is pattern(N): bytes
i % 251 for i in 0..N-1, so a client can check what it got.
"""
import argparse
import base64
import hashlib
import json
import os
import select
import socket
import ssl
import struct
import subprocess
import sys
import threading


def pattern(n):
    block = bytes(i % 251 for i in range(251 * 64))
    out = bytearray()
    while len(out) < n:
        out += block[:n - len(out)]
    return bytes(out)


class Conn:
    def __init__(self, sock, args):
        self.sock = sock
        self.args = args
        self.buf = b""

    def read_more(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def read_line(self):
        while b"\r\n" not in self.buf:
            self.read_more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            self.read_more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_head(self):
        line = self.read_line()
        method, target, version = line.decode("latin-1").split(" ", 2)
        headers = []
        while True:
            h = self.read_line()
            if not h:
                break
            k, v = h.decode("latin-1").split(":", 1)
            headers.append((k.strip(), v.strip()))
        return method, target, version, headers

    def read_body(self, headers):
        hd = {k.lower(): v for k, v in headers}
        if hd.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.read_line().split(b";")[0], 16)
                if size == 0:
                    while self.read_line():
                        pass
                    return body
                body += self.read_exact(size)
                self.read_exact(2)
        n = int(hd.get("content-length", "0"))
        return self.read_exact(n)

    def send(self, data):
        self.sock.sendall(data)

    def answer(self, status, body, headers=(), reason="OK"):
        head = [f"HTTP/1.1 {status} {reason}",
                f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers]
        self.send(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def serve(self):
        try:
            while True:
                method, target, version, headers = self.read_head()
                hd = {k.lower(): v for k, v in headers}
                if hd.get("expect", "").lower() == "100-continue":
                    self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = self.read_body(headers)
                if not self.route(method, target, headers, hd, body):
                    return
                if hd.get("connection", "").lower() == "close":
                    return
        except (EOFError, ConnectionError, ssl.SSLError, OSError):
            return
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def route(self, method, target, headers, hd, body):
        path = target.split("?", 1)[0]
        parts = path.strip("/").split("/")
        if path == "/echo":
            doc = {"method": method, "target": target,
                   "headers": [[k.lower(), v] for k, v in headers],
                   "body": body.decode("latin-1")}
            self.answer(200, json.dumps(doc).encode(),
                        [("Content-Type", "application/json")])
            return True
        if parts[0] == "bytes":
            data = pattern(int(parts[1]))
            if method == "HEAD":
                self.send(f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}"
                          "\r\n\r\n".encode())
            else:
                self.answer(200, data)
            return True
        if parts[0] == "chunked":
            data = pattern(int(parts[1]))
            out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            for i in range(0, len(data), 1000):
                piece = data[i:i + 1000]
                out += b"%x\r\n" % len(piece) + piece + b"\r\n"
            self.send(out + b"0\r\nX-Trailer: t\r\n\r\n")
            return True
        if parts[0] == "eof":
            self.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" +
                      pattern(int(parts[1])))
            return False
        if parts[0] == "reset":
            n = int(parts[1])
            self.send(f"HTTP/1.1 200 OK\r\nContent-Length: {n * 10}"
                      "\r\n\r\n".encode() + pattern(n))
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
            return False
        if path == "/digest":
            self.answer(200, hashlib.sha256(body).hexdigest().encode())
            return True
        if path == "/peer":
            peer = self.sock.getpeername()
            self.answer(200, f"{peer[0]}:{peer[1]}".encode())
            return True
        if parts[0] == "status":
            self.answer(int(parts[1]), b"", reason="Test")
            return True
        if path == "/close":
            self.answer(200, b"closing", [("Connection", "close")])
            return False
        if path == "/ws":
            return self.websocket(hd)
        if parts[0] == "git" and self.args.git_root:
            return self.git(method, target, hd, body)
        self.answer(200, b"hello from origin\n",
                    [("Content-Type", "text/plain")])
        return True

    def websocket(self, hd):
        key = hd["sec-websocket-key"]
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket"
                  b"\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
                  accept + b"\r\n\r\n")
        while True:
            b0, b1 = self.read_exact(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self.read_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self.read_exact(8))[0]
            mask = self.read_exact(4) if b1 & 0x80 else b"\0\0\0\0"
            data = bytes(c ^ mask[i % 4]
                         for i, c in enumerate(self.read_exact(n)))
            if opcode == 8:
                self.send(b"\x88\x00")
                return False
            head = bytes([0x80 | opcode])
            if len(data) < 126:
                head += bytes([len(data)])
            else:
                head += bytes([126]) + struct.pack(">H", len(data))
            self.send(head + data)

    def git(self, method, target, hd, body):
        path, _, query = target.partition("?")
        env = dict(os.environ)
        env.update({
            "GIT_PROJECT_ROOT": self.args.git_root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path[len("/git"):],
            "QUERY_STRING": query,
            "REQUEST_METHOD": method,
            "CONTENT_TYPE": hd.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
        })
        if "git-protocol" in hd:
            env["GIT_PROTOCOL"] = hd["git-protocol"]
        out = subprocess.run(["git", "http-backend"], input=body, env=env,
                             capture_output=True).stdout
        head, _, data = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.answer(status, data, headers)
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--git-root")
    args = ap.parse_args()
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.bind, args.port))
    srv.listen(128)
    ctx = None
    if args.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*args.tls)
    print(f"origin: listening {args.bind} {srv.getsockname()[1]}",
          flush=True)

    def handle(sock):
        if ctx:
            try:
                sock.settimeout(10)
                sock = ctx.wrap_socket(sock, server_side=True)
                sock.settimeout(None)
            except (ssl.SSLError, OSError):
                sock.close()
                return
        Conn(sock, args).serve()

    def accept_loop():
        while True:
            sock, _ = srv.accept()
            threading.Thread(target=handle, args=(sock,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    # Serve until the test closes our stdin.
    while sys.stdin.read(1):
        pass


if __name__ == "__main__":
    main()
