"""The monitoring that ships in monitoring/: the Prometheus alerting rules pass `promtool check
rules` and their own `promtool test rules`, and every metric the rules and the Grafana
dashboard read is one a running ensemble of Aviarys serves (or, named below, one only Apache
ZooKeeper serves)."""
import json
import os
import re
import subprocess
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from servers import Ensemble
from test_ensemble import Members, connect

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "monitoring")
RULES = os.path.join(ROOT, "prometheus")
DASHBOARD = os.path.join(ROOT, "grafana", "aviary-dashboard.json")
# Series Prometheus makes itself, or that only ZooKeeper serves.
NOT_SERVED = {"up": "made by Prometheus for each scrape", "snapshottime_sum": "ZooKeeper's snapshot time summary"}
PROMQL_WORDS = {"by", "on", "without", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                "rate", "increase", "count", "sum", "max", "min", "avg", "floor", "absent", "quantile", "instance", "job"}


def promtool(*arguments):
    return subprocess.run(["promtool", *arguments], cwd=RULES, capture_output=True, text=True, timeout=60)


def test_the_rules_pass_promtool_and_their_tests():
    checked = promtool("check", "rules", "aviary-alerts.yml")
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "aviary-alerts.test.yml")
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def metric_names(expression):
    """The metric names a PromQL expression reads (labels, strings and ranges left out)."""
    bare = re.sub(r'\{[^}]*\}|\[[^\]]*\]|"[^"]*"', " ", expression)
    names = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", bare))
    return {name for name in names if name not in PROMQL_WORDS}


def expressions():
    with open(os.path.join(RULES, "aviary-alerts.yml")) as f:
        rules = [line.split("expr:", 1)[1].split("#")[0].strip() for line in f if line.strip().startswith("expr:")]
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    panels = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    return rules, panels


def served_names(members):
    names = set()
    for sid in Ensemble.HOSTS:
        url = "http://%s:%d/metrics" % (Ensemble.HOSTS[sid], members.ensemble.metrics[sid])
        with urllib.request.urlopen(url, timeout=10) as response:
            for family in text_string_to_metric_families(response.read().decode()):
                names.update(sample.name for sample in family.samples)
                # The Python parser calls a counter's samples NAME_total; Prometheus keeps the
                # name as served (text format 0.0.4), which is what rules read.
                if family.type == "counter":
                    names.add(family.name)
    return names


@pytest.mark.timeout(180)
def test_every_metric_the_rules_and_the_dashboard_read_is_served():
    rules, panels = expressions()
    assert len(rules) >= 16 and len(panels) >= 16
    members = Members()
    try:
        for sid in Ensemble.HOSTS:
            members.processes[sid] = members.ensemble.start_aviary(sid)
        leader = members.ensemble.wait_for_leader(list(Ensemble.HOSTS), timeout=60)
        assert leader is not None
        client = connect(members.ensemble, leader)
        client.create("/monitored", b"x")
        client.get("/monitored")
        client.stop()
        served = served_names(members)
    finally:
        members.close()
    for expression in rules + panels:
        missing = metric_names(expression) - served - set(NOT_SERVED)
        assert not missing, "%s reads %s, which no member serves" % (expression, sorted(missing))
