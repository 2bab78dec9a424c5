#!/usr/bin/env python3
"""Writes a data directory holding one ZooKeeper-format snapshot of N znodes of SIZE bytes
(/bench/cXXXX/nXXXX, 1000 per parent), for restart and memory benchmarks on the same data.

usage: make_snapshot.py DATADIR [--nodes 1000000] [--size 100]
"""
import argparse
import os
import struct
import zlib


class Out:
    def __init__(self, f):
        self.f, self.adler, self.parts, self.size = f, 1, [], 0

    def put(self, b):
        self.parts.append(b)
        self.size += len(b)
        if self.size > 1 << 20:
            self.flush()

    def flush(self):
        data = b"".join(self.parts)
        self.adler = zlib.adler32(data, self.adler)
        self.f.write(data)
        self.parts, self.size = [], 0


def string(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def stat(zxid, cversion, pzxid, time_ms=1_700_000_000_000):
    # czxid mzxid ctime mtime version cversion aversion ephemeralOwner pzxid
    return struct.pack(">qqqqiiiqq", zxid, zxid, time_ms, time_ms, 0, cversion, 0, 0, pzxid)


def node(out, path, data, acl, st):
    out.put(string(path) + (struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data)
            + struct.pack(">q", acl) + st)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("datadir")
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=100)
    args = parser.parse_args()
    per_parent = 1000
    parents = max(1, (args.nodes + per_parent - 1) // per_parent)
    directory = os.path.join(args.datadir, "version-2")
    os.makedirs(directory, exist_ok=True)
    last_zxid = parents + args.nodes + 1
    path = os.path.join(directory, "snapshot.%x" % last_zxid)
    value = (b"x" * args.size)
    with open(path, "wb") as f:
        out = Out(f)
        out.put(struct.pack(">iiq", 0x5A4B534E, 2, -1))
        out.put(struct.pack(">i", 0))  # sessions
        # ACL cache: 1 -> world:anyone ALL, 2 -> world:anyone READ
        out.put(struct.pack(">i", 2))
        out.put(struct.pack(">qi", 1, 1) + struct.pack(">i", 31) + string("world") + string("anyone"))
        out.put(struct.pack(">qi", 2, 1) + struct.pack(">i", 1) + string("world") + string("anyone"))
        node(out, "", None, -1, stat(0, 2, 1))
        node(out, "/zookeeper", None, -1, stat(0, 0, 0))
        node(out, "/zookeeper/config", b"", 2, struct.pack(">qqqqiiiqq", 0, 0, 0, 0, 0, 0, -1, 0, 0))
        node(out, "/zookeeper/quota", None, -1, stat(0, 0, 0))
        node(out, "/bench", b"", 1, stat(1, parents, 1 + parents))
        zxid = 2
        remaining = args.nodes
        for p in range(parents):
            children = min(per_parent, remaining)
            parent = "/bench/c%04d" % p
            node(out, parent, b"", 1, stat(zxid, children, zxid + children))
            zxid += 1
            for c in range(children):
                node(out, "%s/n%04d" % (parent, c), value, 1, stat(zxid, 0, zxid))
                zxid += 1
            remaining -= children
        out.put(string("/"))
        out.flush()
        f.write(struct.pack(">q", out.adler) + string("/"))
    print(path)


if __name__ == "__main__":
    main()
