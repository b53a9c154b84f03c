#!/bin/sh
# Creates, in the cluster, every Secret the production overlay reads, with
# fresh random values, so that no credential ever passes through git:
#
#   ADMIN_EMAIL=ops@example.com deploy/k8s/overlays/production/create-secrets.sh
#
# A Secret that already exists is left alone (re-running is safe; rotate one
# by deleting it and running again, then `kubectl rollout restart`). The
# values are printed nowhere; read one back with
#   kubectl -n ecommerce get secret user-service-admin -o jsonpath='{.data.password}' | base64 -d
#
# Env: ADMIN_EMAIL (required: the first admin account), NAMESPACE (ecommerce),
# DB_HOST (postgres: the in-cluster server; set your managed server's host),
# DB_PORT (5432), DB_NAME (ecommerce), DB_SSLMODE (disable; use require or
# verify-full for a managed server), KUBECTL (kubectl).
# Needs openssl (random values, the Ed25519 signing key).
# With External Secrets Operator instead, see external-secrets.example.yaml.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ns=${NAMESPACE:-ecommerce}
kubectl=${KUBECTL:-kubectl}
db_host=${DB_HOST:-postgres}
db_port=${DB_PORT:-5432}
db_name=${DB_NAME:-ecommerce}
: "${ADMIN_EMAIL:?set ADMIN_EMAIL to the first admin account's email}"

# Hex: easy to paste into a shell or YAML. (Any password works: the workloads
# never put one inside a URL, so one from a secret manager may hold @ : / ? # %.)
rand() { openssl rand -hex 24; }

case $ns in
  '' | *[!a-z0-9-]* | -* | *-) echo "NAMESPACE must be a DNS label (lower-case letters, digits, '-'): $ns" >&2; exit 1 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The namespace with its Pod Security labels, before anything lands in it:
# base/namespace.yaml's Namespace (its first document only: the ConfigMap
# after it comes with the overlay), named $ns.
awk -v ns="$ns" '/^---/ { exit } /^  name: / && !named { print "  name: " ns; named = 1; next } { print }' \
  "$here/../../base/namespace.yaml" > "$tmp/namespace.yaml"
$kubectl apply -f "$tmp/namespace.yaml"

exists() { $kubectl -n "$ns" get secret "$1" >/dev/null 2>&1; }

create() { # <name> <args for kubectl create secret generic...>
  name=$1; shift
  if exists "$name"; then
    echo "secret/$name exists: left as it is"
    return 0
  fi
  $kubectl -n "$ns" create secret generic "$name" "$@" >/dev/null
  echo "secret/$name created"
}

create postgres-superuser --from-literal=username=postgres --from-literal=password="$(rand)"
# One layout for every database client's Secret, postgres_exporter's included.
for role in user_service product_service order_service postgres_exporter; do
  case $role in
    postgres_exporter) name=postgres-exporter-db ;;
    *) name="${role%_service}-service-db" ;;
  esac
  create "$name" \
    --from-literal=host="$db_host" --from-literal=port="$db_port" --from-literal=database="$db_name" \
    --from-literal=username="$role" --from-literal=password="$(rand)" \
    --from-literal=sslmode="${DB_SSLMODE:-disable}"
done

if ! exists user-service-jwt; then
  openssl genpkey -algorithm ed25519 -out "$tmp/private-key.pem" 2>/dev/null
fi
create user-service-jwt --from-file=private-key.pem="$tmp/private-key.pem"
create user-service-admin --from-literal=email="$ADMIN_EMAIL" --from-literal=password="$(rand)"
create order-service-client --from-literal=client-id=order-service --from-literal=client-secret="$(rand)"
create grafana-admin --from-literal=username=admin --from-literal=password="$(rand)"
