#!/usr/bin/env bash
# Every test of the repository: the Rust workspace and the Python package.
#
# Needs only the Rust toolchain and Python 3 (with its venv module): the
# Python tests run in a virtual environment of their own, .venv in the
# repository (git ignores it), into which this installs what they need
# from PyPI and then the package itself (`pip install ./crates/python`,
# built by maturin in release mode, sharing cargo's target directory).
set -euo pipefail
cd "$(dirname "$0")"

venv="${OXLA_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
py="$(cd "$venv" && pwd)/bin/python"
# maturin's build hook runs `maturin` by name: the environment's own, not
# one that happens to be installed elsewhere (or nowhere) on this machine
export PATH="$(dirname "$py"):$PATH"
# hypothesis: NumPy's own test module (whose TestGradient the tests run) imports it
"$py" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9,<2" "numpy>=2,<3" "dask[array]>=2024.12" "distributed>=2024.12" \
    "pytest>=7" "hypothesis>=6"
"$py" -m pip install --quiet --disable-pip-version-check --no-build-isolation ./crates/python

cargo test --workspace
"$py" -m pytest -q -p no:cacheprovider crates/python/tests "$@"
