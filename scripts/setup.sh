#!/usr/bin/env bash
# Installs what building mipbound needs on Debian/Ubuntu, if missing: cmake (to compile the
# HiGHS solver bundled in highs-sys), libclang-dev (for its bindgen step) and a TrueType
# font for the study's plots (fonts-dejavu-core), and Python 3 with venv for the Python
# package's tests (python3, python3-venv).
set -euo pipefail

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
if ! compgen -G "/usr/lib/llvm-*/lib/libclang.so" >/dev/null \
    && ! ldconfig -p 2>/dev/null | grep -q 'libclang\.so '; then
    missing+=(libclang-dev)
fi
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if ! command -v python3 >/dev/null 2>&1; then
    missing+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi

if ((${#missing[@]})); then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust from https://rustup.rs first" >&2
    exit 1
fi
