#!/usr/bin/env python3
"""A three-server Apache ZooKeeper 3.8 ensemble beside a three-server Aviary ensemble.

Both run on loopback aliases (127.0.0.2-4) with the same zoo.cfg values (tickTime=2000,
initLimit=10, syncLimit=5, fsync on, data on the same disk), at the same time; each
measurement alternates between them with the same client:

- throughput and latency with `aviary bench`, connections spread over all three servers,
  and the servers' CPU per operation;
- failover: from SIGKILL (then SIGSTOP) of the leader until a write through a surviving
  follower succeeds again, repeated, medians;
- election time at start and after each leader loss, as each server logs it;
- catch-up: a follower stopped, N znodes of 100 bytes written, the follower restarted: time
  until it serves a read of the newest znode (SNAP); then the same with 10,000 missed writes
  (DIFF);
- resident memory of every server after the runs;
- with --soak SECONDS, elections during a loaded run without faults.

usage: bench/compare --ensemble [--seconds 10] [--failovers 3] [--nodes 1000000] [--soak 0]
       (or bench/ensemble.py with the same options)
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "Tests", "interop"))
from rawzk import OPEN_ACL, RawClient, acls, buf, i32, string  # noqa: E402
from servers import Ensemble, four_letter  # noqa: E402

KINDS = ("zookeeper", "aviary")
SIDS = (1, 2, 3)
WORKLOADS = [
    ("writes (set)", ["--mix", "set=100", "--connections", "12", "--depth", "32"]),
    ("reads (get)", ["--mix", "get=100", "--connections", "12", "--depth", "32"]),
    ("mixed 90/10", ["--mix", "get=90,set=10", "--connections", "12", "--depth", "32"]),
]
ZK_HEAP = "2g"
ELECTION_LINE = {
    "zookeeper": re.compile(r"(LEADING|FOLLOWING) - LEADER ELECTION TOOK - (\d+) MS"),
    "aviary": re.compile(r"(LEADING|FOLLOWING)[^\n]*\(election took (\d+) ms\)"),
}


def release_binary():
    """$AVIARY_BIN when set (a release build made elsewhere), else a fresh release build."""
    if os.environ.get("AVIARY_BIN"):
        return os.environ["AVIARY_BIN"]
    path = os.path.join(ROOT, ".build", "release", "aviary")
    subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return path


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


class Members:
    """One kind's ensemble: its processes, started and restarted by sid."""

    def __init__(self, kind, root):
        self.kind = kind
        self.root = os.path.join(root, kind)
        os.makedirs(self.root)
        self.ensemble = Ensemble(self.root, tick_time=2000, init_limit=10, sync_limit=5,
                                 extra="forceSync=yes\nmaxClientCnxns=0\n")
        self.processes = {}
        # Extra environment variables by sid (LD_PRELOAD for a slow disk, say).
        self.envs = {}

    def start(self, sid):
        env = self.envs.get(sid)
        if self.kind == "aviary":
            self.processes[sid] = self.ensemble.start_aviary(sid, env=env)
        else:
            self.processes[sid] = self.ensemble.start_zookeeper(sid, heap=ZK_HEAP, env=env)

    def start_all(self):
        for sid in SIDS:
            self.start(sid)
        return self.wait_serving()

    def mode(self, sid):
        return self.ensemble.mode(sid)

    def wait_serving(self, timeout=300):
        """Waits until one member leads and the others follow; returns the leader's sid."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            modes = {sid: self.mode(sid) for sid in SIDS}
            leaders = [sid for sid, mode in modes.items() if mode == "leader"]
            if len(leaders) == 1 and all(mode == "follower" for sid, mode in modes.items() if sid != leaders[0]):
                return leaders[0]
            time.sleep(0.2)
        raise RuntimeError("%s ensemble did not form: %s" % (self.kind, {sid: self.mode(sid) for sid in SIDS}))

    def wait_leader(self, timeout=300):
        """Waits until one member leads; returns its sid."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            leaders = [sid for sid in SIDS if sid in self.processes and self.mode(sid) == "leader"]
            if len(leaders) == 1:
                return leaders[0]
            time.sleep(0.2)
        raise RuntimeError("%s ensemble has no leader" % self.kind)

    def addresses(self):
        return ",".join(self.ensemble.client_address(sid) for sid in SIDS)

    def log(self, sid):
        name = ("aviary%d.log" if self.kind == "aviary" else "zk%d.log") % sid
        with open(os.path.join(self.root, name), errors="replace") as f:
            return f.read()

    def election_times(self):
        """Every election each member logged, in order: [(sid, role, millis)]."""
        return {sid: [(m.group(1), int(m.group(2))) for m in ELECTION_LINE[self.kind].finditer(self.log(sid))] for sid in SIDS}

    def close(self):
        for process in self.processes.values():
            with contextlib.suppress(OSError):
                process.send_signal(signal.SIGCONT)
            process.kill()
            process.wait()


def bench(addresses, arguments, seconds):
    command = [os.environ["AVIARY_BIN"], "bench", "--servers", addresses, "--duration", str(seconds),
               "--warmup", "2", "--json"] + arguments
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 180)
    if out.returncode != 0:
        raise RuntimeError("bench failed: %s %s" % (out.stdout[-500:], out.stderr[-500:]))
    return json.loads(out.stdout)


def succeeds(address, op, body, timeout):
    """One request on a new session; True when the server answered it without error."""
    try:
        client = RawClient(address, read_only=False)
    except Exception:
        return False
    try:
        client.sock.settimeout(timeout)
        err, _, _ = client.call(op, body)
        return err == 0
    except Exception:
        return False
    finally:
        with contextlib.suppress(OSError):
            client.sock.close()


def set_data(address, path, timeout):
    """One setData of `path` on a new session; True when it was acknowledged."""
    return succeeds(address, "setData", string(path) + buf(b"x") + i32(-1), timeout)


def create(address, path):
    client = RawClient(address, read_only=False)
    err, _, _ = client.call("create", string(path) + buf(b"") + acls(OPEN_ACL) + i32(0))
    client.sock.close()
    return err


def failover(members, sig):
    """Signals the leader; returns seconds until a write through a follower succeeds."""
    leader = members.wait_serving()
    survivor = [sid for sid in SIDS if sid != leader][0]
    address = members.ensemble.client_address(survivor)
    if create(address, "/failover") not in (0, -110):
        raise RuntimeError("cannot create /failover")
    assert set_data(address, "/failover", 5)
    began = time.perf_counter()
    members.processes[leader].send_signal(sig)
    while not set_data(address, "/failover", 1.0):
        time.sleep(0.02)
        if time.perf_counter() - began > 120:
            raise RuntimeError("%s: no write for 120 s after %s" % (members.kind, sig))
    elapsed = time.perf_counter() - began
    if sig == signal.SIGSTOP:
        members.processes[leader].send_signal(signal.SIGCONT)
    else:
        members.processes[leader].wait()
        members.start(leader)
    members.wait_serving()
    return elapsed


def fill(members, count, prefix):
    """Writes `count` more znodes of 100 bytes through the leader with `aviary bench`
    (creates under /fill-PREFIX), then one marker znode; returns the marker's path and seconds."""
    leader = members.wait_leader()
    address = members.ensemble.client_address(leader)
    began = time.time()
    start_count = znode_count(address)
    command = [os.environ["AVIARY_BIN"], "bench", "--servers", address, "--duration", "3600", "--warmup", "0",
               "--mix", "create=100", "--connections", "8", "--depth", "64", "--value-size", "100", "--keys", "1",
               "--root", "/fill-%s" % prefix, "--json"]
    writer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while znode_count(address) < start_count + count:
            if writer.poll() is not None:
                raise RuntimeError("the writer stopped")
            time.sleep(0.2)
    finally:
        writer.terminate()
        writer.wait()
    marker = "/%s-newest" % prefix
    assert create(address, marker) == 0
    return marker, time.time() - began


def znode_count(address):
    text = four_letter(address, "mntr", timeout=10)
    match = re.search(r"zk_znode_count\t(\d+)", text)
    return int(match.group(1)) if match else 0


def serves(address, path):
    """Whether the server answers `exists` of `path` (it is serving and has the znode)."""
    return succeeds(address, "exists", string(path) + b"\x00", 2)


def catch_up(members, count, prefix):
    """Stops a follower, writes `count` znodes, restarts it: seconds from its start until it
    serves a read of the newest znode."""
    leader = members.wait_serving()
    follower = [sid for sid in SIDS if sid != leader][-1]
    members.processes.pop(follower).kill()
    marker, _ = fill(members, count, prefix)
    began = time.perf_counter()
    members.start(follower)
    address = members.ensemble.client_address(follower)
    while not serves(address, marker):
        time.sleep(0.05)
        if time.perf_counter() - began > 600:
            raise RuntimeError("%s: follower not caught up after 600 s" % members.kind)
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--failovers", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--diff", type=int, default=10_000)
    parser.add_argument("--soak", type=float, default=0)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "ensemble.json"))
    args = parser.parse_args()
    os.environ["AVIARY_BIN"] = release_binary()
    work = tempfile.mkdtemp(prefix="bench-ensemble-", dir=os.environ.get("BENCH_DIR"))
    results = {kind: {"workloads": {}, "failover_kill": [], "failover_stop": []} for kind in KINDS}
    ensembles = {}
    try:
        for kind in KINDS:
            ensembles[kind] = Members(kind, work)
            ensembles[kind].start_all()
            print("%s ensemble formed" % kind, flush=True)
        for name, arguments in WORKLOADS:
            for kind in KINDS:
                members = ensembles[kind]
                before = sum(cpu_seconds(p.pid) for p in members.processes.values())
                report = bench(members.addresses(), arguments, args.seconds)
                spent = sum(cpu_seconds(p.pid) for p in members.processes.values()) - before
                report["serverCpuMicrosPerOp"] = spent * 1e6 / max(1, report["opsPerSecond"] * (args.seconds + 2))
                results[kind]["workloads"][name] = report
                print("%-14s %-9s %9.0f ops/s  p50 %6d µs  p99 %6d µs  CPU of 3 servers %6.1f µs/op  errors %s" % (
                    name, kind, report["opsPerSecond"], report["latencyMicros"].get("p50", 0),
                    report["latencyMicros"].get("p99", 0), report["serverCpuMicrosPerOp"], report["errors"] or "none"), flush=True)
        if args.soak > 0:
            for kind in KINDS:
                members = ensembles[kind]
                before = sum(len(v) for v in members.election_times().values())
                bench(members.addresses(), ["--mix", "get=90,set=10", "--connections", "12", "--depth", "8"], args.soak)
                results[kind]["soak_elections"] = sum(len(v) for v in members.election_times().values()) - before
                print("%-9s elections during %.0f s of load: %d" % (kind, args.soak, results[kind]["soak_elections"]), flush=True)
        for sig, key in ((signal.SIGKILL, "failover_kill"), (signal.SIGSTOP, "failover_stop")):
            for _ in range(args.failovers):
                for kind in KINDS:
                    seconds = failover(ensembles[kind], sig)
                    results[kind][key].append(seconds)
                    print("%-9s write resumed %.2f s after %s of the leader" % (kind, seconds, sig.name), flush=True)
        for kind in KINDS:
            times = ensembles[kind].election_times()
            first = [entries[0][1] for entries in times.values() if entries]
            later = [millis for entries in times.values() for role, millis in entries[1:] if role == "LEADING"]
            results[kind]["election_at_start_ms"] = max(first) if first else None
            results[kind]["election_after_loss_ms"] = statistics.median(later) if later else None
        for kind in KINDS:
            results[kind]["snap_catch_up"] = catch_up(ensembles[kind], args.nodes, "snap")
            print("%-9s follower serving %.2f s after its restart, %d znodes behind (SNAP)" % (
                kind, results[kind]["snap_catch_up"], args.nodes), flush=True)
        for kind in KINDS:
            results[kind]["diff_catch_up"] = catch_up(ensembles[kind], args.diff, "diff")
            print("%-9s follower serving %.2f s after its restart, %d writes behind (DIFF)" % (
                kind, results[kind]["diff_catch_up"], args.diff), flush=True)
        for kind in KINDS:
            results[kind]["rss_mb"] = {sid: rss_mb(p.pid) for sid, p in ensembles[kind].processes.items()}
    finally:
        for members in ensembles.values():
            members.close()
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
    print_table(results, args)


def print_table(results, args):
    z, a = results["zookeeper"], results["aviary"]

    def row(name, zv, av, unit, goal):
        ratio = av / zv if zv else 0
        print("| %s | %s | %s | %.2f× | %s |" % (name, unit % zv, unit % av, ratio, goal))
    print()
    print("| measure | ZooKeeper | Aviary | Aviary / ZooKeeper | goal |")
    print("|---|---|---|---|---|")
    for name, _ in WORKLOADS:
        zw, aw = z["workloads"][name], a["workloads"][name]
        goal = "≥ 2×" if name != "mixed 90/10" else ""
        row(name + " ops/s", zw["opsPerSecond"], aw["opsPerSecond"], "%.0f", goal)
        row(name + " p99 µs", zw["latencyMicros"].get("p99", 0), aw["latencyMicros"].get("p99", 0), "%d",
            "≤ 0.5×" if name.startswith("writes") else "")
        row(name + " CPU µs/op (3 servers)", zw["serverCpuMicrosPerOp"], aw["serverCpuMicrosPerOp"], "%.1f", "")
    if args.failovers > 0:
        row("failover after SIGKILL (s, median)", statistics.median(z["failover_kill"]), statistics.median(a["failover_kill"]), "%.2f", "≤ 0.25×")
        row("failover after SIGSTOP (s, median)", statistics.median(z["failover_stop"]), statistics.median(a["failover_stop"]), "%.2f", "≤ 0.3×")
    if z["election_at_start_ms"] and a["election_at_start_ms"]:
        row("election at start (ms)", z["election_at_start_ms"], a["election_at_start_ms"], "%d", "")
    if z["election_after_loss_ms"] and a["election_after_loss_ms"]:
        row("election after a leader loss (ms, median)", z["election_after_loss_ms"], a["election_after_loss_ms"], "%d", "")
    row("SNAP catch-up, %d znodes (s)" % args.nodes, z["snap_catch_up"], a["snap_catch_up"], "%.2f", "≤ 0.25×")
    row("DIFF catch-up, %d writes (s)" % args.diff, z["diff_catch_up"], a["diff_catch_up"], "%.2f", "")
    row("RSS per server after the runs (MB, max)", max(z["rss_mb"].values()), max(a["rss_mb"].values()), "%d", "")
    if "soak_elections" in z:
        print("| elections during %.0f s of load | %d | %d | | 0 |" % (args.soak, z["soak_elections"], a["soak_elections"]))


if __name__ == "__main__":
    main()
