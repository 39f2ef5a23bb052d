# Sourced by tests/interop/run.sh and benches/side_by_side/run.sh: makes (or
# reuses) a venv with Telethon 1.45.0 and its dependencies, pinned to the
# versions it resolved to, and sets TELETHON_PY to its python.
#
# Needs ROOT (the repository root); TELETHON_VENV overrides the folder
# (default $ROOT/target/telethon-venv).
TELETHON_VERSION=1.45.0
TELETHON_PINS=(telethon==$TELETHON_VERSION rsa==4.9.1 pyasn1==0.6.5 pyaes==1.6.1)
TELETHON_VENV="${TELETHON_VENV:-$ROOT/target/telethon-venv}"
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1

telethon_venv_ok() {
  [[ -x "$TELETHON_VENV/bin/python" ]] &&
    "$TELETHON_VENV/bin/python" -c "import sys, telethon, rsa, pyaes; sys.exit(telethon.__version__ != '$TELETHON_VERSION')" 2>/dev/null
}

# ensure_telethon_venv: returns non-zero (with a message) if it cannot.
ensure_telethon_venv() {
  if telethon_venv_ok; then
    echo "telethon: reusing venv $TELETHON_VENV"
  else
    echo "telethon: creating venv $TELETHON_VENV with ${TELETHON_PINS[*]}"
    rm -rf "$TELETHON_VENV"
    mkdir -p "$(dirname "$TELETHON_VENV")"
    python3 -m venv "$TELETHON_VENV" &&
      "$TELETHON_VENV/bin/python" -m pip install -q "${TELETHON_PINS[@]}" || true
    telethon_venv_ok || { echo "telethon: $TELETHON_VERSION not importable from $TELETHON_VENV"; return 1; }
  fi
  TELETHON_PY="$TELETHON_VENV/bin/python"
}
