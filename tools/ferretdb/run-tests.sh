#!/usr/bin/env bash
# Runs the pytest suite against FerretDB (MongoDB wire protocol on SQLite): builds tools/ferretdb, starts it on a
# free loopback port with a throw-away data directory, points DMP_FHIR_MONGODB_URI at it, stops it afterwards.
# Usage: tools/ferretdb/run-tests.sh [pytest arguments]   (default: the whole suite)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
# the data are thrown away at the end (tens of MB): kept in memory where the machine has a tmpfs, since SQLite's
# syncs on a slow disk made the run wait on I/O (a quarter of the time in iowait, the run 4x longer)
shm="${FERRETDB_TMPDIR:-/dev/shm}"
if [ -d "$shm" ] && [ -w "$shm" ]; then work="$(mktemp -d -p "$shm")"; else work="$(mktemp -d)"; fi
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

(cd "$here" && "$GO" build -o "$work/ferretdb" .)
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$work/ferretdb" -listen-addr "127.0.0.1:$port" -data-dir "$work/data" >"$work/ferretdb.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do                      # up to 20 s for the listener
  grep -q "ferretdb ready" "$work/ferretdb.log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/ferretdb.log"; exit 1; }
  sleep 0.2
done
python3 - "$port" <<'PY'
import sys, pymongo
pymongo.MongoClient(f"mongodb://127.0.0.1:{sys.argv[1]}/", serverSelectionTimeoutMS=20000).admin.command("ping")
PY
echo "FerretDB on 127.0.0.1:$port"
cd "$root"
DMP_FHIR_MONGODB_URI="mongodb://127.0.0.1:$port/" python3 -m pytest -q -p no:cacheprovider "$@"
