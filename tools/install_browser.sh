#!/usr/bin/env bash
# Debian's chromium and chromium-driver, for the browser test of `mgen serve`
# (tests/test_serve.py), and abcmidi (abc2midi: mgen eval's ABC checks, tests/test_judge*.py).
# `make test` runs this first. Idempotent and quiet: nothing happens when all three are on
# PATH; apt-get installs them where it exists and we are root; elsewhere it says why and the
# tests that need them skip with that reason. It never fails the build.
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 \
    && command -v abc2midi >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: no apt-get here; the browser test of mgen serve will be skipped" >&2
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "install_browser: not root, so chromium is not installed; the browser test will be skipped" >&2
    exit 0
fi
echo "install_browser: installing Debian's chromium and chromium-driver (apt-get) ..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium chromium-driver abcmidi; } >/tmp/mgen-install-browser.log 2>&1; then
    echo "install_browser: apt-get failed (see /tmp/mgen-install-browser.log); the browser test will be skipped" >&2
fi
exit 0
