#!/usr/bin/env bash
# Every check, as CI runs it: formatting, lints, unit and integration tests (real hubs
# over mutual TLS, on SQLite and on a throwaway PostgreSQL cluster), the workbench in
# a real browser, the cross-checks against independent implementations, then a
# bounded fuzzing run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Independent implementations the tests compare against: a Python grpcio client, the
# chinese-calendar package for the holiday calendar, openpyxl for the ledgers, and
# aiosmtpd, a real SMTP server that the notification tests send e-mail to.
if ! python3 -c 'import grpc, grpc_tools, grpc_reflection, chinese_calendar, openpyxl, aiosmtpd' 2>/dev/null; then
    echo "installing grpcio, grpcio-tools, grpcio-reflection, chinese-calendar, openpyxl and aiosmtpd for the cross-checks"
    python3 -m pip install --quiet --disable-pip-version-check \
        'grpcio>=1.60,<2' 'grpcio-tools>=1.60,<2' 'grpcio-reflection>=1.60,<2' 'chinese-calendar>=1.10,<2' \
        'openpyxl>=3.1,<4' 'aiosmtpd>=1.4,<2'
fi

# The workbench's browser tests: Debian's Chromium (with CJK fonts, for the
# screenshots) driven by Playwright for Python.
# (grep reads the whole list: with -q it would stop early, fc-list would die of SIGPIPE,
# and pipefail would call the fonts missing.)
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep "Noto Sans CJK" >/dev/null; then
    echo "installing chromium and fonts-noto-cjk for the workbench's browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
# python-docx reads the letters back, independently of the hub's own reader.
if ! python3 -c 'import playwright, pytest, docx' 2>/dev/null; then
    echo "installing playwright, pytest and python-docx for the workbench's browser tests"
    python3 -m pip install --quiet --disable-pip-version-check 'playwright>=1.49,<2' 'pytest>=8,<10' \
        'python-docx>=1.1,<2'
fi

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
# The layers of docs/architecture.md: no module calls one above its own, no cycle.
python3 scripts/layers.py

# The container image's build stage, run on exactly what deploy/Dockerfile copies.
scripts/dockerfile-check.sh

# Everything on the embedded store (SQLite), then the whole hub suite again on a real
# PostgreSQL server, two-replica tests included.
cargo test --locked
echo "== the workbench in a real browser (screenshots in target/workbench-artifacts/)"
# It drives target/debug/xianjie, which `cargo test` just built for the hub suite (a
# `cargo build` here would build the hub a second time, with other features).
python3 -m pytest -q -p no:cacheprovider tests/workbench
echo "== the application layer and the hub suite on PostgreSQL"
# The tests ignored on SQLite (they need PostgreSQL: replicas, migration) run here.
scripts/with-postgres.sh env XIANJIE_TEST_BACKEND=postgres cargo test --locked --lib --test hub -- --include-ignored

# Request validation under arbitrary input, for a bounded time.
scripts/fuzz.sh 30
