"""`aviary status`: one table for Aviary and Apache ZooKeeper servers alike."""
import json
import subprocess

from rawzk import RawClient
from servers import Server, aviary_binary, free_port


def test_status_of_mixed_servers():
    aviary, zookeeper = Server("aviary"), Server("zookeeper")
    try:
        c = RawClient(aviary.address)
        for n in range(5):
            assert c.create("/s%d" % n)[0] == 0
        dead = "127.0.0.1:%d" % free_port()
        servers = ",".join([aviary.address, zookeeper.address, dead])
        out = subprocess.run([aviary_binary(), "status", servers], capture_output=True, text=True, timeout=30)
        assert out.returncode == 1, "an unreachable server makes the exit status 1"
        lines = out.stdout.splitlines()
        assert lines[0].split()[:4] == ["SERVER", "STATE", "ZXID", "LAG"]
        assert lines[1].startswith(aviary.address) and " standalone " in lines[1]
        assert lines[2].startswith(zookeeper.address) and " standalone " in lines[2]
        assert lines[3].startswith(dead) and "unreachable" in lines[3]
        data = json.loads(subprocess.run([aviary_binary(), "status", "--json", aviary.address + "," + zookeeper.address],
                                         capture_output=True, text=True, timeout=30).stdout)
        ours, theirs = data
        assert ours["mode"] == theirs["mode"] == "standalone"
        assert ours["znodes"] == 5 + 5 and theirs["znodes"] == 5
        assert ours["lag"] == 0 and theirs["lag"] == ours["zxid"] - theirs["zxid"]
        c.close()
    finally:
        aviary.stop()
        zookeeper.stop()
