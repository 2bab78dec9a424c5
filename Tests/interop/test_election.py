"""Leader election on the wire with Apache ZooKeeper 3.8: `aviary election` takes part in the
election of a running ZooKeeper ensemble as its third member and follows the leader they
elected, dialling and being dialled as ZooKeeper's connection rules say (larger sid's
connection survives), whichever side has the larger sid."""
import json
import shutil
import subprocess
import tempfile
import time

import pytest
from servers import Ensemble, aviary_binary

@pytest.mark.timeout(150)
@pytest.mark.parametrize("aviary_sid,zookeeper_sid,expected", [(3, 1, "leading"), (1, 3, "following")])
def test_aviary_and_one_zookeeper_elect_the_larger_sid(aviary_sid, zookeeper_sid, expected):
    """Two LOOKING servers: votes go both ways until both back the larger sid."""
    root = tempfile.mkdtemp(prefix="election-")
    ensemble = Ensemble(root)
    process = ensemble.start_zookeeper(zookeeper_sid)
    try:
        time.sleep(1)
        result = subprocess.run([aviary_binary(), "election", ensemble.configs[aviary_sid], "--json", "--timeout", "60"],
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
    ensemble = Ensemble(root)
    processes = []
    try:
        zookeepers = [sid for sid in Ensemble.HOSTS if sid != aviary_sid]
        processes = [ensemble.start_zookeeper(sid) for sid in zookeepers]
        leader = ensemble.wait_for_leader(zookeepers)
        assert leader is not None, "the two ZooKeeper servers elected no leader"
        result = subprocess.run([aviary_binary(), "election", ensemble.configs[aviary_sid], "--json", "--timeout", "60"],
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
    ensemble = Ensemble(root, observers=(3,))
    processes = [ensemble.start_zookeeper(sid) for sid in (1, 2)]
    zk = None
    stop = threading.Event()
    try:
        zk = KazooClient(hosts="%s,%s" % (ensemble.client_address(1), ensemble.client_address(2)), timeout=10)
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
        result = subprocess.run([aviary_binary(), "observe", ensemble.configs[3], "--json", "--seconds", "2", "--timeout", "60"],
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
