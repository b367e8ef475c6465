"""A fake OTLP/HTTP logs collector on loopback, for the OTLP tests and the
benchmark.

It decodes both encodings into one plain form: application/json by the
OTLP/JSON rules, application/x-protobuf with a small protobuf wire decoder
of its own (field numbers of opentelemetry-proto logs v1; Debian's
python3-protobuf is not used). Modes, switchable while it runs:

  ok                  answer 200 to every request
  fail N [RA]         answer 503 to the next N requests (with
                      Retry-After: RA when given), then 200
  hang                read the request, then answer nothing until
                      release() (or the next mode change)

Requests are recorded before they are answered, so a test can wait for
"the collector has seen a request" without sleeping. Standalone
(python3 otlp_collector.py) it only answers 200 without decoding, fast,
for the benchmark, and prints "otlp-collector: listening HOST:PORT".
"""
import http.server
import json
import struct
import sys
import threading
import time


# ---------------------------------------------------------------------------
# Protobuf wire format (https://protobuf.dev/programming-guides/encoding/).
# ---------------------------------------------------------------------------
def _varint(buf, i):
    shift = value = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def pb_fields(buf):
    """[(field number, wire type, value)]: ints for varint/fixed, bytes for
    length-delimited."""
    out = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v = struct.unpack_from("<Q", buf, i)[0]
            i += 8
        elif wt == 2:
            n, i = _varint(buf, i)
            v = bytes(buf[i:i + n])
            if len(v) != n:
                raise ValueError("truncated field")
            i += n
        elif wt == 5:
            v = struct.unpack_from("<I", buf, i)[0]
            i += 4
        else:
            raise ValueError(f"wire type {wt}")
        out.append((num, wt, v))
    return out


def _pb_get(fields, num):
    return [v for n, _, v in fields if n == num]


def _pb_one(fields, num, default=None):
    v = _pb_get(fields, num)
    return v[-1] if v else default


def _pb_any(buf):
    for num, wt, v in pb_fields(buf):
        if num == 1:
            return ("string", v.decode())
        if num == 2:
            return ("bool", bool(v))
        if num == 3:
            return ("int", v - (1 << 64) if v >= 1 << 63 else v)
        if num == 4:
            return ("double", struct.unpack("<d", struct.pack("<Q", v))[0])
    return ("empty", None)


def _pb_attrs(fields, num):
    attrs = {}
    for kv in _pb_get(fields, num):
        f = pb_fields(kv)
        attrs[_pb_one(f, 1, b"").decode()] = _pb_any(_pb_one(f, 2, b""))
    return attrs


def decode_protobuf(body):
    """ExportLogsServiceRequest -> the plain form (see decode())."""
    out = []
    for rl in _pb_get(pb_fields(body), 1):
        rlf = pb_fields(rl)
        res = _pb_attrs(pb_fields(_pb_one(rlf, 1, b"")), 1)
        for sl in _pb_get(rlf, 2):
            slf = pb_fields(sl)
            sc = pb_fields(_pb_one(slf, 1, b""))
            scope = {"name": _pb_one(sc, 1, b"").decode(),
                     "version": _pb_one(sc, 2, b"").decode()}
            for lr in _pb_get(slf, 2):
                f = pb_fields(lr)
                out.append({
                    "resource": res, "scope": scope,
                    "timeUnixNano": _pb_one(f, 1, 0),
                    "observedTimeUnixNano": _pb_one(f, 11, 0),
                    "severityNumber": _pb_one(f, 2, 0),
                    "severityText": _pb_one(f, 3, b"").decode(),
                    "body": _pb_any(_pb_one(f, 5, b"")),
                    "attributes": _pb_attrs(f, 6),
                })
    return out


# ---------------------------------------------------------------------------
# OTLP/JSON.
# ---------------------------------------------------------------------------
def _json_any(v):
    if "stringValue" in v:
        return ("string", v["stringValue"])
    if "boolValue" in v:
        return ("bool", v["boolValue"])
    if "intValue" in v:
        # OTLP/JSON: a 64-bit integer is a decimal string.
        assert isinstance(v["intValue"], str), v
        return ("int", int(v["intValue"]))
    if "doubleValue" in v:
        return ("double", v["doubleValue"])
    return ("empty", None)


def _json_attrs(lst):
    return {kv["key"]: _json_any(kv["value"]) for kv in lst or []}


def decode_json(body):
    out = []
    for rl in json.loads(body)["resourceLogs"]:
        res = _json_attrs(rl.get("resource", {}).get("attributes"))
        for sl in rl.get("scopeLogs", []):
            scope = {"name": sl.get("scope", {}).get("name", ""),
                     "version": sl.get("scope", {}).get("version", "")}
            for lr in sl.get("logRecords", []):
                assert isinstance(lr["timeUnixNano"], str), lr
                assert isinstance(lr["observedTimeUnixNano"], str), lr
                out.append({
                    "resource": res, "scope": scope,
                    "timeUnixNano": int(lr["timeUnixNano"]),
                    "observedTimeUnixNano": int(lr["observedTimeUnixNano"]),
                    "severityNumber": lr.get("severityNumber", 0),
                    "severityText": lr.get("severityText", ""),
                    "body": _json_any(lr.get("body", {})),
                    "attributes": _json_attrs(lr.get("attributes")),
                })
    return out


def decode(content_type, body):
    """A request body -> [record], each {"resource": {key: (type, value)},
    "scope", "timeUnixNano", "observedTimeUnixNano", "severityNumber",
    "severityText", "body": (type, value), "attributes": {...}}."""
    if content_type == "application/json":
        return decode_json(body)
    if content_type == "application/x-protobuf":
        return decode_protobuf(body)
    raise ValueError(f"unexpected Content-Type {content_type!r}")


# ---------------------------------------------------------------------------
# The server.
# ---------------------------------------------------------------------------
class Request:
    def __init__(self, path, headers, body, records):
        self.path = path
        self.headers = headers
        self.body = body
        self.records = records
        self.status = None  # what it was answered, once answered
        self.time = time.monotonic()  # when it arrived


class Collector:
    """Start with Collector(); stop with close(). Thread-safe."""

    def __init__(self, decode_bodies=True):
        self.decode_bodies = decode_bodies
        self.cond = threading.Condition()
        self.requests = []
        self.bodies = self.body_bytes = 0  # undecoded ones
        self.mode = "ok"
        self.fail_left = 0
        self.retry_after = None
        self.released = threading.Event()
        self.released.set()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                owner._handle(self, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}/v1/logs"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def _handle(self, h, body):
        if not self.decode_bodies:
            with self.cond:
                self.bodies += 1
                self.body_bytes += len(body)
            self._answer(h, 200, None)
            return
        records = decode(h.headers.get("Content-Type"), body)
        req = Request(h.path, {k.lower(): v for k, v in h.headers.items()},
                      body, records)
        with self.cond:
            self.requests.append(req)
            self.cond.notify_all()
            if self.mode == "hang":
                release = self.released
            else:
                release = None
            if self.mode == "fail" and self.fail_left > 0:
                self.fail_left -= 1
                status = 503
            else:
                status = 200
        if release is not None:
            release.wait()
        with self.cond:
            req.status = status
            self.cond.notify_all()
        self._answer(h, status, self.retry_after if status == 503 else None)

    @staticmethod
    def _answer(h, status, retry_after):
        payload = b"{}"
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        if retry_after is not None:
            h.send_header("Retry-After", str(retry_after))
        h.end_headers()
        h.wfile.write(payload)

    # -- control ----------------------------------------------------------
    def set_ok(self):
        with self.cond:
            self.mode = "ok"
        self.released.set()

    def set_fail(self, n, retry_after=None):
        with self.cond:
            self.mode = "fail"
            self.fail_left = n
            self.retry_after = retry_after
        self.released.set()

    def set_hang(self):
        with self.cond:
            self.mode = "hang"
            self.released = threading.Event()

    def release(self):
        self.set_ok()

    # -- reading ------------------------------------------------------------
    def wait(self, predicate, timeout=20):
        """Block until predicate(self) holds (re-checked on every request
        and answer)."""
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self), timeout):
                raise AssertionError("the collector never saw what the "
                                     "test waited for")

    def accepted(self):
        """Records of the requests answered 2xx, in arrival order."""
        with self.cond:
            return [r for q in self.requests if q.status == 200
                    for r in q.records]

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def main():
    c = Collector(decode_bodies=False)
    print(f"otlp-collector: listening 127.0.0.1:{c.port}", flush=True)
    try:
        sys.stdin.read()  # until our parent closes stdin
    finally:
        c.close()
        print(f"otlp-collector: {c.bodies} requests, {c.body_bytes} bytes",
              flush=True)


if __name__ == "__main__":
    main()
