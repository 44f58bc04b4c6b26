#!/usr/bin/env bash
# Runs the build stage of deploy/Dockerfile without a container engine: a clean
# directory holding only what its COPY lines bring in, and the hub built there. Fails
# when the Dockerfile leaves out a file the manifest needs.
#
# The build is a debug one sharing this checkout's target directory, and a test build
# of the binary (`cargo test --no-run --bin xianjie`: the library as it is, the binary
# with its unit tests): that gives the dependencies the features the test suite's
# build gives them (its dev-dependencies add tokio's `process` and `test-util`, and
# criterion's), so that the test build after this one finds them built. A plain
# `cargo build` built tokio and the sixty crates standing on it a second time for the
# tests: 3 minutes of a cold run (15 against 18 minutes for this check and the test
# build, on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=$(mktemp -d /tmp/xianjie-image.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# COPY lines of the first (build) stage; `--from` copies belong to later stages.
awk '/^FROM/ { stage++ } stage == 1 && /^COPY / && !/--from/' deploy/Dockerfile | while read -r _ args; do
    read -ra parts <<<"$args"
    dest=${parts[-1]}
    unset 'parts[-1]'
    for source in "${parts[@]}"; do
        if [ "$dest" = "./" ] || [ "$dest" = "." ]; then
            cp -r "$source" "$dir/"
        else
            mkdir -p "$dir/$(dirname "$dest")"
            cp -r "$source" "$dir/$dest"
        fi
    done
done
echo "dockerfile-check: the build stage copies $(cd "$dir" && find . -type f | wc -l) files"
(cd "$dir" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" cargo test --locked --quiet --no-run --bin xianjie)
echo "dockerfile-check: cargo builds the hub from what the Dockerfile copies"
