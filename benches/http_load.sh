#!/usr/bin/env bash
# HTTP load benchmark: throughput and p50/p99 latency of /api/v1/search with a mixed query set
# (exact, misspelled, synonym, prefix, long) at 1, 16 and 64 connections, using wrk.
#
#   benches/http_load.sh                  # the sample content
#   cargo run --release --example generate_corpus -- /tmp/corpus10k   # the 10,000-article corpus
#   CONTENT=/tmp/corpus10k benches/http_load.sh                       # another content directory
#   DURATION=20s CONNECTIONS="1 64" benches/http_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONTENT=${CONTENT:-content}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-1 16 64}
PORT=${PORT:-18080}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet
queries=$(mktemp)
python3 -c 'import sys, urllib.parse; [print(urllib.parse.quote(l.rstrip("\n"))) for l in open(sys.argv[1]) if l.strip()]' \
  benches/queries.txt > "$queries"
./target/release/deflect serve --content "$CONTENT" --bind "127.0.0.1:$PORT" --no-watch >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$queries"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "content: $CONTENT ($(curl -s "http://127.0.0.1:$PORT/readyz"))"
printf '%-12s %12s %10s %10s\n' connections requests/s p50 p99
for c in $CONNECTIONS; do
  threads=$(( c < 2 ? c : 2 ))
  out=$(QUERIES_FILE="$queries" wrk -t"$threads" -c"$c" -d"$DURATION" --latency -s benches/wrk_search.lua "http://127.0.0.1:$PORT")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-12s %12s %10s %10s\n' "$c" "$rps" "$p50" "$p99"
done
