#!/usr/bin/env bash
# The browser the web page's tests drive (tests/web/): Debian's Chromium and its matching
# ChromeDriver, from apt. Run by `make test`; does nothing when they are already installed, and
# says why when it cannot install them (the browser tests then skip, saying the same).
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "NOTE: the browser tests need chromium and chromium-driver (apt-get install chromium" \
    "chromium-driver, as root); they will be skipped." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
chromium --version
