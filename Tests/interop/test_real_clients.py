"""Apache ZooKeeper's own clients, scripted: the Java zkCli.sh and the C cli_mt."""
import re
import subprocess
import time

import pytest

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
CLI_MT = "/usr/lib/zookeeper/bin/cli_mt"


def zkcli(address, script):
    result = subprocess.run([ZKCLI, "-server", address], input=script.encode(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=120)
    return result.stdout.decode(errors="replace")


def test_zkcli_session(address, base):
    out = zkcli(address, f"""
create {base} hello
create -e {base}/eph e
create -s {base}/seq- s
create -c {base}/box
create -t 60000 {base}/ttl t
get {base}
set {base} world
get -s {base}
ls {base}
stat {base}
addauth digest user:pw
create {base}/secret s auth:user:pw:cdrwa
getAcl {base}/secret
getEphemerals {base}
getAllChildrenNumber {base}
addWatch -m PERSISTENT_RECURSIVE {base}
set {base}/box x
whoami
sync {base}
deleteall {base}
ls {base}
quit
""")
    assert f"Created {base}" in out
    assert f"Created {base}/seq-0000000001" in out
    assert f"Created {base}/box" in out and f"Created {base}/ttl" in out
    assert "hello" in out and "world" in out
    assert "dataVersion = 1" in out
    assert re.search(r"\[box, eph, seq-0000000001, ttl\]", out), out
    assert "'digest,'user:" in out and ": cdrwa" in out
    assert f"[{base}/eph]" in out
    assert re.search(r"^5$", out, re.M), "getAllChildrenNumber"
    assert f"WatchedEvent state:SyncConnected type:NodeDataChanged path:{base}/box" in out
    assert "digest: user" in out and "ip: 127.0.0.1" in out
    assert "Sync is OK" in out
    assert f"Node does not exist: {base}" in out


def test_zkcli_watches_and_errors(address, base):
    out = zkcli(address, f"""
create {base}
create {base}
get {base}/missing
ls -w {base}
create {base}/child
stat -w {base}/child
delete {base}/child
delete {base}
delete {base}
quit
""")
    assert f"Node already exists: {base}" in out
    assert f"Node does not exist: {base}/missing" in out
    assert f"WatchedEvent state:SyncConnected type:NodeChildrenChanged path:{base}" in out
    assert f"WatchedEvent state:SyncConnected type:NodeDeleted path:{base}/child" in out


def cli_mt(address, commands):
    process = subprocess.Popen([CLI_MT, address], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    time.sleep(1.0)
    for command in commands:
        process.stdin.write((command + "\n").encode())
        process.stdin.flush()
        time.sleep(0.3)
    process.stdin.write(b"quit\n")
    process.stdin.close()
    out = process.stdout.read().decode(errors="replace")
    process.wait(10)
    return out


def test_c_client_session(address, base):
    out = cli_mt(address, [f"create {base}", f"create +e {base}/e", f"create +s {base}/s", f"set {base} hello",
                           f"get {base}", f"ls {base}", f"exists {base}/nope", f"create {base}",
                           f"delete {base}/e", f"ls {base}", "addauth digest u:p"])
    assert "state = CONNECTED_STATE" in out
    assert f"[{base}]: rc = 0" in out
    assert f"name = {base}/s0000000001" in out
    assert "value_len = 5\nhello" in out
    assert f"Error -101 for {base}/nope" in out
    assert f"[{base}]: rc = -110" in out
    listings = re.findall(rf"{re.escape(base)}: rc = 0\n((?:\t.*\n)+)time", out)
    assert any(sorted(l.split()) == ["e", "s0000000001"] for l in listings), out
    assert any(l.split() == ["s0000000001"] for l in listings), out
