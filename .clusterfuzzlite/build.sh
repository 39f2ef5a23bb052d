#!/bin/bash -eu
# ClusterFuzzLite build: the OSS-Fuzz build script, unchanged (builds every
# `cargo fuzz list` target with the sanitizer flags base-builder-rust sets,
# copies them to $OUT with their seed corpora: fuzz/corpus/<t> plus
# fuzz/regressions/<t>).
exec bash "$SRC/mtproto-rs/fuzz/oss-fuzz/build.sh"
