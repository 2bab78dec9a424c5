#!/usr/bin/env python3
"""Restart time, peak memory and fsync-on write throughput: Aviary beside Apache ZooKeeper 3.8.

Both servers load the same ZooKeeper-format snapshot (make_snapshot.py), run with fsync on,
with their data on the same disk, in alternation. Prints a Markdown table and writes JSON.

usage: bench/durability.py [--nodes 1000000] [--runs 3] [--seconds 10] [--clients 4]
"""
import argparse
import contextlib
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "Tests", "interop"))
from rawzk import RawClient, Closed, i32, string, buf  # noqa: E402
from servers import free_port, zookeeper_classpath  # noqa: E402

ZK_HEAP = "2g"


def aviary_binary():
    path = os.environ.get("AVIARY_BIN") or os.path.join(ROOT, ".build", "release", "aviary")
    if not os.path.exists(path):
        subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True)
    return path


def start(kind, data_dir, port, extra=""):
    config = os.path.join(data_dir, "..", "zoo-%s.cfg" % kind)
    with open(config, "w") as f:
        f.write("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
                "maxClientCnxns=0\nforceSync=yes\n%s" % (data_dir, port, extra))
    log = open(os.path.join(data_dir, "..", "%s.log" % kind), "w")
    if kind == "aviary":
        command = [aviary_binary(), "server", config]
    else:
        command = ["java", "-Xmx" + ZK_HEAP, "-cp", zookeeper_classpath(),
                   "-Dzookeeper.admin.enableServer=false", "org.apache.zookeeper.server.ZooKeeperServerMain", config]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


@contextlib.contextmanager
def running(kind, extra=""):
    """A server of `kind` on a fresh data directory, readable at "/"; yields (process, port),
    then kills it and removes the directory."""
    work = tempfile.mkdtemp(prefix="bench-%s-" % kind, dir=os.environ.get("BENCH_DIR"))
    data = os.path.join(work, "data")
    os.makedirs(data)
    port = free_port()
    process = start(kind, data, port, extra)
    try:
        assert wait_readable(port, "/"), "%s did not start" % kind
        yield process, port
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(work, ignore_errors=True)


def memory(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0]) // 1024
    return fields


def wait_readable(port, path, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = RawClient("127.0.0.1:%d" % port)
            if c.connect_response["timeout"] > 0 and c.get_data(path)[0] == 0:
                c.sock.close()
                return True
            c.sock.close()
        except (OSError, Closed, AssertionError):
            pass
        time.sleep(0.02)
    return False


def restart_run(kind, template, last_path):
    work = tempfile.mkdtemp(prefix="bench-%s-" % kind, dir=os.environ.get("BENCH_DIR"))
    data = os.path.join(work, "data")
    subprocess.run(["cp", "-r", "--sparse=always", template, data], check=True)
    port = free_port()
    began = time.time()
    process = start(kind, data, port)
    ok = wait_readable(port, last_path)
    elapsed = time.time() - began
    time.sleep(1.0)
    mem = memory(process.pid)
    process.kill()
    process.wait()
    shutil.rmtree(work, ignore_errors=True)
    if not ok:
        raise RuntimeError("%s did not come up" % kind)
    return elapsed, mem


def writer(port, index, seconds, depth, result):
    c = RawClient("127.0.0.1:%d" % port, timeout_ms=30000)
    path = "/w%d" % index
    c.create(path, b"")
    value = b"v" * 100
    frame_body = string(path) + buf(value) + i32(-1)
    payload = lambda xid: i32(xid) + i32(5) + frame_body
    xid, done, inflight = 1, 0, 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        frames = b""
        while inflight < depth:
            p = payload(xid)
            frames += i32(len(p)) + p
            xid += 1
            inflight += 1
        c.send_raw(frames)
        rxid, _, err, _ = c.read_reply()
        assert err == 0
        inflight -= 1
        done += 1
    result.put(done)


def run_writers(port, clients, seconds, depth):
    """Runs `clients` writer processes against `port`; returns the requests they completed."""
    result = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=writer, args=(port, i, seconds, depth, result)) for i in range(clients)]
    for w in workers:
        w.start()
    total = sum(result.get() for _ in workers)
    for w in workers:
        w.join()
    return total


def throughput(kind, clients, seconds, depth):
    with running(kind) as (_, port):
        return run_writers(port, clients, seconds, depth) / seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--depth", type=int, default=32)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "durability.json"))
    args = parser.parse_args()
    aviary_binary()
    template_root = tempfile.mkdtemp(prefix="bench-template-", dir=os.environ.get("BENCH_DIR"))
    template = os.path.join(template_root, "data")
    subprocess.run([sys.executable, os.path.join(HERE, "make_snapshot.py"), template, "--nodes", str(args.nodes)],
                   check=True, stdout=subprocess.DEVNULL)
    parents = (args.nodes + 999) // 1000
    last = "/bench/c%04d/n%04d" % (parents - 1, (args.nodes - 1) % 1000)
    results = {"nodes": args.nodes, "zookeeper_heap": ZK_HEAP, "restart_s": {}, "peak_rss_mb": {}, "writes_per_s": {}}
    samples = {"aviary": [], "zookeeper": []}
    for run in range(args.runs):
        for kind in ("zookeeper", "aviary"):
            elapsed, mem = restart_run(kind, template, last)
            samples[kind].append((elapsed, mem["VmHWM"]))
            print("run %d %-9s restart %.2fs peak RSS %d MB" % (run + 1, kind, elapsed, mem["VmHWM"]), flush=True)
    shutil.rmtree(template_root, ignore_errors=True)
    for kind in samples:
        results["restart_s"][kind] = statistics.median(s[0] for s in samples[kind])
        results["peak_rss_mb"][kind] = statistics.median(s[1] for s in samples[kind])
    for run in range(args.runs):
        for kind in ("zookeeper", "aviary"):
            rate = throughput(kind, args.clients, args.seconds, args.depth)
            results["writes_per_s"].setdefault(kind, []).append(rate)
            print("run %d %-9s fsync-on setData %.0f/s" % (run + 1, kind, rate), flush=True)
    for kind in results["writes_per_s"]:
        results["writes_per_s"][kind] = statistics.median(results["writes_per_s"][kind])
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
    z, a = "zookeeper", "aviary"
    print()
    print("| %d znodes of 100 bytes | Apache ZooKeeper 3.8 | Aviary | Aviary / ZooKeeper |" % args.nodes)
    print("|---|---|---|---|")
    print("| restart to first read (median of %d) | %.2f s | %.2f s | %.2f× |" % (
        args.runs, results["restart_s"][z], results["restart_s"][a], results["restart_s"][a] / results["restart_s"][z]))
    print("| peak RSS after load | %d MB | %d MB | %.2f× |" % (
        results["peak_rss_mb"][z], results["peak_rss_mb"][a], results["peak_rss_mb"][a] / results["peak_rss_mb"][z]))
    print("| setData/s, fsync on, %d clients × %d in flight | %.0f | %.0f | %.2f× |" % (
        args.clients, args.depth, results["writes_per_s"][z], results["writes_per_s"][a],
        results["writes_per_s"][a] / results["writes_per_s"][z]))


if __name__ == "__main__":
    main()
