#!/usr/bin/env bash
# Start a throwaway PostgreSQL from Debian's package, run the given command with DATABASE_URL set, stop it.
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DIR=$(mktemp -d /tmp/relais-pg.XXXXXX)
# Below the kernel's ephemeral range (32768-60999 on Linux), so a client's outgoing connection never holds it.
PORT=${RELAIS_PG_PORT:-25432}
RUNAS=()
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; RUNAS=(runuser -u postgres --); fi
"${RUNAS[@]}" "$BIN/initdb" -D "$DIR/data" -U relais -A trust >/dev/null
"${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null
trap '"${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null; rm -rf "$DIR"' EXIT
"${RUNAS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U relais relais_test
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
DATABASE_URL="postgresql+psycopg://relais@127.0.0.1:$PORT/relais_test" "$@"
