"""`aviary status` and `aviary member` against real ensembles: members found from one address,
a verdict per member and `--check` for scripts, a server added as an observer and promoted
once it has caught up, and refusals of unsafe changes (removing the leader, removing a voter
the quorum needs, promoting an observer that is not serving). Servers 1-3 are Aviarys; the
joiners are an Aviary (4) and an Apache ZooKeeper 3.8 (5)."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, NodeExistsError, SessionExpiredError
from servers import Ensemble, aviary_binary, four_letter
from test_ensemble import Members, prometheus, wait_until
from test_reconfig import DIGEST, SUPER, FiveMembers, config_of, connect, members_of, server_line, start_three_aviarys, three_aviarys


def aviary(*arguments, timeout=120):
    return subprocess.run([aviary_binary(), *arguments], capture_output=True, text=True, timeout=timeout)


def member(command, ensemble, sid, *arguments):
    return aviary("member", command, "--server", ensemble.client_address(sid), "--auth", "digest:" + SUPER, *arguments)


class Writer:
    """Creates /PREFIX-00000, -00001, ... one at a time on `client` until stopped, retrying
    a write whose connection was lost (NodeExists then means an earlier try was applied);
    keeps each acknowledged name with when it was acknowledged."""

    def __init__(self, client, prefix):
        self.client, self.prefix = client, prefix
        self.acknowledged, self.expired = [], False
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        i = 0
        while not self.stop_event.is_set():
            name = "%s-%05d" % (self.prefix, i)
            try:
                self.client.create("/" + name, b"")
            except NodeExistsError:
                pass
            except ConnectionLoss:
                time.sleep(0.02)
                continue
            except SessionExpiredError:
                self.expired = True
                return
            self.acknowledged.append((time.monotonic(), name))
            i += 1

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=60)
        return {name for _, name in self.acknowledged}

    def longest_pause(self):
        times = [t for t, _ in self.acknowledged]
        return max(b - a for a, b in zip(times, times[1:]))


def spec(ensemble, sid):
    return server_line(ensemble, sid)[len("server."):].replace(":participant;", ";")


@pytest.mark.timeout(300)
def test_status_and_member_commands_on_an_ensemble_of_aviarys_and_a_zookeeper():
    members = FiveMembers()
    ensemble = members.ensemble
    try:
        leader = members.start_first_three()
        followers = [sid for sid in (1, 2, 3) if sid != leader]
        for sid in followers:
            assert ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"

        # One address finds all three members.
        status = aviary("status", ensemble.client_address(followers[0]), "--check")
        assert status.returncode == 0, status.stdout + status.stderr
        rows = [line.split() for line in status.stdout.splitlines()[2:] if line and line[0].isdigit()]
        assert sorted(int(row[0]) for row in rows) == [1, 2, 3] and "healthy" in status.stdout
        assert [row[3] for row in rows if int(row[0]) == leader] == ["leader"]
        # --watch redraws the table (home, clear screen) as often as asked.
        watched = aviary("status", ensemble.client_address(leader), "--watch", "--count", "2", "--interval", "0.2")
        assert watched.returncode == 0 and watched.stdout.count("\x1b[H\x1b[2J") == 2, watched.stdout + watched.stderr

        # Add an Aviary: it joins as an observer, catches up, and is made a participant.
        members.processes[4] = ensemble.start_aviary(4)
        assert ensemble.wait_for_mode(4, ("follower",), timeout=60) == "follower"
        added = member("add", ensemble, followers[0], spec(ensemble, 4))
        assert added.returncode == 0, added.stdout + added.stderr
        assert "joined as an observer" in added.stdout and "is a participant" in added.stdout
        text = config_of(ensemble, leader)
        assert server_line(ensemble, 4) in text, text

        # Add the ZooKeeper, and keep it an observer.
        members.processes[5] = ensemble.start_zookeeper(5)
        assert ensemble.wait_for_mode(5, ("follower",), timeout=60) == "follower"
        added = member("add", ensemble, leader, spec(ensemble, 5), "--observer")
        assert added.returncode == 0, added.stdout + added.stderr
        assert ensemble.wait_for_mode(5, ("observer",), timeout=60) == "observer"
        listing = member("list", ensemble, 5)
        assert listing.returncode == 0 and "observer" in listing.stdout, listing.stdout + listing.stderr

        # An observer that does not serve is not promoted; once it serves again, it is.
        members.processes[5].send_signal(signal.SIGSTOP)
        try:
            refused = member("promote", ensemble, leader, "5")
            assert refused.returncode != 0 and "not serving" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
        finally:
            members.processes[5].send_signal(signal.SIGCONT)
        assert wait_until(lambda: member("promote", ensemble, leader, "5").returncode == 0, timeout=60)
        assert wait_until(lambda: ensemble.mode(5) == "follower", timeout=60)
        assert members_of(config_of(ensemble, leader)) == [1, 2, 3, 4, 5]

        # The leader is not removed; nor is a voter the quorum needs once two are gone.
        refused = member("remove", ensemble, followers[0], str(leader))
        assert refused.returncode != 0 and "is the leader" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
        for sid in followers:
            members.kill(sid)
        checked = aviary("status", ensemble.client_address(4), "--check")
        assert checked.returncode == 1 and "quorum at risk" in checked.stdout, checked.stdout
        refused = member("remove", ensemble, 4, "5")
        assert refused.returncode != 0 and "no quorum" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
        # Removing a voter that is gone is safe.
        removed = member("remove", ensemble, 4, str(followers[0]))
        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert members_of(config_of(ensemble, 4)) == sorted({1, 2, 3, 4, 5} - {followers[0]})
        client = connect(ensemble, 5)
        client.create("/after-the-changes", b"")
        client.stop()
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_leader_transfer_under_write_load_loses_nothing_and_expires_no_session():
    with three_aviarys(extra="DigestAuthenticationProvider.superDigest=super:%s\n" % DIGEST) as (members, leader, followers):
        ensemble = members.ensemble
        target, other = followers
        # A client on the leader (its connection goes with the leadership) and a writer on the other follower.
        on_leader = connect(ensemble, leader, admin=False)
        session_before = on_leader.client_id[0]
        writer = connect(ensemble, other, admin=False)
        load = Writer(writer, "w")
        time.sleep(1)
        # Refused: the leader itself, and a server that is not a member.
        assert member_transfer(ensemble, other, str(leader)).returncode != 0
        assert member_transfer(ensemble, other, "9").returncode != 0
        moved = member_transfer(ensemble, other, str(target))
        time.sleep(1)
        names = load.stop()
        assert moved.returncode == 0, moved.stdout + moved.stderr
        assert ensemble.mode(target) == "leader" and ensemble.mode(leader) == "follower", (ensemble.mode(target), ensemble.mode(leader))
        assert not load.expired
        print("\nleader transfer: %s; %d writes acknowledged, longest pause between two acknowledgements %.0f ms"
              % (moved.stdout.strip(), len(names), load.longest_pause() * 1000))
        for sid in (leader, target, other):
            client = connect(ensemble, sid, admin=False)
            client.sync("/")
            missing = names - set(client.get_children("/"))
            assert not missing, "server.%d lost acknowledged writes: %s" % (sid, sorted(missing)[:5])
            client.stop()
        # The session on the old leader lives on (its client reconnected).
        assert wait_until(lambda: on_leader.connected, timeout=30)
        assert on_leader.client_id[0] == session_before
        on_leader.create("/after-transfer", b"")
        on_leader.stop()
        writer.stop()


def member_transfer(ensemble, sid, target):
    return aviary("leader", "transfer", "--server", ensemble.client_address(sid), "--auth", "digest:" + SUPER, target)


RESTART = '''import os, signal, subprocess, sys, time
root, binary, sid = sys.argv[1], sys.argv[2], sys.argv[3]
pidfile = os.path.join(root, "pid" + sid)
if os.path.exists(pidfile):
    pid = int(open(pidfile).read())
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(600):
            os.kill(pid, 0)
            time.sleep(0.05)
        sys.exit("server.%s did not stop" % sid)
    except ProcessLookupError:
        pass
log = open(os.path.join(root, "aviary%s.log" % sid), "a")
process = subprocess.Popen([binary, "server", os.path.join(root, "zoo%s.cfg" % sid)], stdout=log, stderr=subprocess.STDOUT,
                           start_new_session=True)
open(pidfile, "w").write(str(process.pid))
'''


@pytest.mark.timeout(400)
def test_rolling_restart_under_load_restarts_the_leader_last_and_loses_nothing():
    root = tempfile.mkdtemp(prefix="rolling-")
    ensemble = Ensemble(root, extra="DigestAuthenticationProvider.superDigest=super:%s\n" % DIGEST)
    script = os.path.join(root, "restart.py")
    with open(script, "w") as f:
        f.write(RESTART)

    def pids():
        return [int(open(os.path.join(root, name)).read()) for name in os.listdir(root) if name.startswith("pid")]

    try:
        for sid in Ensemble.HOSTS:
            subprocess.run(["python3", script, root, aviary_binary(), str(sid)], check=True)
        leader = ensemble.wait_for_leader(list(Ensemble.HOSTS), timeout=60)
        assert leader is not None
        hosts = ",".join(ensemble.client_address(sid) for sid in Ensemble.HOSTS)
        holder = KazooClient(hosts=hosts, timeout=10)
        holder.start(timeout=30)
        holder.create("/held", b"", ephemeral=True)
        session = holder.client_id[0]
        writer = KazooClient(hosts=hosts, timeout=10)
        writer.start(timeout=30)
        load = Writer(writer, "r")
        rolled = aviary("rolling-restart", ensemble.client_address(leader), "--auth", "digest:" + SUPER,
                        "--restart-command", "python3 %s %s %s {id}" % (script, root, aviary_binary()), timeout=360)
        acknowledged = load.stop()
        print("\n" + rolled.stdout)
        assert rolled.returncode == 0, rolled.stdout + rolled.stderr
        lines = rolled.stdout.splitlines()
        restarted = [int(line.split()[0][len("server."):]) for line in lines if " restarted and caught up" in line]
        assert sorted(restarted) == [1, 2, 3] and restarted[-1] == leader, lines
        assert any("leadership handed to" in line for line in lines), lines
        assert not load.expired, "the writer's session expired"
        for sid in Ensemble.HOSTS:
            client = KazooClient(hosts=ensemble.client_address(sid), timeout=10)
            client.start(timeout=30)
            client.sync("/")
            children = set(client.get_children("/"))
            assert acknowledged <= children, "server.%d lost %s" % (sid, sorted(acknowledged - children)[:5])
            assert "held" in children, "the holder's session expired: its ephemeral is gone"
            client.stop()
        assert holder.client_id[0] == session and holder.connected
        holder.stop()
        writer.stop()
    finally:
        for pid in pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(180)
def test_config_show_and_diff_name_where_members_disagree():
    members = Members()
    ensemble = members.ensemble
    with open(ensemble.configs[3], "a") as f:
        f.write("maxClientCnxns=99\n")
    try:
        start_three_aviarys(members)
        shown = aviary("config", "show", ensemble.client_address(1))
        assert shown.returncode == 0, shown.stdout + shown.stderr
        header = shown.stdout.splitlines()[0].split()
        assert header == ["SETTING", "server.1", "server.2", "server.3"], header
        assert [line.split() for line in shown.stdout.splitlines() if line.startswith("maxClientCnxns")] == [["maxClientCnxns", "60", "60", "99"]]
        diff = aviary("config", "diff", ensemble.client_address(2))
        assert diff.returncode == 1 and diff.stdout.strip() == "maxClientCnxns: server.1=60, server.2=60, server.3=99", diff.stdout
    finally:
        members.close()


@pytest.mark.timeout(180)
def test_the_leader_detects_a_lost_member_and_the_quorum_at_risk_and_its_return():
    with three_aviarys(admin=True) as (members, leader, followers):
        ensemble = members.ensemble
        lost = followers[0]

        def peers(sid):
            return {peer["id"]: peer for peer in ensemble.admin_command(sid, "peers")["peers"]}

        def kinds(sid):
            url = "http://%s:%d/events/recent" % (ensemble.HOSTS[sid], ensemble.metrics[sid])
            return [(event["kind"], event["details"].get("member")) for event in json.loads(urllib.request.urlopen(url, timeout=10).read())]

        assert wait_until(lambda: all(p["state"] == "synced" and p["round_trip_ms"] is not None
                                      for sid, p in peers(leader).items() if sid != leader), timeout=30), peers(leader)
        assert peers(leader)[leader]["state"] == "self"
        # A follower shows the other follower as its leader sees it.
        other = followers[1]
        assert wait_until(lambda: peers(lost)[other]["seen_by"] == "leader" and peers(lost)[other]["state"] == "synced", timeout=30), peers(lost)
        # The same view through Aviary's `peer` word, and in `aviary member list`.
        word = four_letter(ensemble.client_address(leader), "peer")
        assert "id=%d role=participant state=synced" % lost in word and "lag_ms=" in word, word
        listing = aviary("member", "list", "--server", ensemble.client_address(lost)).stdout
        row = [line.split() for line in listing.splitlines() if line.startswith("%d " % lost)][0]
        assert row[6].isdigit() and row[7].isdigit(), listing
        assert peers(lost)[leader]["state"] == "leader" and peers(lost)[leader]["heard_ms_ago"] < 5000
        assert prometheus(ensemble, leader)['aviary_peer_up{peer="%d",role="participant"}' % lost] == 1
        members.kill(lost)
        assert wait_until(lambda: ("member_lost", str(lost)) in kinds(leader) and ("quorum_at_risk", None) in kinds(leader),
                          timeout=30), kinds(leader)
        assert peers(leader)[lost]["state"] == "not connected"
        assert prometheus(ensemble, leader)['aviary_peer_up{peer="%d",role="participant"}' % lost] == 0
        members.processes[lost] = ensemble.start_aviary(lost)
        assert wait_until(lambda: ("member_returned", str(lost)) in kinds(leader) and ("quorum_safe", None) in kinds(leader),
                          timeout=60), kinds(leader)
