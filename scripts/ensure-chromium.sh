#!/usr/bin/env bash
# The page tests (test/pages) drive Debian's Chromium. Find it; install it when missing and we are
# root; otherwise stop with what to install. Never skip: a missing browser is a failed test run.
set -euo pipefail
CHROMIUM="${KOI_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM missing; installing Debian's chromium package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
  if [ -x "$CHROMIUM" ]; then exit 0; fi
fi
echo "ensure-chromium: no Chromium at $CHROMIUM. The page tests need it: run 'apt-get install -y chromium' as root (Debian/Ubuntu), or set KOI_CHROMIUM to a Chromium binary." >&2
exit 1
