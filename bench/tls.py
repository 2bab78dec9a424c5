#!/usr/bin/env python3
"""TLS on the client port, Aviary beside Apache ZooKeeper 3.8 (issue 14).

Starts both servers (fsync on, data on the same disk) with a secureClientPort, the same
certificates (made by openssl for the run) and ssl.clientAuth=need; ZooKeeper with
NettyServerCnxnFactory. Runs the same workloads with the native `aviary bench` over TLS (and
over plaintext, for what TLS costs each server), alternating between the servers, and prints
one table with ratios.

With --pin (two or more CPUs), both servers run on the last CPU and the load generator on
the others, so that the generator does not take the CPU the server under test would use:
each server's throughput on one core, at the same CPU for both.

usage: bench/tls.py [--seconds 10] [--runs 1] [--pin]
"""
import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "Tests", "interop"))
from durability import aviary_binary, running  # noqa: E402

WARMUP_SECONDS = 2


def cpu_seconds(pid):
    """User plus system CPU time of a process so far (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
from servers import free_port  # noqa: E402
from tlscerts import Certificates  # noqa: E402

WORKLOADS = [
    ("writes (set), 8 × 32 in flight", ["--mix", "set=100", "--connections", "8", "--depth", "32"]),
    ("reads (get), 8 × 32 in flight", ["--mix", "get=100", "--connections", "8", "--depth", "32"]),
    ("single client, 1 in flight (get)", ["--mix", "get=100", "--connections", "1", "--depth", "1"]),
    ("single client, 1 in flight (set)", ["--mix", "set=100", "--connections", "1", "--depth", "1"]),
]


def tls_extra(certs, port):
    return ("secureClientPort=%d\nserverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
            "ssl.keyStore.location=%s\nssl.keyStore.type=PEM\nssl.trustStore.location=%s\nssl.trustStore.type=PEM\n"
            "ssl.clientAuth=need\nssl.hostnameVerification=false\n"
            "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n"
            % (port, certs.path("server.pem"), certs.path("ca.crt")))


def pin(pid, cpus):
    """Moves every thread of process `pid` to `cpus` (threads it starts later inherit it)."""
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass  # a thread that ended meanwhile


GENERATOR_CPUS = None


def bench(port, arguments, seconds, certs=None):
    prefix = ["taskset", "-c", ",".join(str(c) for c in sorted(GENERATOR_CPUS))] if GENERATOR_CPUS else []
    command = prefix + [aviary_binary(), "bench", "--servers", "127.0.0.1:%d" % port, "--duration", str(seconds),
               "--warmup", str(WARMUP_SECONDS), "--json"] + arguments
    if certs:
        command += ["--tls-ca", certs.path("ca.crt"), "--tls-certificate", certs.path("client.crt"),
                    "--tls-key", certs.path("client.key")]
    out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=seconds * 10 + 120)
    if out.returncode != 0:
        raise RuntimeError(out.stdout.decode(errors="replace"))
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "tls.json"))
    parser.add_argument("--pin", action="store_true", help="servers on the last CPU, the load generator on the others")
    args = parser.parse_args()
    global GENERATOR_CPUS
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin and len(cpus) < 2:
        parser.error("--pin needs two CPUs or more")
    server_cpus = {cpus[-1]} if args.pin else None
    if args.pin:
        GENERATOR_CPUS = set(cpus[:-1])
        print("pinned: servers on CPU %d, the load generator on CPU %s" % (cpus[-1], ",".join(map(str, cpus[:-1]))), flush=True)
    if "AVIARY_BIN" not in os.environ:
        subprocess.run(["swift", "build", "-c", "release"], cwd=os.path.dirname(HERE), check=True, stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="bench-tls-", dir=os.environ.get("BENCH_DIR"))
    results = {}
    try:
        certs = Certificates(os.path.join(work, "certs"))
        secure = {kind: free_port() for kind in ("zookeeper", "aviary")}
        with contextlib.ExitStack() as stack:
            servers = {kind: stack.enter_context(running(kind, tls_extra(certs, secure[kind]) + (
                "metricsProvider.httpPort=0\n" if kind == "aviary" else ""))) for kind in ("zookeeper", "aviary")}
            if server_cpus:
                for process, _ in servers.values():
                    pin(process.pid, server_cpus)
            for name, arguments in WORKLOADS:
                for transport in ("tls", "plaintext"):
                    for _ in range(args.runs):
                        for kind in ("zookeeper", "aviary"):
                            before = cpu_seconds(servers[kind][0].pid)
                            if transport == "tls":
                                report = bench(secure[kind], arguments, args.seconds, certs)
                            else:
                                report = bench(servers[kind][1], arguments, args.seconds)
                            # Server CPU per operation over the run (set-up and warm-up too): what
                            # tells the servers apart when the load generator is the limit.
                            operations = report["opsPerSecond"] * (args.seconds + WARMUP_SECONDS)
                            report["serverCpuMicrosPerOp"] = (cpu_seconds(servers[kind][0].pid) - before) * 1e6 / max(1, operations)
                            results.setdefault(name, {}).setdefault(transport, {}).setdefault(kind, []).append(report)
                            print("%-36s %-9s %-9s %9.0f ops/s  p50 %6d µs  p99 %6d µs  server CPU %6.1f µs/op  errors %s" % (
                                name, transport, kind, report["opsPerSecond"], report["latencyMicros"].get("p50", 0),
                                report["latencyMicros"].get("p99", 0), report["serverCpuMicrosPerOp"], report["errors"] or "none"),
                                flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)

    def median(name, transport, kind, key):
        reports = results[name][transport][kind]
        if key in ("ops", "cpu"):
            return statistics.median(r["opsPerSecond" if key == "ops" else "serverCpuMicrosPerOp"] for r in reports)
        return statistics.median(r["latencyMicros"].get(key, 0) for r in reports)
    print()
    print("| workload (TLS, clientAuth=need) | ZooKeeper ops/s | Aviary ops/s | ratio | ZooKeeper p50 µs | Aviary p50 µs "
          "| ZooKeeper p99 µs | Aviary p99 µs | p99 ratio | server CPU µs/op ZooKeeper / Aviary | plaintext ratio (ops/s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, _ in WORKLOADS:
        zo, ao = median(name, "tls", "zookeeper", "ops"), median(name, "tls", "aviary", "ops")
        z50, a50 = median(name, "tls", "zookeeper", "p50"), median(name, "tls", "aviary", "p50")
        z99, a99 = median(name, "tls", "zookeeper", "p99"), median(name, "tls", "aviary", "p99")
        zc, ac = median(name, "tls", "zookeeper", "cpu"), median(name, "tls", "aviary", "cpu")
        plain = median(name, "plaintext", "aviary", "ops") / max(1, median(name, "plaintext", "zookeeper", "ops"))
        print("| %s | %.0f | %.0f | %.2f× | %d | %d | %d | %d | %.2f× | %.1f / %.1f (%.2f×) | %.2f× |" % (
            name, zo, ao, ao / zo if zo else 0, z50, a50, z99, a99, a99 / z99 if z99 else 0, zc, ac, ac / zc if zc else 0, plain))


if __name__ == "__main__":
    main()
