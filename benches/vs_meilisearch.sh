#!/usr/bin/env bash
# Side-by-side search throughput and latency: Deflect against Meilisearch on the same machine,
# the same articles and the same question-style queries, runs alternating between the two.
#
# Needs a `meilisearch` binary on PATH (or MEILISEARCH=path): it builds from source with cargo,
#   git clone https://github.com/meilisearch/meilisearch && cd meilisearch &&
#   cargo build --release -p meilisearch --no-default-features   # the binary: target/release/meilisearch
# (never commit it). And wrk (apt-get install -y wrk).
#
#   cargo run --release --example generate_corpus -- /tmp/corpus100k 100000
#   CONTENT=/tmp/corpus100k benches/vs_meilisearch.sh
#   CONTENT=content ROUNDS=3 DURATION=20s CONNECTIONS="1 16" benches/vs_meilisearch.sh
#
# Meilisearch is set up as a help center would use it: title, keywords, summary, headings and
# body searchable in that order, English stop words, typo tolerance on (its default),
# `matchingStrategy: last`, and a highlighted, cropped body as the snippet (Deflect returns one).
# Queries: the BANKING77 training questions (CC BY 4.0, Casanueva et al. 2020), 5–30 words.
# Prints requests/s, p50 and p99 per engine and connection count (median over ROUNDS), and the
# ratios Deflect / Meilisearch.
set -euo pipefail
cd "$(dirname "$0")/.."
CONTENT=${CONTENT:-content}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-1 16}
ROUNDS=${ROUNDS:-3}
DEFLECT_PORT=${DEFLECT_PORT:-18081}
MEILI_PORT=${MEILI_PORT:-17700}
MEILI=${MEILISEARCH:-$(command -v meilisearch || true)}
[ -n "$MEILI" ] && [ -x "$MEILI" ] || { echo "no meilisearch binary: put it on PATH or set MEILISEARCH=path (see the top of this script)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

work=$(mktemp -d)
source benches/common.sh
bin=$(deflect_binary "$work")
dpid= ; mpid=
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null; [ -n "$mpid" ] && kill $mpid 2>/dev/null; rm -rf "$work"' EXIT

# The queries: question-style, 5–30 words, URL-encoded for Deflect and as JSON for Meilisearch.
python3 - "$work" <<'PY'
import csv, json, sys, urllib.parse
work = sys.argv[1]
rows = [r["text"] for r in csv.DictReader(open("tests/data/banking77_train.csv"))]
qs = [q for q in rows if 5 <= len(q.split()) <= 30][::3]
with open(f"{work}/deflect.q", "w") as d, open(f"{work}/meili.q", "w") as m:
    for q in qs:
        d.write(urllib.parse.quote(q) + "\n")
        m.write(json.dumps({"q": q, "limit": 10, "matchingStrategy": "last",
                            "attributesToCrop": ["body"], "cropLength": 28,
                            "attributesToHighlight": ["body"]}) + "\n")
print(f"{len(qs)} queries", file=sys.stderr)
PY

echo "starting Deflect on $CONTENT (its index in $work/data/index)"
started=$(date +%s.%N)
"$bin" serve --content "$CONTENT" --bind "127.0.0.1:$DEFLECT_PORT" --no-watch --data-dir "$work/data" >/dev/null 2>"$work/deflect.log" &
dpid=$!
until curl -sf "http://127.0.0.1:$DEFLECT_PORT/readyz" >/dev/null; do sleep 0.1; kill -0 $dpid || { cat "$work/deflect.log"; exit 1; }; done
echo "Deflect ready in $(python3 -c "import time; print(round(time.time() - $started, 1))") s"

echo "starting Meilisearch and loading the same articles"
"$MEILI" --db-path "$work/meili" --http-addr "127.0.0.1:$MEILI_PORT" --no-analytics --env development >/dev/null 2>"$work/meili.log" &
mpid=$!
until curl -sf "http://127.0.0.1:$MEILI_PORT/health" >/dev/null; do sleep 0.1; kill -0 $mpid || { cat "$work/meili.log"; exit 1; }; done
python3 benches/meili_load.py "$CONTENT" "http://127.0.0.1:$MEILI_PORT"

load() { # URL SCRIPT QUERIES C → "requests/s p50 p99"
  local out
  out=$(QUERIES_FILE="$3" wrk -t"$(( $4 < 2 ? $4 : 2 ))" -c"$4" -d"$DURATION" --latency -s "$2" "$1")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}

results="$work/results"
for r in $(seq "$ROUNDS"); do
  for c in $CONNECTIONS; do
    order="deflect meili"; [ $((r % 2)) = 0 ] && order="meili deflect"
    for engine in $order; do
      if [ "$engine" = deflect ]; then
        line=$(load "http://127.0.0.1:$DEFLECT_PORT" benches/wrk_search.lua "$work/deflect.q" "$c")
      else
        line=$(load "http://127.0.0.1:$MEILI_PORT" benches/wrk_meili.lua "$work/meili.q" "$c")
      fi
      echo "round $r  $engine  c=$c  $line"
      echo "$engine $c $line" >> "$results"
    done
  done
done
rss() { awk '/VmRSS/ {print $2 / 1024 " MB"}' "/proc/$1/status"; }
echo "resident memory: Deflect $(rss $dpid), Meilisearch $(rss $mpid)"
python3 - "$results" <<'PY'
import statistics, sys
def ms(v):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
    return float(v)
runs = {}
for line in open(sys.argv[1]):
    engine, c, rps, p50, p99 = line.split()
    runs.setdefault((engine, int(c)), []).append((float(rps), ms(p50), ms(p99)))
print(f"\n{'connections':<12} {'engine':<12} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8}")
for c in sorted({c for _, c in runs}):
    med = {}
    for engine in ("deflect", "meili"):
        rs = runs.get((engine, c), [])
        if not rs:
            continue
        med[engine] = tuple(statistics.median(x[i] for x in rs) for i in range(3))
        r, p50, p99 = med[engine]
        print(f"{c:<12} {engine:<12} {r:>11.0f} {p50:>8.2f} {p99:>8.2f}")
    if len(med) == 2:
        d, m = med["deflect"], med["meili"]
        print(f"{c:<12} {'ratio':<12} {d[0] / m[0]:>10.2f}× {d[1] / m[1]:>7.2f}× {d[2] / m[2]:>7.2f}×   (Deflect / Meilisearch)")
PY
