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
#   RECORDING=1 benches/http_load.sh      # what event recording costs: the same load at 64
#                                         # connections, recording on and off, ROUNDS times each
#   BIN=path/to/deflect benches/http_load.sh   # an already built release binary
#   ENDPOINTS=suggest benches/http_load.sh   # only one endpoint (search, suggest)
#   QUERIES=file.txt benches/http_load.sh    # other queries, one per line (default
#                                            # benches/queries.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
CONTENT=${CONTENT:-content}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-1 16 64}
PORT=${PORT:-18080}
RECORDING=${RECORDING:-0}
ENDPOINTS=${ENDPOINTS:-search suggest}
ROUNDS=${ROUNDS:-3}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
work=$(mktemp -d)
source benches/common.sh
bin=$(deflect_binary "$work")
queries="$work/queries"
messages="$work/messages"
python3 -c 'import sys, urllib.parse; [print(urllib.parse.quote(l.rstrip("\n"))) for l in open(sys.argv[1]) if l.strip()]' \
  "${QUERIES:-benches/queries.txt}" > "$queries"
python3 -c 'import sys, json; [print(json.dumps(l.rstrip("\n"))) for l in open(sys.argv[1]) if l.strip()]' \
  "${QUERIES:-benches/queries.txt}" > "$messages"
# The widget's rate limits off: one client hammering from 127.0.0.1 would otherwise get 429s.
printf '[widget]\nsession_per_minute = 0\nip_per_minute = 0\n' > "$work/deflect.toml"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT

# start_server RECORD: a fresh SQLite store each time.
start_server() {
  rm -rf "$work/data"
  DEFLECT_ANALYTICS_RECORD=$1 "$bin" serve --config "$work/deflect.toml" --content "$CONTENT" --bind "127.0.0.1:$PORT" --no-watch \
    --data-dir "$work/data" >/dev/null &
  pid=$!
  # A first start on a large help center builds its index: wait up to ten minutes.
  for _ in $(seq 6000); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# The server's CPU time so far, in clock ticks (user + system).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# load CONNECTIONS [ENDPOINT]: prints "requests/s p50 p99 server-CPU-µs-per-request".
load() {
  local c=$1 endpoint=${2:-search} file threads out before after requests
  case $endpoint in
    search) file=$queries ;;
    suggest) file=$messages ;;
    *) echo "unknown endpoint $endpoint (search, suggest)" >&2; exit 1 ;;
  esac
  threads=$(( c < 2 ? c : 2 ))
  before=$(cpu_ticks)
  out=$(QUERIES_FILE="$file" wrk -t"$threads" -c"$c" -d"$DURATION" --latency -s "benches/wrk_$endpoint.lua" "http://127.0.0.1:$PORT")
  sleep 0.5 # let the event writer finish its last batch
  after=$(cpu_ticks)
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")" \
    "$(( (after - before) * 1000000 / $(getconf CLK_TCK) / requests ))"
}

if [ "$RECORDING" = 1 ]; then
  # Each request carries a session id (WRK_SESSIONS), so as-you-type grouping runs too.
  export WRK_SESSIONS=${WRK_SESSIONS:-500}
  # Throughput swings with whatever else runs on the machine; the server's CPU time per
  # request does much less, so both are reported.
  printf '%-8s %-10s %12s %10s %10s %14s\n' round recording requests/s p50 p99 cpu-µs/request
  on=(); off=(); con=(); coff=()
  for r in $(seq "$ROUNDS"); do
    # Alternating which goes first: a machine that warms up (or slows down) during a run
    # would otherwise always favour the second.
    order="true false"
    [ $((r % 2)) = 0 ] && order="false true"
    for record in $order; do
      start_server "$record"
      read -r rps p50 p99 cpu <<<"$(load 64)"
      stop_server
      printf '%-8s %-10s %12s %10s %10s %14s\n' "$r" "$record" "$rps" "$p50" "$p99" "$cpu"
      if [ "$record" = true ]; then on+=("$rps"); con+=("$cpu"); else off+=("$rps"); coff+=("$cpu"); fi
    done
  done
  python3 - "${on[*]}" "${off[*]}" "${con[*]}" "${coff[*]}" <<'PY'
import statistics, sys
on, off, con, coff = (statistics.median(float(x) for x in a.split()) for a in sys.argv[1:5])
print(f"median requests/s at 64 connections: recording on {on:.0f}, off {off:.0f}: "
      f"{100 * (1 - on / off):.1f} % less throughput with recording (target < 5 %)")
print(f"median server CPU per request: on {con:.0f} µs, off {coff:.0f} µs: "
      f"recording costs {100 * (con / coff - 1):.1f} % more CPU per search")
PY
  exit 0
fi

start_server true
echo "content: $CONTENT ($(curl -s "http://127.0.0.1:$PORT/readyz"))"
printf '%-10s %-12s %12s %10s %10s\n' endpoint connections requests/s p50 p99
for endpoint in $ENDPOINTS; do
  for c in $CONNECTIONS; do
    read -r rps p50 p99 _ <<<"$(load "$c" "$endpoint")"
    printf '%-10s %-12s %12s %10s %10s\n' "$endpoint" "$c" "$rps" "$p50" "$p99"
  done
done
