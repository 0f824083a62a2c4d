#!/usr/bin/env bash
# A long mixed load at a share of the measured maximum: finds the maximum of the mixed traffic
# in benches/wrk_mixed.lua (searches, pages, autocomplete, article reads, suggestions, votes)
# at 16 connections, then runs DURATION at SHARE of it, sampling the server's resident memory
# every 10 s. Prints errors (non-2xx and socket errors), latency and memory first/last/max.
#
#   benches/mixed_load.sh                     # 10 minutes at 80 % on the sample content
#   DURATION=60 SHARE=0.8 benches/mixed_load.sh
#   BIN=target/release/deflect CONTENT=/tmp/corpus10k benches/mixed_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONTENT=${CONTENT:-content}
DURATION=${DURATION:-600}
SHARE=${SHARE:-0.8}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18081}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
work=$(mktemp -d)
source benches/common.sh
bin=$(deflect_binary "$work")
python3 -c 'import sys, urllib.parse; [print(urllib.parse.quote(l.rstrip("\n"))) for l in open(sys.argv[1]) if l.strip()]' \
  benches/queries.txt > "$work/queries"
python3 -c 'import sys, json; [print(json.dumps(l.rstrip("\n"))) for l in open(sys.argv[1]) if l.strip()]' \
  benches/queries.txt > "$work/messages"
# The widget's rate limits off: one client from 127.0.0.1 is many customers here.
printf '[widget]\nsession_per_minute = 0\nip_per_minute = 0\n' > "$work/deflect.toml"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
"$bin" serve --config "$work/deflect.toml" --content "$CONTENT" --bind "127.0.0.1:$PORT" --no-watch \
  --data-dir "$work/data" >/dev/null &
pid=$!
for _ in $(seq 6000); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
curl -s "http://127.0.0.1:$PORT/sitemap.xml" | grep -o '/articles/[^<]*' | sed 's#/articles/##' > "$work/slugs"
export QUERIES_FILE="$work/queries" MESSAGES_FILE="$work/messages" SLUGS_FILE="$work/slugs"

# run SECONDS DELAY_MS: wrk's RESULT line.
run() {
  DELAY_MS=$2 wrk -t2 -c"$CONNECTIONS" -d"$1s" --latency -s benches/wrk_mixed.lua "http://127.0.0.1:$PORT" | grep '^RESULT'
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
rate() { python3 -c "print($(field requests "$1") / $(field seconds "$1"))"; }

max=$(run 20 0)
max_rate=$(rate "$max")
target=$(python3 -c "print($max_rate * $SHARE)")
# Each connection waits DELAY_MS before each request: aim, measure, correct once.
delay=$(python3 -c "print(max(0, round($CONNECTIONS * 1000 / $target - $(field p50 "$max") / 2)))")
probe=$(run 10 "$delay")
# A cycle is delay + latency: latency = C × 1000 / rate − delay; then the delay for the target.
delay=$(python3 -c "r = $(rate "$probe"); print(max(0, round($CONNECTIONS * 1000 / $target - ($CONNECTIONS * 1000 / r - $delay))))")
echo "maximum: $(printf '%.0f' "$max_rate") requests/s at $CONNECTIONS connections; running ${DURATION}s at $SHARE of it (~$(printf '%.0f' "$target")/s, ${delay} ms between a connection's requests)"

rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
samples="$work/rss"
( while kill -0 "$pid" 2>/dev/null; do rss >> "$samples"; sleep 10; done ) &
sampler=$!
started=$SECONDS
result=$(run "$DURATION" "$delay")
kill "$sampler" 2>/dev/null || true
errors=$(( $(field non2xx "$result") + $(field connect "$result") + $(field read "$result") + $(field write "$result") + $(field timeout "$result") ))
python3 - "$samples" <<PY
import sys
kb = [int(l) for l in open(sys.argv[1]) if l.strip()]
print(f"$(printf '%.0f' "$(rate "$result")") requests/s for $((SECONDS - started)) s: $(field requests "$result") requests, $errors errors "
      f"(non-2xx $(field non2xx "$result"), socket $(( errors - $(field non2xx "$result") ))); "
      f"p50 $(field p50 "$result") ms, p99 $(field p99 "$result") ms, max $(field max "$result") ms")
third = max(1, len(kb) // 3)
first, last = sum(kb[:third]) / third, sum(kb[-third:]) / third
print("resident memory each minute (MB): " + " ".join(f"{k / 1024:.0f}" for k in kb[::6]))
print(f"resident memory: first third {first / 1024:.0f} MB, last third {last / 1024:.0f} MB, max {max(kb) / 1024:.0f} MB "
      f"({len(kb)} samples): {100 * (last / first - 1):+.1f} %")
PY
[ "$errors" = 0 ]
