#!/usr/bin/env bash
# Containers for real: builds the local base image (cached), every service image
# and the storefront image on it, runs them as Kubernetes would (env, probes,
# limits, user and /tmp size from deploy/k8s; read-only root, cap-drop ALL,
# --network host) against the local PostgreSQL, checks the web app from the
# storefront and gateway images, smoke-tests the API through the gateway
# container and checks that `docker stop` drains in-flight requests.
# See deploy/k8s/src/containers-test.ts.
#
#   scripts/containers-test.sh                     # PostgreSQL at 127.0.0.1:5432, user postgres
#   CONTAINERS_TEST_PG=postgres://u:p@127.0.0.1:5433/postgres scripts/containers-test.sh
#   KEEP_CONTAINERS=1 scripts/containers-test.sh   # leave the containers for a look
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

base=$(bash scripts/build-base-image.sh | tail -1)
echo "[containers] base image $base ready after $(( $(date +%s) - start )) s"

# provision.sh (the Kubernetes Job's script) runs with psql on the host.
if ! command -v psql >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client >&2
fi

# The driver is TypeScript in deploy/k8s; tsc -b is incremental (no-op when built).
npx tsc -b deploy/k8s
node deploy/k8s/dist/src/containers-test.js --base "$base"
