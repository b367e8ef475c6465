#!/usr/bin/python3
"""An origin that writes its answers in pieces, as many frameworks do.

    piecewise.py [--bind ADDR] [--tls CERT KEY]

Prints "piecewise: listening PORT" once it accepts connections, then
serves until stdin closes. HTTP/1.1 with keep-alive, one thread per
connection. Its sockets keep Nagle's algorithm on (the default), and every
piece is its own send(), so a piece after the first leaves only once the
peer acknowledged the one before: a peer that delays its acknowledgements
delays the answer. With --tls it speaks TLS, each piece its own record
and send(). Routes (the body is always "hello from piecewise\\n"):

    /whole      head and body in one send (the control)
    /split      the head, then the body (Python's http.server does this)
    /chunks     chunked: the head, then every chunk, then the last chunk,
                each in its own send
    /trailers   chunked: the head, the body in one chunk, then the last
                chunk with a trailer field

Imported, it offers timed(), the client side: one request on a socket and
the seconds until its whole answer arrived.
"""
import argparse
import socket
import ssl
import sys
import threading
import time

BODY = b"hello from piecewise\n"


def pieces(path):
    if path == "/whole":
        return [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                % (len(BODY), BODY)]
    if path == "/split":
        return [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY),
                BODY]
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    if path == "/chunks":
        words = [BODY[i:i + 6] for i in range(0, len(BODY), 6)]
        return [head] + [b"%x\r\n%s\r\n" % (len(w), w) for w in words] + \
            [b"0\r\n\r\n"]
    if path == "/trailers":
        return [head, b"%x\r\n%s\r\n" % (len(BODY), BODY),
                b"0\r\nX-Checksum: 42\r\n\r\n"]
    return [b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"]


def serve(sock, ctx=None):
    buf = b""
    try:
        if ctx:
            sock = ctx.wrap_socket(sock, server_side=True)
        while True:
            while b"\r\n\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
            if "://" in target:
                target = "/" + target.split("/", 3)[3]
            for piece in pieces(target):
                sock.sendall(piece)
            if b"connection: close" in head.lower():
                return
    except OSError:
        pass
    finally:
        sock.close()


def _read_answer(sock, buf):
    """Read one answer (Content-Length or chunked) from sock, buf holding
    what was read before. Returns (body, what was read past the answer)."""
    def more(b):
        data = sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        return b + data
    while b"\r\n\r\n" not in buf:
        buf = more(buf)
    head, buf = buf.split(b"\r\n\r\n", 1)
    length = [f for f in head.lower().split(b"\r\n")
              if f.startswith(b"content-length:")]
    if length:
        n = int(length[0].split(b":")[1])
        while len(buf) < n:
            buf = more(buf)
        return buf[:n], buf[n:]
    body = b""
    while True:
        while b"\r\n" not in buf:
            buf = more(buf)
        size_line, rest = buf.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        if len(rest) < size + 2:
            buf = more(buf)
            continue
        body += rest[:size]
        buf = rest[size + 2:]
    # The trailer section ends with an empty line (RFC 9112 7.1.2).
    buf = b"\r\n" + rest
    while b"\r\n\r\n" not in buf:
        buf = more(buf)
    return body, buf.split(b"\r\n\r\n", 1)[1]


def timed(sock, target, host, buf=b"", quickack=True):
    """Send GET target on sock and read the answer. Returns (seconds,
    body, what was read past the answer). With quickack, the client
    acknowledges at once (TCP_QUICKACK after its send), so that the
    figure is what the server side makes of it, not this client's delayed
    ACKs."""
    req = f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    t0 = time.perf_counter()
    sock.sendall(req)
    if quickack:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    body, buf = _read_answer(sock, buf)
    return time.perf_counter() - t0, body, buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    ctx = None
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*args.tls)
    srv = socket.socket(socket.AF_INET6 if ":" in args.bind
                        else socket.AF_INET)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.bind, 0))
    srv.listen(128)

    def accept_loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(c, ctx),
                             daemon=True).start()
    threading.Thread(target=accept_loop, daemon=True).start()
    print(f"piecewise: listening {srv.getsockname()[1]}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
