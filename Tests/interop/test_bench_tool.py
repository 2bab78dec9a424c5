"""`aviary bench` drives Aviary and Apache ZooKeeper alike and reports what it measured."""
import json
import subprocess

import pytest
from servers import aviary_binary
from rawzk import RawClient


@pytest.mark.parametrize("mix,rate", [("get=80,set=10,exists=5,children=5", "0"), ("create=50,delete=40,multi=10", "500")])
def test_bench_reports_throughput_latency_and_no_errors(server, mix, rate):
    out = subprocess.run([aviary_binary(), "bench", "--servers", server.address, "--connections", "4", "--depth", "8",
                          "--duration", "2", "--warmup", "0.5", "--keys", "50", "--mix", mix, "--rate", rate, "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["failures"] == [] and report["errors"] == {}
    assert report["operations"] > 100 and report["opsPerSecond"] > 50
    latency = report["latencyMicros"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["p999"] <= latency["max"]
    if rate != "0":
        assert abs(report["opsPerSecond"] - 500) < 100, "an open loop holds its rate"
    c = RawClient(server.address)
    err, children = c.children("/aviary-bench")
    assert err == 0 and len([k for k in children if k.startswith("k")]) == 50
    c.close()
