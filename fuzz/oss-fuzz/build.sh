#!/bin/bash -eu
# OSS-Fuzz build script (base-builder-rust provides nightly cargo and
# cargo-fuzz, and sets the sanitizer flags through `cargo fuzz build -O`).
cd "$SRC/mtproto-rs/fuzz"
cargo fuzz build -O
FUZZ_OUT=target/x86_64-unknown-linux-gnu/release
for t in $(cargo fuzz list); do
  cp "$FUZZ_OUT/$t" "$OUT/"
  # Seed corpus: the checked-in seeds plus the regression inputs.
  ( cd corpus/$t && zip -q -r "$OUT/${t}_seed_corpus.zip" . )
  if [ -d "regressions/$t" ]; then
    ( cd "regressions/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" . )
  fi
done
