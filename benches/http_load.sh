#!/usr/bin/env bash
# HTTP load benchmark: throughput and p50/p99 latency of /api/v1/search (GET) and
# /api/v1/suggest (POST) with a mixed query set (exact, misspelled, synonym, prefix, long) at
# 1, 16 and 64 connections, using wrk. The suggestion rate limits are switched off for the
# run (a temporary deflect.toml): one client hammering from 127.0.0.1 would otherwise get 429s.
#
#   benches/http_load.sh                  # the sample content
#   cargo run --release --example generate_corpus -- /tmp/corpus10k   # the 10,000-article corpus
#   CONTENT=/tmp/corpus10k benches/http_load.sh                       # another content directory
#   DURATION=20s CONNECTIONS="1 64" benches/http_load.sh
#   ENDPOINTS=suggest benches/http_load.sh   # only one endpoint (search, suggest)
set -euo pipefail
cd "$(dirname "$0")/.."
CONTENT=${CONTENT:-content}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-1 16 64}
PORT=${PORT:-18080}
ENDPOINTS=${ENDPOINTS:-search suggest}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet
queries=$(mktemp)
messages=$(mktemp)
config=$(mktemp --suffix=.toml)
python3 -c 'import sys, urllib.parse; [print(urllib.parse.quote(l.rstrip("\n"))) for l in open(sys.argv[1]) if l.strip()]' \
  benches/queries.txt > "$queries"
python3 -c 'import sys, json; [print(json.dumps(l.rstrip("\n"))) for l in open(sys.argv[1]) if l.strip()]' \
  benches/queries.txt > "$messages"
printf '[widget]\nsession_per_minute = 0\nip_per_minute = 0\n' > "$config"
TARGET=${CARGO_TARGET_DIR:-target}
"$TARGET/release/deflect" serve --config "$config" --content "$CONTENT" --bind "127.0.0.1:$PORT" --no-watch >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$queries" "$messages" "$config"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "content: $CONTENT ($(curl -s "http://127.0.0.1:$PORT/readyz"))"
printf '%-10s %-12s %12s %10s %10s %8s\n' endpoint connections requests/s p50 p99 non-2xx
for endpoint in $ENDPOINTS; do
  case $endpoint in
    search) file=$queries ;;
    suggest) file=$messages ;;
    *) echo "unknown endpoint $endpoint (search, suggest)" >&2; exit 1 ;;
  esac
  for c in $CONNECTIONS; do
    threads=$(( c < 2 ? c : 2 ))
    out=$(QUERIES_FILE="$file" wrk -t"$threads" -c"$c" -d"$DURATION" --latency -s "benches/wrk_$endpoint.lua" "http://127.0.0.1:$PORT")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    printf '%-10s %-12s %12s %10s %10s %8s\n' "$endpoint" "$c" "$rps" "$p50" "$p99" "${bad:-0}"
  done
done
