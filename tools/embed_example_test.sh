#!/bin/bash
# Runs tools/embed_example (a static arena, no heap after setup) on the valid
# test models and on malformed ones: success prints the outputs, every error
# exits 1 with a message, never a crash.
set -uo pipefail
bin="$1"
shift
fail=0
check() {  # description, want_rc, model, grep pattern
  local out rc
  out=$("$bin" "$3" 2>&1)
  rc=$?
  if [ "$rc" != "$2" ] || ! grep -qE "$4" <<<"$out"; then
    echo "FAIL: $1: rc=$rc (want $2), output:"
    echo "$out"
    fail=1
  else
    echo "ok: $1"
  fi
}
for m in testdata/models/tiny_mlp.spw testdata/models/tiny_convnet.spw \
         testdata/models/tiny_sparse_gru.spw; do
  check "$m runs" 0 "$m" "^output 0 '[a-z_.]+' \([0-9]+ values\): -?[0-9]"
done
# Softmax outputs of tiny_mlp sum to 1.
sum=$("$bin" testdata/models/tiny_mlp.spw | awk '/^output 0/ {s=0; for (i=6;i<=NF;i++) s+=$i; printf "%.4f", s}')
if [ "$sum" != "1.0000" ]; then echo "FAIL: tiny_mlp probabilities sum to $sum"; fail=1; fi
check "missing file" 1 /nonexistent.spw "NOT_FOUND"
for m in testdata/models/bad/*.spw; do
  check "$(basename "$m") is rejected" 1 "$m" "embed_example: [A-Z_]+: "
done
exit $fail
