#!/usr/bin/env python3
"""Idle-connection flood against a running `deflect serve`: opens N connections that never send
a byte (in several worker processes, as one process's file limit is too small), while probing
/healthz on fresh connections every 100 ms. Prints the probes' latency (median, p99, max,
failures) and when the server closed the idle sockets, against its idle timeout.

    python3 benches/idle_flood.py 127.0.0.1:8080 --connections 20000 --idle-timeout 10
"""

import argparse
import asyncio
import multiprocessing
import resource
import socket
import statistics
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def hold(host, port, n, opened_q, results, hold_secs):
    """Opens n idle connections; records, for each, seconds from open to the server's close."""
    closed_after = []
    failed = 0

    async def one():
        nonlocal failed
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            failed += 1
            return
        t0 = time.monotonic()
        try:
            data = await asyncio.wait_for(reader.read(1), timeout=hold_secs)
            closed_after.append(time.monotonic() - t0 if not data else -1)
        except asyncio.TimeoutError:
            pass  # still open when the run ended
        except OSError:
            closed_after.append(time.monotonic() - t0)
        finally:
            writer.close()

    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(one()))
        if i % 200 == 199:
            await asyncio.sleep(0.01)
    opened_q.put(n)
    await asyncio.gather(*tasks)
    results.put((closed_after, failed))


def worker(host, port, n, opened_q, results, hold_secs):
    raise_nofile()
    asyncio.run(hold(host, port, n, opened_q, results, hold_secs))


def probe(host, port):
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = s.recv(64)
            ok = data.startswith(b"HTTP/1.1 200")
    except OSError:
        ok = False
    return ok, (time.monotonic() - t0) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--connections", type=int, default=20000)
    ap.add_argument("--per-worker", type=int, default=5000)
    ap.add_argument("--idle-timeout", type=float, default=60, help="the server's idle_timeout_secs")
    args = ap.parse_args()
    host, port = args.addr.rsplit(":", 1)
    port = int(port)
    hold_secs = args.idle_timeout * 2 + 10
    opened_q, results = multiprocessing.Queue(), multiprocessing.Queue()
    workers = []
    left = args.connections
    started = time.monotonic()
    while left > 0:
        n = min(left, args.per_worker)
        p = multiprocessing.Process(target=worker, args=(host, port, n, opened_q, results, hold_secs))
        p.start()
        workers.append(p)
        left -= n
    latencies, failures = [], 0
    end = started + hold_secs + 30
    closed, failed, reported = [], 0, 0
    while time.monotonic() < end and reported < len(workers):
        ok, ms = probe(host, port)
        latencies.append(ms)
        failures += 0 if ok else 1
        time.sleep(0.1)
        while True:
            try:
                c, f = results.get_nowait()
            except Exception:
                break
            closed.extend(c)
            failed += f
            reported += 1
    for p in workers:
        p.join()
    lat = sorted(latencies)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(
        f"healthz probes: {len(lat)}, failed {failures}, median {statistics.median(lat):.1f} ms, "
        f"p99 {p99:.1f} ms, max {lat[-1]:.1f} ms"
    )
    early = sum(1 for c in closed if 0 <= c < args.idle_timeout - 0.5)
    on_time = sum(1 for c in closed if args.idle_timeout - 0.5 <= c <= args.idle_timeout + 2)
    late = sum(1 for c in closed if c > args.idle_timeout + 2)
    still_open = args.connections - failed - len(closed)
    print(
        f"idle connections: {args.connections} asked, {failed} refused at connect, "
        f"closed by the server: {early} early (evicted to make room), {on_time} at the idle timeout "
        f"({args.idle_timeout:.0f} s), {late} late, {still_open} still open after {hold_secs:.0f} s; "
        f"run took {time.monotonic() - started:.0f} s"
    )
    return 0 if failures == 0 and late == 0 and still_open == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
