#!/usr/bin/env bash
# System packages the tests need beyond Python: Debian's Chromium for the browser test (Playwright's own
# browser download cannot be used here). Idempotent and quick when already installed.
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
    echo "== installing Debian's chromium for tests/browser"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version
