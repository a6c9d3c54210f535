#!/usr/bin/env bash
# Independent conformance checks (conformance/README.md): builds the Maven module, starts `dmp-fhir serve` on a
# free port from a temporary folder, records live answers of every interaction kind in JSON and XML, runs the
# HL7/HAPI validator over seed_data/, capability/, profiles/ and those answers, then HAPI's IGenericClient tour.
#
#   bash conformance/run.sh        # env: PDSM_IG (default ../shared/ig/ans.fhir.fr.pdsm-3.1.1 beside the clone)
#
# Maven works offline (-o) once ~/.m2 holds the dependencies; the first run fetches them from Maven Central.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
PDSM_IG="${PDSM_IG:-$REPO/../shared/ig/ans.fhir.fr.pdsm-3.1.1}"
[[ -d "$PDSM_IG" ]] || PDSM_IG="/work/shared/ig/ans.fhir.fr.pdsm-3.1.1"
log() { echo "[conformance] $*" >&2; }

# --- build: offline when the local repository has everything, else one online fetch --------------------------
if ! (cd "$HERE" && mvn -q -o -B compile >/dev/null 2>&1); then
  log "fetching the Maven dependencies (first run)"
  (cd "$HERE" && mvn -q -B compile)
fi
CP="$HERE/target/classes:$HERE/target/lib/*"

# --- the server, on a free port, from a temporary folder (its dev key stays out of the repository) ------------
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dmp-fhir-conformance.XXXXXX")"
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
unset DMP_FHIR_JWT_SECRET DMP_FHIR_JWKS_FILE DMP_FHIR_MONGODB_URI DMP_FHIR_BASE_URL DMP_FHIR_JWT_AUDIENCE DMP_FHIR_JWT_ISSUER
(cd "$WORK" && PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" exec python3 -m fhir_server.cli serve --host 127.0.0.1 \
  --port "$PORT" </dev/null >"$WORK/server.log" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -sf "$BASE/fhir/metadata" -o /dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; log "the server did not start"; exit 1; }
  sleep 0.5
done
log "server on $BASE"

# --- (a) live answers, then the validator -------------------------------------------------------------------
RECORDED="$HERE/target/recorded"
rm -rf "$RECORDED"
python3 "$HERE/record.py" "$BASE" "$RECORDED" >"$WORK/record.log"
log "$(tail -1 "$WORK/record.log")"
# the tour writes too, so it runs after the recording (the recorded answers come from the seed data as loaded)
VALIDATE_STATUS=0
java -cp "$CP" fr.dmp.conformance.Validate --profiles "$REPO/profiles" --ig "$PDSM_IG" \
  --exclusions "$HERE/exclusions.txt" --root "$REPO" \
  "$REPO/seed_data" "$REPO/capability" "$REPO/profiles" "$RECORDED" 2>"$WORK/validator.log" || VALIDATE_STATUS=$?

# --- (b) HAPI's generic client tour -------------------------------------------------------------------------
TOUR_STATUS=0
java -cp "$CP" fr.dmp.conformance.ClientTour "$BASE" 2>"$WORK/tour.log" || TOUR_STATUS=$?
[[ $TOUR_STATUS -eq 0 ]] || tail -20 "$WORK/tour.log" >&2
log "validator exit $VALIDATE_STATUS, client tour exit $TOUR_STATUS"
[[ $VALIDATE_STATUS -eq 0 && $TOUR_STATUS -eq 0 ]]
