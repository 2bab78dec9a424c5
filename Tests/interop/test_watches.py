"""One-shot, persistent and recursive watches: which events, how often, in what order."""
import threading

import pytest
from rawzk import RawClient, string, strings, i32, i64

NODE_CREATED, NODE_DELETED, DATA_CHANGED, CHILDREN_CHANGED = 1, 2, 3, 4
SYNC_CONNECTED = 3


class Events:
    def __init__(self):
        self.items = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.items.append((event.type, event.path))
            self.cond.notify_all()

    def wait(self, n, timeout=5):
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) >= n, timeout)
            return list(self.items)


def test_data_watch_fires_once(zk, kazoo, base):
    other = kazoo()
    zk.create(base, b"a")
    events = Events()
    zk.get(base, watch=events)
    other.set(base, b"b")
    other.set(base, b"c")
    assert events.wait(1) == [("CHANGED", base)]
    other.sync(base)
    zk.sync(base)
    assert events.items == [("CHANGED", base)]


def test_exists_watch_sees_creation_and_child_watch_sees_children(zk, kazoo, base):
    other = kazoo()
    created = Events()
    assert zk.exists(base, watch=created) is None
    other.create(base)
    assert created.wait(1) == [("CREATED", base)]
    children = Events()
    zk.get_children(base, watch=children)
    other.create(base + "/kid")
    assert children.wait(1) == [("CHILD", base)]
    deleted = Events()
    zk.get(base + "/kid", watch=deleted)
    other.delete(base + "/kid")
    assert deleted.wait(1) == [("DELETED", base + "/kid")]


def test_delete_fires_data_and_child_watches(zk, kazoo, base):
    other = kazoo()
    zk.create(base)
    zk.create(base + "/n")
    data, kids, parent = Events(), Events(), Events()
    zk.get(base + "/n", watch=data)
    zk.get_children(base + "/n", watch=kids)
    zk.get_children(base, watch=parent)
    other.delete(base + "/n")
    assert data.wait(1) == [("DELETED", base + "/n")]
    assert kids.wait(1) == [("DELETED", base + "/n")]
    assert parent.wait(1) == [("CHILD", base)]


def test_notification_precedes_reply_that_depends_on_it(address, base):
    """A client that watches a node and then changes it sees the event before the reply."""
    c = RawClient(address)
    assert c.create(base, b"x")[0] == 0
    assert c.get_data(base, watch=True)[0] == 0
    c.send_frame(i32(100) + i32(5) + string(base) + i32(len(b"y")) + b"y" + i32(-1))
    xid, _, err, _ = c.read_reply()
    assert xid == -1, "the watch event must come first"
    xid, _, err, _ = c.read_reply()
    assert (xid, err) == (100, 0)
    c.close()


def test_events_arrive_in_zxid_order(address, base):
    watcher, writer = RawClient(address), RawClient(address)
    assert writer.create(base)[0] == 0
    assert watcher.add_watch(base, 1) == 0
    for i in range(20):
        assert writer.create("%s/n%02d" % (base, i))[0] == 0
        assert writer.set_data("%s/n%02d" % (base, i), b"v")[0] == 0
    got = [watcher.read_event() for _ in range(40)]
    expected = []
    for i in range(20):
        expected += [(NODE_CREATED, SYNC_CONNECTED, "%s/n%02d" % (base, i)),
                     (DATA_CHANGED, SYNC_CONNECTED, "%s/n%02d" % (base, i))]
    assert got == expected
    watcher.close()
    writer.close()


def test_persistent_watch_fires_repeatedly(address, base):
    watcher, writer = RawClient(address), RawClient(address)
    assert writer.create(base)[0] == 0
    assert watcher.add_watch(base, 0) == 0
    writer.set_data(base, b"1")
    writer.set_data(base, b"2")
    writer.create(base + "/c")
    writer.create(base + "/c/grandchild")
    writer.delete(base + "/c/grandchild")
    writer.delete(base + "/c")
    writer.delete(base)
    got = [watcher.read_event() for _ in range(5)]
    assert got == [(DATA_CHANGED, 3, base), (DATA_CHANGED, 3, base), (CHILDREN_CHANGED, 3, base),
                   (CHILDREN_CHANGED, 3, base), (NODE_DELETED, 3, base)]
    writer.create(base)
    assert watcher.read_event() == (NODE_CREATED, 3, base), "a persistent watch outlives its node"
    watcher.close()
    writer.close()


def test_recursive_watch_sees_descendants_but_not_child_lists(address, base):
    watcher, writer = RawClient(address), RawClient(address)
    assert writer.create(base)[0] == 0
    assert watcher.add_watch(base, 1) == 0
    writer.create(base + "/a")
    writer.create(base + "/a/b")
    writer.set_data(base + "/a/b", b"x")
    writer.delete(base + "/a/b")
    got = [watcher.read_event() for _ in range(4)]
    assert got == [(NODE_CREATED, 3, base + "/a"), (NODE_CREATED, 3, base + "/a/b"),
                   (DATA_CHANGED, 3, base + "/a/b"), (NODE_DELETED, 3, base + "/a/b")]
    watcher.close()
    writer.close()


def test_check_and_remove_watches(address, base):
    c = RawClient(address)
    assert c.create(base)[0] == 0
    check = lambda op, t: c.call(op, string(base) + i32(t))[0]
    assert check("checkWatches", 2) == -121  # NoWatcher
    assert c.get_data(base, watch=True)[0] == 0
    assert check("checkWatches", 2) == 0
    assert check("checkWatches", 1) == -121
    assert check("removeWatches", 2) == 0
    assert check("checkWatches", 2) == -121
    assert c.children(base, watch=True)[0] == 0
    assert check("removeWatches", 3) == 0
    assert check("removeWatches", 3) == -121
    c.set_data(base, b"no event")
    c.create(base + "/no-event")
    assert c.exists(base)[0] == 0
    assert c.events == []
    c.close()


def test_set_watches_fires_what_was_missed(address, base):
    c = RawClient(address)
    assert c.create(base, b"1")[0] == 0
    assert c.create(base + "/gone")[0] == 0
    _, stat = c.exists(base)
    relative = stat["mzxid"]
    c.set_data(base, b"2")
    c.delete(base + "/gone")
    other = RawClient(address)
    body = i64(relative) + strings([base, base + "/gone"]) + strings([base + "/new"]) + strings([])
    err, _, _ = other.call("setWatches", body, xid=-8)
    assert err == 0
    events = sorted([other.read_event(), other.read_event()])
    assert events == sorted([(DATA_CHANGED, 3, base), (NODE_DELETED, 3, base + "/gone")])
    c.create(base + "/new")
    assert other.read_event() == (NODE_CREATED, 3, base + "/new")
    c.close()
    other.close()
