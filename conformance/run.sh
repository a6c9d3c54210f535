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

# --- the server (scripts/live-server.sh: free port, temporary working directory, stopped on exit) ------------
# shellcheck source=../scripts/live-server.sh
source "$REPO/scripts/live-server.sh"
start_live_server "env PYTHONPATH=$REPO${PYTHONPATH:+:$PYTHONPATH} python3 -m fhir_server.cli" 120

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
