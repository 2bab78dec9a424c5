"""`aviary status` and `aviary member` against real ensembles: members found from one address,
a verdict per member and `--check` for scripts, a server added as an observer and promoted
once it has caught up, and refusals of unsafe changes (removing the leader, removing a voter
the quorum needs, promoting an observer that is not serving). Servers 1-3 are Aviarys; the
joiners are an Aviary (4) and an Apache ZooKeeper 3.8 (5)."""
import signal
import subprocess
import time

import pytest
from servers import aviary_binary
from test_ensemble import wait_until
from test_reconfig import SUPER, FiveMembers, config_of, connect, members_of, server_line


def aviary(*arguments, timeout=120):
    return subprocess.run([aviary_binary(), *arguments], capture_output=True, text=True, timeout=timeout)


def member(command, ensemble, sid, *arguments):
    return aviary("member", command, "--server", ensemble.client_address(sid), "--auth", "digest:" + SUPER, *arguments)


def spec(ensemble, sid):
    return server_line(ensemble, sid)[len("server."):].replace(":participant;", ";")


@pytest.mark.timeout(300)
def test_status_and_member_commands_on_an_ensemble_of_aviarys_and_a_zookeeper():
    members = FiveMembers()
    ensemble = members.ensemble
    try:
        for sid in (1, 2, 3):
            members.processes[sid] = ensemble.start_aviary(sid)
        leader = ensemble.wait_for_leader([1, 2, 3], timeout=60)
        assert leader is not None
        followers = [sid for sid in (1, 2, 3) if sid != leader]
        for sid in followers:
            assert ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"

        # One address finds all three members.
        status = aviary("status", ensemble.client_address(followers[0]), "--check")
        assert status.returncode == 0, status.stdout + status.stderr
        rows = [line.split() for line in status.stdout.splitlines()[2:] if line and line[0].isdigit()]
        assert sorted(int(row[0]) for row in rows) == [1, 2, 3] and "healthy" in status.stdout
        assert [row[3] for row in rows if int(row[0]) == leader] == ["leader"]

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
    from test_reconfig import DIGEST, start_three_aviarys
    from test_ensemble import Members
    import threading
    members = Members(extra="DigestAuthenticationProvider.superDigest=super:%s\n" % DIGEST)
    ensemble = members.ensemble
    try:
        leader, followers = start_three_aviarys(members)
        target, other = followers
        # A client on the leader (its connection goes with the leadership) and a writer on the other follower.
        on_leader = connect(ensemble, leader, admin=False)
        session_before = on_leader.client_id[0]
        writer = connect(ensemble, other, admin=False)
        acknowledged, stop = [], threading.Event()

        def write():
            i = 0
            while not stop.is_set():
                writer.create("/w-%05d" % i, b"")
                acknowledged.append((time.monotonic(), "w-%05d" % i))
                i += 1

        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(1)
        # Refused: the leader itself, and a server that is not a member.
        assert member_transfer(ensemble, other, str(leader)).returncode != 0
        assert member_transfer(ensemble, other, "9").returncode != 0
        moved = member_transfer(ensemble, other, str(target))
        time.sleep(1)
        stop.set()
        thread.join(timeout=60)
        assert moved.returncode == 0, moved.stdout + moved.stderr
        assert ensemble.mode(target) == "leader" and ensemble.mode(leader) == "follower", (ensemble.mode(target), ensemble.mode(leader))
        gaps = [b[0] - a[0] for a, b in zip(acknowledged, acknowledged[1:])]
        print("\nleader transfer: %s; %d writes acknowledged, longest pause between two acknowledgements %.0f ms"
              % (moved.stdout.strip(), len(acknowledged), max(gaps) * 1000))
        names = {name for _, name in acknowledged}
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
    finally:
        members.close()


def member_transfer(ensemble, sid, target):
    return aviary("leader", "transfer", "--server", ensemble.client_address(sid), "--auth", "digest:" + SUPER, target)
