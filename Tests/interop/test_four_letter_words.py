"""Four-letter words: the same formats, and the same values where they are deterministic,
from Aviary and Apache ZooKeeper 3.8 in the same state."""
import re

import pytest
from rawzk import RawClient
from servers import Server, four_letter

SRVR_LINES = [r"Zookeeper version: .+", r"Latency min/avg/max: \d+/\d+\.\d+/\d+", r"Received: \d+", r"Sent: \d+",
              r"Connections: \d+", r"Outstanding: \d+", r"Zxid: 0x[0-9a-f]+", r"Mode: standalone", r"Node count: \d+"]
BRIEF_CONNECTION = r" /127\.0\.0\.1:\d+\[[01]\]\(queued=\d+,recved=\d+,sent=\d+\)"
FULL_CONNECTION = (r" /127\.0\.0\.1:\d+\[1\]\(queued=\d+,recved=\d+,sent=\d+,sid=0x[0-9a-f]+,lop=[A-Z0-9]+,est=\d+,"
                   r"to=6000,lcxid=0x[0-9a-f]+,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)")


@pytest.fixture(scope="module", params=["aviary", "zookeeper"])
def state(request):
    """A fresh server holding one session with an ephemeral and four kinds of watch."""
    server = Server(request.param)
    client = RawClient(server.address, timeout_ms=6000)
    assert client.create("/w4", b"x")[0] == 0
    assert client.create("/w4/e", b"", flags=1)[0] == 0
    client.get_data("/w4", watch=True)
    client.children("/w4", watch=True)
    client.exists("/nope", watch=True)
    assert client.add_watch("/w4", 1) == 0
    _, _, zxid = client.call("sync", b"\x00\x00\x00\x03/w4")
    yield server, client, zxid
    client.close()
    server.stop()


def lines(text):
    assert text.endswith("\n"), repr(text)
    return text[:-1].split("\n")


def test_ruok_isro_gtmk(state):
    server, _, _ = state
    assert four_letter(server.address, "ruok") == "imok"
    assert four_letter(server.address, "isro") == "rw"
    assert re.fullmatch(r"\d+", four_letter(server.address, "gtmk"))


def test_srvr(state):
    server, client, zxid = state
    out = lines(four_letter(server.address, "srvr"))
    assert len(out) == len(SRVR_LINES)
    for line, pattern in zip(out, SRVR_LINES):
        assert re.fullmatch(pattern, line), line
    assert out[6] == "Zxid: 0x%x" % zxid
    assert out[8] == "Node count: 7", "ZooKeeper counts its root twice; Aviary reports the same figure"


def test_stat(state):
    server, _, zxid = state
    out = lines(four_letter(server.address, "stat"))
    assert re.fullmatch(SRVR_LINES[0], out[0]) and out[1] == "Clients:"
    blank = out.index("")
    assert blank >= 3
    for line in out[2:blank]:
        assert re.fullmatch(BRIEF_CONNECTION, line), line
    for line, pattern in zip(out[blank + 1:], SRVR_LINES[1:]):
        assert re.fullmatch(pattern, line), line


def test_cons(state):
    server, client, _ = state
    text = four_letter(server.address, "cons")
    assert text.endswith("\n\n")
    out = text[:-2].split("\n")
    full = [line for line in out if "sid=" in line]
    assert len(full) == 1 and re.fullmatch(FULL_CONNECTION, full[0]), out
    assert "sid=0x%x," % client.session_id in full[0]
    for line in out:
        assert line in full or re.fullmatch(BRIEF_CONNECTION, line), line


def test_conf(state):
    server, _, _ = state
    pairs = [line.split("=", 1) for line in lines(four_letter(server.address, "conf"))]
    assert [k for k, _ in pairs] == ["clientPort", "secureClientPort", "dataDir", "dataDirSize", "dataLogDir", "dataLogSize",
                                     "tickTime", "maxClientCnxns", "minSessionTimeout", "maxSessionTimeout",
                                     "clientPortListenBacklog", "serverId"]
    values = dict(pairs)
    assert values["clientPort"] == str(server.port) and values["tickTime"] == "500"
    assert values["maxClientCnxns"] == "30" and values["minSessionTimeout"] == "1000" and values["maxSessionTimeout"] == "10000"
    assert values["dataDir"] == server.data_dir + "/version-2" and values["dataDirSize"].isdigit()


def test_watch_words(state):
    server, client, _ = state
    assert four_letter(server.address, "wchs") == "1 connections watching 2 paths\nTotal watches:2\n"
    session = "0x%x" % client.session_id
    out = four_letter(server.address, "wchc")
    assert out.endswith("\n\n") and out.split("\n")[0] == session
    assert sorted(out.split("\n")[1:3]) == ["\t/nope", "\t/w4"]
    out = four_letter(server.address, "wchp").split("\n")
    assert {out[0]: out[1], out[2]: out[3]} == {"/w4": "\t" + session, "/nope": "\t" + session}


def test_dump_dirs_envi_hash(state):
    server, client, _ = state
    out = lines(four_letter(server.address, "dump"))
    assert out[0] == "SessionTracker dump:"
    assert re.fullmatch(r"Session Sets \(\d+\)/\(1\):", out[1])
    ephemerals = out.index("ephemeral nodes dump:")
    # Expiry buckets: "N expire at <date>:" then N session ids (ZooKeeper may keep empty ones).
    index, sessions = 2, []
    while index < ephemerals:
        match = re.fullmatch(r"(\d+) expire at \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}:", out[index])
        assert match, out[index]
        count = int(match.group(1))
        sessions += out[index + 1:index + 1 + count]
        index += 1 + count
    assert sessions == ["\t0x%x" % client.session_id]
    assert out[ephemerals:ephemerals + 4] == ["ephemeral nodes dump:", "Sessions with Ephemerals (1):",
                                              "0x%x:" % client.session_id, "\t/w4/e"]
    assert out[ephemerals + 4] == "Connections dump:"
    assert [l.split(":")[0] for l in lines(four_letter(server.address, "dirs"))] == ["datadir_size", "logdir_size"]
    envi = lines(four_letter(server.address, "envi"))
    assert envi[0] == "Environment:" and envi[1].startswith("zookeeper.version=")
    assert {"host.name", "os.name", "os.arch", "user.dir"} <= {l.split("=")[0] for l in envi[1:]}
    assert four_letter(server.address, "hash") == ""


def test_mntr(state):
    server, _, _ = state
    pairs = dict(line.split("\t", 1) for line in lines(four_letter(server.address, "mntr")))
    assert pairs["zk_server_state"] == "standalone"
    assert pairs["zk_znode_count"] == "7" and pairs["zk_ephemerals_count"] == "1" and pairs["zk_watch_count"] == "3"
    assert pairs["zk_global_sessions"] == "1" and int(pairs["zk_num_alive_connections"]) >= 2
    for key in ("zk_avg_latency", "zk_max_latency", "zk_min_latency", "zk_packets_received", "zk_packets_sent",
                "zk_outstanding_requests", "zk_approximate_data_size", "zk_open_file_descriptor_count",
                "zk_max_file_descriptor_count", "zk_uptime", "zk_cnt_fsynctime", "zk_sum_fsynctime"):
        assert key in pairs, key
    if server.kind == "aviary":
        zookeeper = Server("zookeeper")
        try:
            theirs = dict(line.split("\t", 1) for line in lines(four_letter(zookeeper.address, "mntr")))
        finally:
            zookeeper.stop()
        unknown = sorted(set(pairs) - set(theirs))
        assert not unknown, "keys ZooKeeper does not have: %s" % unknown


def test_resets(state):
    server, _, _ = state
    assert four_letter(server.address, "crst") == "Connection stats reset.\n"
    assert four_letter(server.address, "srst") == "Server stats reset.\n"
    assert re.search(r"Received: [0-2]\n", four_letter(server.address, "srvr"))


def test_default_allow_list_is_every_read_only_word():
    server = Server("aviary")
    try:
        with open(server.config_path) as f:
            config = f.read()
        with open(server.config_path, "w") as f:
            f.write(config.replace("4lw.commands.whitelist=*\n", ""))
        server.terminate()
        server.start()
        assert four_letter(server.address, "mntr").startswith("zk_")
        assert four_letter(server.address, "cons").startswith(" /127.0.0.1")
        assert four_letter(server.address, "crst") == "crst is not executed because it is not in the whitelist.\n"
    finally:
        server.stop()
