#!/usr/bin/env python3
"""False elections with one server's disk made slow (issue 12): a three-server ZooKeeper 3.8
ensemble and a three-server Aviary ensemble, same zoo.cfg as bench/ensemble.py, one member of
each started with an LD_PRELOAD shim (Tests/interop/shims/slow_fsync.c) that makes every fsync
and fdatasync sleep first. With the ensemble formed, the slow member's fsyncs are delayed by
`--delay` ms and the 90/10 load of bench/ensemble.py's soak runs for `--seconds`; counted:
elections logged during it, followers that gave up their leader, leaders that stepped down,
and the throughput. Once with the slow disk on the leader, once on a follower.

    python3 bench/slow_disk_ensemble.py --delay 300 --seconds 60
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ensemble as b  # noqa: E402

# What a member logs when it gives its leader up, or a leader its leadership.
GAVE_UP = {
    "zookeeper": re.compile(r"Exception when following the leader|Not sufficient followers synced"),
    "aviary": re.compile(r"nothing from the leader for|stops leading|not hearing a quorum"),
}


def shim(work):
    out = os.path.join(work, "slow_fsync.so")
    source = os.path.join(b.ROOT, "Tests", "interop", "shims", "slow_fsync.c")
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", out, source, "-ldl"], check=True)
    return out


def run(kind, work, library, where, delay, seconds):
    members = b.Members(kind, os.path.join(work, "%s-%s" % (kind, where)))
    try:
        # Which sid will lead is known only after the election: give every member the shim,
        # and make only the chosen one's control file slow.
        controls = {}
        for sid in b.SIDS:
            controls[sid] = os.path.join(members.root, "fsync-delay-%d" % sid)
            with open(controls[sid], "w") as f:
                f.write("0")
            members.envs[sid] = {"LD_PRELOAD": library, "SLOW_FSYNC_CONTROL": controls[sid]}
        leader = members.start_all()
        slow = leader if where == "leader" else [sid for sid in b.SIDS if sid != leader][0]
        before = {sid: len(entries) for sid, entries in members.election_times().items()}
        gave_up_before = {sid: len(GAVE_UP[kind].findall(members.log(sid))) for sid in b.SIDS}
        with open(controls[slow], "w") as f:
            f.write(str(delay))
        report = b.bench(members.addresses(), ["--mix", "get=90,set=10", "--connections", "12", "--depth", "8"], seconds)
        with open(controls[slow], "w") as f:
            f.write("0")
        time.sleep(1)
        elections = sum(len(entries) - before[sid] for sid, entries in members.election_times().items())
        gave_up = sum(len(GAVE_UP[kind].findall(members.log(sid))) - gave_up_before[sid] for sid in b.SIDS)
        return {"elections": elections, "gave_up": gave_up, "ops": report["opsPerSecond"], "errors": report["errors"],
                "slow": slow, "leader": leader}
    finally:
        members.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=int, default=300, help="milliseconds added to each fsync of the slow member")
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    os.environ["AVIARY_BIN"] = b.release_binary()
    work = tempfile.mkdtemp(prefix="bench-slow-disk-", dir=os.environ.get("BENCH_DIR"))
    try:
        library = shim(work)
        rows = []
        for where in ("leader", "follower"):
            for kind in b.KINDS:
                result = run(kind, work, library, where, args.delay, args.seconds)
                rows.append((where, kind, result))
                print("slow %-8s %-9s elections %d, members giving up %d, %.0f ops/s, errors %s" % (
                    where, kind, result["elections"], result["gave_up"], result["ops"], result["errors"] or "none"), flush=True)
        print()
        print("| slow disk (+%d ms per fsync) on | kind | elections in %.0f s of 90/10 load | members giving up | ops/s |" % (args.delay, args.seconds))
        print("|---|---|---|---|---|")
        for where, kind, result in rows:
            print("| %s | %s | %d | %d | %.0f |" % (where, kind, result["elections"], result["gave_up"], result["ops"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
