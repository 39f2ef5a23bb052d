#!/usr/bin/env bash
# Side by side, end to end: one `mtproto serve` (release build, loopback),
# and against that same server, one after the other, in one session:
#   - ours:     `mtproto bench --transport intermediate`,
#   - Telethon: 1.45.0 from PyPI, its MTProtoSender over ConnectionTcpIntermediate
#               (telethon_bench.py),
#   - mtcute:   @mtcute/node pinned in package.json, its Node TCP transport
#               (intermediate) (mtcute_bench.mjs),
# each with one connection and C calls in flight, for C in $CONCURRENCY,
# each for $DURATION seconds, every answer checked. Then report.py writes
# the ratio table and the plot.
#
#   bash benches/side_by_side/run.sh            # by hand; not run in CI
#
# Env: DURATION (seconds per run, default 10), CONCURRENCY (default
# "1 16 256"), SERVE_FLAGS (default "--threads 1": a single-threaded server
# carries the most calls on this 2-core machine, so the clients' differences
# show), OUT (default benches/side_by_side/results: results.jsonl,
# table.md, plot.svg), TELETHON_VENV, CARGO_TARGET_DIR.
# A client that cannot run (no Python venv, no npm) is skipped, and the
# table says why. Loopback only; every run is bounded by a timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"
HERE="$ROOT/benches/side_by_side"
DURATION="${DURATION:-10}"
CONCURRENCY="${CONCURRENCY:-1 16 256}"
OUT="${OUT:-$HERE/results}"
SERVE_FLAGS="${SERVE_FLAGS:---threads 1}"
RUN_TIMEOUT=$(( ${DURATION%.*} + 120 ))
export PYTHONUNBUFFERED=1

log() { echo "side-by-side: $*" >&2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/side-by-side.XXXXXX")"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- our binary -----------------------------------------------------------
log "building mtproto (release)"
cargo build -q --release -p mtproto-cli --bin mtproto
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
MTPROTO="$TARGET_DIR/release/mtproto"

# --- the peers ------------------------------------------------------------
TELETHON_SKIP=""
# shellcheck source=tests/interop/telethon_venv.sh
source "$ROOT/tests/interop/telethon_venv.sh"
ensure_telethon_venv >&2 || TELETHON_SKIP="no Python venv with Telethon $TELETHON_VERSION (pip install failed)"
TELETHON_NAME="telethon $TELETHON_VERSION"

MTCUTE_SKIP=""
MTCUTE_DIR="$TARGET_DIR/side-by-side-mtcute"
MTCUTE_VERSION="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"]["@mtcute/node"])' "$HERE/package.json")"
MTCUTE_NAME="mtcute $MTCUTE_VERSION"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  MTCUTE_SKIP="no node/npm on this machine"
else
  mkdir -p "$MTCUTE_DIR"
  cp "$HERE/package.json" "$HERE/mtcute_bench.mjs" "$MTCUTE_DIR/"
  installed="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$MTCUTE_DIR/node_modules/@mtcute/node/package.json" 2>/dev/null || true)"
  if [[ "$installed" != "$MTCUTE_VERSION" ]]; then
    log "installing @mtcute/node $MTCUTE_VERSION into $MTCUTE_DIR"
    (cd "$MTCUTE_DIR" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2) ||
      MTCUTE_SKIP="npm install of @mtcute/node $MTCUTE_VERSION failed"
  fi
fi

# --- the server -----------------------------------------------------------
PEM="$WORK/server.pem"
# shellcheck disable=SC2086 # SERVE_FLAGS is a list of flags
"$MTPROTO" serve --port 0 --json --quiet --write-public-key "$PEM" $SERVE_FLAGS >"$WORK/serve.log" 2>&1 </dev/null &
SERVER_PID=$!
for _ in $(seq 1 300); do
  grep -q '"event": "listening"' "$WORK/serve.log" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { log "the server exited:"; cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
PORT="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$WORK/serve.log")"
log "mtproto serve $SERVE_FLAGS on 127.0.0.1:$PORT"

# --- the runs -------------------------------------------------------------
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
# record NAME C SKIP_REASON -- COMMAND...: one JSON line into $RESULTS.
record() {
  local name="$1" c="$2" skip="$3"; shift 4
  if [[ -n "$skip" ]]; then
    python3 -c 'import json,sys; print(json.dumps({"client": sys.argv[1], "concurrency": int(sys.argv[2]), "skipped": sys.argv[3]}))' \
      "$name" "$c" "$skip" >>"$RESULTS"
    return
  fi
  log "$name, $c in flight, ${DURATION}s"
  local line rc=0
  line="$(timeout "$RUN_TIMEOUT" "$@" </dev/null 2>"$WORK/err")" || rc=$?
  line="$(printf '%s\n' "$line" | grep '^{' | tail -n1 || true)"
  if [[ -z "$line" ]]; then
    local why
    why="exit $rc: $(tail -c 300 "$WORK/err" | tr '\n' ' ')"
    log "$name failed: $why"
    python3 -c 'import json,sys; print(json.dumps({"client": sys.argv[1], "concurrency": int(sys.argv[2]), "skipped": sys.argv[3]}))' \
      "$name" "$c" "$why" >>"$RESULTS"
    return
  fi
  python3 -c 'import json,sys; d=json.loads(sys.argv[2]); d["client"]=sys.argv[1]; print(json.dumps(d))' \
    "$name" "$line" >>"$RESULTS"
}

for c in $CONCURRENCY; do
  record ours "$c" "" -- "$MTPROTO" bench --addr "127.0.0.1:$PORT" --rsa-key "$PEM" \
    --transport intermediate --connections 1 --concurrency "$c" --duration "$DURATION" --json
  record "$TELETHON_NAME" "$c" "$TELETHON_SKIP" -- "${TELETHON_PY:-python3}" "$HERE/telethon_bench.py" \
    127.0.0.1 "$PORT" "$PEM" "$c" "$DURATION"
  record "$MTCUTE_NAME" "$c" "$MTCUTE_SKIP" -- node "$MTCUTE_DIR/mtcute_bench.mjs" \
    127.0.0.1 "$PORT" "$PEM" "$c" "$DURATION"
done

python3 "$HERE/report.py" "$RESULTS" "$OUT/table.md" "$OUT/plot.svg"
log "wrote $RESULTS, $OUT/table.md, $OUT/plot.svg"
cat "$OUT/table.md"
