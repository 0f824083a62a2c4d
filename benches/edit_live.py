#!/usr/bin/env python3
"""How long an author's change takes to go live, with the watcher on, while searches keep
coming: starts `deflect serve` on a content folder (a fresh data directory: the first start
builds the index; then a restart, which reuses it), edits articles one at a time (a unique word
appended to the body), adds one and deletes it, and polls /api/v1/search until each change
shows. A second thread searches all along and counts every answer that is not a 200.
Every file it touches is put back as it was.

    cargo run --release --example generate_corpus -- /tmp/corpus100k 100000
    python3 benches/edit_live.py /tmp/corpus100k --bin target/release/deflect --edits 10
"""

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return r.status, r.read()


def search_total(base, word):
    _, body = get(base, "/api/v1/search?limit=1&q=" + urllib.parse.quote(word))
    return json.loads(body)["total"]


def start(args, data, port):
    """Starts the server; seconds until /readyz answers 200."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [args.bin, "serve", "--content", args.content, "--bind", f"127.0.0.1:{port}",
         "--data-dir", data],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, "..", "serve.log"), "ab"))
    base = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            sys.exit(f"deflect serve exited with {proc.returncode}; see serve.log")
        try:
            if get(base, "/readyz")[0] == 200:
                return proc, time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.05)


def wait_for(base, word, present, timeout=60):
    """Seconds until a search for `word` finds something (present) or nothing (not present)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if (search_total(base, word) > 0) == present:
            return time.monotonic() - t0
        time.sleep(0.01)
    return float("inf")


class Searcher(threading.Thread):
    """Searches without pause; counts answers and failures."""

    def __init__(self, base, queries):
        super().__init__(daemon=True)
        self.base, self.queries = base, queries
        self.ok = self.failed = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            q = random.choice(self.queries)
            try:
                status, _ = get(self.base, "/api/v1/search?q=" + urllib.parse.quote(q))
                self.ok += status == 200
                self.failed += status != 200
            except (urllib.error.URLError, ConnectionError, OSError):
                self.failed += 1


def with_word(src, word):
    """The article with `word` in its Quick answer (else its first paragraph): a searchable part
    of the body (the closing sections, such as Related articles, are not searched)."""
    text = src.decode()
    for marker in ("## Quick answer\n", "\n---\n"):
        at = text.find(marker)
        if at >= 0:
            at += len(marker)
            return (text[:at] + f"\nAlso known as {word}.\n" + text[at:]).encode()
    return (text + f"\n\nAlso known as {word}.\n").encode()


def resident_mb(pid):
    return int(open(f"/proc/{pid}/status").read().split("VmRSS:")[1].split()[0]) // 1024


def summary(name, xs):
    xs = sorted(xs)
    return (f"{name}: {len(xs)} changes, median {statistics.median(xs) * 1000:.0f} ms, "
            f"max {xs[-1] * 1000:.0f} ms")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("content")
    p.add_argument("--bin", default="target/release/deflect")
    p.add_argument("--edits", type=int, default=10)
    p.add_argument("--port", type=int, default=18095)
    args = p.parse_args()
    # Stopped (SIGTERM, Ctrl-C): still put every touched file back.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    articles = [os.path.join(d, f) for d, _, fs in os.walk(args.content) for f in fs
                if f.endswith(".md")]
    print(f"edit_live: {len(articles)} articles in {args.content}")
    work = tempfile.mkdtemp(prefix="deflect-edit-live-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    base = f"http://127.0.0.1:{args.port}"
    proc, first = start(args, data, args.port)
    print(f"ready after a first start (index built): {first:.1f} s")
    proc.terminate()
    proc.wait()
    proc, again = start(args, data, args.port)
    rss = resident_mb(proc.pid)
    print(f"ready on a restart (index reused): {again:.1f} s, resident {rss} MB")

    searcher = Searcher(base, ["card", "my card has not arrived", "change pin", "refund",
                               "transfer failed", "exchange rate"])
    searcher.start()
    edits, adds, deletes = [], [], []
    new_file = os.path.join(os.path.dirname(articles[0]), "zz-edit-live-new.md")
    try:
        for i in random.sample(articles, args.edits):
            word = f"zqedit{random.randrange(10**9)}x"
            original = open(i, "rb").read()
            try:
                with open(i, "wb") as f:
                    f.write(with_word(original, word))
                edits.append(wait_for(base, word, True))
            finally:
                with open(i, "wb") as f:
                    f.write(original)
            wait_for(base, word, False)
        for _ in range(max(1, args.edits // 3)):
            word = f"zqnew{random.randrange(10**9)}x"
            with open(new_file, "w") as f:
                f.write(f"---\ntitle: About {word}\nsummary: A new article.\n"
                        f"last_reviewed: 2026-12-01\n---\n\n## Quick answer\n\nIt is {word}.\n")
            adds.append(wait_for(base, word, True))
            os.remove(new_file)
            deletes.append(wait_for(base, word, False))
    finally:
        if os.path.exists(new_file):
            os.remove(new_file)
        searcher.stop.set()
        searcher.join()
        rss_after = resident_mb(proc.pid)
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(summary("one-article edit live", edits))
    print(summary("new article live", adds))
    print(summary("deleted article gone", deletes))
    print(f"searches meanwhile: {searcher.ok} answered, {searcher.failed} failed; "
          f"resident after them {rss_after} MB")
    print(f"edit_live: first start {first:.1f} s, restart {again:.1f} s, resident {rss} MB, "
          f"edit live median {statistics.median(edits) * 1000:.0f} ms "
          f"(max {max(edits) * 1000:.0f}), {searcher.failed} failed searches")


if __name__ == "__main__":
    main()
