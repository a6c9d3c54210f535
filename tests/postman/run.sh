#!/usr/bin/env bash
# Runs the Postman collection with newman against a freshly started `dmp-fhir serve` (embedded store, seed data,
# development mode so that POST /dev/token mints tokens).
#
#   bash tests/postman/run.sh            # needs: dmp-fhir on PATH (pip install -e .), node + npm
#   bash tests/postman/run.sh --folder "01 Tokens (POST /dev/token, development mode)"   # extra newman options
#
# newman is installed locally into tests/postman/.npm (not globally) the first time. The server runs from a
# temporary working directory, so its development key (.dmp-fhir/dev-secret) is not written into the repository.
# Exits with newman's status. Environment: NEWMAN_VERSION (default 6), DMP_FHIR_SERVE (default: dmp-fhir),
# POSTMAN_WAIT_SECONDS (default 60), NEWMAN_REPORTERS (default cli; a json report is always written for the closing line).
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COLLECTION="$DIR/dmp-fhir.postman_collection.json"
ENVIRONMENT="$DIR/dmp-fhir.postman_environment.json"
NEWMAN_VERSION="${NEWMAN_VERSION:-6}"
WAIT_SECONDS="${POSTMAN_WAIT_SECONDS:-60}"
REPORTERS="${NEWMAN_REPORTERS:-cli}"
NEWMAN="$DIR/.npm/node_modules/.bin/newman"

log() { echo "[postman] $*" >&2; }

# --- newman, local to this folder ---------------------------------------------------------------
if [[ ! -x "$NEWMAN" ]]; then
  command -v npm >/dev/null || { log "npm is required (apt-get install nodejs npm)"; exit 2; }
  log "installing newman@$NEWMAN_VERSION into $DIR/.npm (latest: $(npm view newman version 2>/dev/null || echo '?'))"
  npm install --no-audit --no-fund --no-save --loglevel=error --prefix "$DIR/.npm" "newman@$NEWMAN_VERSION" >&2
fi
log "newman $("$NEWMAN" --version)"

# --- a free port ----------------------------------------------------------------------------------
PORT="${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}"
BASE="http://127.0.0.1:$PORT"

# --- the server, from a temporary working directory -------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dmp-fhir-postman.XXXXXX")"
SERVER_PID=""
cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Development mode: no key and no JWKS, so /dev/token is on; the embedded store, so no database.
unset DMP_FHIR_JWT_SECRET DMP_FHIR_JWKS_FILE DMP_FHIR_MONGODB_URI DMP_FHIR_BASE_URL \
      DMP_FHIR_JWT_AUDIENCE DMP_FHIR_JWT_ISSUER
SERVE="${DMP_FHIR_SERVE:-dmp-fhir}"
log "starting: $SERVE serve --port $PORT (in $WORK)"
(cd "$WORK" && exec $SERVE serve --host 127.0.0.1 --port "$PORT" </dev/null >"$WORK/server.log" 2>&1) &
SERVER_PID=$!

deadline=$((SECONDS + WAIT_SECONDS))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/fhir/metadata" 2>/dev/null || true)" == "200" ]]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "the server exited before answering:"; cat "$WORK/server.log" >&2; exit 3
  fi
  if (( SECONDS >= deadline )); then
    log "no 200 from $BASE/fhir/metadata after ${WAIT_SECONDS}s:"; cat "$WORK/server.log" >&2; exit 3
  fi
  sleep 0.5
done
log "server ready: $(head -n 1 "$WORK/server.log")"

# --- newman ---------------------------------------------------------------------------------------
status=0
"$NEWMAN" run "$COLLECTION" --environment "$ENVIRONMENT" --env-var "port=$PORT" \
  --reporters "$REPORTERS,json" --reporter-json-export "$WORK/newman.json" \
  --color off --timeout-request 30000 "$@" || status=$?
if (( status != 0 )); then
  log "newman failed (exit $status); last lines of the server log:"; tail -n 40 "$WORK/server.log" >&2 || true
fi
# One plain closing line for CI logs: assertions passed and failed (requests that got no response count as failed).
python3 - "$WORK/newman.json" <<'PY' || true
import json, sys
stats = json.load(open(sys.argv[1]))["run"]["stats"]
failed = stats["assertions"]["failed"] + stats["requests"]["failed"]
print(f"postman: {stats['assertions']['total'] - stats['assertions']['failed']} passed, {failed} failed")
PY
exit "$status"
