#!/bin/sh
# Env: PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE (superuser connection),
# and for S in USER PRODUCT ORDER: ${S}_DB_HOST ${S}_DB_USER ${S}_DB_PASSWORD,
# plus EXPORTER_DB_USER EXPORTER_DB_PASSWORD.
set -eu
tries=0
until pg_isready -q; do
  tries=$((tries + 1)); [ "$tries" -lt 90 ] || { echo "postgres not ready"; exit 1; }
  sleep 2
done
psql -v ON_ERROR_STOP=1 -q -d postgres -v db="$PGDATABASE" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
psql -v ON_ERROR_STOP=1 -q -v db="$PGDATABASE" <<'SQL'
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SQL
provision() { # <role> <password> <schema> <host from the service's Secret>
  if [ "$4" != "$PGHOST" ]; then
    echo "skip $1: its database is on $4, not $PGHOST"; return 0
  fi
  psql -v ON_ERROR_STOP=1 -q -v db="$PGDATABASE" -v role="$1" -v pw="$2" -v schema="$3" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'pw';
ALTER ROLE :"role" IN DATABASE :"db" SET search_path = :"schema";
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";
CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"role";
ALTER SCHEMA :"schema" OWNER TO :"role";
REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC;
SQL
  echo "provisioned role $1, schema $3"
}
provision "$USER_DB_USER" "$USER_DB_PASSWORD" users "$USER_DB_HOST"
provision "$PRODUCT_DB_USER" "$PRODUCT_DB_PASSWORD" catalog "$PRODUCT_DB_HOST"
provision "$ORDER_DB_USER" "$ORDER_DB_PASSWORD" orders "$ORDER_DB_HOST"
psql -v ON_ERROR_STOP=1 -q -v db="$PGDATABASE" -v role="$EXPORTER_DB_USER" -v pw="$EXPORTER_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER PASSWORD :'pw';
GRANT pg_monitor TO :"role";
GRANT CONNECT ON DATABASE :"db" TO :"role";
-- pg_stat_statements' view lives in public.
GRANT USAGE ON SCHEMA public TO :"role";
SQL
echo "provisioned role $EXPORTER_DB_USER (pg_monitor)"
