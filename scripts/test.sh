#!/usr/bin/env bash
# Every check, as CI runs it: formatting, lints, unit and integration tests (a real hub
# over mutual TLS, and a Python grpcio client, installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import grpc, grpc_tools' 2>/dev/null; then
    echo "installing grpcio and grpcio-tools for the Python client test"
    python3 -m pip install --quiet --disable-pip-version-check 'grpcio>=1.60,<2' 'grpcio-tools>=1.60,<2'
fi

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
