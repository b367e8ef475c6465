"""OTLP export of the audit events ([otel], docs/observability.md), against
the fake collector of otlp_collector.py on loopback.

Every request goes to a host the policy does not allow, so each one gives
exactly one audit event (a domain deny) without any upstream: the event
for request i carries server.address h<i>.example.org.
"""
import json
import os
import re
import signal
import time

import pytest

from conftest import http_get, network_config
from otlp_collector import Collector

EVENT = "codex.network_proxy.policy_decision"


@pytest.fixture
def collector():
    c = Collector()
    yield c
    c.close()


def otel_config(endpoint, protocol="binary", headers=None, env=None,
                extra=""):
    lines = ["[otel]"]
    if env is not None:
        lines.append(f'environment = "{env}"')
    lines.append("[otel.exporter.otlp-http]")
    lines.append(f'endpoint = "{endpoint}"')
    lines.append(f'protocol = "{protocol}"')
    lines.append(extra)
    if headers:
        lines.append("[otel.exporter.otlp-http.headers]")
        lines += [f'"{k}" = "{v}"' for k, v in headers.items()]
    return network_config({}) + "\n".join(lines) + "\n"


def deny(proxy, i):
    r = http_get(proxy, f"http://h{i}.example.org/secret/path?q=token")
    assert r.status == 403


def hosts(records):
    return [r["attributes"]["server.address"][1] for r in records]


def stop(proxy):
    """SIGTERM and wait; returns the proxy's stderr."""
    assert proxy.stop() == 0
    return proxy.text()


def stop_summary(text):
    m = re.search(r"otlp: stopped: (\d+) records sent, (\d+) requests "
                  r"retried, (\d+) dropped \(queue full\), (\d+) failed",
                  text)
    assert m, text
    return dict(zip(("sent", "retried", "dropped", "failed"),
                    map(int, m.groups())))


@pytest.mark.parametrize("protocol", ["binary", "json"])
def test_records_carry_the_event_fields_with_natural_types(
        start_proxy, collector, protocol):
    p = start_proxy(otel_config(collector.endpoint, protocol, env="staging"))
    before = time.time_ns()
    deny(p, 1)
    p.audit(1)
    after = time.time_ns()
    text = stop(p)
    assert "otlp: stopped: 1 records sent" in text, text
    [req] = collector.requests
    assert req.path == "/v1/logs"
    assert req.headers["content-type"] == (
        "application/json" if protocol == "json" else
        "application/x-protobuf")
    [rec] = collector.accepted()
    assert rec["resource"] == {"service.name": ("string", "paddock"),
                               "service.version": rec["resource"][
                                   "service.version"],
                               "env": ("string", "staging")}
    assert rec["resource"]["service.version"][0] == "string"
    assert re.match(r"^\d+\.\d+\.\d+", rec["resource"]["service.version"][1])
    assert rec["body"] == ("string", EVENT)
    assert rec["severityNumber"] == 9
    assert rec["severityText"] == "INFO"
    a = rec["attributes"]
    assert a["event.name"] == ("string", EVENT)
    assert a["network.policy.scope"] == ("string", "domain")
    assert a["network.policy.decision"] == ("string", "deny")
    assert a["network.policy.source"] == ("string", "baseline_policy")
    assert a["network.policy.reason"] == ("string", "not_allowed")
    assert a["network.transport.protocol"] == ("string", "http")
    assert a["server.address"] == ("string", "h1.example.org")
    assert a["server.port"] == ("int", 80)
    assert a["http.request.method"] == ("string", "GET")
    assert a["network.policy.override"] == ("bool", False)
    assert a["client.address"][0] == "string"
    assert a["client.address"][1].startswith("127.0.0.1:")
    assert "execution.id" not in a  # only a run's proxy has one
    # The same event as the JSON-lines stream, timestamp included.
    [line] = [e for e in p.audit() if e["server.address"] == "h1.example.org"]
    assert line["event.name"] == EVENT
    assert a["event.timestamp"] == ("string", line["event.timestamp"])
    ms = (before // 1_000_000, after // 1_000_000 + 1)
    assert ms[0] <= rec["timeUnixNano"] // 1_000_000 <= ms[1]
    assert rec["timeUnixNano"] % 1_000_000 == 0
    assert rec["observedTimeUnixNano"] >= rec["timeUnixNano"]
    # Never a path or a query, anywhere in the body.
    assert b"secret" not in req.body and b"token" not in req.body


def test_headers_are_sent_with_env_variables_expanded(start_proxy,
                                                      collector):
    env = dict(os.environ, OTLP_TEST_TOKEN="t0k3n-42")
    p = start_proxy(otel_config(collector.endpoint, headers={
        "x-api-key": "Bearer ${OTLP_TEST_TOKEN}", "x-plain": "abc"}),
        env=env)
    deny(p, 1)
    stop(p)
    [req] = collector.requests
    assert req.headers["x-api-key"] == "Bearer t0k3n-42"
    assert req.headers["x-plain"] == "abc"


@pytest.mark.parametrize("retry_after", [None, 1])
def test_503s_are_retried_without_loss(start_proxy, collector, retry_after):
    collector.set_fail(2, retry_after)
    p = start_proxy(otel_config(collector.endpoint))
    for i in range(5):
        deny(p, i)
    collector.wait(lambda c: len(c.accepted()) == 5)
    text = stop(p)
    statuses = [q.status for q in collector.requests]
    assert statuses[:2] == [503, 503] and statuses[2:] == [200] * (
        len(statuses) - 2), statuses
    assert sorted(hosts(collector.accepted())) == sorted(
        f"h{i}.example.org" for i in range(5))
    s = stop_summary(text)
    assert s["sent"] == 5 and s["dropped"] == 0 and s["failed"] == 0
    assert s["retried"] == 2
    t = [q.time for q in collector.requests]
    if retry_after:
        # Retry-After: 1 is honoured: each retry waits (about) a second.
        assert t[1] - t[0] >= 0.9 and t[2] - t[1] >= 0.9, t
    else:
        # Backoff starts at 125-250 ms and doubles.
        assert t[1] - t[0] >= 0.1 and t[2] - t[1] >= 0.2, t


def test_drops_beyond_the_queue_bound_are_counted(start_proxy, collector):
    collector.set_hang()
    env = dict(os.environ, PADDOCK_OTLP_QUEUE="4")
    p = start_proxy(otel_config(collector.endpoint), env=env)
    deny(p, 0)
    # The exporter now holds h0 in a request the collector does not answer.
    collector.wait(lambda c: len(c.requests) == 1)
    for i in range(1, 21):
        deny(p, i)
    collector.release()
    text = stop(p)
    got = hosts(collector.accepted())
    # The oldest records made room: the first and the last four arrive.
    assert got == ["h0.example.org"] + [f"h{i}.example.org"
                                        for i in range(17, 21)], got
    s = stop_summary(text)
    assert s == {"sent": 5, "retried": 0, "dropped": 16, "failed": 0}, text


def test_a_hung_collector_does_not_slow_requests(start_proxy, collector):
    collector.set_hang()
    p = start_proxy(otel_config(collector.endpoint))
    deny(p, 0)
    collector.wait(lambda c: len(c.requests) == 1)
    # The exporter is stuck in a request: the data path must not notice.
    worst = 0.0
    for i in range(1, 51):
        t0 = time.monotonic()
        deny(p, i)
        worst = max(worst, time.monotonic() - t0)
    # Milliseconds normally; the bound leaves room for a loaded CI machine
    # and is far below the exporter's 10 s request timeout.
    assert worst < 2.0, f"a request took {worst:.3f}s while the collector hung"
    collector.release()
    stop(p)


def test_sigterm_flushes_what_is_queued(start_proxy, collector):
    p = start_proxy(otel_config(collector.endpoint, "json"))
    for i in range(10):
        deny(p, i)
    p.audit(10)
    # Batches wait up to a second; the stop must not.
    text = stop(p)
    assert sorted(hosts(collector.accepted())) == sorted(
        f"h{i}.example.org" for i in range(10))
    assert stop_summary(text)["sent"] == 10


def test_stop_gives_up_on_a_hung_collector_within_the_deadline(
        start_proxy, collector):
    collector.set_hang()
    p = start_proxy(otel_config(collector.endpoint))
    deny(p, 0)
    collector.wait(lambda c: len(c.requests) == 1)
    t0 = time.monotonic()
    text = stop(p)
    assert time.monotonic() - t0 < 8
    assert stop_summary(text)["failed"] == 1
    collector.release()


def test_no_otel_table_exports_nothing(start_proxy, collector):
    p = start_proxy(network_config({}))
    deny(p, 1)
    text = stop(p)
    assert "otlp:" not in text
    assert collector.requests == []


# ---------------------------------------------------------------------------
# Config checks.
# ---------------------------------------------------------------------------
def check(paddock, tmp_path, text, env=None):
    path = tmp_path / "config.toml"
    path.write_text(text)
    run_env = dict(os.environ, CODEX_HOME=str(tmp_path))
    run_env.update(env or {})
    r = paddock("config", "check", "--config", str(path), "--system-config",
                "", env=run_env)
    return r, str(path)


def test_config_undefined_header_variable_is_an_error_naming_it(
        paddock, tmp_path):
    r, path = check(paddock, tmp_path, '[otel]\nexporter = { otlp-http = { '
                    'endpoint = "http://127.0.0.1:9/v1/logs", headers = { '
                    '"x-k" = "${PADDOCK_TEST_UNSET_VAR}" } } }\n')
    assert r.rc == 1
    assert re.search(rf"error: {re.escape(path)}:2:\d+: "
                     r"otel\.exporter\.otlp-http\.headers\.x-k: the "
                     r'environment variable "PADDOCK_TEST_UNSET_VAR" in a '
                     r"header value is not set \[undefined_variable\]",
                     r.out + r.err), r.out + r.err


def test_config_grpc_is_an_error_saying_why(paddock, tmp_path):
    r, path = check(paddock, tmp_path, '[otel]\n\n[otel.exporter.otlp-grpc]\n'
                    'endpoint = "http://127.0.0.1:4317"\n')
    assert r.rc == 1
    out = r.out + r.err
    assert re.search(rf"error: {re.escape(path)}:3:\d+: "
                     r"otel\.exporter\.otlp-grpc: otlp-grpc is not "
                     r"supported: .*gRPC.*\[unsupported_exporter\]", out), out


@pytest.mark.parametrize("body,line,col,message", [
    ('[otel]\nexporter = "otlp-http"\n', 2, 12, r'expected "none" or a table'),
    ('[otel]\nexporter = { otlp-http = { endpoint = "ftp://x/" } }\n', 2, 39,
     r"expected an http:// or https:// URL"),
    ('[otel]\nexporter = { otlp-http = { endpoint = "http://h/", '
     'protocol = "grpc" } }\n', 2, 63, r'expected "binary" or "json"'),
    ('[otel]\nexporter = { otlp-http = { protocol = "json" } }\n', 2, 26,
     r"otlp-http needs an endpoint"),
    ('[otel]\nenvironment = 3\n', 2, 15, r"expected a string"),
    ('[otel.exporter.otlp-http]\nendpoint = "http://h/"\n'
     '[otel.exporter.otlp-http.tls]\nclient-certificate = "c.pem"\n', 3, 1,
     r"client-certificate and client-private-key go together"),
])
def test_config_errors_at_file_line_col(paddock, tmp_path, body, line, col,
                                        message):
    r, path = check(paddock, tmp_path, body)
    out = r.out + r.err
    assert r.rc == 1, out
    assert re.search(rf"error: {re.escape(path)}:{line}:{col}: .*{message}",
                     out), out


def test_config_unknown_keys_warn_and_codex_keys_are_accepted(paddock,
                                                              tmp_path):
    r, path = check(paddock, tmp_path, '[otel]\nlog_user_prompt = true\n'
                    'trace_exporter = "none"\nenvironmnet = "x"\n'
                    '[otel.exporter.otlp-http]\nendpoint = "http://h/"\n'
                    'compression = "gzip"\n')
    out = r.out + r.err
    assert r.rc == 0, out
    assert re.search(rf"warning: {re.escape(path)}:4:1: otel.environmnet: "
                     r'unknown key, ignored; did you mean "environment"',
                     out), out
    assert re.search(rf"warning: {re.escape(path)}:7:1: "
                     r"otel.exporter.otlp-http.compression: unknown key", out)
    assert "log_user_prompt" not in out and "trace_exporter" not in out


def test_config_show_redacts_header_values_and_resolves_tls(paddock,
                                                            tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[otel.exporter.otlp-http]\nendpoint = "http://h/v1/logs"'
                    '\nheaders = { "x-api-key" = "s3cr3t" }\n'
                    'tls = { ca-certificate = "certs/ca.pem" }\n')
    env = dict(os.environ, CODEX_HOME=str(tmp_path))
    r = paddock("config", "show", "--config", str(path), "--system-config",
                "", env=env)
    assert r.rc == 0, r.err
    assert "s3cr3t" not in r.out
    assert '"x-api-key" = "(redacted)"' in r.out or \
        'x-api-key = "(redacted)"' in r.out, r.out
    assert "# otel export: otlp-http (binary) to http://h/v1/logs" in r.out
    r = paddock("config", "show", "--json", "--config", str(path),
                "--system-config", "", env=env)
    assert r.rc == 0, r.err
    assert "s3cr3t" not in r.out
    import json
    o = json.loads(r.out)["otel"]
    assert o["header_names"] == ["x-api-key"]
    assert o["ca_certificate"] == str(tmp_path / "certs" / "ca.pem")
    assert o["environment"] == "dev" and o["protocol"] == "binary"


def test_paddock_run_exports_its_proxy_decisions(paddock, tmp_path,
                                                 collector):
    import subprocess
    if subprocess.run(["unshare", "-Urmnpf", "true"],
                      capture_output=True).returncode != 0:
        pytest.skip("user namespaces are unavailable: paddock run cannot "
                    "start its sandbox here")
    cfg = tmp_path / "config.toml"
    cfg.write_text('default_permissions = "t"\n'
                   '[permissions.t.filesystem]\n":root" = "read"\n'
                   '[permissions.t.network]\nenabled = true\n'
                   '[otel.exporter.otlp-http]\n'
                   f'endpoint = "{collector.endpoint}"\n'
                   'protocol = "json"\n')
    audit = tmp_path / "audit.jsonl"
    r = paddock("run", "--config", str(cfg), "--system-config", "",
                "--home", str(tmp_path), "--cwd", str(tmp_path),
                "--audit", str(audit), "--",
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                "http://denied.example.org/secret")
    assert r.rc == 0 and r.out == "403", (r.rc, r.out, r.err)
    # paddock run has stopped its proxy, so the export was flushed.
    records = collector.accepted()
    assert hosts(records) == ["denied.example.org"]
    # The record names its run, with the id the JSON-lines stream has.
    [line] = audit.read_text().splitlines()
    run_id = json.loads(line)["execution.id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                        r"[89ab][0-9a-f]{3}-[0-9a-f]{12}", run_id)
    assert records[0]["attributes"]["execution.id"] == ("string", run_id)
