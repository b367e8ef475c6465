#!/usr/bin/python3
"""A tiny authoritative DNS server for tests inside a network namespace.

    dnsserver.py --bind ADDR --port N --zone FILE

The zone is JSON: {"name": {"A": [...], "AAAA": [...]}, ...}. A name
with "drop": true is never answered (a resolver timeout); a name with
"then": {"A": [...]} answers its own records the first time and the
"then" records afterwards (a rebinding attack). Unknown names get
NXDOMAIN. Prints "dns: listening ADDR PORT" when ready and, before each
answer, "dns: query NAME TYPE", so a test knows every lookup made.
"""
import argparse
import json
import socket
import struct
import sys

TYPES = {1: "A", 28: "AAAA"}


def parse_question(msg):
    labels, i = [], 12
    while msg[i]:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype, qclass = struct.unpack(">HH", msg[i + 1:i + 5])
    return ".".join(labels), qtype, msg[12:i + 5]


def answer(msg, zone, seen):
    qid, flags = struct.unpack(">HH", msg[:4])
    name, qtype, question = parse_question(msg)
    key = name.lower().rstrip(".")
    print(f"dns: query {key} {TYPES.get(qtype, qtype)}", flush=True)
    rec = zone.get(key)
    if rec and rec.get("drop"):
        return None
    rcode, answers = 0, []
    if rec is None:
        rcode = 3
    else:
        count = seen.get((key, qtype), 0)
        seen[(key, qtype)] = count + 1
        if count > 0 and "then" in rec:
            rec = rec["then"]
        family = socket.AF_INET if qtype == 1 else socket.AF_INET6
        for addr in rec.get(TYPES.get(qtype, ""), []):
            rdata = socket.inet_pton(family, addr)
            answers.append(struct.pack(">HHHIH", 0xC00C, qtype, 1, 0,
                                       len(rdata)) + rdata)
    rd = flags & 0x0100
    head = struct.pack(">HHHHHH", qid, 0x8080 | rd | rcode, 1, len(answers),
                       0, 0)
    return head + question + b"".join(answers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--zone", required=True)
    args = ap.parse_args()
    with open(args.zone) as f:
        zone = {k.lower(): v for k, v in json.load(f).items()}
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((args.bind, args.port))
    print(f"dns: listening {args.bind} {sock.getsockname()[1]}", flush=True)
    seen = {}
    while True:
        msg, peer = sock.recvfrom(4096)
        try:
            reply = answer(msg, zone, seen)
        except (IndexError, struct.error):
            continue
        if reply:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(main())
