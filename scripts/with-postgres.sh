#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: initdb in a temporary directory,
# a free port on 127.0.0.1, XIANJIE_TEST_DATABASE_URL exported for the command, and the
# cluster stopped and removed afterwards, however the command ends.
#
#   scripts/with-postgres.sh cargo test --test hub
#
# initdb refuses to run as root: as root, the cluster runs as the `postgres` user (or a
# `xianjie-pg` user created for it).
set -euo pipefail

for tool in initdb pg_ctl postgres; do
    command -v "$tool" >/dev/null || { echo "with-postgres: $tool not found (install the PostgreSQL server)" >&2; exit 1; }
done

run_as=()
if [ "$(id -u)" = 0 ]; then
    user=postgres
    if ! id "$user" >/dev/null 2>&1; then
        user=xianjie-pg
        id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    fi
    run_as=(runuser -u "$user" --)
fi

dir=$(mktemp -d /tmp/xianjie-pg.XXXXXX)
chmod 755 "$dir"
[ ${#run_as[@]} -eq 0 ] || chown "$user" "$dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
    "${run_as[@]}" pg_ctl -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

"${run_as[@]}" initdb -D "$dir/data" -U xianjie --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
"${run_as[@]}" pg_ctl -D "$dir/data" -l "$dir/postgres.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=400" start >/dev/null \
    || { cat "$dir/postgres.log" >&2; exit 1; }

export XIANJIE_TEST_DATABASE_URL="postgres://xianjie@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $(postgres --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
