"""Random and mutated frames thrown at a running server: it must not crash, and a
well-behaved session must keep working throughout. Seeded: a failure names its seed."""
import os
import random
import socket
import struct
import time

from rawzk import RawClient

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "ZooKeeperProtocolTests", "Fixtures",
                       "zookeeper-3.8-frames.txt")


def golden_requests():
    frames = []
    with open(FIXTURE) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] in ("REQ", "CONNECT_REQ"):
                frames.append((parts[0], bytes.fromhex(parts[-1])))
    return frames


def mutate(rng, payload):
    data = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if choice < 0.4 and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif choice < 0.6 and data:
            del data[rng.randrange(len(data)):]
        elif choice < 0.8:
            i = rng.randrange(len(data) + 1)
            data[i:i] = os.urandom(rng.randint(1, 8))
        elif len(data) >= 4:
            i = rng.randrange(len(data) - 3)
            data[i:i + 4] = struct.pack(">i", rng.choice([-1, -2, 0, 0x7FFFFFFF, 0x100000, rng.randint(0, 1000)]))
    return bytes(data)


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def attack(address, rng, requests, handshakes):
    host, port = address.split(":")
    s = socket.create_connection((host, int(port)), timeout=2)
    try:
        mode = rng.random()
        if mode < 0.2:
            s.sendall(os.urandom(rng.randint(1, 200)))
        elif mode < 0.4:
            s.sendall(frame(mutate(rng, rng.choice(handshakes))))
        else:
            s.sendall(frame(rng.choice(handshakes)))
            stream = b"".join(frame(mutate(rng, rng.choice(requests)) if rng.random() < 0.7 else rng.choice(requests))
                              for _ in range(rng.randint(1, 12)))
            if rng.random() < 0.2:
                stream = stream[:rng.randrange(len(stream) + 1)]
            s.sendall(stream)
        s.settimeout(0.05)
        try:
            while s.recv(65536):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        s.close()


def test_fuzzed_frames_hurt_no_one(server, base):
    seed = int(os.environ.get("FUZZ_SEED", random.randrange(1 << 30)))
    iterations = int(os.environ.get("FUZZ_ITERATIONS", "400"))
    rng = random.Random(seed)
    golden = golden_requests()
    requests = [payload for kind, payload in golden if kind == "REQ" and payload[4:8] != b"\xff\xff\xff\xf5"]
    handshakes = [payload for kind, payload in golden if kind == "CONNECT_REQ"]
    assert requests and handshakes
    steady = RawClient(server.address, timeout_ms=10000)
    assert steady.create(base, b"0")[0] == 0
    deadline = time.time() + 120
    for i in range(iterations):
        if time.time() > deadline:
            break
        attack(server.address, rng, requests, handshakes)
        if i % 20 == 0:
            assert server.alive(), "server died; FUZZ_SEED=%d iteration %d" % (seed, i)
            assert steady.set_data(base, str(i).encode())[0] == 0, "FUZZ_SEED=%d" % seed
            assert steady.get_data(base)[1][0] == str(i).encode(), "FUZZ_SEED=%d" % seed
    assert server.alive(), "server died; FUZZ_SEED=%d" % seed
    fresh = RawClient(server.address)
    assert fresh.get_data(base)[0] == 0, "new sessions still work; FUZZ_SEED=%d" % seed
    fresh.close()
    steady.close()
