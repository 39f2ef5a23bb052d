#!/usr/bin/env bash
# What an idle connected session costs in memory, on both sides: one
# `mtproto serve --max-connections N` and one `mtproto bench --connections N`
# (one client process, N sessions, each with its own key); once every
# handshake is done and the sessions sit idle, the client's resident-memory
# growth per session (measured by `mtproto bench` itself) and the server's
# (its VmRSS now, minus before, per connection).
#
#   bash benches/side_by_side/idle_memory.sh [N]      # by hand; default 10000
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-10000}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/idle-memory.XXXXXX")"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
# Two sockets' worth of descriptors per session would not fit the default.
ulimit -n "$(( N + 1024 ))" 2>/dev/null || { echo "idle-memory: cannot raise the open-file limit to $(( N + 1024 ))" >&2; exit 1; }

cargo build -q --release -p mtproto-cli --bin mtproto
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
MTPROTO="$TARGET_DIR/release/mtproto"

"$MTPROTO" serve --port 0 --json --quiet --max-connections "$((N + 16))" \
  --write-public-key "$WORK/pub.pem" >"$WORK/serve.log" 2>&1 </dev/null &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '"listening"' "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done
PORT="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$WORK/serve.log")"
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
SERVER_BEFORE="$(rss_kb "$SERVER_PID")"

"$MTPROTO" bench --addr "127.0.0.1:$PORT" --rsa-key "$WORK/pub.pem" --connections "$N" \
  --concurrency 1 --count "$N" --idle 5 --json >"$WORK/bench.json" 2>"$WORK/bench.err" </dev/null &
BENCH_PID=$!
for _ in $(seq 1 6000); do
  grep -q '^idle:' "$WORK/bench.err" 2>/dev/null && break
  kill -0 "$BENCH_PID" 2>/dev/null || break
  sleep 0.1
done
sleep 2 # the server settles too
SERVER_IDLE="$(rss_kb "$SERVER_PID")"
wait "$BENCH_PID" || { echo "idle-memory: mtproto bench failed:" >&2; cat "$WORK/bench.err" >&2; exit 1; }

python3 - "$N" "$SERVER_BEFORE" "$SERVER_IDLE" "$WORK/bench.json" <<'PY'
import json, sys
n, before, idle = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
bench = json.load(open(sys.argv[4]))
client = bench.get("idle_bytes_per_connection")
server = (idle - before) * 1024 // n
print(json.dumps({"sessions": n, "client_bytes_per_session": client,
                  "server_bytes_per_connection": server,
                  "handshake_ms": bench["handshake_ms"]}))
PY
