#!/usr/bin/env bash
# Make sure .venv exists with edgeml and its dev tools installed; install system packages where
# missing. Idempotent and quiet when nothing needs doing. Sourced by tools/demo.sh and tools/test.sh.
set -euo pipefail

EDGEML_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$EDGEML_ROOT/.venv"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "edgeml: need root to run: $*" >&2; return 1; fi
}

apt_install_missing() {
    # apt_install_missing PACKAGE...: install the Debian packages that are not installed yet.
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "edgeml: installing Debian packages: ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

find_python() {
    for candidate in python3.11 python3.12 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))'; then
            echo "$candidate"; return 0
        fi
    done
    echo "edgeml: needs Python 3.11 or 3.12 (apt-get install python3.11)" >&2
    return 1
}

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        local python
        python="$(find_python)"
        if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' 2>/dev/null; then
            apt_install_missing python3-venv
        fi
        echo "edgeml: creating $VENV" >&2
        "$python" -m venv "$VENV"
    fi
    # Reinstall when pyproject.toml changed since the last install.
    local stamp="$VENV/.edgeml-installed" want
    want="$(sha256sum "$EDGEML_ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "edgeml: installing Python packages into $VENV (first run takes a few minutes)" >&2
        local log="$VENV/pip-install.log"
        # Quiet on success (setuptools is chatty); the whole log on failure.
        if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
               "$VENV/bin/python" -m pip install -e "$EDGEML_ROOT[dev]"; } > "$log" 2>&1; then
            cat "$log" >&2
            echo "edgeml: installing Python packages failed (log above, also in $log)" >&2
            return 1
        fi
        echo "$want" > "$stamp"
    fi
}

# The firmware toolchain, the emulated boards and the host target's compiler.
apt_install_missing gcc make gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
ensure_venv
export PATH="$VENV/bin:$PATH"
