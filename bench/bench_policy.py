#!/usr/bin/python3
"""Policy decision latency with 10,000 patterns (make bench).

Runs build/bench/bench_policy, which times policy_judge() once per call
over a mix of hosts that hit and miss, and prints the median and p99 in
nanoseconds. A median of 1 microsecond or more fails the run: the policy
is on every request's path.
"""
import argparse
import os
import subprocess
import sys

BUDGET_NS = 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    exe = os.path.join(args.build, "bench", "bench_policy")
    if not os.path.exists(exe):
        sys.exit(f"bench_policy: {exe} is not built; run make")
    r = subprocess.run([exe], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench_policy: failed: {r.stderr.strip()}")
    figures = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    median = int(figures["median_ns"])
    p99 = int(figures["p99_ns"])
    print(f"policy: {figures['patterns']} patterns: {figures['mix']}")
    print(f"policy: {figures['hosts']} hosts, {figures['allowed_pct']}% allowed; "
          f"compiled in {figures['compile_ms']} ms")
    print(f"{'':24}{'median':>10}{'p99':>10}")
    print(f"{'policy_judge (ns)':24}{median:>10}{p99:>10}")
    verdict = "ok" if median < BUDGET_NS else "TOO SLOW"
    print(f"policy: median {median} ns against a {BUDGET_NS} ns budget: "
          f"{verdict}")
    return 0 if median < BUDGET_NS else 1


if __name__ == "__main__":
    sys.exit(main())
