#!/usr/bin/env bash
# HTTP load benchmark: throughput and p50/p99 latency of /api/v1/search with a mixed query set
# (exact, misspelled, synonym, prefix, long) at 1, 16 and 64 connections, using wrk.
#
#   benches/http_load.sh                  # the sample content
#   cargo run --release --example generate_corpus -- /tmp/corpus10k   # the 10,000-article corpus
#   CONTENT=/tmp/corpus10k benches/http_load.sh                       # another content directory
#   DURATION=20s CONNECTIONS="1 64" benches/http_load.sh
#   RECORDING=1 benches/http_load.sh      # what event recording costs: the same load at 64
#                                         # connections, recording on and off, ROUNDS times each
set -euo pipefail
cd "$(dirname "$0")/.."
CONTENT=${CONTENT:-content}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-1 16 64}
PORT=${PORT:-18080}
RECORDING=${RECORDING:-0}
ROUNDS=${ROUNDS:-3}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/deflect"
work=$(mktemp -d)
queries="$work/queries"
python3 -c 'import sys, urllib.parse; [print(urllib.parse.quote(l.rstrip("\n"))) for l in open(sys.argv[1]) if l.strip()]' \
  benches/queries.txt > "$queries"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT

# start_server RECORD: a fresh SQLite store each time.
start_server() {
  rm -rf "$work/data"
  DEFLECT_ANALYTICS_RECORD=$1 "$bin" serve --content "$CONTENT" --bind "127.0.0.1:$PORT" --no-watch \
    --data-dir "$work/data" >/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# load CONNECTIONS: prints "requests/s p50 p99".
load() {
  local c=$1 threads out
  threads=$(( c < 2 ? c : 2 ))
  out=$(QUERIES_FILE="$queries" wrk -t"$threads" -c"$c" -d"$DURATION" --latency -s benches/wrk_search.lua "http://127.0.0.1:$PORT")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}

if [ "$RECORDING" = 1 ]; then
  # Each request carries a session id (WRK_SESSIONS), so as-you-type grouping runs too.
  export WRK_SESSIONS=${WRK_SESSIONS:-500}
  printf '%-8s %-10s %12s %10s %10s\n' round recording requests/s p50 p99
  on=(); off=()
  for r in $(seq "$ROUNDS"); do
    for record in true false; do
      start_server "$record"
      read -r rps p50 p99 <<<"$(load 64)"
      stop_server
      printf '%-8s %-10s %12s %10s %10s\n' "$r" "$record" "$rps" "$p50" "$p99"
      if [ "$record" = true ]; then on+=("$rps"); else off+=("$rps"); fi
    done
  done
  python3 - "${on[*]}" "${off[*]}" <<'PY'
import statistics, sys
on = statistics.median(float(x) for x in sys.argv[1].split())
off = statistics.median(float(x) for x in sys.argv[2].split())
print(f"median requests/s at 64 connections: recording on {on:.0f}, off {off:.0f}; "
      f"recording costs {100 * (1 - on / off):.1f} % of throughput (target < 5 %)")
PY
  exit 0
fi

start_server true
echo "content: $CONTENT ($(curl -s "http://127.0.0.1:$PORT/readyz"))"
printf '%-12s %12s %10s %10s\n' connections requests/s p50 p99
for c in $CONNECTIONS; do
  read -r rps p50 p99 <<<"$(load "$c")"
  printf '%-12s %12s %10s %10s\n' "$c" "$rps" "$p50" "$p99"
done
