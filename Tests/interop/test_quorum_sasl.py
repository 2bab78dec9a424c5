"""Quorum SASL DIGEST-MD5 between ensemble members (issue 14): `quorum.auth.enableSasl`,
`learnerRequireSasl`, `serverRequireSasl` and the JAAS `QuorumServer` / `QuorumLearner`
sections, as Apache ZooKeeper 3.8 reads them; Aviary and ZooKeeper members authenticate each
other, and a member with the wrong password cannot join."""
import os
import shutil
import socket
import struct
import tempfile
import time

import pytest

from servers import Ensemble
from test_ensemble import AVIARY, ZOOKEEPERS, Members, connect, prometheus
from test_quorum_tls import assert_survives_zookeeper_leader_loss, has_child

AUTH_PACKET_MAGIC = 0x5f2435013501edcc
QUORUM_SASL = "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true\n"
PASSWORD = "quorum-secret-4"


def jaas_file(directory, name, password):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write("""QuorumServer {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_member="%s";
};
QuorumLearner {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="member"
    password="%s";
};
""" % (PASSWORD, password))
    return path


@pytest.fixture
def jaas():
    directory = tempfile.mkdtemp(prefix="quorum-jaas-")
    yield {"good": jaas_file(directory, "good.jaas", PASSWORD), "bad": jaas_file(directory, "bad.jaas", "not-the-password")}
    shutil.rmtree(directory, ignore_errors=True)


def aviary_env(path):
    return {"SERVER_JVMFLAGS": "-Djava.security.auth.login.config=" + path}


def start_two_members(members, jaas_path):
    """Starts Aviary members 1 and 2 with the JAAS file; returns the leader they elect."""
    for sid in (1, 2):
        members.processes[sid] = members.ensemble.start_aviary(sid, env=aviary_env(jaas_path))
    leader = members.ensemble.wait_for_leader([1, 2], timeout=60)
    assert leader is not None
    return leader


@pytest.mark.timeout(300)
def test_aviary_and_zookeeper_members_authenticate_each_other(jaas):
    members = Members(extra=QUORUM_SASL, zookeeper_properties=["java.security.auth.login.config=" + jaas["good"]])
    ensemble, processes = members.ensemble, members.processes
    try:
        leader = members.start_zookeepers()
        processes[AVIARY] = ensemble.start_aviary(AVIARY, env=aviary_env(jaas["good"]))
        assert ensemble.wait_for_mode(AVIARY, ("follower",), timeout=60) == "follower", members.aviary_log()[-3000:]
        assert "quorum SASL: authenticated to" in members.aviary_log()
        client = connect(ensemble, AVIARY)
        for i in range(5):
            client.create("/sasl-quorum-%d" % i, b"")
        client.stop()
        for sid in ZOOKEEPERS:
            assert has_child(ensemble, sid, "sasl-quorum-4")
        assert_survives_zookeeper_leader_loss(members, leader)
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_an_aviary_leader_authenticates_zookeeper_followers(jaas):
    members = Members(extra=QUORUM_SASL, zookeeper_properties=["java.security.auth.login.config=" + jaas["good"]])
    ensemble = members.ensemble
    try:
        members.start_aviary_leading(env=aviary_env(jaas["good"]))
        assert "authenticated on the quorum port" in members.aviary_log(3)
        client = connect(ensemble, 1)
        client.create("/led-with-sasl", b"")
        client.stop()
        assert has_child(ensemble, 2, "led-with-sasl")
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_a_member_with_the_wrong_password_cannot_join(jaas):
    members = Members(extra=QUORUM_SASL)
    ensemble, processes = members.ensemble, members.processes
    try:
        leader = start_two_members(members, jaas["good"])
        processes[3] = ensemble.start_aviary(3, env=aviary_env(jaas["bad"]))
        time.sleep(6)
        assert ensemble.mode(3) in (None, "not serving"), "a member with the wrong quorum password joined"
        logs = members.aviary_log(1) + members.aviary_log(2)
        assert "quorum SASL authentication of" in logs and "wrong password for user member" in logs, logs[-3000:]
        assert "refused this member's credentials" in members.aviary_log(3)
        assert sum(prometheus(ensemble, sid).get("aviary_quorum_auth_failures", 0) for sid in (1, 2)) >= 1
        for text in (logs, members.aviary_log(3)):
            assert PASSWORD not in text and "not-the-password" not in text
        client = connect(ensemble, leader)
        client.create("/still-fine", b"")
        client.stop()
    finally:
        members.close()


def read_until_closed(sock):
    """Reads until the peer closes; returns what came (a socket timeout raises)."""
    received = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return received
        received += chunk


@pytest.mark.timeout(300)
def test_a_peer_that_stalls_while_authenticating_is_cut_off(jaas):
    """ZooKeeper's socket timeouts bound a quorum SASL exchange: syncLimit ticks on the
    election port (2,500 ms with this ensemble's tickTime=500, syncLimit=5) and initLimit ticks
    on the quorum port (5,000 ms). A peer that sends the start of an authentication packet and
    stops, or connects and sends nothing, is refused then, counted, and costs nothing else."""
    members = Members(extra=QUORUM_SASL)
    ensemble, processes = members.ensemble, members.processes
    try:
        leader = start_two_members(members, jaas["good"])
        host = Ensemble.HOSTS[leader]
        before = prometheus(ensemble, leader).get("aviary_quorum_auth_failures", 0)
        election = socket.create_connection((host, ensemble.election[leader]), timeout=60)
        address = b"127.0.0.9:1234"
        election.sendall(struct.pack(">qqi", -65536, 99, len(address)) + address + struct.pack(">q", AUTH_PACKET_MAGIC))
        quorum = socket.create_connection((host, ensemble.quorum[leader]), timeout=60)
        # Each is answered with an ERROR packet (status -1 after the magic), then closed.
        for stalled in (election, quorum):
            answer = read_until_closed(stalled)
            assert answer[:8] == struct.pack(">q", AUTH_PACKET_MAGIC) and answer[8:12] == struct.pack(">i", -1), answer
            stalled.close()
        log = members.aviary_log(leader)
        assert "on the election port failed: no answer within 2500 ms" in log, log[-3000:]
        assert "on the quorum port failed: no answer within 5000 ms" in log, log[-3000:]
        assert prometheus(ensemble, leader).get("aviary_quorum_auth_failures", 0) >= before + 2
        client = connect(ensemble, leader)
        client.create("/after-the-stall", b"")
        client.stop()
        follower = [sid for sid in (1, 2) if sid != leader][0]
        assert has_child(ensemble, follower, "after-the-stall")
    finally:
        members.close()
