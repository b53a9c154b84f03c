#!/usr/bin/env bash
# Installs the monitoring tools the repo's tests and `npm run monitoring` need:
# prometheus + promtool, alertmanager + amtool, postgres_exporter (Debian packages).
# Idempotent: does nothing when every binary is already on PATH.
set -euo pipefail

# binary -> Debian package that provides it
declare -A PACKAGE_OF=(
  [prometheus]=prometheus
  [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  [prometheus-postgres-exporter]=prometheus-postgres-exporter
)

missing=()
for bin in "${!PACKAGE_OF[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    pkg="${PACKAGE_OF[$bin]}"
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "monitoring tools already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing packages: ${missing[*]}; no apt-get here, install them by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt-get or dpkg (a second terminal, unattended-upgrades) holds the dpkg
# lock for a while: wait up to 5 minutes for it instead of failing at once with
# "Could not get lock /var/lib/dpkg/lock-frontend".
LOCK_WAIT=(-o DPkg::Lock::Timeout=300)
$SUDO apt-get "${LOCK_WAIT[@]}" update
# --no-install-recommends: the packages recommend a web UI asset bundle and
# other exporters we do not need.
$SUDO apt-get "${LOCK_WAIT[@]}" install -y --no-install-recommends "${missing[@]}"

# Debian's postinst may start daemons where systemd/sysvinit runs; we run our own
# instances on 127.0.0.1, so a packaged daemon listening on :9090 would clash.
# We only report it: stopping system services is the operator's call.
for bin in prometheus prometheus-alertmanager prometheus-postgres-exporter; do
  command -v "$bin" >/dev/null 2>&1 || { echo "still missing: $bin" >&2; exit 1; }
done
echo "monitoring tools installed: $(prometheus --version 2>&1 | head -1)"
