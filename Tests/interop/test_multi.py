"""multi (atomic) and multiRead, with ZooKeeper's per-operation results."""
import pytest
from kazoo.exceptions import NoNodeError, RolledBackError, RuntimeInconsistency, NodeExistsError
from rawzk import RawClient, OP, i32, boolean, string, buf, acls, OPEN_ACL, Reader


def op(kind, body):
    return i32(OP[kind]) + boolean(False) + i32(-1) + body


END = i32(-1) + boolean(True) + i32(-1)


def read_results(r):
    results = []
    while True:
        kind, done, err = r.int(), r.bool(), r.int()
        if done:
            return results
        if kind == -1:
            results.append(("error", r.int()))
        elif kind == OP["create"]:
            results.append(("create", r.string()))
        elif kind in (OP["create2"], OP["createTTL"], OP["createContainer"]):
            results.append(("create2", r.string(), r.stat()))
        elif kind == OP["setData"]:
            results.append(("setData", r.stat()))
        elif kind == OP["getData"]:
            results.append(("getData", r.buffer(), r.stat()))
        elif kind == OP["getChildren"]:
            results.append(("getChildren", sorted(r.strings())))
        else:
            results.append((kind,))


def test_kazoo_transaction_commits_all(zk, base):
    zk.create(base)
    t = zk.transaction()
    t.create(base + "/a", b"1")
    t.create(base + "/b", b"2")
    t.set_data(base + "/a", b"3")
    t.check(base, 0)
    t.delete(base + "/b")
    results = t.commit()
    assert results[0] == base + "/a" and results[1] == base + "/b"
    assert zk.get(base + "/a")[0] == b"3"
    assert zk.exists(base + "/b") is None


def test_kazoo_transaction_is_all_or_nothing(zk, base):
    zk.create(base)
    t = zk.transaction()
    t.create(base + "/a")
    t.delete(base + "/missing")
    t.create(base + "/c")
    results = t.commit()
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], NoNodeError)
    assert isinstance(results[2], RuntimeInconsistency)
    assert zk.get_children(base) == []


def test_raw_multi_results(address, base):
    c = RawClient(address)
    assert c.create(base)[0] == 0
    body = (op("create", string(base + "/x") + buf(b"x") + acls(OPEN_ACL) + i32(0))
            + op("create2", string(base + "/s-") + buf(b"") + acls(OPEN_ACL) + i32(2))
            + op("setData", string(base + "/x") + buf(b"y") + i32(0))
            + op("createContainer", string(base + "/cc") + buf(b"") + acls(OPEN_ACL) + i32(4))
            + op("check", string(base + "/x") + i32(1))
            + op("delete", string(base + "/x") + i32(1)) + END)
    err, r, _ = c.call("multi", body)
    assert err == 0
    res = read_results(r)
    assert res[0] == ("create", base + "/x")
    # ZooKeeper rebuilds each create of a multi from its flags: create2 answers as create,
    # a container as create2 with a stat.
    assert res[1] == ("create", base + "/s-0000000001")
    assert res[2][0] == "setData" and res[2][1]["version"] == 1
    assert res[3][0] == "create2" and res[3][1] == base + "/cc"
    assert res[3][2]["ephemeralOwner"] == 0, "clients never see the container marker"
    assert res[4] == (OP["check"],) and res[5] == (OP["delete"],)

    failing = (op("create", string(base + "/y") + buf(b"") + acls(OPEN_ACL) + i32(0))
               + op("check", string(base) + i32(99))
               + op("delete", string(base + "/y") + i32(-1)) + END)
    err, r, _ = c.call("multi", failing)
    assert err == 0
    assert read_results(r) == [("error", 0), ("error", -103), ("error", -2)]
    assert c.exists(base + "/y")[0] == -101
    err, r, _ = c.call("multi", END)
    assert err == 0 and read_results(r) == []
    c.close()


def test_multi_read(address, base):
    c = RawClient(address)
    assert c.create(base, b"root-data")[0] == 0
    assert c.create(base + "/k")[0] == 0
    body = (op("getData", string(base) + boolean(False))
            + op("getChildren", string(base) + boolean(False))
            + op("getData", string(base + "/missing") + boolean(False)) + END)
    err, r, _ = c.call("multiRead", body)
    assert err == 0
    res = read_results(r)
    assert res[0][0] == "getData" and res[0][1] == b"root-data"
    assert res[1] == ("getChildren", ["k"])
    assert res[2] == ("error", -101)
    c.close()


def test_sequential_inside_multi_sees_earlier_ops(zk, base):
    zk.create(base)
    t = zk.transaction()
    t.create(base + "/q-", sequence=True)
    t.create(base + "/q-", sequence=True)
    first, second = t.commit()
    assert (first, second) == (base + "/q-0000000000", base + "/q-0000000001")
