# Sourced by tests/postman/run.sh and conformance/run.sh: a development-mode `dmp-fhir serve` on a free port,
# from a temporary working directory (its dev key stays out of the repository), stopped on exit (trap).
#
#   source scripts/live-server.sh; start_live_server "$SERVE_COMMAND" WAIT_SECONDS
# sets PORT, BASE, WORK (removed on exit) and SERVER_PID; needs log() from the caller.

SERVER_PID=""
WORK=""
cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  [[ -n "$WORK" ]] && rm -rf "$WORK"
  exit "$status"
}

start_live_server() {
  local serve="$1" wait_seconds="${2:-60}"
  PORT="${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}"
  BASE="http://127.0.0.1:$PORT"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/dmp-fhir-live.XXXXXX")"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Development mode: no key and no JWKS, so /dev/token is on; the embedded store, so no database.
  unset DMP_FHIR_JWT_SECRET DMP_FHIR_JWKS_FILE DMP_FHIR_MONGODB_URI DMP_FHIR_BASE_URL \
        DMP_FHIR_JWT_AUDIENCE DMP_FHIR_JWT_ISSUER
  log "starting: $serve serve --port $PORT (in $WORK)"
  (cd "$WORK" && exec $serve serve --host 127.0.0.1 --port "$PORT" </dev/null >"$WORK/server.log" 2>&1) &
  SERVER_PID=$!
  local deadline=$((SECONDS + wait_seconds))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/fhir/metadata" 2>/dev/null || true)" == "200" ]]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "the server exited before answering:"; cat "$WORK/server.log" >&2; exit 3
    fi
    if (( SECONDS >= deadline )); then
      log "no 200 from $BASE/fhir/metadata after ${wait_seconds}s:"; cat "$WORK/server.log" >&2; exit 3
    fi
    sleep 0.5
  done
  log "server ready: $(head -n 1 "$WORK/server.log")"
}
