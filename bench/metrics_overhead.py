#!/usr/bin/env python3
"""Throughput with metrics on (Prometheus endpoint scraped every second, AdminServer and
dashboard data polled, as a monitoring setup would) against metrics off (no metrics
provider, no AdminServer). Same write workload as bench/durability.py, fsync on.

usage: bench/metrics_overhead.py [--runs 3] [--seconds 10] [--clients 4] [--depth 32]
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from durability import aviary_binary, run_writers, running  # noqa: E402
from servers import free_port  # noqa: E402

OFF = "metricsProvider.className=org.apache.zookeeper.metrics.impl.NullMetricsProvider\nadmin.enableServer=false\n"


def run(mode, seconds, clients, depth):
    metrics, admin = free_port(), free_port()
    extra = OFF if mode == "off" else ("metricsProvider.httpPort=%d\nmetricsProvider.httpHost=127.0.0.1\n"
                                       "admin.enableServer=true\nadmin.serverPort=%d\nadmin.serverAddress=127.0.0.1\n" % (metrics, admin))
    with running("aviary", extra) as (_, port):
        return measure(port, mode, metrics, admin, seconds, clients, depth)


def measure(port, mode, metrics, admin, seconds, clients, depth):
    stop = threading.Event()
    scrapes = [0]

    def scrape():
        while not stop.is_set():
            for url in ("http://127.0.0.1:%d/metrics" % metrics, "http://127.0.0.1:%d/dashboard/data" % admin,
                        "http://127.0.0.1:%d/commands/monitor" % admin):
                urllib.request.urlopen(url, timeout=5).read()
            scrapes[0] += 1
            stop.wait(1.0)
    scraper = threading.Thread(target=scrape, daemon=True)
    if mode == "on":
        scraper.start()
    total = run_writers(port, clients, seconds, depth)
    stop.set()
    if mode == "on":
        assert scrapes[0] >= seconds - 1, "the scraper kept up"
    return total / seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--depth", type=int, default=32)
    args = parser.parse_args()
    aviary_binary()
    rates = {"off": [], "on": []}
    for n in range(args.runs):
        for mode in ("off", "on"):
            rate = run(mode, args.seconds, args.clients, args.depth)
            rates[mode].append(rate)
            print("run %d metrics %-3s setData %.0f/s" % (n + 1, mode, rate), flush=True)
    off, on = statistics.median(rates["off"]), statistics.median(rates["on"])
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "metrics_overhead.json"), "w") as f:
        json.dump({"off": off, "on": on, "runs": rates}, f, indent=2)
    print()
    print("| setData/s, fsync on, %d clients × %d in flight (median of %d) | metrics off | metrics on, scraped every 1 s | cost |" % (
        args.clients, args.depth, args.runs))
    print("|---|---|---|---|")
    print("| Aviary | %.0f | %.0f | %.1f%% |" % (off, on, (off - on) / off * 100))


if __name__ == "__main__":
    main()
