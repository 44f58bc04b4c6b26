#!/bin/bash
# What a submit writes to SQLite's write-ahead log, page by page, by the table or index
# each page belongs to.
#
#   scripts/log-pages.sh [BINARY] [N] [IN_FLIGHT]
#       (BINARY: target/release/xianjie, N: 30, IN_FLIGHT: 1)
#
# Starts a hub on a fresh data directory and fills it with `xianjie bench --endpoint`
# for a few seconds. With one in flight, it then submits N referrals with the command
# line, copying the log after each: the log starts again after each checkpoint, so its
# last transaction is that submit's, and the figures are pages a submit. With more, it
# copies the log N times while the bench keeps IN_FLIGHT submits in flight, counts every
# whole transaction of the copies once, and gives pages a commit (a commit carries many
# submits) and the pages of the commits against their letters' chunk pages (about two a
# letter: half of it is pages a submit). Larger batches share more pages, so compare
# builds at batches of a size (the chunk pages a commit say how many submits it held).
# Pages are named with SQLite's `dbstat` table (Python's sqlite3 has it).
set -euo pipefail
bin=${1:-target/release/xianjie}
n=${2:-30}
in_flight=${3:-1}
port=${XIANJIE_PAGES_PORT:-7611}
dir=$(mktemp -d /tmp/xianjie-pages.XXXXXX)
hub=""
trap '[ -n "$hub" ] && kill "$hub" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

XIANJIE_CLOCK_START=2026-09-10T02:00:00Z XIANJIE_LOG=warn XIANJIE_METRICS_LISTEN=127.0.0.1:0 \
    XIANJIE_WORKBENCH_LISTEN=off XIANJIE_REQUESTS_PER_SECOND=1000000 XIANJIE_REQUEST_BURST=1000000 \
    "$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir/hub" > "$dir/hub.log" 2>&1 &
hub=$!
for _ in $(seq 50); do [ -f "$dir/hub/pki/jcy.crt" ] && break; sleep 0.2; done
sleep 1
mkdir "$dir/logs"
if [ "$in_flight" -gt 1 ]; then
    "$bin" bench --endpoint "https://127.0.0.1:$port" --pki-dir "$dir/hub/pki" --runs 1 --seconds 10 \
        --referrals 2000 --concurrency "$in_flight" > "$dir/bench.txt" &
    bench=$!
    for _ in $(seq 120); do grep -q 'flight, no-op' "$dir/bench.txt" && break; sleep 0.5; done
    sleep 3
    for i in $(seq "$n"); do
        cp "$dir/hub/xianjie.db-wal" "$dir/logs/$i"
        sleep 0.05
    done
    wait "$bench"
else
"$bin" bench --endpoint "https://127.0.0.1:$port" --pki-dir "$dir/hub/pki" --runs 1 --seconds 3 \
    --referrals 2000 --concurrency 1 > "$dir/bench.txt"
for i in $(seq "$n"); do
    id=$(python3 -c "
import random
body = '3505821990%02d%02d%03d' % (1 + random.randrange(12), 1 + random.randrange(28), random.randrange(1000))
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
print(body + '10X98765432'[sum(int(c) * w for c, w in zip(body, weights)) % 11])")
    "$bin" member jcy submit --endpoint "https://127.0.0.1:$port" --pki-dir "$dir/hub/pki" \
        --kind social_assistance --to mz --name "张三$i" --id-number "$id" --situation serious_injury \
        --need subsistence_allowance --narrative 受伤 --case-reference "晋检刑诉〔2026〕$i号" \
        --investigation-ended-on 2026-09-01 > /dev/null
    sleep 0.3
    cp "$dir/hub/xianjie.db-wal" "$dir/logs/$i"
done
fi
cp "$dir/hub/xianjie.db" "$dir/db"

python3 - "$dir" "$in_flight" <<'PY'
import collections, glob, sqlite3, struct, sys
root, alone = sys.argv[1], sys.argv[2] == "1"
owner = {page: name for name, page in sqlite3.connect(f"{root}/db").execute("SELECT name, pageno FROM dbstat")}
pages, counted, seen = collections.Counter(), 0, set()
for log in glob.glob(f"{root}/logs/*"):
    data = open(log, "rb").read()
    size, salts = struct.unpack(">I", data[8:12])[0], data[16:24]
    offset, transactions, current = 32, [], []
    while offset + 24 + size <= len(data) and data[offset + 8:offset + 16] == salts:
        page, after = struct.unpack(">II", data[offset:offset + 8])
        current.append(page)
        if after:
            transactions.append((salts, offset, current))
            current = []
        offset += 24 + size
    # One at a time, the last transaction is the submit's; under load, each whole
    # transaction once, whichever copies hold it.
    for salt, end, frames in transactions[-1:] if alone else transactions:
        if (salt, end) not in seen:
            seen.add((salt, end))
            counted += 1
            pages.update(owner.get(page, "?") for page in frames)
what = "submits" if alone else "commits"
print(f"{counted} {what}, {sum(pages.values()) / counted:.1f} pages each written to the log")
if not alone and pages["attachment_chunks"]:
    print(f"  {sum(pages.values()) / pages['attachment_chunks']:.2f} pages for each page of the letters' chunks")
for name, count in pages.most_common():
    print(f"  {count / counted:6.2f}  {name}")
PY
