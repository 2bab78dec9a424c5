"""AdminServer: every command of ZooKeeper's, with its field names, compared with Apache
ZooKeeper 3.8's own AdminServer in the same state; values where they are deterministic."""
import json
import urllib.request

import pytest
from rawzk import RawClient
from servers import Server

COMMANDS = ["configuration", "connection_stat_reset", "connections", "dirs", "dump", "environment", "get_trace_mask",
            "hash", "initial_configuration", "is_read_only", "last_snapshot", "leader", "monitor",
            "observer_connection_stat_reset", "observers", "ruok", "server_stats", "set_trace_mask", "stat_reset",
            "stats", "system_properties", "voting_view", "watch_summary", "watches", "watches_by_path", "zabstate"]


def fetch(server, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (server.admin_port, path), timeout=10) as response:
        return response.read().decode()


@pytest.fixture(scope="module")
def pair():
    """Aviary and ZooKeeper, each with one session holding an ephemeral and two data watches."""
    servers, clients = {}, {}
    for kind in ("aviary", "zookeeper"):
        server = Server(kind, admin=True)
        client = RawClient(server.address, timeout_ms=6000)
        assert client.create("/a", b"x")[0] == 0
        assert client.create("/a/e", b"", flags=1)[0] == 0
        client.get_data("/a", watch=True)
        client.exists("/nope", watch=True)
        servers[kind], clients[kind] = server, client
    yield servers, clients
    for kind in servers:
        clients[kind].close()
        servers[kind].stop()


def run(server, name):
    return json.loads(fetch(server, "/commands/" + name))


def shape(value):
    """Keys and types, recursively, without the values."""
    if isinstance(value, dict):
        if value and all(k.isdigit() or k.startswith("/") for k in value):
            # A map keyed by data (session, path, time): the shape of its first non-empty value
            # (ZooKeeper's session expiry keeps buckets that sessions have left, empty).
            values = list(value.values())
            return {"<key>": shape(next((v for v in values if v not in ([], {})), values[0]))}
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def test_command_index_lists_the_same_commands(pair):
    servers, _ = pair
    for kind, server in servers.items():
        page = fetch(server, "/commands")
        assert all('<a href="/commands/%s">%s</a>' % (c, c) in page for c in COMMANDS), kind


@pytest.mark.parametrize("name", [c for c in COMMANDS if c not in ("leader", "environment", "system_properties", "monitor")])
def test_same_fields_as_zookeeper(pair, name):
    servers, _ = pair
    ours, theirs = run(servers["aviary"], name), run(servers["zookeeper"], name)
    assert ours["command"] == name and (ours["error"] is None or name == "set_trace_mask")
    assert shape(ours) == shape(theirs), "%s differs:\nAviary %s\nZooKeeper %s" % (name, shape(ours), shape(theirs))


def test_deterministic_values_agree(pair):
    servers, clients = pair
    a, z = servers["aviary"], servers["zookeeper"]
    for name in ("ruok", "hash", "is_read_only", "get_trace_mask", "watch_summary", "observers", "voting_view", "zabstate"):
        assert run(a, name) == run(z, name), name
    for kind, server in servers.items():
        session = clients[kind].session_id
        watched = run(server, "watches")["session_id_to_watched_paths"]
        assert list(watched) == [str(session)] and sorted(watched[str(session)]) == ["/a", "/nope"]
        assert run(server, "watches_by_path")["path_to_session_ids"] == {"/a": [session], "/nope": [session]}
        assert run(server, "dump")["session_id_to_ephemeral_paths"] == {str(session): ["/a/e"]}
        conf = run(server, "configuration")
        assert (conf["tick_time"], conf["min_session_timeout"], conf["max_session_timeout"]) == (500, 1000, 10000)
        assert conf["data_dir"] == server.data_dir + "/version-2"
        connections = run(server, "connections")["connections"]
        assert [c["session_id"] for c in connections if "session_id" in c] == [session]
        stats = run(server, "server_stats")
        assert stats["node_count"] == 7 and stats["server_stats"]["server_state"] == "standalone"
        assert run(server, "initial_configuration")["initial_configuration"] == open(server.config_path).read()


def test_monitor_keys_are_zookeepers(pair):
    servers, _ = pair
    ours, theirs = run(servers["aviary"], "monitor"), run(servers["zookeeper"], "monitor")
    assert set(ours) - set(theirs) == set()
    assert ours["znode_count"] == theirs["znode_count"] == 7
    assert ours["ephemerals_count"] == theirs["ephemerals_count"] == 1


def test_environment_and_leader(pair):
    servers, _ = pair
    ours, theirs = run(servers["aviary"], "environment"), run(servers["zookeeper"], "environment")
    assert {"zookeeper.version", "host.name", "os.name", "os.arch", "user.dir"} <= set(ours) & set(theirs)
    # ZooKeeper answers "server is not initialized" in standalone mode; Aviary says what is true.
    leader = run(servers["aviary"], "leader")
    assert leader["is_leader"] is False and leader["error"] is None


def test_aliases_set_trace_mask_and_unknown(pair):
    servers, _ = pair
    for server in servers.values():
        assert run(server, "srvr")["command"] == "server_stats"
        assert run(server, "wchs")["command"] == "watch_summary"
        assert json.loads(fetch(server, "/commands/nosuch")) == {"command": "nosuch", "error": "Unknown command: nosuch"}
    assert json.loads(fetch(servers["aviary"], "/commands/set_trace_mask?traceMask=7"))["tracemask"] == 7
    assert run(servers["aviary"], "get_trace_mask")["tracemask"] == 7


def test_health_on_the_admin_port(pair):
    servers, _ = pair
    assert fetch(servers["aviary"], "/ready") == "ready\n"
    assert fetch(servers["aviary"], "/live") == "live\n"
