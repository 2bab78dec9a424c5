"""Operations kazoo has no API for: containers, TTL, getEphemerals, getAllChildrenNumber,
whoAmI, getConfig, reconfig, sync."""
import time

from rawzk import RawClient, i32, i64, string, buf, acls, OPEN_ACL, boolean, strings


def wait_gone(c, path, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if c.exists(path)[0] == -101:
            return True
        time.sleep(0.2)
    return False


def test_container_removed_once_emptied(address, base):
    c = RawClient(address)
    assert c.create(base)[0] == 0
    err, (path, stat) = c.create(base + "/box", flags=4, op="createContainer")
    assert err == 0 and path == base + "/box"
    assert c.create(base + "/never-used", flags=4, op="createContainer")[0] == 0
    assert c.create(base + "/box/item")[0] == 0
    assert c.delete(base + "/box/item") == 0
    assert wait_gone(c, base + "/box"), "an emptied container must be removed"
    assert c.exists(base + "/never-used")[0] == 0, "a container that never had a child stays"
    c.close()


def test_ttl_node_expires_when_untouched(address, base):
    c = RawClient(address)
    assert c.create(base)[0] == 0
    err, (path, stat) = c.create(base + "/ttl", flags=5, op="createTTL", ttl=500)
    assert err == 0 and stat["ephemeralOwner"] == 0
    err, (seq, _) = c.create(base + "/ttl-seq-", flags=6, op="createTTL", ttl=60000)
    assert err == 0 and seq == base + "/ttl-seq-0000000001"
    assert wait_gone(c, base + "/ttl"), "a TTL node past its TTL must be removed"
    assert c.exists(seq)[0] == 0
    c.close()


def test_ttl_arguments_are_checked(address, base):
    c = RawClient(address)
    assert c.create(base, flags=5, op="createTTL", ttl=0)[0] == -8
    assert c.create(base, flags=5, op="createTTL", ttl=1 << 41)[0] == -8
    assert c.create(base, flags=0, op="createTTL", ttl=100)[0] == -8
    assert c.create(base, flags=5, op="create2")[0] == -8
    assert c.create(base, flags=99, op="create2")[0] == -8
    c.close()


def test_get_ephemerals(address, base):
    a, b = RawClient(address), RawClient(address)
    assert a.create(base)[0] == 0
    for name in ("e1", "e2"):
        assert a.create(base + "/" + name, flags=1)[0] == 0
    assert b.create(base + "/b1", flags=1)[0] == 0
    err, r, _ = a.call("getEphemerals", string(base))
    assert err == 0 and sorted(r.strings()) == [base + "/e1", base + "/e2"]
    err, r, _ = a.call("getEphemerals", string("/"))
    assert err == 0 and sorted(r.strings()) == [base + "/e1", base + "/e2"]
    err, r, _ = b.call("getEphemerals", string(base + "/e"))
    assert err == 0 and r.strings() == []
    a.close()
    b.close()


def test_get_all_children_number(address, base):
    c = RawClient(address)
    assert c.create(base)[0] == 0
    for path in ("/a", "/a/b", "/a/b/c", "/d"):
        assert c.create(base + path)[0] == 0
    err, r, _ = c.call("getAllChildrenNumber", string(base))
    assert err == 0 and r.int() == 4
    err, r, _ = c.call("getAllChildrenNumber", string(base + "/a"))
    assert err == 0 and r.int() == 2
    err, _, _ = c.call("getAllChildrenNumber", string(base + "/nope"))
    assert err == -101
    c.close()


def test_who_am_i(address):
    c = RawClient(address)
    err, r, _ = c.call("whoAmI")
    assert err == 0
    n = r.int()
    assert [(r.string(), r.string()) for _ in range(n)] == [("ip", "127.0.0.1")]
    assert c.call("auth", i32(0) + string("digest") + buf(b"erin:pw"), xid=-4)[0] == 0
    err, r, _ = c.call("whoAmI")
    n = r.int()
    assert sorted((r.string(), r.string()) for _ in range(n)) == [("digest", "erin"), ("ip", "127.0.0.1")]
    c.close()


def test_get_config_and_reconfig_in_standalone(address):
    c = RawClient(address)
    err, (data, stat) = c.get_data("/zookeeper/config")
    assert err == 0 and stat["aversion"] == -1
    body = string(None) + string(None) + string("server.1=127.0.0.1:2888:3888;2181") + i64(-1)
    err, _, _ = c.call("reconfig", body)
    assert err == -123, "reconfig is disabled unless reconfigEnabled=true"
    c.close()


def test_sync_waits_for_earlier_writes(address, base):
    c = RawClient(address)
    assert c.create(base)[0] == 0
    err, r, _ = c.call("sync", string(base))
    assert err == 0 and r.string() == base
    c.close()


def test_pipelined_requests_answer_in_order(address, base):
    c = RawClient(address)
    frames = b""
    for i in range(50):
        body = string("%s-%02d" % (base, i)) + buf(b"v") + acls(OPEN_ACL) + i32(0)
        payload = i32(1000 + 2 * i) + i32(1) + body
        frames += i32(len(payload)) + payload
        get = i32(1001 + 2 * i) + i32(4) + string("%s-%02d" % (base, i)) + boolean(False)
        frames += i32(len(get)) + get
    c.send_raw(frames)
    for i in range(100):
        xid, zxid, err, _ = c.read_reply()
        assert (xid, err) == (1000 + i, 0), "reply %d out of order" % i
    c.close()


def test_null_data_stays_null(address, base):
    """The Java client sends null data for `create -c`; ZooKeeper keeps null and returns it."""
    c = RawClient(address)
    err, _ = c.create(base, data=None)
    assert err == 0
    err, (data, stat) = c.get_data(base)
    assert err == 0 and data is None and stat["dataLength"] == 0
    assert c.set_data(base, b"")[0] == 0
    assert c.get_data(base)[1][0] == b""
    c.close()
