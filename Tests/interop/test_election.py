"""Leader election on the wire with Apache ZooKeeper 3.8: `aviary election` takes part in the
election of a running ZooKeeper ensemble as its third member and follows the leader they
elected, dialling and being dialled as ZooKeeper's connection rules say (larger sid's
connection survives), whichever side has the larger sid."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest
from servers import aviary_binary, four_letter, free_port, zookeeper_classpath

HOSTS = {1: "127.0.0.2", 2: "127.0.0.3", 3: "127.0.0.4"}


def write_member(root, sid, members, client_port):
    data = os.path.join(root, "s%d" % sid)
    os.makedirs(data)
    with open(os.path.join(data, "myid"), "w") as f:
        f.write("%d\n" % sid)
    path = os.path.join(root, "zoo%d.cfg" % sid)
    with open(path, "w") as f:
        f.write("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=%s\n"
                "admin.enableServer=false\n4lw.commands.whitelist=*\nmetricsProvider.httpPort=0\n"
                % (data, client_port, HOSTS[sid]) + members)
    return path


def start_zookeeper(root, sid, config):
    log = open(os.path.join(root, "zk%d.log" % sid), "w")
    return subprocess.Popen(["java", "-Xmx256m", "-cp", zookeeper_classpath(), "-Dzookeeper.admin.enableServer=false",
                             "org.apache.zookeeper.server.quorum.QuorumPeerMain", config], stdout=log, stderr=subprocess.STDOUT)


def ensemble(root):
    quorum = {sid: free_port() for sid in HOSTS}
    election = {sid: free_port() for sid in HOSTS}
    client = {sid: free_port() for sid in HOSTS}
    members = "".join("server.%d=%s:%d:%d;%s:%d\n" % (sid, HOSTS[sid], quorum[sid], election[sid], HOSTS[sid], client[sid])
                      for sid in HOSTS)
    return {sid: write_member(root, sid, members, client[sid]) for sid in HOSTS}, client


@pytest.mark.timeout(150)
@pytest.mark.parametrize("aviary_sid,zookeeper_sid,expected", [(3, 1, "leading"), (1, 3, "following")])
def test_aviary_and_one_zookeeper_elect_the_larger_sid(aviary_sid, zookeeper_sid, expected):
    """Two LOOKING servers: votes go both ways until both back the larger sid."""
    root = tempfile.mkdtemp(prefix="election-")
    configs, _ = ensemble(root)
    process = start_zookeeper(root, zookeeper_sid, configs[zookeeper_sid])
    try:
        time.sleep(1)
        result = subprocess.run([aviary_binary(), "election", configs[aviary_sid], "--json", "--timeout", "60"],
                                capture_output=True, text=True, timeout=90)
        assert result.returncode == 0, result.stdout + result.stderr
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["state"] == expected and outcome["leader"] == max(aviary_sid, zookeeper_sid), outcome
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(150)
@pytest.mark.parametrize("aviary_sid", [3, 1])
def test_aviary_follows_the_leader_a_zookeeper_ensemble_elected(aviary_sid):
    root = tempfile.mkdtemp(prefix="election-")
    quorum = {sid: free_port() for sid in HOSTS}
    election = {sid: free_port() for sid in HOSTS}
    client = {sid: free_port() for sid in HOSTS}
    members = "".join("server.%d=%s:%d:%d;%s:%d\n" % (sid, HOSTS[sid], quorum[sid], election[sid], HOSTS[sid], client[sid])
                      for sid in HOSTS)
    configs = {sid: write_member(root, sid, members, client[sid]) for sid in HOSTS}
    processes = []
    try:
        for sid in HOSTS:
            if sid == aviary_sid:
                continue
            log = open(os.path.join(root, "zk%d.log" % sid), "w")
            processes.append(subprocess.Popen(
                ["java", "-Xmx256m", "-cp", zookeeper_classpath(), "-Dzookeeper.admin.enableServer=false",
                 "org.apache.zookeeper.server.quorum.QuorumPeerMain", configs[sid]], stdout=log, stderr=subprocess.STDOUT))
        leader = None
        deadline = time.time() + 90
        while leader is None and time.time() < deadline:
            time.sleep(0.5)
            for sid in HOSTS:
                if sid == aviary_sid:
                    continue
                try:
                    if "Mode: leader" in four_letter("%s:%d" % (HOSTS[sid], client[sid]), "srvr"):
                        leader = sid
                except OSError:
                    pass
        assert leader is not None, "the two ZooKeeper servers elected no leader"
        result = subprocess.run([aviary_binary(), "election", configs[aviary_sid], "--json", "--timeout", "60"],
                                capture_output=True, text=True, timeout=90)
        assert result.returncode == 0, result.stdout + result.stderr
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["state"] == "following" and outcome["leader"] == leader, outcome
        # peerEpoch is the new epoch once the members have synced, 0 if asked before
        # (QuorumPeer.updateElectionVote): either is ZooKeeper's answer.
        assert outcome["peerEpoch"] in (0, 1), outcome
    finally:
        for p in processes:
            p.kill()
            p.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(180)
def test_aviary_observes_a_zookeeper_ensemble():
    """Aviary as server.3, an observer of two ZooKeeper voters: it finds their leader, takes
    its tree (SNAP or DIFF), and applies the commits that follow (INFORM), in order."""
    import threading
    from kazoo.client import KazooClient
    root = tempfile.mkdtemp(prefix="observe-")
    quorum = {sid: free_port() for sid in HOSTS}
    election = {sid: free_port() for sid in HOSTS}
    client = {sid: free_port() for sid in HOSTS}
    members = "".join("server.%d=%s:%d:%d%s;%s:%d\n" % (sid, HOSTS[sid], quorum[sid], election[sid],
                                                        ":observer" if sid == 3 else "", HOSTS[sid], client[sid])
                      for sid in HOSTS)
    configs = {sid: write_member(root, sid, members, client[sid]) for sid in HOSTS}
    with open(configs[3], "a") as f:
        f.write("peerType=observer\n")
    processes = [start_zookeeper(root, sid, configs[sid]) for sid in (1, 2)]
    zk = None
    stop = threading.Event()
    try:
        zk = KazooClient(hosts="%s:%d,%s:%d" % (HOSTS[1], client[1], HOSTS[2], client[2]), timeout=10)
        zk.start(timeout=60)
        zk.create("/before")
        for n in range(50):
            zk.create("/before/n%02d" % n, b"x" * n)

        live = []

        def write_live():
            n = 0
            while not stop.is_set() and n < 200:
                zk.create("/live%03d" % n)
                live.append(n)
                n += 1
                time.sleep(0.05)

        writer = threading.Thread(target=write_live)
        writer.start()
        result = subprocess.run([aviary_binary(), "observe", configs[3], "--json", "--seconds", "2", "--timeout", "60"],
                                capture_output=True, text=True, timeout=120)
        stop.set()
        writer.join()
        assert result.returncode == 0, result.stdout + result.stderr
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        paths = set(outcome["paths"])
        assert {"/before/n%02d" % n for n in range(50)} <= paths and "/zookeeper/config" in paths
        seen = sorted(int(p[5:]) for p in paths if p.startswith("/live"))
        assert seen, "no commit followed the sync"
        assert seen == list(range(len(seen))), "commits applied in order, none missing"
        assert len(seen) <= len(live)
    finally:
        stop.set()
        if zk is not None:
            zk.stop()
            zk.close()
        for p in processes:
            p.kill()
            p.wait()
        shutil.rmtree(root, ignore_errors=True)
