"""Prometheus /metrics, /ready and /live. Debian's ZooKeeper has no Prometheus provider, so
names are checked against the keys its `mntr` reports: ZooKeeper's provider exports those
keys without `zk_`, and its summaries (avg_/min_/max_/cnt_/sum_X in mntr) as X{quantile}."""
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rawzk import RawClient
from servers import Server, four_letter

OWN_PREFIXES = ("aviary_", "process_")


def get(server, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (server.metrics_port, path), timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def aviary():
    server = Server("aviary")
    yield server
    server.stop()


def families(server):
    status, text = get(server, "/metrics")
    assert status == 200
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_parse_and_follow_zookeepers_names(aviary):
    c = RawClient(aviary.address)
    assert c.create("/metrics-test", b"x")[0] == 0
    for _ in range(50):
        assert c.get_data("/metrics-test")[0] == 0
    assert c.set_data("/metrics-test", b"y")[0] == 0
    found = families(aviary)
    zookeeper = Server("zookeeper")
    try:
        mntr = four_letter(zookeeper.address, "mntr")
    finally:
        zookeeper.stop()
    keys = {line.split("\t")[0][3:] for line in mntr.splitlines()}
    summaries = {key[4:] for key in keys if key.startswith(("avg_", "cnt_", "sum_"))}
    for name, family in found.items():
        if name.startswith(OWN_PREFIXES):
            continue
        if family.type == "summary":
            assert name in summaries, "%s is not one of ZooKeeper's summaries" % name
        else:
            assert name in keys, "%s is not one of ZooKeeper's metrics" % name
    for name in ("znode_count", "watch_count", "ephemerals_count", "num_alive_connections", "packets_received",
                 "approximate_data_size", "outstanding_requests", "avg_latency", "readlatency", "updatelatency",
                 "fsynctime", "open_file_descriptor_count", "process_resident_memory_bytes", "aviary_server_state",
                 "aviary_is_leader"):
        assert name in found, name
    reads = {s.name: s.value for s in found["readlatency"].samples}
    assert reads["readlatency_count"] >= 50
    assert {s.labels.get("quantile") for s in found["readlatency"].samples if s.labels} == {"0.5", "0.9", "0.99"}
    assert {s.name: s.value for s in found["updatelatency"].samples}["updatelatency_count"] >= 2
    assert found["fsynctime"].samples[-2].value >= 2, "each write was fsynced"
    states = {s.labels["state"]: s.value for s in found["aviary_server_state"].samples}
    assert states["standalone"] == 1 and sum(states.values()) == 1
    znodes = found["znode_count"].samples[0].value
    assert "zk_znode_count\t%d" % znodes in four_letter(aviary.address, "mntr")
    assert found["process_resident_memory_bytes"].samples[0].value > 1 << 20
    c.close()


def test_health(aviary):
    assert get(aviary, "/live") == (200, "live\n")
    assert get(aviary, "/ready") == (200, "ready\n")
    assert get(aviary, "/nope")[0] == 404


def test_metrics_off_when_zookeeper_config_says_null_provider():
    server = Server("aviary", extra_config="metricsProvider.className=org.apache.zookeeper.metrics.impl.NullMetricsProvider\n")
    try:
        with pytest.raises(OSError):
            get(server, "/metrics")
    finally:
        server.stop()
