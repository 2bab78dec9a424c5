"""Create, read, update, delete with kazoo: results, errors and stat fields."""
import pytest
from kazoo.exceptions import (BadVersionError, NoChildrenForEphemeralsError, NodeExistsError,
                              NoNodeError, NotEmptyError, BadArgumentsError)


def test_create_get_set_delete(zk, base):
    assert zk.create(base, b"v1") == base
    data, stat = zk.get(base)
    assert data == b"v1"
    assert (stat.version, stat.cversion, stat.aversion, stat.numChildren, stat.dataLength) == (0, 0, 0, 0, 2)
    assert stat.czxid == stat.mzxid == stat.pzxid
    assert stat.ephemeralOwner == 0
    assert stat.ctime == stat.mtime and stat.ctime > 0

    stat2 = zk.set(base, b"version two")
    assert stat2.version == 1
    assert stat2.mzxid > stat.mzxid and stat2.czxid == stat.czxid and stat2.pzxid == stat.pzxid
    assert stat2.dataLength == len(b"version two")
    assert zk.get(base)[0] == b"version two"

    zk.delete(base)
    assert zk.exists(base) is None


def test_errors(zk, base):
    zk.create(base)
    with pytest.raises(NodeExistsError):
        zk.create(base)
    with pytest.raises(NoNodeError):
        zk.create(base + "/missing/child")
    with pytest.raises(NoNodeError):
        zk.get(base + "/missing")
    with pytest.raises(NoNodeError):
        zk.set(base + "/missing", b"x")
    with pytest.raises(NoNodeError):
        zk.delete(base + "/missing")
    with pytest.raises(BadVersionError):
        zk.set(base, b"x", version=7)
    zk.set(base, b"x", version=0)
    with pytest.raises(BadVersionError):
        zk.delete(base, version=0)
    zk.create(base + "/child")
    with pytest.raises(NotEmptyError):
        zk.delete(base)
    with pytest.raises(NoNodeError):
        zk.get_children(base + "/missing")
    zk.delete(base, recursive=True)


def test_parent_stat_tracks_children(zk, base):
    zk.create(base)
    before = zk.exists(base)
    zk.create(base + "/a")
    zk.create(base + "/b")
    after_creates = zk.exists(base)
    assert after_creates.cversion == 2 and after_creates.numChildren == 2
    assert after_creates.pzxid > before.pzxid
    assert after_creates.mzxid == before.mzxid and after_creates.version == 0
    zk.delete(base + "/a")
    after_delete = zk.exists(base)
    assert after_delete.cversion == 3 and after_delete.numChildren == 1
    assert after_delete.pzxid > after_creates.pzxid
    assert sorted(zk.get_children(base)) == ["b"]
    children, stat = zk.get_children(base, include_data=True)
    assert children == ["b"] and stat.numChildren == 1


def test_sequential_names_follow_parent_creates(zk, base):
    zk.create(base)
    first = zk.create(base + "/s-", sequence=True)
    assert first == base + "/s-0000000000"
    zk.create(base + "/plain")
    zk.delete(first)
    second = zk.create(base + "/s-", sequence=True)
    assert second == base + "/s-0000000002"
    third = zk.create(base + "/", sequence=True)
    assert third == base + "/0000000003"


def test_ephemeral_owner_and_no_children(zk, base):
    zk.create(base)
    path = zk.create(base + "/e", b"x", ephemeral=True)
    assert zk.exists(path).ephemeralOwner == zk.client_id[0]
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(path + "/child")
    seq = zk.create(base + "/es-", ephemeral=True, sequence=True)
    assert seq.startswith(base + "/es-")


def test_reserved_tree(zk):
    assert sorted(zk.get_children("/zookeeper")) == ["config", "quota"]
    acl, stat = zk.get_acls("/zookeeper/config")
    assert [(a.perms, a.id.scheme, a.id.id) for a in acl] == [(1, "world", "anyone")]
    assert stat.aversion == -1
    zk.get("/zookeeper/quota")
    for special in ("/zookeeper", "/zookeeper/quota", "/zookeeper/config"):
        with pytest.raises(BadArgumentsError):
            zk.delete(special)


def test_create_with_data_and_makepath(zk, base):
    path = zk.create(base + "/x/y/z", b"deep", makepath=True)
    assert path == base + "/x/y/z"
    assert zk.get(path)[0] == b"deep"
    path, stat = zk.create(base + "/with-stat", b"abc", include_data=True)
    assert stat.dataLength == 3 and stat.version == 0


def test_large_value_round_trips(zk, base):
    value = bytes(range(256)) * 2000
    zk.create(base, value)
    assert zk.get(base)[0] == value


def test_sync_and_ensure_path(zk, base):
    zk.ensure_path(base + "/a/b")
    assert zk.sync(base) == base
    assert zk.exists(base + "/a/b") is not None
