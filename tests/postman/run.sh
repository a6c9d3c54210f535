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

# --- the server (scripts/live-server.sh: free port, temporary working directory, stopped on exit) ----------
# shellcheck source=../../scripts/live-server.sh
source "$DIR/../../scripts/live-server.sh"
start_live_server "${DMP_FHIR_SERVE:-dmp-fhir}" "$WAIT_SECONDS"

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
