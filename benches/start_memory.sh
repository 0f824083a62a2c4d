#!/usr/bin/env bash
# Resident memory of `deflect serve` from its start and under search load: starts it on
# CONTENT with the data directory DATA as it is (empty or missing: a first start; an index
# built before: a restart), prints how long it took to be ready and its resident memory
# (VmRSS) then and after each of ROUNDS × 15 s of wrk at 16 connections over
# benches/queries.txt. Recording on, learning off.
#
#   cargo run --release -- index --content /tmp/corpus100k --data-dir /tmp/built   # an index to restart on
#   CONTENT=/tmp/corpus100k DATA=/tmp/built benches/start_memory.sh
#
# BIN=path/to/deflect to measure a given binary (else a fresh release build); PORT (18111).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source benches/common.sh

: "${CONTENT:?set CONTENT to a content folder}"
: "${DATA:?set DATA to a data directory (used as it is)}"
ROUNDS=${ROUNDS:-4}
PORT=${PORT:-18111}
command -v wrk >/dev/null || { echo "start_memory.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
bin=$(deflect_binary "$work")
python3 -c '
import sys, urllib.parse
for line in open("benches/queries.txt"):
    if line.strip():
        print(urllib.parse.quote(line.strip()))' > "$work/queries.txt"
cat > "$work/deflect.toml" <<TOML
[widget]
session_per_minute = 0
ip_per_minute = 0
[learning]
enabled = false
TOML

started=$(date +%s.%N)
"$bin" serve --content "$CONTENT" --data-dir "$DATA" --bind "127.0.0.1:$PORT" \
  --config "$work/deflect.toml" --no-watch > "$work/serve.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
ready=$(python3 -c "print(f'{$(date +%s.%N) - $started:.1f}')")
rss() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$server/status"; }
markdown=$(du -sm "$CONTENT" | cut -f1)
echo "ready in $ready s, resident $(rss) MB (Markdown on disk: $markdown MB)"
for i in $(seq "$ROUNDS"); do
  QUERIES_FILE="$work/queries.txt" wrk -t2 -c16 -d15s -s benches/wrk_search.lua \
    "http://127.0.0.1:$PORT" > "$work/wrk.txt"
  echo "after $((i * 15)) s of load: resident $(rss) MB, $(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt") requests/s"
done
