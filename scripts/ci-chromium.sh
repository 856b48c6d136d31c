#!/usr/bin/env bash
# Install Debian's chromium and chromium-driver for the dashboard's browser test
# (tests/monitoring/test_dashboard_browser.py), unless they are already there.
#
#   scripts/ci-chromium.sh        # then: .venv/bin/pytest tests/monitoring/test_dashboard_browser.py
#
# Needs root (or passwordless sudo) to install; exits 0 either way: without a browser the test skips.
set -u
log() { echo "ci-chromium: $*" >&2; }
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    log "not root: cannot install chromium (the browser test will skip)"; exit 0; fi
fi
log "installing chromium and chromium-driver with apt-get"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver; } >&2; then
  log "apt-get failed (the browser test will skip)"
fi
exit 0
