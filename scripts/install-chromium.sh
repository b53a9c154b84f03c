#!/usr/bin/env bash
# Installs Debian's chromium for the storefront's browser tests (web/test/browser/*.test.ts): playwright-core drives
# it through executablePath, since Playwright's own browser download cannot work here. Idempotent.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "chromium already installed: $(chromium --version 2>/dev/null | head -1)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing and there is no apt-get here: install it by hand (or set CHROMIUM_PATH)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "need root (or sudo) to install chromium" >&2; exit 1
  fi
fi
echo "installing chromium (Debian package)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# fonts-dejavu-core: a font for text in screenshots on minimal systems.
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
command -v chromium >/dev/null 2>&1 || { echo "still missing: chromium" >&2; exit 1; }
echo "chromium installed: $(chromium --version 2>/dev/null | head -1)"
