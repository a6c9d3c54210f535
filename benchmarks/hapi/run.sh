#!/usr/bin/env bash
# Build (when needed) and start a HAPI FHIR JPA 8.8.0 server (R4, H2 in memory) at http://127.0.0.1:8080/fhir, for
# benchmarks/side_by_side.py. Not part of CI (a ~300 MB jar, many minutes of Maven the first time).
#   bash benchmarks/hapi/run.sh            # then: python3 benchmarks/side_by_side.py --other http://127.0.0.1:8080/fhir
#   HAPI_M2=/path/to/repo bash benchmarks/hapi/run.sh    # another Maven local repository
# Stop it with: kill "$(cat benchmarks/hapi/target/server.pid)"
set -u
cd "$(dirname "$0")"
JAR=target/hapi-ref-server-1.0.jar
URL=http://127.0.0.1:8080/fhir/metadata
if curl -sf -o /dev/null "$URL"; then echo "already answering at $URL"; exit 0; fi
if [ ! -f "$JAR" ] || [ -n "$(find src pom.xml -newer "$JAR" | head -1)" ]; then
  echo "building..."
  mvn -q -B -Dmaven.repo.local="${HAPI_M2:-$HOME/.m2/repository}" package -DskipTests > target-build.log 2>&1 \
    || { echo "build failed: see benchmarks/hapi/target-build.log"; exit 1; }
fi
nohup java -Xmx1g -jar "$JAR" > target/server.log 2>&1 &
echo $! > target/server.pid
for _ in $(seq 1 150); do
  sleep 2
  if curl -sf -o /dev/null "$URL"; then echo "HAPI FHIR JPA answering at http://127.0.0.1:8080/fhir"; exit 0; fi
  kill -0 "$(cat target/server.pid)" 2>/dev/null || { echo "HAPI died: see benchmarks/hapi/target/server.log"; exit 1; }
done
echo "HAPI did not answer within 300 s: see benchmarks/hapi/target/server.log"; exit 1
