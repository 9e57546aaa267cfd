#!/usr/bin/env bash
# Prometheus and promtool for the monitoring tests (tests/test_prometheus.py): Debian's
# `prometheus` package, from apt. Run by `make test`; does nothing when they are already
# installed, and says why when it cannot install them (those tests then skip, saying the same).
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "NOTE: the Prometheus tests need prometheus and promtool (apt-get install prometheus," \
    "as root); they will be skipped." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The package's service is not wanted: the tests start their own Prometheus on loopback.
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
promtool --version | head -1
