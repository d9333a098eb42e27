#!/usr/bin/env bash
# Prints the path of a working interpreter of exactly Python $1 (e.g. 3.12): PATH's
# python$1 first (a pyenv shim counts only if it runs), then pyenv's versions. Exits 1,
# saying where it looked, when there is none: uv is told never to download one.
set -uo pipefail
version="${1:?usage: find-python.sh 3.12}"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
candidates=("python$version")
for found in "$pyenv_root"/versions/"$version".*/bin/python"$version"; do
    [ -x "$found" ] && candidates+=("$found")
done
for candidate in "${candidates[@]}"; do
    actual=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    if [ "$actual" = "$version" ]; then
        command -v "$candidate"
        exit 0
    fi
done
echo "No Python $version found (looked for python$version on PATH and in $pyenv_root/versions/$version.*)." >&2
echo "Install it (pyenv install $version, or your system's python$version), or name one: make test PYTHON=/path/to/python$version" >&2
exit 1
