#!/usr/bin/env bash
# Runs the build stage of deploy/Dockerfile without a container engine: a clean
# directory holding only what its COPY lines bring in, and its cargo build there (as a
# debug build sharing this checkout's target directory, so that dependencies are not
# built again). Fails when the Dockerfile leaves out a file the manifest needs.
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
(cd "$dir" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" cargo build --locked --quiet --bin xianjie)
echo "dockerfile-check: cargo builds the hub from what the Dockerfile copies"
