"""Aviary as a member of an Apache ZooKeeper 3.8 ensemble: it follows (or observes) the leader
the ZooKeeper servers elected, synchronizes with it, serves kazoo clients (reads from its own
tree, writes and sync through the leader), and rejoins after a SIGKILL with what was written
while it was down, by DIFF or by SNAP."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError
from rawzk import OPEN_ACL, Closed, RawClient, acls, buf, i32, string
from servers import Ensemble, four_letter

AVIARY = 1
ZOOKEEPERS = (2, 3)


def connect(ensemble, sid, **kwargs):
    client = KazooClient(hosts=ensemble.client_address(sid), timeout=10, **kwargs)
    client.start(timeout=30)
    return client


def wait_until(predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def assert_follows_with(ensemble, sid, child):
    """Server `sid` is a follower again and has caught up to `/child`."""
    assert ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"
    client = connect(ensemble, sid)
    client.sync("/")
    assert child in client.get_children("/")
    client.stop()


def prometheus(ensemble, sid):
    """Server `sid`'s /metrics samples by name (labels kept in the name)."""
    url = "http://%s:%d/metrics" % (Ensemble.HOSTS[sid], ensemble.metrics[sid])
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line and not line.startswith("#")}


class Members:
    """The ensemble's processes, killed and their logs shown when a test fails."""

    def __init__(self, observers=(), zookeeper_properties=(), admin=False, extra=""):
        self.root = tempfile.mkdtemp(prefix="ensemble-")
        self.ensemble = Ensemble(self.root, observers=observers, admin=admin, extra=extra)
        self.zookeeper_properties = zookeeper_properties
        self.processes = {}

    def start_zookeepers(self):
        for sid in ZOOKEEPERS:
            self.processes[sid] = self.ensemble.start_zookeeper(sid, self.zookeeper_properties)
        leader = self.ensemble.wait_for_leader(ZOOKEEPERS)
        assert leader is not None, "the ZooKeeper servers elected no leader"
        return leader

    def start_aviary(self, modes=("follower",)):
        self.processes[AVIARY] = self.ensemble.start_aviary(AVIARY)
        mode = self.ensemble.wait_for_mode(AVIARY, modes, timeout=60)
        assert mode in modes, "Aviary is %r, not %s:\n%s" % (mode, modes, self.aviary_log()[-4000:])

    def start_aviary_leading(self, user=None, env=None):
        """server.3 = Aviary starts first, then the ZooKeepers: with equal zxids the largest
        sid leads, and they follow it."""
        self.processes[3] = self.ensemble.start_aviary(3, env=env, user=user)
        time.sleep(1)
        for sid in (1, 2):
            self.processes[sid] = self.ensemble.start_zookeeper(sid, self.zookeeper_properties)
        assert self.ensemble.wait_for_mode(3, ("leader",), timeout=60) == "leader", self.aviary_log(3)[-3000:]
        for sid in (1, 2):
            assert self.ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"

    def start_all_aviary(self):
        """Three Aviary members; waits until one leads and the others follow. Returns the
        leader and the followers."""
        for sid in Ensemble.HOSTS:
            self.processes[sid] = self.ensemble.start_aviary(sid)
        leader = self.ensemble.wait_for_leader(list(Ensemble.HOSTS), timeout=60)
        assert leader is not None, self.aviary_log(1)[-3000:]
        others = [sid for sid in Ensemble.HOSTS if sid != leader]
        for sid in others:
            assert self.ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"
        return leader, others

    def kill(self, sid, sig=signal.SIGKILL):
        process = self.processes.pop(sid)
        process.send_signal(sig)
        process.wait()

    def aviary_log(self, sid=AVIARY):
        try:
            with open(os.path.join(self.root, "aviary%d.log" % sid), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        for process in self.processes.values():
            process.kill()
            process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def members():
    m = Members()
    yield m
    m.close()


@pytest.mark.timeout(240)
def test_aviary_follows_a_zookeeper_leader_and_serves_clients(members):
    members.start_zookeepers()
    zookeeper = connect(members.ensemble, ZOOKEEPERS[0])
    zookeeper.create("/before", b"written before Aviary joined")
    members.start_aviary()
    aviary = connect(members.ensemble, AVIARY)
    try:
        monitor = dict(line.split("\t", 1) for line in four_letter(members.ensemble.client_address(AVIARY), "mntr").splitlines() if "\t" in line)
        assert monitor["zk_server_state"] == "follower" and monitor["zk_peer_state"] == "following - broadcast", monitor
        assert monitor["zk_quorum_size"] == "3"
        # /zookeeper/config holds the membership as ZooKeeper's members set it (QuorumMaj's
        # text, version -1, mzxid the configuration's version).
        config, config_stat = aviary.get("/zookeeper/config")
        theirs, their_stat = zookeeper.get("/zookeeper/config")
        assert config == theirs and b"server.1=" in config and config.endswith(b"version=0"), (config, theirs)
        assert (config_stat.version, config_stat.mzxid) == (their_stat.version, their_stat.mzxid) == (-1, 0)
        # What the ensemble had before Aviary joined came with the synchronization.
        assert aviary.get("/before")[0] == b"written before Aviary joined"
        # Writes through Aviary go to the leader and are answered after commit.
        aviary.create("/through-aviary", b"one")
        assert zookeeper.sync("/through-aviary") and zookeeper.get("/through-aviary")[0] == b"one"
        stat = aviary.set("/through-aviary", b"two")
        assert stat.version == 1
        # A write elsewhere reaches Aviary and fires the watch set there.
        fired = []
        aviary.get("/before", watch=lambda event: fired.append(event))
        zookeeper.set("/before", b"changed through ZooKeeper")
        assert wait_until(lambda: fired), "the watch on Aviary did not fire for a write through ZooKeeper"
        aviary.sync("/before")
        assert aviary.get("/before")[0] == b"changed through ZooKeeper"
        # Sequential nodes, multi and errors come from the leader.
        first = aviary.create("/seq-", b"", sequence=True)
        second = aviary.create("/seq-", b"", sequence=True)
        assert int(second[-10:]) == int(first[-10:]) + 1
        transaction = aviary.transaction()
        transaction.create("/multi-a", b"a")
        transaction.create("/multi-b", b"b")
        assert transaction.commit() == ["/multi-a", "/multi-b"]
        with pytest.raises(NoNodeError):
            aviary.set("/missing", b"")
        # An ephemeral of a session on Aviary belongs to that session everywhere.
        owner = connect(members.ensemble, AVIARY)
        owner.create("/ephemeral", b"", ephemeral=True)
        zookeeper.sync("/ephemeral")
        assert zookeeper.exists("/ephemeral").ephemeralOwner == owner.client_id[0]
        owner.stop()
        owner.close()
        assert wait_until(lambda: zookeeper.exists("/ephemeral") is None), "closing the session on Aviary kept its ephemeral"
        # ZooKeeper's quorum metrics: one election, one sync, the commits it was sent.
        metrics = prometheus(members.ensemble, AVIARY)
        assert metrics["looking_count"] >= 1 and metrics["election_time_count"] >= 1, metrics
        assert metrics["follower_sync_time_count"] == 1 and metrics["unavailable_time_count"] == 1, metrics
        assert metrics["learner_proposal_received_count"] >= 8 and metrics["learner_commit_received_count"] >= 8, metrics
        assert metrics["proposal_count"] == 0 and metrics["diff_count"] == 0, metrics
    finally:
        aviary.stop()
        zookeeper.stop()


@pytest.mark.timeout(240)
def test_a_session_moves_between_aviary_and_zookeeper(members):
    members.start_zookeepers()
    members.start_aviary()
    first = RawClient(members.ensemble.client_address(AVIARY), timeout_ms=8000)
    session, passwd = first.session_id, first.passwd
    assert first.create("/mine", flags=1)[0] == 0
    first.sock.close()
    # The session re-attaches to a ZooKeeper server, then back to Aviary: the leader
    # revalidates it each time, and its ephemeral stays.
    for sid in (ZOOKEEPERS[0], AVIARY):
        moved = RawClient(members.ensemble.client_address(sid), timeout_ms=8000, session_id=session, passwd=passwd)
        assert moved.session_id == session, "server.%d did not take the session back" % sid
        err, stat = moved.exists("/mine")
        assert err == 0 and stat["ephemeralOwner"] == session, (err, stat)
        moved.sock.close()
    # A session nobody knows is refused by the leader's answer, on Aviary as on ZooKeeper.
    unknown = RawClient(members.ensemble.client_address(AVIARY), timeout_ms=8000, session_id=session + 12345, passwd=passwd)
    assert unknown.session_id == 0 and unknown.connect_response["timeout"] == 0
    owner = RawClient(members.ensemble.client_address(AVIARY), timeout_ms=8000, session_id=session, passwd=passwd)
    owner.close()
    zookeeper = connect(members.ensemble, ZOOKEEPERS[0])
    assert wait_until(lambda: zookeeper.exists("/mine") is None), "closing the moved session kept its ephemeral"
    zookeeper.stop()


def moved_session_behaviour(ensemble, old, new):
    """A session connected to server `old` re-attaches to server `new` while its old
    connection is still open; then the old connection writes. Returns what the old connection
    saw and whether the session still works where it moved to."""
    first = RawClient(ensemble.client_address(old), timeout_ms=8000)
    try:
        second = RawClient(ensemble.client_address(new), timeout_ms=8000, session_id=first.session_id, passwd=first.passwd)
        assert second.session_id == first.session_id
        assert second.set_data("/", b"moved")[0] == 0
        try:
            first.sock.settimeout(10)
            seen = "error %d" % first.set_data("/", b"stale")[0]
        except (Closed, OSError):
            seen = "connection closed"
        alive = second.exists("/")[0] == 0
        second.close()
        return seen, alive
    finally:
        first.sock.close()


@pytest.mark.timeout(240)
def test_a_moved_session_s_old_connection_is_closed_as_zookeeper_closes_it(members):
    """ZooKeeper tears down the connection a moved session's stale write came on
    (FinalRequestProcessor's SessionMovedException, ZOOKEEPER-710) instead of answering it;
    an Aviary follower does the same, and the session lives on where it moved."""
    leader = members.start_zookeepers()
    members.start_aviary()
    follower = [sid for sid in ZOOKEEPERS if sid != leader][0]
    # ZooKeeper's own behaviour, between its two servers. (From a ZooKeeper follower to the
    # Aviary one, the ZooKeeper leader now and then lets the stale write through, about one
    # run in six, although Aviary revalidated the session with it; so that is not asserted.)
    zookeeper = moved_session_behaviour(members.ensemble, old=follower, new=leader)
    assert zookeeper == ("connection closed", True), zookeeper
    for new in (follower, leader):
        aviary = moved_session_behaviour(members.ensemble, old=AVIARY, new=new)
        assert aviary == zookeeper, (new, aviary, zookeeper)


@pytest.mark.timeout(300)
def test_aviary_rejoins_after_sigkill_by_diff(members):
    members.start_zookeepers()
    members.start_aviary()
    aviary = connect(members.ensemble, AVIARY)
    for i in range(20):
        aviary.create("/acked-%d" % i, b"%d" % i)
    aviary.stop()
    members.kill(AVIARY)
    zookeeper = connect(members.ensemble, ZOOKEEPERS[0])
    for i in range(20):
        zookeeper.create("/while-down-%d" % i, b"")
    members.start_aviary()
    assert "synchronized with server." in members.aviary_log() and "by DIFF" in members.aviary_log(), members.aviary_log()[-3000:]
    aviary = connect(members.ensemble, AVIARY)
    try:
        children = set(aviary.get_children("/"))
        assert {"acked-%d" % i for i in range(20)} <= children
        assert {"while-down-%d" % i for i in range(20)} <= children
        aviary.create("/after-rejoin", b"")
        zookeeper.sync("/after-rejoin")
        assert zookeeper.exists("/after-rejoin") is not None
    finally:
        aviary.stop()
        zookeeper.stop()


@pytest.mark.timeout(300)
def test_aviary_rejoins_by_snap_when_the_leader_has_no_diff():
    # A committed log of 5 and no log-based sync: a learner further behind gets a SNAP.
    members = Members(zookeeper_properties=("zookeeper.commitLogCount=5", "zookeeper.snapshotSizeFactor=-1"))
    try:
        members.start_zookeepers()
        members.start_aviary()
        members.kill(AVIARY)
        zookeeper = connect(members.ensemble, ZOOKEEPERS[0])
        for i in range(30):
            zookeeper.create("/snap-%d" % i, b"x" * 100)
        members.start_aviary()
        assert "by SNAP" in members.aviary_log(), members.aviary_log()[-3000:]
        aviary = connect(members.ensemble, AVIARY)
        assert {"snap-%d" % i for i in range(30)} <= set(aviary.get_children("/"))
        aviary.stop()
        zookeeper.stop()
        # The synchronized tree was written as a snapshot: a restart recovers it by itself.
        members.kill(AVIARY)
        members.start_aviary()
        aviary = connect(members.ensemble, AVIARY)
        assert {"snap-%d" % i for i in range(30)} <= set(aviary.get_children("/"))
        aviary.stop()
    finally:
        members.close()


@pytest.mark.timeout(240)
def test_aviary_observes_a_zookeeper_ensemble():
    members = Members(observers=(AVIARY,))
    try:
        members.start_zookeepers()
        members.start_aviary(modes=("observer",))
        aviary = connect(members.ensemble, AVIARY)
        zookeeper = connect(members.ensemble, ZOOKEEPERS[0])
        aviary.create("/from-observer", b"o")
        zookeeper.sync("/from-observer")
        assert zookeeper.get("/from-observer")[0] == b"o"
        zookeeper.create("/to-observer", b"z")
        aviary.sync("/to-observer")
        assert aviary.get("/to-observer")[0] == b"z"
        aviary.stop()
        zookeeper.stop()
    finally:
        members.close()


@pytest.mark.timeout(240)
def test_aviary_stops_serving_when_the_quorum_is_gone_and_serves_again_after(members):
    members.start_zookeepers()
    members.start_aviary()
    for sid in ZOOKEEPERS:
        members.kill(sid)
    assert members.ensemble.wait_for_mode(AVIARY, ("not serving",), timeout=30) == "not serving"
    for sid in ZOOKEEPERS:
        members.processes[sid] = members.ensemble.start_zookeeper(sid)
    # Aviary may lead now: its zxid (the epoch it synchronized in) is above the restarted
    # ZooKeepers', whose logs hold no transaction.
    mode = members.ensemble.wait_for_mode(AVIARY, ("follower", "leader"), timeout=90)
    assert mode in ("follower", "leader"), members.aviary_log()[-3000:]
    aviary = connect(members.ensemble, AVIARY)
    aviary.create("/after-the-quorum-returned", b"")
    aviary.stop()
    url = "http://%s:%d/events/recent" % (Ensemble.HOSTS[AVIARY], members.ensemble.metrics[AVIARY])
    kinds = [event["kind"] for event in json.load(urllib.request.urlopen(url, timeout=5))]
    assert "quorum_lost" in kinds and kinds.index("quorum_regained") > kinds.index("quorum_lost"), kinds


@pytest.mark.timeout(300)
def test_aviary_leads_zookeeper_followers_and_syncs_them_by_diff_and_snap():
    """server.3 = Aviary starts first: with equal zxids the largest sid leads."""
    members = Members()
    ensemble, processes, root = members.ensemble, members.processes, members.root
    processes.update({3: ensemble.start_aviary(3)})
    try:
        time.sleep(1)
        for sid in (1, 2):
            processes[sid] = ensemble.start_zookeeper(sid)
        assert ensemble.wait_for_mode(3, ("leader",), timeout=60) == "leader"
        for sid in (1, 2):
            assert ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"
        assert wait_until(lambda: "zk_synced_followers\t2" in four_letter(ensemble.client_address(3), "mntr"))
        monitor = four_letter(ensemble.client_address(3), "mntr")
        assert "zk_peer_state\tleading - broadcast" in monitor and "zk_learners\t2" in monitor, monitor
        aviary = connect(ensemble, 3)
        zookeeper = connect(ensemble, 1)
        aviary.create("/from-leader", b"a")
        zookeeper.sync("/from-leader")
        assert zookeeper.get("/from-leader")[0] == b"a"
        zookeeper.create("/from-follower", b"z")
        assert aviary.get("/from-follower")[0] == b"z", "a write through a ZooKeeper follower is answered after it is applied on the leader"
        owner = connect(ensemble, 2)
        owner.create("/ephemeral", b"", ephemeral=True)
        assert aviary.exists("/ephemeral").ephemeralOwner == owner.client_id[0]
        owner.stop()
        owner.close()
        assert wait_until(lambda: aviary.exists("/ephemeral") is None)
        # A follower restarted after missing writes gets a DIFF; one whose data is gone a SNAP.
        zookeeper.stop()
        processes.pop(1).kill()
        for i in range(10):
            aviary.create("/while-1-down-%d" % i, b"")
        processes[1] = ensemble.start_zookeeper(1)
        assert ensemble.wait_for_mode(1, ("follower",), timeout=60) == "follower"
        processes.pop(2).kill()
        version = os.path.join(root, "s2", "version-2")
        shutil.rmtree(version)
        for i in range(10):
            aviary.create("/while-2-down-%d" % i, b"")
        processes[2] = ensemble.start_zookeeper(2)
        assert ensemble.wait_for_mode(2, ("follower",), timeout=60) == "follower"
        with open(os.path.join(root, "aviary3.log")) as f:
            log = f.read()
        assert "sent server.2 a SNAP" in log, log[-3000:]
        metrics = prometheus(ensemble, 3)
        assert metrics["snap_count"] >= 1 and metrics["diff_count"] >= 3, metrics
        assert metrics["proposal_count"] >= 25 and metrics["commit_count"] == metrics["proposal_count"], metrics
        assert metrics["leader_unavailable_time_count"] == 1, metrics
        for sid in (1, 2):
            client = connect(ensemble, sid)
            client.sync("/")
            children = set(client.get_children("/"))
            assert {"while-1-down-%d" % i for i in range(10)} <= children and {"while-2-down-%d" % i for i in range(10)} <= children
            assert "from-leader" in children and "from-follower" in children
            client.stop()
        aviary.stop()
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_an_ensemble_of_aviarys_survives_its_leader_being_killed():
    members = Members()
    ensemble, processes, root = members.ensemble, members.processes, members.root
    processes.update({sid: ensemble.start_aviary(sid) for sid in Ensemble.HOSTS})
    try:
        leader = ensemble.wait_for_leader(list(Ensemble.HOSTS), timeout=60)
        assert leader is not None, "three Aviarys elected no leader"
        others = [sid for sid in Ensemble.HOSTS if sid != leader]
        for sid in others:
            assert ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"
        client = connect(ensemble, others[0])
        acked = []
        for i in range(20):
            client.create("/acked-%d" % i, b"")
            acked.append("acked-%d" % i)
        client.stop()
        processes.pop(leader).kill()
        new_leader = ensemble.wait_for_leader(others, timeout=60)
        assert new_leader is not None, "the two surviving Aviarys elected no leader"
        client = connect(ensemble, [sid for sid in others if sid != new_leader][0])
        assert set(acked) <= set(client.get_children("/")), "an acknowledged write was lost with the leader"
        client.create("/after-failover", b"")
        client.stop()
        # The old leader rejoins as a follower and catches up.
        processes[leader] = ensemble.start_aviary(leader)
        assert_follows_with(ensemble, leader, "after-failover")
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_two_aviarys_and_a_zookeeper_each_kind_leading_in_turn():
    """server.1 and server.2 are Aviarys and start first, so Aviary 2 leads and ZooKeeper 3
    follows; with Aviary 2 killed, ZooKeeper 3 (same zxid, larger sid) leads Aviary 1."""
    members = Members()
    ensemble, processes = members.ensemble, members.processes
    try:
        for sid in (1, 2):
            processes[sid] = ensemble.start_aviary(sid)
        assert ensemble.wait_for_leader([1, 2], timeout=60) == 2
        processes[3] = ensemble.start_zookeeper(3)
        assert ensemble.wait_for_mode(3, ("follower",), timeout=60) == "follower"
        client = connect(ensemble, 3)
        acked = []
        for i in range(10):
            client.create("/under-aviary-%d" % i, b"")
            acked.append("under-aviary-%d" % i)
        client.stop()
        members.kill(2)
        assert ensemble.wait_for_leader([1, 3], timeout=60) == 3, members.aviary_log()[-3000:]
        assert ensemble.wait_for_mode(1, ("follower",), timeout=60) == "follower"
        client = connect(ensemble, 1)
        assert set(acked) <= set(client.get_children("/")), "an acknowledged write was lost with the Aviary leader"
        for i in range(10):
            client.create("/under-zookeeper-%d" % i, b"")
            acked.append("under-zookeeper-%d" % i)
        client.stop()
        # The old Aviary leader rejoins under ZooKeeper and catches up.
        processes[2] = ensemble.start_aviary(2)
        assert ensemble.wait_for_mode(2, ("follower",), timeout=60) == "follower"
        client = connect(ensemble, 2)
        client.sync("/")
        assert set(acked) <= set(client.get_children("/"))
        client.stop()
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_a_paused_aviary_leader_is_replaced_and_steps_down_when_resumed():
    """SIGSTOP: the followers hear nothing for syncLimit ticks, elect a new leader and keep
    every acknowledged write; SIGCONT: the old leader finds no quorum behind it, steps down
    and follows."""
    members = Members()
    ensemble, processes = members.ensemble, members.processes
    try:
        leader, others = members.start_all_aviary()
        client = connect(ensemble, others[0])
        for i in range(10):
            client.create("/before-pause-%d" % i, b"")
        client.stop()
        processes[leader].send_signal(signal.SIGSTOP)
        try:
            new_leader = ensemble.wait_for_leader(others, timeout=60)
            assert new_leader is not None, "the followers did not replace a paused leader"
            client = connect(ensemble, [sid for sid in others if sid != new_leader][0])
            assert {"before-pause-%d" % i for i in range(10)} <= set(client.get_children("/"))
            client.create("/during-pause", b"")
            client.stop()
        finally:
            processes[leader].send_signal(signal.SIGCONT)
        assert_follows_with(ensemble, leader, "during-pause")
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_an_aviary_observer_of_an_aviary_leader_gets_every_commit_by_inform():
    """Two Aviary voters and an Aviary observer: the observer serves what the voters commit
    (it hears of each by INFORM), forwards its clients' writes, is never counted in the
    quorum, and after a SIGKILL catches up with what was written meanwhile."""
    members = Members(observers=(3,), admin=True)
    ensemble, processes = members.ensemble, members.processes
    try:
        for sid in Ensemble.HOSTS:
            processes[sid] = ensemble.start_aviary(sid)
        assert ensemble.wait_for_leader([1, 2], timeout=60) == 2, "the voter with the larger sid leads"
        assert ensemble.wait_for_mode(1, ("follower",), timeout=60) == "follower"
        assert ensemble.wait_for_mode(3, ("observer",), timeout=60) == "observer"
        leader = connect(ensemble, 2)
        observer = connect(ensemble, 3)
        leader.create("/to-observer", b"v")
        assert wait_until(lambda: observer.exists("/to-observer") is not None, timeout=10), "no INFORM reached the observer"
        observer.create("/from-observer", b"o")
        leader.sync("/from-observer")
        assert leader.get("/from-observer")[0] == b"o"
        observer.stop()
        shown = ensemble.admin_command(2, "observers")
        assert shown["synced_observers"] == 1 and [o["sid"] for o in shown["observers"]] == [3], shown
        assert shown["observers"][0]["remote_socket_address"].startswith("/127.0.0."), shown
        zab = ensemble.admin_command(3, "zabstate")
        assert zab["voting"] is False and zab["zabstate"] == "broadcast" and zab["myid"] == 3, zab
        # The leader's dashboard shows every member: its learners with their lag and last ping.
        with urllib.request.urlopen("http://%s:%d/dashboard/data" % (Ensemble.HOSTS[2], ensemble.admin[2]), timeout=10) as response:
            rows = {row["server"].split()[0]: row for row in json.loads(response.read())["members"]}
        assert sorted(rows) == ["server.1", "server.2", "server.3"], rows
        assert rows["server.2"]["state"] == "leader" and rows["server.2"]["uptime_ms"] > 0, rows
        assert rows["server.1"]["state"] == "follower" and rows["server.1"]["lag"] == 0 and rows["server.1"]["heard_ms"] < 5000, rows
        assert rows["server.3"]["state"] == "observer" and rows["server.3"]["zxid"] == rows["server.2"]["zxid"], rows
        with urllib.request.urlopen("http://%s:%d/dashboard/data" % (Ensemble.HOSTS[1], ensemble.admin[1]), timeout=10) as response:
            rows = {row["server"].split()[0]: row for row in json.loads(response.read())["members"]}
        assert rows["server.2"]["state"] == "leader" and rows["server.1"]["state"] == "follower", rows
        mntr = four_letter(ensemble.client_address(2), "mntr")
        assert "zk_synced_observers\t1" in mntr and "zk_synced_followers\t1" in mntr, mntr
        members.kill(3)
        for i in range(10):
            leader.create("/while-observer-down-%d" % i, b"")
        leader.stop()
        processes[3] = ensemble.start_aviary(3)
        assert ensemble.wait_for_mode(3, ("observer",), timeout=60) == "observer"
        observer = connect(ensemble, 3)
        observer.sync("/")
        assert {"while-observer-down-%d" % i for i in range(10)} <= set(observer.get_children("/"))
        observer.stop()
        # An observer is no voter: with the follower gone the leader has no quorum.
        members.kill(1)
        assert ensemble.wait_for_mode(2, ("not serving", None), timeout=60) in ("not serving", None)
    finally:
        members.close()


@pytest.mark.timeout(240)
def test_ensemble_admin_commands_answer_as_a_zookeeper_member_does():
    """`leader`, `zabstate`, `voting_view` and `observers` on an Aviary follower have the
    fields and values a ZooKeeper follower of the same ensemble shows."""
    members = Members(admin=True)
    ensemble = members.ensemble
    try:
        leader = members.start_zookeepers()
        members.start_aviary()
        zookeeper_follower = [sid for sid in ZOOKEEPERS if sid != leader][0]
        client = connect(ensemble, AVIARY)
        client.create("/admin", b"")
        client.sync("/")
        client.stop()
        for name in ("leader", "zabstate", "voting_view", "observers"):
            ours, theirs = ensemble.admin_command(AVIARY, name), ensemble.admin_command(zookeeper_follower, name)
            assert sorted(ours) == sorted(theirs), (name, ours, theirs)
            if name == "zabstate":
                for key in ("is_leader", "voting", "zabstate", "zab_epoch"):
                    assert ours[key] == theirs[key], (key, ours, theirs)
                assert ours["myid"] == AVIARY and ours["quorum_address"] == "%s:%d" % (Ensemble.HOSTS[AVIARY], ensemble.quorum[AVIARY])
            else:
                assert ours == theirs, (name, ours, theirs)
        assert ensemble.admin_command(AVIARY, "leader")["leader_id"] == leader
    finally:
        members.close()



def read_only_behaviour(ensemble, sid):
    """What a member cut off from its quorum with readonlymode.enabled shows: isro, srvr's
    Mode, the state a read-only kazoo client reaches, what a write and a sync get, and whether
    a read-write client is served."""
    def isro():
        try:
            return four_letter(ensemble.client_address(sid), "isro")
        except OSError:
            return None
    assert wait_until(lambda: isro() == "ro", timeout=60), "server.%d never said ro: %r" % (sid, isro())
    seen = {"isro": isro(), "mode": ensemble.mode(sid)}
    client = connect(ensemble, sid, read_only=True)
    seen["client_state"] = client.client_state
    seen["root"] = sorted(client.get_children("/"))
    for name, call in (("create", lambda: client.create("/refused", b"")), ("sync", lambda: client.sync("/"))):
        try:
            call()
            seen[name] = "served"
        except Exception as error:
            seen[name] = type(error).__name__
    client.stop()
    read_write = KazooClient(hosts=ensemble.client_address(sid), timeout=10, connection_retry={"max_tries": 2})
    try:
        read_write.start(timeout=5)
        seen["read_write_client"] = "served"
    except Exception:
        seen["read_write_client"] = "refused"
    finally:
        read_write.stop()
    return seen


@pytest.mark.timeout(300)
def test_a_member_cut_off_from_its_quorum_serves_read_only_clients_as_zookeeper_does():
    """readonlymode.enabled: a lone ZooKeeper member and a lone Aviary member (the system
    property from SERVER_JVMFLAGS, as zkServer.sh passes it) behave alike; when the quorum
    returns, Aviary joins it and serves read-write clients again. ZooKeeper 3.8 creates
    sessions in read-only mode only when they are local (ReadOnlyRequestProcessor answers a
    global createSession with NOTREADONLY), so the ensemble enables local sessions."""
    members = Members(zookeeper_properties=("readonlymode.enabled=true",), extra="localSessionsEnabled=true\n")
    ensemble, processes = members.ensemble, members.processes
    try:
        processes[2] = ensemble.start_zookeeper(2, members.zookeeper_properties)
        zookeeper = read_only_behaviour(ensemble, 2)
        members.kill(2)
        processes[AVIARY] = ensemble.start_aviary(AVIARY, env={"SERVER_JVMFLAGS": "-Dreadonlymode.enabled=true"})
        aviary = read_only_behaviour(ensemble, AVIARY)
        assert aviary == zookeeper, (aviary, zookeeper, members.aviary_log()[-3000:])
        assert zookeeper["isro"] == "ro" and zookeeper["mode"] == "read-only" and zookeeper["create"] == "NotReadOnlyCallError"
        assert zookeeper["read_write_client"] == "refused", zookeeper
        # Aviary's /ready: a read-only member is not part of a serving quorum.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen("http://%s:%d/ready" % (Ensemble.HOSTS[AVIARY], ensemble.metrics[AVIARY]), timeout=5)
        assert refused.value.code == 503
        # A read-only client stays connected; once the quorum is back it is moved to a
        # read-write session and can write.
        client = connect(ensemble, AVIARY, read_only=True)
        members.start_zookeepers()
        mode = ensemble.wait_for_mode(AVIARY, ("follower", "leader"), timeout=90)
        assert mode in ("follower", "leader"), members.aviary_log()[-3000:]
        assert four_letter(ensemble.client_address(AVIARY), "isro") == "rw"
        assert wait_until(lambda: client.connected and str(client.client_state) == "CONNECTED", timeout=60), client.client_state
        client.create("/after-read-only", b"")
        client.stop()
        other = connect(ensemble, 3)
        other.sync("/")
        assert other.exists("/after-read-only") is not None
        other.stop()
    finally:
        members.close()


def monitor_value(ensemble, sid, key):
    for line in four_letter(ensemble.client_address(sid), "mntr").splitlines():
        name, _, value = line.partition("\t")
        if name == key:
            return value
    return None


def local_session_behaviour(ensemble, sid, name):
    """A kazoo client of server `sid` under localSessionsEnabled: its session is local
    (zk_local_sessions counts it), a persistent write through it commits, an ephemeral
    upgrades it to a global session, and closing it removes the ephemeral everywhere."""
    client = connect(ensemble, sid)
    try:
        assert wait_until(lambda: int(monitor_value(ensemble, sid, "zk_local_sessions") or 0) >= 1), \
            four_letter(ensemble.client_address(sid), "mntr")
        client.create("/%s-persistent" % name, b"p")
        assert monitor_value(ensemble, sid, "zk_local_sessions") == "1"
        client.create("/%s-ephemeral" % name, b"e", ephemeral=True)
        assert wait_until(lambda: monitor_value(ensemble, sid, "zk_local_sessions") == "0"), "the session was not upgraded"
        assert client.exists("/%s-ephemeral" % name).ephemeralOwner == client.client_id[0]
    finally:
        client.stop()
        client.close()


@pytest.mark.timeout(400)
def test_local_sessions_in_a_mixed_ensemble_with_each_kind_leading():
    """localSessionsEnabled=true everywhere: an Aviary leader accepts the writes of a
    ZooKeeper follower's local sessions and their upgrade, its own local sessions upgrade for
    an ephemeral; then, following a ZooKeeper leader, an Aviary follower's local sessions do
    the same through it. The ephemerals go with their closed sessions."""
    members = Members(extra="localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=true\n")
    ensemble, processes = members.ensemble, members.processes
    try:
        members.start_aviary_leading()
        local_session_behaviour(ensemble, 1, "zookeeper-follower")
        local_session_behaviour(ensemble, 3, "aviary-leader")
        members.kill(3)
        assert ensemble.wait_for_leader((1, 2), timeout=60) is not None
        processes[3] = ensemble.start_aviary(3)
        assert ensemble.wait_for_mode(3, ("follower",), timeout=60) == "follower"
        local_session_behaviour(ensemble, 3, "aviary-follower")
        check = connect(ensemble, 2)
        check.sync("/")
        names = set(check.get_children("/"))
        for kind in ("zookeeper-follower", "aviary-leader", "aviary-follower"):
            assert "%s-persistent" % kind in names and "%s-ephemeral" % kind not in names, names
        check.stop()
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_without_upgrading_a_local_session_cannot_create_an_ephemeral():
    members = Members(extra="localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=false\n")
    try:
        members.start_zookeepers()
        members.start_aviary()
        seen = {}
        for sid in (1, 2, 3):
            if members.ensemble.mode(sid) != "follower":
                continue
            client = connect(members.ensemble, sid)
            try:
                client.create("/e%d" % sid, b"", ephemeral=True)
                seen[sid] = "created"
            except Exception as error:
                seen[sid] = type(error).__name__
            client.create("/p%d" % sid, b"")
            client.stop()
        assert seen[AVIARY] == "EphemeralOnLocalSessionError" and len(set(seen.values())) == 1, seen
    finally:
        members.close()


class DropRule:
    """An iptables OUTPUT rule that drops matching TCP packets while in effect; the test is
    skipped where iptables cannot be used."""

    def __init__(self, match):
        self.rule = ["OUTPUT", "-p", "tcp"] + match + ["-j", "DROP"]

    def __enter__(self):
        try:
            subprocess.run(["iptables", "-I"] + self.rule, check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as error:
            pytest.skip("iptables cannot cut a server off here: %s" % error)
        return self

    def __exit__(self, *exc):
        subprocess.run(["iptables", "-D"] + self.rule, capture_output=True)


def quorum_cut(ensemble, sid):
    """Every packet server `sid` sends from its quorum port is dropped: its learners hear
    nothing more from it (not even what the kernel still holds for them)."""
    return DropRule(["-s", Ensemble.HOSTS[sid], "--sport", str(ensemble.quorum[sid])])


def log_unacknowledged_write(members, leader, others, path):
    """Leader `leader` logs a write that none of its followers receives and is killed before
    it hears that nobody acknowledged it; the others elect a leader without that write."""
    ensemble, processes = members.ensemble, members.processes
    raw = RawClient(ensemble.client_address(leader), read_only=False)
    with quorum_cut(ensemble, leader):
        raw.send_frame(i32(1) + i32(1) + string(path) + buf(b"") + acls(OPEN_ACL) + i32(0))
        time.sleep(0.7)
        processes.pop(leader).kill()
        raw.sock.close()
        new_leader = ensemble.wait_for_leader(others, timeout=60)
    return new_leader


def children_everywhere(ensemble, sids):
    seen = {}
    for sid in sids:
        client = connect(ensemble, sid)
        client.sync("/")
        seen[sid] = sorted(client.get_children("/"))
        client.stop()
    return seen


@pytest.mark.timeout(400)
def test_a_diverged_tail_is_truncated_in_both_directions():
    """An Aviary leader and then a ZooKeeper leader each log a write no follower received
    and die; the others elect a leader; the old leader restarts and is told to TRUNC its
    tail (Aviary by a ZooKeeper leader, ZooKeeper by an Aviary leader), then writes go on.
    (Once the new epoch has a transaction, ZooKeeper sends SNAP rather than a TRUNC that
    crosses an epoch.)"""
    members = Members()
    ensemble, processes = members.ensemble, members.processes
    try:
        members.start_aviary_leading()
        client = connect(ensemble, 1)
        client.create("/committed-1", b"")
        client.stop()

        # Aviary's log has a tail the ZooKeepers never saw.
        assert log_unacknowledged_write(members, 3, (1, 2), "/lost-at-aviary") == 2
        processes[3] = ensemble.start_aviary(3)
        assert ensemble.wait_for_mode(3, ("follower",), timeout=60) == "follower"
        log = open(os.path.join(members.root, "aviary3.log"), errors="replace").read()
        leader_log = open(os.path.join(members.root, "zk2.log"), errors="replace").read()
        assert "TRUNC" in log, log[-1500:] + "\n".join(l for l in leader_log.splitlines() if "sid: 3" in l or "Learner sid: 3" in l)
        client = connect(ensemble, 3)
        client.create("/committed-2", b"")
        client.stop()

        # ZooKeeper's log has a tail that Aviary and the other ZooKeeper never saw; Aviary,
        # with the largest sid, leads the next epoch.
        assert log_unacknowledged_write(members, 2, (1, 3), "/lost-at-zookeeper") == 3
        processes[2] = ensemble.start_zookeeper(2)
        assert ensemble.wait_for_mode(2, ("follower",), timeout=60) == "follower"
        zookeeper_log = open(os.path.join(members.root, "zk2.log"), errors="replace").read()
        assert "Truncating log to get in sync with the leader" in zookeeper_log, zookeeper_log[-3000:]
        client = connect(ensemble, 2)
        client.create("/committed-3", b"")
        client.stop()

        expected = ["committed-1", "committed-2", "committed-3", "zookeeper"]
        seen = children_everywhere(ensemble, (1, 2, 3))
        assert all(names == expected for names in seen.values()), seen
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_a_paused_zookeeper_leader_is_replaced_and_rejoins_as_a_follower(members):
    """SIGSTOP of the ZooKeeper leader: Aviary and the other ZooKeeper stop hearing it, elect
    a leader between them and take writes through Aviary; SIGCONT: the old leader finds no
    quorum behind it, follows, and has every acknowledged write."""
    leader = members.start_zookeepers()
    members.start_aviary()
    ensemble = members.ensemble
    other = [sid for sid in ZOOKEEPERS if sid != leader][0]
    client = connect(ensemble, AVIARY)
    for i in range(10):
        client.create("/before-pause-%d" % i, b"")
    members.processes[leader].send_signal(signal.SIGSTOP)
    try:
        assert ensemble.wait_for_leader((AVIARY, other), timeout=60) is not None, members.aviary_log()[-3000:]
        assert wait_until(lambda: client.connected, timeout=30)
        for i in range(10):
            try:
                client.retry(client.create, "/during-pause-%d" % i, b"")
            except NodeExistsError:
                pass  # an attempt cut off by the election had committed
    finally:
        members.processes[leader].send_signal(signal.SIGCONT)
    client.stop()
    assert ensemble.wait_for_mode(leader, ("follower",), timeout=60) == "follower"
    resumed = connect(ensemble, leader)
    resumed.sync("/")
    names = set(resumed.get_children("/"))
    resumed.stop()
    assert {"before-pause-%d" % i for i in range(10)} | {"during-pause-%d" % i for i in range(10)} <= names, names


def server_user(sid):
    """A system user to run member `sid` as, so that iptables can tell its packets apart."""
    name = "aviary-peer%d" % sid
    if subprocess.run(["id", name], capture_output=True).returncode != 0:
        created = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                                 capture_output=True)
        if created.returncode != 0:
            pytest.skip("cannot add a user to run a server as: %s" % created.stderr.decode().strip())
    return name


def partition(ensemble, user):
    """Cuts the member run as `user` off from the rest of the ensemble: every packet it sends
    on a quorum or election connection, as server or as client, is dropped, while its clients
    still reach it."""
    ports = ",".join(str(p) for p in ensemble.quorum_ports())
    return DropRule(["-m", "owner", "--uid-owner", user, "-m", "multiport", "--ports", ports])


def create_all(client, prefix, count):
    """Creates prefix-0..count-1, retrying across connection loss; returns the names whose
    create was acknowledged."""
    acknowledged = []
    for i in range(count):
        name = "%s-%d" % (prefix, i)
        try:
            client.retry(client.create, "/" + name, b"")
        except NodeExistsError:
            pass  # an attempt cut off by a connection loss had committed
        acknowledged.append(name)
    return acknowledged


@pytest.mark.timeout(300)
def test_a_partitioned_aviary_follower_stops_serving_and_catches_up_when_healed(members):
    """iptables cuts an Aviary follower off from its ZooKeeper leader and peer: it stops
    serving within syncLimit, the ZooKeeper majority takes writes, and once healed Aviary
    rejoins and has every acknowledged write."""
    members.start_zookeepers()
    ensemble = members.ensemble
    user = server_user(AVIARY)
    members.processes[AVIARY] = ensemble.start_aviary(AVIARY, user=user)
    assert ensemble.wait_for_mode(AVIARY, ("follower",), timeout=60) == "follower", \
        (members.processes[AVIARY].poll(), members.aviary_log()[-3000:])
    majority = connect(ensemble, ZOOKEEPERS[0])
    acknowledged = create_all(majority, "before", 5)
    with partition(ensemble, user):
        assert ensemble.wait_for_mode(AVIARY, ("not serving",), timeout=60) == "not serving", members.aviary_log()[-3000:]
        acknowledged += create_all(majority, "during", 20)
    majority.stop()
    assert ensemble.wait_for_mode(AVIARY, ("follower",), timeout=90) == "follower", members.aviary_log()[-3000:]
    client = connect(ensemble, AVIARY)
    client.sync("/")
    names = set(client.get_children("/"))
    client.stop()
    assert set(acknowledged) <= names, set(acknowledged) - names


@pytest.mark.timeout(300)
def test_a_partitioned_aviary_leader_steps_down_and_nothing_acknowledged_is_lost():
    """An Aviary leader of two ZooKeeper followers is cut off under write load through
    every member: it steps down (no quorum heard within syncLimit), the ZooKeepers elect a
    leader and go on; healed, Aviary follows. Every write any client saw acknowledged is
    in every member's tree, and the members agree."""
    members = Members()
    ensemble, processes = members.ensemble, members.processes
    try:
        user = server_user(3)
        members.start_aviary_leading(user=user)
        clients = {sid: connect(ensemble, sid) for sid in (1, 2, 3)}
        acknowledged = []
        for sid, client in clients.items():
            acknowledged += create_all(client, "before-%d" % sid, 5)
        with partition(ensemble, user):
            # A write through the cut-off leader gets no quorum; it is not counted as acknowledged.
            clients[3].create_async("/through-the-cut-leader", b"")
            assert ensemble.wait_for_mode(3, ("not serving", None), timeout=60) in ("not serving", None)
            assert ensemble.wait_for_leader((1, 2), timeout=60) is not None
            for sid in (1, 2):
                acknowledged += create_all(clients[sid], "during-%d" % sid, 10)
        assert ensemble.wait_for_mode(3, ("follower",), timeout=90) == "follower", members.aviary_log()[-3000:]
        for client in clients.values():
            client.stop()
        seen = children_everywhere(ensemble, (1, 2, 3))
        assert seen[1] == seen[2] == seen[3], seen
        assert set(acknowledged) <= set(seen[1]), set(acknowledged) - set(seen[1])
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_zkcli_and_the_c_client_against_an_ensemble_of_aviarys():
    """ZooKeeper's own Java shell writes through one follower, its C client reads that and
    writes through the other follower, and kazoo on the leader sees both."""
    from test_real_clients import cli_mt, zkcli
    members = Members()
    ensemble, processes = members.ensemble, members.processes
    try:
        for sid in Ensemble.HOSTS:
            processes[sid] = ensemble.start_aviary(sid)
        leader = ensemble.wait_for_leader(list(Ensemble.HOSTS), timeout=60)
        assert leader is not None
        first, second = [sid for sid in Ensemble.HOSTS if sid != leader]
        for sid in (first, second):
            assert ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"
        java = zkcli(ensemble.client_address(first), "create /from-java hello\nget /from-java\nquit\n")
        assert "Created /from-java" in java, java
        c = cli_mt(ensemble.client_address(second), ["sync /from-java", "get /from-java", "create /from-c"])
        assert "state = CONNECTED_STATE" in c and "value_len = 5\nhello" in c and "[/from-c]: rc = 0" in c, c
        client = connect(ensemble, leader)
        assert client.get("/from-java")[0] == b"hello" and client.exists("/from-c") is not None
        client.stop()
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_an_aviary_leader_diffs_a_follower_behind_its_committed_log_from_its_transaction_log():
    """A ZooKeeper follower misses 700 writes, more than the 500 committed proposals the
    leader keeps in memory: the Aviary leader reads the gap from its transaction log and sends
    a DIFF (the missed transactions are far under a third of its newest snapshot's size), as
    ZooKeeper's leader does, instead of a SNAP."""
    members = Members(extra="snapCount=400\n")
    ensemble, processes, root = members.ensemble, members.processes, members.root
    try:
        members.start_aviary_leading()
        client = connect(ensemble, 3)
        for i in range(600):
            client.create_async("/big-%d" % i, b"x" * 2000)
        client.sync("/")
        members.kill(1)
        results = [client.create_async("/missed-%d" % i, b"") for i in range(700)]
        for result in results:
            result.get(timeout=30)
        processes[1] = ensemble.start_zookeeper(1)
        assert ensemble.wait_for_mode(1, ("follower",), timeout=60) == "follower"
        with open(os.path.join(root, "zk1.log"), errors="replace") as f:
            zookeeper_log = f.read()
        restarted = zookeeper_log[zookeeper_log.rindex("Getting a diff") if "Getting a diff" in zookeeper_log else 0:]
        assert "Getting a diff from the leader" in zookeeper_log, zookeeper_log[-3000:]
        assert "Getting a snapshot from leader" not in restarted
        follower = connect(ensemble, 1)
        follower.sync("/")
        names = set(follower.get_children("/"))
        assert {"missed-%d" % i for i in range(700)} <= names and {"big-%d" % i for i in range(600)} <= names
        follower.stop()
        client.stop()
    finally:
        members.close()
