"""Dynamic reconfiguration (`reconfigEnabled=true`) in ensembles of Aviarys and in mixed
ensembles with Apache ZooKeeper 3.8, through kazoo's `reconfig` as the super user: a member
removed and added back, the configuration each member then holds (`/zookeeper/config`, the
`zoo.cfg.dynamic.<version>` file and zoo.cfg pointing at it), writes going on through it, and
the refusals ZooKeeper gives. In the mixed ensembles the expectation is the ZooKeeper members'
own configuration."""
import base64
import contextlib
import hashlib
import os
import signal

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import BadArgumentsError, BadVersionError, NewConfigNoQuorumError, NoAuthError
from servers import Ensemble, four_letter
from test_ensemble import AVIARY, Members, wait_until
from test_real_clients import zkcli

SUPER = "super:reconfig-secret"
DIGEST = base64.b64encode(hashlib.sha1(SUPER.encode()).digest()).decode()
# ZooKeeper reads unknown zoo.cfg keys as `zookeeper.`-prefixed system properties, so this
# line gives both kinds of server the same super user.
EXTRA = "reconfigEnabled=true\nDigestAuthenticationProvider.superDigest=super:%s\n" % DIGEST


def connect(ensemble, sid, admin=True):
    client = KazooClient(hosts=ensemble.client_address(sid), timeout=10,
                         auth_data=[("digest", SUPER)] if admin else None)
    client.start(timeout=30)
    return client


def config_of(ensemble, sid):
    """Server `sid`'s /zookeeper/config after a sync, as text."""
    client = connect(ensemble, sid, admin=False)
    try:
        client.sync("/zookeeper/config")
        data, stat = client.get("/zookeeper/config")
        return data.decode()
    finally:
        client.stop()


def members_of(text):
    return sorted(int(line.split("=")[0][len("server."):]) for line in text.splitlines() if line.startswith("server."))


def version_of(text):
    return [line for line in text.splitlines() if line.startswith("version=")][0][len("version="):]


def server_line(ensemble, sid):
    host = ensemble.HOSTS[sid]
    return "server.%d=%s:%d:%d:participant;%s:%d" % (sid, host, ensemble.quorum[sid], ensemble.election[sid], host, ensemble.client[sid])


def assert_files(members, sid, text):
    """Server `sid` keeps `text` as ZooKeeper does: zoo.cfg.dynamic.<version> with the sorted
    server lines, and zoo.cfg pointing at it without server lines."""
    config = members.ensemble.configs[sid]
    dynamic = "%s.dynamic.%s" % (config, version_of(text))
    assert os.path.exists(dynamic), os.listdir(members.root)
    with open(dynamic) as f:
        assert f.read() == "\n".join(sorted(line for line in text.splitlines() if line.startswith("server.")))
    with open(config) as f:
        static = f.read()
    assert "dynamicConfigFile=" + os.path.abspath(dynamic) in static and "server." not in static


@contextlib.contextmanager
def three_aviarys(**members_options):
    """An ensemble of three Aviarys, formed; yields its Members, leader and followers, and
    stops it after."""
    members = Members(**members_options)
    try:
        leader, followers = start_three_aviarys(members)
        yield members, leader, followers
    finally:
        members.close()


def start_three_aviarys(members):
    """Starts an Aviary on every member; returns the leader and the followers once formed."""
    ensemble = members.ensemble
    for sid in Ensemble.HOSTS:
        members.processes[sid] = ensemble.start_aviary(sid)
    leader = ensemble.wait_for_leader(list(Ensemble.HOSTS), timeout=60)
    assert leader is not None, "three Aviarys elected no leader"
    followers = [sid for sid in Ensemble.HOSTS if sid != leader]
    for sid in followers:
        assert ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"
    return leader, followers


@pytest.mark.timeout(300)
def test_three_aviarys_remove_a_member_and_add_it_back():
    with three_aviarys(extra=EXTRA) as (members, leader, followers):
        ensemble = members.ensemble
        # The first leader gives the static configuration a version: its epoch's first zxid.
        first = config_of(ensemble, leader)
        assert version_of(first) == "100000000" and members_of(first) == [1, 2, 3]
        for sid in Ensemble.HOSTS:
            assert wait_until(lambda: config_of(ensemble, sid) == first), (sid, config_of(ensemble, sid))
            assert_files(members, sid, first)

        removed, kept = followers
        client = connect(ensemble, kept)
        with pytest.raises(NoAuthError):
            plain = connect(ensemble, kept, admin=False)
            try:
                plain.reconfig(joining=None, leaving=str(removed), new_members=None)
            finally:
                plain.stop()
        data, stat = client.reconfig(joining=None, leaving=str(removed), new_members=None)
        text = data.decode()
        assert members_of(text) == sorted([leader, kept]) and int(version_of(text), 16) == stat.mzxid
        client.create("/after-removal", b"x")
        for sid in (leader, kept):
            assert wait_until(lambda: config_of(ensemble, sid) == text), (sid, config_of(ensemble, sid))
            assert_files(members, sid, text)
        # The removed server follows on without a vote, as a ZooKeeper server does.
        assert wait_until(lambda: config_of(ensemble, removed) == text)

        data, stat = client.reconfig(joining=server_line(ensemble, removed), leaving=None, new_members=None,
                                     from_config=int(version_of(text), 16))
        back = data.decode()
        assert members_of(back) == [1, 2, 3] and server_line(ensemble, removed) in back
        for sid in Ensemble.HOSTS:
            assert wait_until(lambda: config_of(ensemble, sid) == back), (sid, config_of(ensemble, sid))
        other = connect(ensemble, removed)
        other.create("/after-return", b"y")
        assert "after-removal" in other.get_children("/")
        other.stop()

        # Refused as ZooKeeper refuses: a single voter left, and a member that is not there.
        with pytest.raises(BadArgumentsError):
            client.reconfig(joining=None, leaving="%d,%d" % (removed, kept), new_members=None)
        members.kill(removed)
        with pytest.raises(NewConfigNoQuorumError):
            client.reconfig(joining="server.4=127.0.0.5:%d:%d;%d" % (ensemble.quorum[removed], ensemble.election[removed],
                                                                     ensemble.client[removed]),
                            leaving=None, new_members=None)
        assert config_of(ensemble, leader) == back, "a refused reconfig changes nothing"
        client.stop()


def remove_and_add_back(members, via, removed, zookeeper, aviary):
    """Removes ZooKeeper follower `removed` through server `via` and adds it back. After each
    step the ZooKeeper server `zookeeper` and the Aviary `aviary` hold the same configuration
    (then every member does), the Aviary keeps it in its files, and writes go on through it."""
    ensemble = members.ensemble
    client = connect(ensemble, via)
    data, _ = client.reconfig(joining=None, leaving=str(removed), new_members=None)
    text = data.decode()
    assert removed not in members_of(text) and len(members_of(text)) == 2
    for sid in (zookeeper, aviary):
        assert wait_until(lambda: config_of(ensemble, sid) == text), (sid, config_of(ensemble, sid))
    assert_files(members, aviary, text)
    writer = connect(ensemble, aviary)
    writer.create("/written-through-aviary", b"")
    data, _ = client.reconfig(joining=server_line(ensemble, removed), leaving=None, new_members=None)
    back = data.decode()
    assert members_of(back) == [1, 2, 3]
    for sid in Ensemble.HOSTS:
        assert wait_until(lambda: config_of(ensemble, sid) == back), (sid, config_of(ensemble, sid))
    writer.create("/after-return", b"")
    returned = connect(ensemble, removed)
    returned.create("/written-through-the-returned-zookeeper", b"")
    returned.stop()
    writer.stop()
    client.stop()


@pytest.mark.timeout(300)
def test_an_aviary_follower_takes_a_zookeeper_leaders_reconfiguration():
    members = Members(extra=EXTRA)
    try:
        leader = members.start_zookeepers()
        members.start_aviary()
        follower = [sid for sid in (2, 3) if sid != leader][0]
        remove_and_add_back(members, via=leader, removed=follower, zookeeper=leader, aviary=AVIARY)
        # `conf` of a member: the same settings as a ZooKeeper member prints, and the same membership.
        ours, theirs = (four_letter(members.ensemble.client_address(sid), "conf") for sid in (AVIARY, leader))
        assert [line.split("=")[0] for line in ours.splitlines()] == [line.split("=")[0] for line in theirs.splitlines()]
        assert ours.split("membership: \n")[1] == theirs.split("membership: \n")[1]
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_an_aviary_leader_reconfigures_zookeeper_followers():
    members = Members(extra=EXTRA)
    try:
        members.start_aviary_leading()
        # server.3 is the Aviary leader; the first leader's version is its epoch's first zxid,
        # and ZooKeeper follower 1 holds it too. The requests go through follower 1.
        first = config_of(members.ensemble, 3)
        assert version_of(first) == "100000000", first
        assert wait_until(lambda: config_of(members.ensemble, 1) == first), config_of(members.ensemble, 1)
        remove_and_add_back(members, via=1, removed=2, zookeeper=1, aviary=3)
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_a_removed_aviary_leader_hands_over_to_the_member_it_names():
    with three_aviarys(extra=EXTRA) as (members, leader, followers):
        ensemble = members.ensemble
        client = connect(ensemble, followers[0])
        for i in range(20):
            client.create("/before-%d" % i, b"")
        data, _ = client.reconfig(joining=None, leaving=str(leader), new_members=None)
        text = data.decode()
        assert members_of(text) == followers
        # One of the two remaining voters leads now; the old leader follows without a vote.
        new_leader = ensemble.wait_for_leader(followers, timeout=60)
        assert new_leader is not None, members.aviary_log(leader)[-3000:]
        assert wait_until(lambda: ensemble.mode(leader) == "follower", timeout=60), ensemble.mode(leader)
        client.create("/after-handover", b"")
        old = connect(ensemble, leader)
        old.sync("/")
        children = set(old.get_children("/"))
        assert {"before-%d" % i for i in range(20)} | {"after-handover"} <= children
        assert config_of(ensemble, leader) == text
        old.stop()
        client.stop()


@pytest.mark.timeout(300)
def test_an_aviary_observer_is_promoted_to_a_voter_and_back():
    members = Members(extra=EXTRA, observers=(3,))
    ensemble = members.ensemble
    try:
        for sid in Ensemble.HOSTS:
            members.processes[sid] = ensemble.start_aviary(sid)
        leader = ensemble.wait_for_leader([1, 2], timeout=60)
        assert leader is not None
        assert ensemble.wait_for_mode(3, ("observer",), timeout=60) == "observer"
        client = connect(ensemble, 3)
        data, _ = client.reconfig(joining=server_line(ensemble, 3), leaving=None, new_members=None)
        assert ":participant;" in [line for line in data.decode().splitlines() if line.startswith("server.3=")][0]
        assert ensemble.wait_for_mode(3, ("follower", "leader"), timeout=60) in ("follower", "leader")
        client.stop()
        client = connect(ensemble, 3)
        client.create("/as-a-voter", b"")
        observer_line = server_line(ensemble, 3).replace(":participant;", ":observer;")
        data, _ = client.reconfig(joining=observer_line, leaving=None, new_members=None)
        assert observer_line in data.decode()
        assert ensemble.wait_for_mode(3, ("observer",), timeout=60) == "observer"
        client.stop()
        client = connect(ensemble, 3)
        client.create("/as-an-observer-again", b"")
        client.stop()
    finally:
        members.close()


class FiveMembers(Members):
    """Five members on 127.0.0.2-6: servers 1-3 start with a configuration of the three of
    them, servers 4 and 5 with all five (how ZooKeeper's documentation has a server join);
    with `all_five`, every one starts with all five."""

    def __init__(self, all_five=False):
        original = Ensemble.HOSTS
        Ensemble.HOSTS = {1: "127.0.0.2", 2: "127.0.0.3", 3: "127.0.0.4", 4: "127.0.0.5", 5: "127.0.0.6"}
        try:
            super().__init__(extra=EXTRA)
            self.hosts = dict(Ensemble.HOSTS)
        finally:
            self.ensemble.HOSTS = self.hosts
            Ensemble.HOSTS = original
        for sid in () if all_five else (1, 2, 3):
            path = self.ensemble.configs[sid]
            with open(path) as f:
                lines = [line for line in f.read().splitlines() if not line.startswith(("server.4=", "server.5="))]
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")

    def start_first_three(self):
        """Starts Aviarys 1-3; returns the one that leads once they elected."""
        for sid in (1, 2, 3):
            self.processes[sid] = self.ensemble.start_aviary(sid)
        leader = self.ensemble.wait_for_leader([1, 2, 3], timeout=60)
        assert leader is not None, "servers 1-3 elected no leader"
        return leader


@pytest.mark.timeout(300)
def test_grow_three_to_five_with_a_zookeeper_joining_and_shrink_back():
    members = FiveMembers()
    ensemble = members.ensemble
    try:
        leader = members.start_first_three()
        # The joiners find the leader and follow it without a vote, Aviary and ZooKeeper alike.
        members.processes[4] = ensemble.start_aviary(4)
        members.processes[5] = ensemble.start_zookeeper(5)
        for sid in (4, 5):
            assert ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower", (sid, members.aviary_log(4)[-2000:])
        client = connect(ensemble, [sid for sid in (1, 2, 3) if sid != leader][0])
        client.create("/before-growing", b"")
        data, _ = client.reconfig(joining="%s,%s" % (server_line(ensemble, 4), server_line(ensemble, 5)), leaving=None, new_members=None)
        grown = data.decode()
        assert members_of(grown) == [1, 2, 3, 4, 5]
        for sid in ensemble.HOSTS:
            assert wait_until(lambda: config_of(ensemble, sid) == grown), (sid, config_of(ensemble, sid))
        # Five voters go on with two of the original three gone.
        gone = [sid for sid in (1, 2, 3) if sid != leader]
        client.stop()
        for sid in gone:
            members.kill(sid)
        writer = connect(ensemble, 4)
        writer.create("/with-two-gone", b"")
        # Shrink back to three: the leader and the two joiners.
        data, _ = writer.reconfig(joining=None, leaving=",".join(map(str, gone)), new_members=None)
        shrunk = data.decode()
        assert members_of(shrunk) == sorted([leader, 4, 5])
        for sid in (leader, 4, 5):
            assert wait_until(lambda: config_of(ensemble, sid) == shrunk), (sid, config_of(ensemble, sid))
        writer.create("/after-shrinking", b"")
        reader = connect(ensemble, 5)
        reader.sync("/")
        assert {"before-growing", "with-two-gone", "after-shrinking"} <= set(reader.get_children("/"))
        reader.stop()
        writer.stop()
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_zkcli_reconfigures_an_ensemble_of_aviarys():
    with three_aviarys(extra=EXTRA) as (members, leader, followers):
        ensemble = members.ensemble
        removed = followers[1]
        out = zkcli(ensemble.client_address(followers[0]), "addauth digest %s\nreconfig -remove %d\nconfig\nquit\n" % (SUPER, removed))
        text = config_of(ensemble, leader)
        assert members_of(text) == sorted([leader, followers[0]]), out
        assert "Committed new configuration:" in out and "version=%s" % version_of(text) in out, out
        line = server_line(ensemble, removed)
        out = zkcli(ensemble.client_address(leader), "addauth digest %s\nreconfig -add %s\nquit\n" % (SUPER, line))
        back = config_of(ensemble, leader)
        assert members_of(back) == [1, 2, 3] and line in back, out
        refused = zkcli(ensemble.client_address(leader), "reconfig -remove %d\nquit\n" % removed)
        assert "Insufficient permission" in refused or "NoAuth" in refused, refused
        assert config_of(ensemble, leader) == back


@pytest.mark.timeout(300)
def test_a_member_is_replaced_in_one_reconfig():
    members = FiveMembers()
    ensemble = members.ensemble
    try:
        leader = members.start_first_three()
        members.processes[4] = ensemble.start_aviary(4)
        assert ensemble.wait_for_mode(4, ("follower",), timeout=60) == "follower"
        replaced = [sid for sid in (1, 2, 3) if sid != leader][0]
        client = connect(ensemble, leader)
        client.create("/before-the-replacement", b"")
        data, _ = client.reconfig(joining=server_line(ensemble, 4), leaving=str(replaced), new_members=None)
        text = data.decode()
        assert members_of(text) == sorted({1, 2, 3, 4} - {replaced})
        members.kill(replaced)
        client.create("/after-the-replacement", b"")
        replacement = connect(ensemble, 4)
        replacement.sync("/")
        assert {"before-the-replacement", "after-the-replacement"} <= set(replacement.get_children("/"))
        assert config_of(ensemble, 4) == text
        replacement.stop()
        client.stop()
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_a_member_away_during_a_shrink_learns_the_new_configuration_from_its_peers():
    members = FiveMembers(all_five=True)
    ensemble = members.ensemble
    try:
        for sid in ensemble.HOSTS:
            members.processes[sid] = ensemble.start_aviary(sid)
        leader = ensemble.wait_for_leader(list(ensemble.HOSTS), timeout=60)
        assert leader is not None
        away, removed_a, removed_b, kept = [sid for sid in ensemble.HOSTS if sid != leader]
        for sid in (away, removed_a, removed_b, kept):
            assert ensemble.wait_for_mode(sid, ("follower",), timeout=60) == "follower"
        members.kill(away)
        client = connect(ensemble, leader)
        data, _ = client.reconfig(joining=None, leaving="%d,%d" % (removed_a, removed_b), new_members=None)
        shrunk = data.decode()
        assert members_of(shrunk) == sorted([leader, away, kept])
        members.kill(removed_a)
        members.kill(removed_b)
        client.create("/while-away", b"")
        # Its own files still list five voters, two of them gone: only the configuration its
        # peers' notifications carry lets it find a quorum.
        members.processes[away] = ensemble.start_aviary(away)
        assert ensemble.wait_for_mode(away, ("follower",), timeout=60) == "follower", members.aviary_log(away)[-3000:]
        assert config_of(ensemble, away) == shrunk
        back = connect(ensemble, away)
        back.sync("/")
        assert "while-away" in back.get_children("/")
        back.stop()
        client.stop()
    finally:
        members.close()


@pytest.mark.timeout(300)
def test_a_whole_new_membership_in_one_reconfig_with_the_version_checked():
    with three_aviarys(extra=EXTRA) as (members, leader, followers):
        ensemble = members.ensemble
        client = connect(ensemble, followers[0])
        first = config_of(ensemble, leader)
        keep = sorted([leader, followers[0]])
        # Non-incremental: the new membership in full, commas between the lines as zkCli sends it.
        new_members = ",".join(server_line(ensemble, sid) for sid in keep)
        with pytest.raises(BadVersionError):
            client.reconfig(joining=None, leaving=None, new_members=new_members, from_config=int(version_of(first), 16) + 1)
        data, stat = client.reconfig(joining=None, leaving=None, new_members=new_members, from_config=int(version_of(first), 16))
        text = data.decode()
        assert members_of(text) == keep and int(version_of(text), 16) == stat.mzxid
        for sid in keep:
            assert wait_until(lambda: config_of(ensemble, sid) == text), (sid, config_of(ensemble, sid))
        client.create("/after-new-members", b"")
        client.stop()
