"""Shared load helpers for the interop tests."""
from rawzk import i32, string, buf


def pipelined_sets(client, path, count):
    """Sends `count` setData requests in one burst, then returns the xids of the replies."""
    frames = b""
    for xid in range(1, count + 1):
        payload = i32(xid) + i32(5) + string(path) + buf(b"v%d" % xid) + i32(-1)
        frames += i32(len(payload)) + payload
    client.send_raw(frames)
    xids = []
    for _ in range(count):
        xid, _, err, _ = client.read_reply()
        assert err == 0
        xids.append(xid)
    return xids
