#!/usr/bin/python3
"""A UDP echo server for tests: every datagram goes back to its sender.

    udpecho.py --bind ADDR --port N

Prints "udp: listening ADDR PORT" when ready and, before each echo,
"udp: from HOST PORT <payload as hex>", so a test knows what arrived.
"""
import argparse
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((args.bind, args.port))
    print(f"udp: listening {args.bind} {sock.getsockname()[1]}", flush=True)
    while True:
        data, peer = sock.recvfrom(65536)
        print(f"udp: from {peer[0]} {peer[1]} {data[:64].hex()}",
              flush=True)
        sock.sendto(data, peer)


if __name__ == "__main__":
    sys.exit(main())
