#!/usr/bin/env bash
# Interop test: Telethon 1.45.0 (from PyPI) against our mtproto-testserver.
#
# - makes (or reuses) a venv with telethon==1.45.0 and its pinned deps,
# - builds mtproto-testserver and runs it twice on loopback with the fixed
#   test key: once plain, once with its clock 600 s ahead (so Telethon gets a
#   bad_msg_notification 16/17 besides the bad_server_salt for its salt 0),
# - runs tests/interop/telethon_interop.py against each (Telethon's
#   MTProtoSender over ConnectionTcpFull / Intermediate / Abridged),
# - checks the server's log: every key Telethon made is logged as
#   HandshakeDone with rsa_scheme LegacySha1 (Telethon's pre-RSA_PAD scheme)
#   and p_q_inner_data without dc, and all three transports were detected.
# Exits non-zero on any failure. Loopback only, no stdin needed, idempotent.
#
# Env: TELETHON_VENV (default target/telethon-venv), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"

# shellcheck source=tests/interop/telethon_venv.sh
source "$ROOT/tests/interop/telethon_venv.sh"
PY_TIMEOUT=600
export PYTHONUNBUFFERED=1

log() { echo "interop: $*"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/telethon-interop.XXXXXX")"
SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- venv ---------------------------------------------------------------
ensure_telethon_venv || { log "FAIL: no Telethon venv"; exit 1; }

# --- server binary ------------------------------------------------------
log "building mtproto-testserver and mtproto"
cargo build -q -p mtproto-testserver --bin mtproto-testserver -p mtproto-cli --bin mtproto
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
SERVER_BIN="$TARGET_DIR/debug/mtproto-testserver"
CLI_BIN="$TARGET_DIR/debug/mtproto"
[[ -x "$SERVER_BIN" ]] || { log "FAIL: no server binary at $SERVER_BIN"; exit 1; }

# --- one round: start server, run Telethon, check the log ---------------
# run_round NAME [server flags...] -- [script flags...]
run_round() {
  local name="$1"; shift
  local sflags=() pflags=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do sflags+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  pflags=("$@")
  local slog="$WORK/server-$name.log" plog="$WORK/telethon-$name.log" pem="$WORK/key-$name.pem"

  log "round '$name': starting server ${sflags[*]:-}"
  "$SERVER_BIN" 127.0.0.1:0 --test-key "${sflags[@]}" >"$slog" 2>&1 </dev/null &
  SERVER_PID=$!
  local i
  for i in $(seq 1 300); do
    grep -q -- '-----END RSA PUBLIC KEY-----' "$slog" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { log "FAIL: server exited:"; cat "$slog"; return 1; }
    sleep 0.1
  done
  grep -q -- '-----END RSA PUBLIC KEY-----' "$slog" || { log "FAIL: server did not start:"; cat "$slog"; return 1; }
  local addr host port
  addr="$(sed -n 's/^listening on //p' "$slog" | head -n1)"
  host="${addr%:*}"; port="${addr##*:}"
  [[ "$host" == "127.0.0.1" && "$port" =~ ^[0-9]+$ ]] || { log "FAIL: bad address '$addr'"; return 1; }
  sed -n '/-----BEGIN RSA PUBLIC KEY-----/,/-----END RSA PUBLIC KEY-----/p' "$slog" >"$pem"
  log "server at $addr, $(grep '^rsa fingerprint' "$slog")"

  local rc=0 sessions="$WORK/stringsessions-$name"
  : >"$sessions"
  STRINGSESSION_OUT="$sessions" timeout "$PY_TIMEOUT" "$TELETHON_PY" "$ROOT/tests/interop/telethon_interop.py" \
    "$host" "$port" "$pem" "${pflags[@]}" </dev/null 2>&1 | tee "$plog" || rc=$?

  # Telethon's StringSession of each key it made, imported into our session
  # file: our client resumes Telethon's key (no handshake, no RSA key given).
  local ss_fails=0 ss_n=0 sname sstr sfile out
  while read -r _ sname sstr; do
    ss_n=$((ss_n + 1))
    sfile="$WORK/telethon-$name-$sname.mtrs"
    if ! "$CLI_BIN" session import-telethon "$sstr" "$sfile" >/dev/null </dev/null; then
      echo "FAIL stringsession: $sname: not imported"; ss_fails=$((ss_fails + 1)); continue
    fi
    out="$("$CLI_BIN" connect --addr "$host:$port" --session "$sfile" set-typing --peer self \
      --action typing </dev/null 2>&1)" || true
    if [[ "$out" == "true" ]]; then
      echo "ok   stringsession: $sname key resumed by our client (no handshake)"
    else
      echo "FAIL stringsession: $sname: $out"; ss_fails=$((ss_fails + 1))
    fi
    if [[ "$("$CLI_BIN" session export-telethon "$sfile" </dev/null)" != "$sstr" ]]; then
      echo "FAIL stringsession: $sname: exported again, the string differs"; ss_fails=$((ss_fails + 1))
    fi
  done < <(grep '^stringsession ' "$sessions")
  sleep 0.3 # let the server log the last events
  stop_server
  [[ $ss_n -eq 3 && $ss_fails -eq 0 ]] || { log "FAIL: round '$name': StringSession checks ($ss_n seen, $ss_fails failed)"; return 1; }

  echo "--- server log ($name) ---"
  sed '1,/-----END RSA PUBLIC KEY-----/d; /^$/d' "$slog"
  echo "---"
  if [[ $rc -ne 0 ]]; then
    log "FAIL: round '$name': telethon_interop.py exited $rc"
    return 1
  fi

  # The server log must show the legacy scheme for every key Telethon made.
  local fails=0 n=0 cls kid
  while read -r _ cls kid; do
    n=$((n + 1))
    if grep -q "HandshakeDone {.*rsa_scheme: LegacySha1, inner: Plain, auth_key_id: $kid }" "$slog"; then
      echo "ok   server log: $cls key $kid made with rsa_scheme LegacySha1, inner Plain"
    else
      echo "FAIL server log: no HandshakeDone LegacySha1/Plain for $cls key $kid"
      fails=$((fails + 1))
    fi
  done < <(grep '^keyid ' "$plog")
  if [[ $n -ne 3 ]]; then
    echo "FAIL server log: expected 3 Telethon keys, got $n"
    fails=$((fails + 1))
  fi
  local t
  for t in Full Intermediate Abridged; do
    if grep -q "Connected { .*transport: $t }" "$slog"; then
      echo "ok   server log: transport $t detected"
    else
      echo "FAIL server log: transport $t not seen"
      fails=$((fails + 1))
    fi
  done
  if grep -q "rsa_scheme: RsaPad" "$slog"; then
    echo "FAIL server log: an RSA_PAD handshake appeared (Telethon 1.45 should not use it)"
    fails=$((fails + 1))
  fi
  [[ $fails -eq 0 ]] || { log "FAIL: round '$name': $fails server-log check(s) failed"; return 1; }
  log "round '$name' passed"
}

run_round plain
run_round clock-skew --clock-skew 600 -- --expect-bad-msg
log "Telethon $TELETHON_VERSION interop: all checks passed"
