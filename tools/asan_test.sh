#!/usr/bin/env bash
# Runs the test suite against a build of the C core with AddressSanitizer and
# UndefinedBehaviorSanitizer, in a copy of the working tree and a venv of its
# own (the normal build is left alone).
#
#   tools/asan_test.sh                 # python -m pytest tests -q
#   tools/asan_test.sh tests/test_index.py -x
#
# ASAN_VENV, ASAN_BUILD: where the venv and the copy go (default under /tmp).
# CC: the compiler (gcc by default; clang works with its own libasan path).
# The Python interpreter is not instrumented, so libasan is LD_PRELOADed;
# detect_leaks=0 because CPython keeps memory until exit by design. Any UB
# report aborts (-fno-sanitize-recover), so a green run means no finding.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${ASAN_VENV:-/tmp/fastinit-asan-venv}
build=${ASAN_BUILD:-/tmp/fastinit-asan-build}
cc=${CC:-gcc}
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q numpy cython setuptools pytest hypothesis scipy ml_dtypes

# tracked files as they are in the working tree (uncommitted edits included)
rm -rf "$build"
mkdir -p "$build"
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$build")
cd "$build"
CC=$cc CFLAGS="$sanitize" LDFLAGS="$sanitize" "$venv/bin/python" setup.py -q build_ext --inplace

libasan=$($cc -print-file-name=libasan.so)
[ -e "$libasan" ] || { echo "libasan not found for $cc" >&2; exit 2; }
export LD_PRELOAD=$libasan
export ASAN_OPTIONS=detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1
export PYTHONPATH=$build
if [ $# -eq 0 ]; then set -- tests -q; fi
exec "$venv/bin/python" -m pytest "$@"
