#!/usr/bin/env bash
# Side-by-side end-to-end throughput: benches/benches/e2e.rs built at OLD
# (a commit) and at the work tree, run interleaved (old, new, old, new, ...)
# on the same machine, so load changes hit both alike.
#
#   bash benches/e2e/ab.sh OLD_COMMIT [PAIRS]
#
# The bench file (and its Cargo entries) are copied into a temporary
# worktree of OLD, so OLD needs only the public client/server API the bench
# uses (Client::connect, methods::set_typing, TestServer::start).
set -euo pipefail
cd "$(dirname "$0")/../.."
OLD=${1:?usage: ab.sh OLD_COMMIT [PAIRS]}
PAIRS=${2:-3}
WT=$(mktemp -d /tmp/mtproto-e2e-old.XXXXXX)
trap 'git worktree remove --force "$WT" >/dev/null 2>&1 || true' EXIT
git worktree add --detach "$WT" "$OLD" >/dev/null
cp benches/benches/e2e.rs "$WT/benches/benches/e2e.rs"
cp benches/Cargo.toml "$WT/benches/Cargo.toml"
build() {
  (cd "$1" && cargo bench -p mtproto-benches --bench e2e --no-run --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*e2e[^"]*"' | tail -1 | cut -d'"' -f4)
}
NEW_BIN=$(build .)
OLD_BIN=$(CARGO_TARGET_DIR="$WT/target" build "$WT")
echo "old: $OLD_BIN" >&2
echo "new: $NEW_BIN" >&2
for _ in $(seq "$PAIRS"); do
  E2E_LABEL="old-$OLD" "$OLD_BIN" --bench
  E2E_LABEL=new "$NEW_BIN" --bench
done
