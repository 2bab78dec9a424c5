"""TLS between ensemble members (issue 14): `sslQuorum` with `ssl.quorum.*` stores on the
election and quorum ports, in an all-Aviary ensemble and mixed with Apache ZooKeeper 3.8; a
member whose certificate comes from another authority cannot join, and says why."""
import socket
import ssl
import time

import pytest

from servers import Ensemble, four_letter
from test_ensemble import AVIARY, ZOOKEEPERS, Members, connect, assert_follows_with, prometheus


def quorum_tls(certs, keystore="quorum.pem", unified=False):
    return ("sslQuorum=true\nserverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
            "ssl.quorum.keyStore.location=%s\nssl.quorum.keyStore.type=PEM\n"
            "ssl.quorum.trustStore.location=%s\nssl.quorum.trustStore.type=PEM\n%s"
            % (certs.path(keystore), certs.path("ca.crt"), "portUnification=true\n" if unified else ""))


def assert_survives_zookeeper_leader_loss(members, leader):
    """Kills the ZooKeeper leader of a mixed ensemble: the other ZooKeeper or Aviary leads, and a
    write through Aviary reaches the other ZooKeeper."""
    ensemble = members.ensemble
    members.kill(leader)
    other = [sid for sid in ZOOKEEPERS if sid != leader][0]
    assert ensemble.wait_for_leader([other, AVIARY], timeout=60) in (other, AVIARY), members.aviary_log()[-3000:]
    client = connect(ensemble, AVIARY)
    client.create("/after-zookeeper-leader", b"")
    client.stop()
    assert has_child(ensemble, other, "after-zookeeper-leader")


def has_child(ensemble, sid, child):
    """Whether server `sid` (leader or follower) has `/child` after a sync."""
    client = connect(ensemble, sid)
    try:
        client.sync("/")
        return child in client.get_children("/")
    finally:
        client.stop()


def plaintext_peer_is_refused(host, port):
    """A plaintext peer's first bytes on a TLS-only port get at most a TLS alert, then the
    close (a timeout fails the test)."""
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"\x00\x00\x00\x10" + b"\x00" * 16)
        answer = b""
        while True:
            chunk = s.recv(100)
            if not chunk:
                break
            answer += chunk
        assert answer == b"" or answer.startswith(b"\x15"), "at most a TLS alert, then the close: %r" % answer


@pytest.mark.timeout(300)
def test_an_aviary_ensemble_over_tls_elects_replicates_and_fails_over(certs):
    members = Members(extra=quorum_tls(certs))
    ensemble, processes = members.ensemble, members.processes
    try:
        leader, others = members.start_all_aviary()
        client = connect(ensemble, others[0])
        for i in range(10):
            client.create("/over-tls-%d" % i, b"")
        client.stop()
        assert_follows_with(ensemble, others[1], "over-tls-9")
        # A plaintext peer on the TLS-only quorum port is refused, and the leader says so.
        plaintext_peer_is_refused(Ensemble.HOSTS[leader], ensemble.quorum[leader])
        time.sleep(1)
        assert "quorum TLS handshake with" in members.aviary_log(leader), members.aviary_log(leader)[-2000:]
        processes.pop(leader).kill()
        new_leader = ensemble.wait_for_leader(others, timeout=60)
        assert new_leader is not None, "the survivors elected no leader over TLS"
        processes[leader] = ensemble.start_aviary(leader)
        client = connect(ensemble, new_leader)
        client.create("/after-failover", b"")
        client.stop()
        assert_follows_with(ensemble, leader, "after-failover")
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_aviary_and_zookeeper_members_speak_tls_to_each_other(certs):
    """Two ZooKeepers with sslQuorum (and hostname verification, as by default) and one
    Aviary: Aviary follows the ZooKeeper leader over TLS, and when that leader dies, the
    survivors elect over TLS and Aviary follows or leads the other ZooKeeper."""
    members = Members(extra=quorum_tls(certs))
    ensemble, processes = members.ensemble, members.processes
    try:
        leader = members.start_zookeepers()
        members.start_aviary()
        client = connect(ensemble, AVIARY)
        for i in range(10):
            client.create("/mixed-tls-%d" % i, b"x")
        client.stop()
        for sid in ZOOKEEPERS:
            assert has_child(ensemble, sid, "mixed-tls-9")
        assert_survives_zookeeper_leader_loss(members, leader)
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_an_aviary_leader_syncs_zookeeper_followers_over_tls(certs):
    members = Members(extra=quorum_tls(certs))
    ensemble = members.ensemble
    try:
        members.start_aviary_leading()
        client = connect(ensemble, 1)
        for i in range(10):
            client.create("/led-over-tls-%d" % i, b"")
        client.stop()
        assert has_child(ensemble, 2, "led-over-tls-9") and has_child(ensemble, 3, "led-over-tls-9")
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_a_member_with_another_authority_s_certificate_cannot_join(certs):
    members = Members(extra=quorum_tls(certs))
    ensemble, processes = members.ensemble, members.processes
    try:
        # server.3's zoo.cfg names the intruder's store: signed by another CA.
        with open(ensemble.configs[3]) as f:
            text = f.read()
        with open(ensemble.configs[3], "w") as f:
            f.write(text.replace(certs.path("quorum.pem"), certs.path("intruder.pem")))
        for sid in (1, 2):
            processes[sid] = ensemble.start_aviary(sid)
        leader = ensemble.wait_for_leader([1, 2], timeout=60)
        assert leader is not None
        processes[3] = ensemble.start_aviary(3)
        time.sleep(6)
        assert ensemble.mode(3) in (None, "not serving"), "a member with an untrusted certificate joined"
        refusals = members.aviary_log(leader) + members.aviary_log(1 if leader == 2 else 2)
        assert "quorum TLS handshake with" in refusals and "CERTIFICATE_VERIFY_FAILED" in refusals, refusals[-3000:]
        assert sum(prometheus(ensemble, sid).get("aviary_quorum_auth_failures", 0) for sid in (1, 2)) >= 1
        client = connect(ensemble, leader)
        client.create("/still-fine", b"")
        client.stop()
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_a_peer_whose_certificate_names_another_address_is_refused(certs):
    """As ZooKeeper's QuorumX509Util, a member checks the address a peer dials from against the
    peer's certificate: one from the ensemble's own authority, for 127.0.0.9, does not let a
    peer in from 127.0.0.1 on either port; the refusal is logged with the names the
    certificate gives, counted, and the ensemble goes on."""
    members = Members(extra=quorum_tls(certs))
    ensemble, processes = members.ensemble, members.processes
    try:
        for sid in (1, 2):
            processes[sid] = ensemble.start_aviary(sid)
        leader = ensemble.wait_for_leader([1, 2], timeout=60)
        assert leader is not None
        before = prometheus(ensemble, leader).get("aviary_quorum_auth_failures", 0)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.load_verify_locations(certs.path("ca.crt"))
        context.load_cert_chain(certs.path("elsewhere.crt"), certs.path("elsewhere.key"))
        host = Ensemble.HOSTS[leader]
        for port in (ensemble.election[leader], ensemble.quorum[leader]):
            with socket.create_connection((host, port), timeout=30) as raw, context.wrap_socket(raw) as peer:
                peer.sendall(b"\xff" * 8)
                try:
                    answer = peer.recv(100)
                except (ssl.SSLError, ConnectionError):
                    answer = b""
                assert answer == b"", "nothing comes back before the close: %r" % answer
        log = members.aviary_log(leader)
        assert log.count("refused: its certificate does not name 127.0.0.1 (it names IP 127.0.0.9)") == 2, log[-3000:]
        assert prometheus(ensemble, leader).get("aviary_quorum_auth_failures", 0) >= before + 2
        client = connect(ensemble, leader)
        client.create("/after-the-impostor", b"")
        client.stop()
        assert has_child(ensemble, 1 if leader == 2 else 2, "after-the-impostor")
    finally:
        members.close()


@pytest.mark.timeout(400)
def test_a_plaintext_ensemble_rolls_to_tls_with_port_unification(certs):
    """ZooKeeper's procedure: every member accepts both (portUnification, stores in place), then
    each dials TLS (sslQuorum), then plaintext is no longer accepted; one member restarted at a
    time, the ensemble serving and keeping every write throughout."""
    members = Members()
    ensemble, processes = members.ensemble, members.processes
    stores = ("ssl.quorum.keyStore.location=%s\nssl.quorum.keyStore.type=PEM\n"
              "ssl.quorum.trustStore.location=%s\nssl.quorum.trustStore.type=PEM\n"
              % (certs.path("quorum.pem"), certs.path("ca.crt")))
    written = []

    def restart_with(sid, extra):
        processes.pop(sid).terminate()
        time.sleep(0.5)
        with open(ensemble.configs[sid]) as f:
            text = f.read()
        with open(ensemble.configs[sid], "w") as f:
            f.write(text.split("# phase\n")[0] + "# phase\n" + extra)
        processes[sid] = ensemble.start_aviary(sid)
        assert ensemble.wait_for_mode(sid, ("follower", "leader"), timeout=60) in ("follower", "leader"), members.aviary_log(sid)[-3000:]
        client = connect(ensemble, sid)
        path = "written-%d-%d" % (len(written), sid)
        client.create("/" + path, b"")
        written.append(path)
        assert set(written) <= set(client.get_children("/")), "a write was lost while rolling"
        client.stop()

    try:
        processes.update({sid: ensemble.start_aviary(sid) for sid in Ensemble.HOSTS})
        assert ensemble.wait_for_leader(list(Ensemble.HOSTS), timeout=60) is not None
        for phase in (stores + "portUnification=true\n", stores + "portUnification=true\nsslQuorum=true\n", stores + "sslQuorum=true\n"):
            for sid in sorted(Ensemble.HOSTS):
                restart_with(sid, phase)
        # Now TLS only: a plaintext peer is refused.
        leader = ensemble.wait_for_leader(list(Ensemble.HOSTS), timeout=60)
        plaintext_peer_is_refused(Ensemble.HOSTS[leader], ensemble.quorum[leader])
        for sid in Ensemble.HOSTS:
            assert has_child(ensemble, sid, written[-1])
    finally:
        members.close()
