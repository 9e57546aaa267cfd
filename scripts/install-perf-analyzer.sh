#!/bin/sh
# perf_analyzer, the load generator Triton users benchmark a V2 server with, into
# build/perf-analyzer/ for tests/test_perf_analyzer.py and docs/api.md: the binary from
# tritonclient 2.40.0's manylinux wheel (later wheels no longer ship it); libcudart.so.12 from
# the nvidia-cuda-runtime-cu12 wheel, which the binary needs only to load (nothing runs on a
# GPU); Debian's libb64-0d, from apt when missing. Nothing is installed into the project's
# environment: a newer tritonclient stays there. Exits 0 saying why when it cannot (not
# x86-64 Linux, no package registry): the test is then skipped with that reason.
set -eu

DEST=${1:-build/perf-analyzer}
PYTHON=${PYTHON:-.venv/bin/python}
TRITONCLIENT=tritonclient==2.40.0
CUDA_RUNTIME=nvidia-cuda-runtime-cu12==12.9.79

if [ -x "$DEST/perf_analyzer" ] && [ -f "$DEST/lib/libcudart.so.12" ]; then
    exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "perf_analyzer: its wheel is for x86-64 Linux only; its test will be skipped"
    exit 0
fi
if ! ldconfig -p 2>/dev/null | grep -q libb64.so.0d; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq libb64-0d >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libb64-0d >/dev/null; }
    else
        echo "perf_analyzer: needs Debian's libb64-0d (apt-get install libb64-0d, as root)"
        exit 0
    fi
fi
mkdir -p "$DEST/wheels" "$DEST/lib"
download() {
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$DEST/wheels" "$@"
}
if ! download --platform manylinux1_x86_64 "$TRITONCLIENT" \
    || ! download --platform manylinux2014_x86_64 "$CUDA_RUNTIME"; then
    echo "perf_analyzer: the wheels could not be downloaded; its test will be skipped"
    exit 0
fi
"$PYTHON" - "$DEST" <<'EOF'
import stat
import sys
import zipfile
from pathlib import Path

dest = Path(sys.argv[1])
wanted = {"bin/perf_analyzer": dest / "perf_analyzer", "lib/libcudart.so.12": dest / "lib/libcudart.so.12"}
for wheel in (dest / "wheels").glob("*.whl"):
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            for suffix, target in wanted.items():
                if name.endswith(suffix):
                    target.write_bytes(archive.read(name))
                    target.chmod(target.stat().st_mode | stat.S_IXUSR)
missing = [str(target) for target in wanted.values() if not target.exists()]
if missing:
    sys.exit(f"perf_analyzer: not found in the wheels: {', '.join(missing)}")
EOF
rm -rf "$DEST/wheels"
echo "perf_analyzer: installed in $DEST (run it with LD_LIBRARY_PATH=$DEST/lib)"
