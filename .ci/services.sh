#!/usr/bin/env bash
# System packages the tests need beyond Python, from Debian (CI and `make test` both call this script):
#   chromium       the browser tests drive it with Playwright (Playwright's own browser download is not used)
#   redis-server   the deployment tests' Celery broker
#   postgresql     the deployment tests' metadata database
# The tests start and stop them on loopback themselves; this only installs. Quick when all are present.
# Without root (or password-less sudo) or without apt-get it stops and says what to install: it never
# lets the tests skip.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)

if [ ${#missing[@]} -gt 0 ]; then
    as_root=()
    can_install=yes
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo); else can_install=no; fi
    fi
    command -v apt-get >/dev/null 2>&1 || can_install=no
    if [ "$can_install" = no ]; then
        echo "The tests need these Debian packages, which are not installed: ${missing[*]}" >&2
        echo "Install them as root, then run make test again:" >&2
        echo "    apt-get install -y ${missing[*]}" >&2
        echo "(chromium for tests/browser; redis-server and postgresql for tests/deployment.)" >&2
        exit 1
    fi
    echo "== installing Debian packages for the tests: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    ${as_root[@]+"${as_root[@]}"} apt-get update -qq
    ${as_root[@]+"${as_root[@]}"} apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "system packages: $(/usr/bin/chromium --version 2>/dev/null | head -1); $(redis-server --version | cut -d' ' -f1-3);" \
    "postgresql $(basename "$(dirname "$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -1)")")")"
