#!/bin/bash
# Checks the sparrow command line as a user sees it: help, version, usage
# errors (exit 2); inspect, run and bench on every model of testdata/models
# (the good ones succeed and print what they should, the malformed ones exit 1
# with a message, never a crash); run's .npy round trip against references
# computed independently in float64 (testdata/npy/make_npy.py); and that the
# binary links no benchmark peer.
#
#   sparrow_cli_test.sh SPARROW_BINARY SPARROW_DEPS_QUERY_OUTPUT
set -u
bin="$1"
deps="${2:-}"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
models=testdata/models
npy=testdata/npy
fail=0
passed=0
failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; fail=1; failed=$((failed + 1)); }

check() {  # description, expected exit code, expected text, command...
  local what="$1" want_rc="$2" want_text="$3"
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want_rc" ]; then
    bad "$what: exit $rc, want $want_rc"; echo "$out"; return
  fi
  if ! grep -q -- "$want_text" <<<"$out"; then
    bad "$what: output lacks '$want_text'"; echo "$out"; return
  fi
  ok "$what"
}

# Like check, for a command whose output must contain every given pattern.
check_all() {  # description, expected exit code, command..., --, patterns...
  local what="$1" want_rc="$2"
  shift 2
  local cmd=()
  while [ "$1" != "--" ]; do cmd+=("$1"); shift; done
  shift
  local out rc
  out=$("${cmd[@]}" 2>&1)
  rc=$?
  if [ "$rc" != "$want_rc" ]; then
    bad "$what: exit $rc, want $want_rc"; echo "$out"; return
  fi
  local p
  for p in "$@"; do
    if ! grep -q -- "$p" <<<"$out"; then
      bad "$what: output lacks '$p'"; echo "$out"; return
    fi
  done
  ok "$what"
}

check "--help lists version" 0 "version" "$bin" --help
check "--help lists inspect" 0 "inspect" "$bin" --help
check "--help lists run" 0 "run" "$bin" --help
check "--help lists bench" 0 "bench" "$bin" --help
check "version prints the number" 0 "sparrow 0\." "$bin" version
check "version prints the dispatch target" 0 "dispatch target" "$bin" version
check "unknown subcommand is a usage error" 2 "unknown subcommand 'frobnicate'" "$bin" frobnicate
check "no subcommand is a usage error" 2 "subcommand is required" "$bin"
check "unknown flag is a usage error" 2 "nope" "$bin" version --nope

# --- inspect ---------------------------------------------------------------
common=("arena: head" "lower bound" "ArenaBytesNeeded" "strategy" "step 0:"
        "kernel:" "totals:" "storage: mapped" "inputs (1):" "outputs (1):")
check_all "inspect tiny_mlp" 0 "$bin" inspect "$models/tiny_mlp.spw" -- \
  "${common[@]}" "description: tiny MLP" "#0 FullyConnected  activation=Relu" \
  "#2 Softmax" "x \[1, 8\] f32" "totals: 212 parameters, 848 weight bytes"
check_all "inspect tiny_sparse_gru" 0 "$bin" inspect "$models/tiny_sparse_gru.spw" -- \
  "${common[@]}" "#0 Gru  hidden_size=32 mode=Step" "FullyConnected" \
  "block-sparse 16x1 bf16: density 0.500, 48 of 96 blocks" \
  "block-sparse 16x1 f32: density 0.250, 48 of 192 blocks" \
  "per block-row min/mean/max" "gru.h \[1, 32\] f32, starts at zero"
check_all "inspect tiny_convnet" 0 "$bin" inspect "$models/tiny_convnet.spw" -- \
  "${common[@]}" "#0 Conv2D  stride=1x1" "#1 MaxPool2D" "#2 AvgPool2D" \
  "#3 Flatten" "#5 LogSoftmax" "scratch"
check_all "inspect --no-fuse --threads 2" 0 "$bin" inspect --no-fuse --threads 2 \
  "$models/tiny_mlp.spw" -- "fusion off" "2 threads"
check "inspect of a missing file exits 1" 1 "NOT_FOUND" "$bin" inspect "$tmp/none.spw"
check "inspect of a directory exits 1" 1 "not a regular file" "$bin" inspect "$models"
check "inspect without a model is a usage error" 2 "model is required" "$bin" inspect
check "inspect --threads 0 is a usage error" 2 "threads" "$bin" inspect --threads 0 "$models/tiny_mlp.spw"

# Every malformed model: exit 1 with a message naming the file, for inspect
# and run alike; a signal (exit >= 128) or success is a failure.
n_bad=0
for f in "$models"/bad/*.spw; do
  for cmd in inspect run; do
    if [ "$cmd" = inspect ]; then
      out=$("$bin" inspect "$f" 2>&1)
    else
      out=$("$bin" run "$f" --input "$npy/tiny_mlp_x.npy" --output "$tmp/bad_y.npy" 2>&1)
    fi
    rc=$?
    if [ "$rc" != 1 ] || ! grep -q "^sparrow $cmd: [A-Z_]*: .*$(basename "$f")" <<<"$out"; then
      bad "$cmd $f: exit $rc, want 1 with a message"; echo "$out"
    fi
  done
  n_bad=$((n_bad + 1))
done
if [ "$n_bad" -lt 100 ]; then
  bad "only $n_bad malformed models found under $models/bad"
else
  ok "inspect and run exit 1 with a message on all $n_bad malformed models"
fi

# --- run ---------------------------------------------------------------------
python=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null 2>&1; then python="$p"; break; fi
done
# compare_npy GOT WANT TOL: parses both files without numpy (ast and struct),
# so the header must be a valid Python literal; max abs difference <= TOL.
compare_npy() {
  "$python" - "$@" <<'EOF'
import ast, struct, sys
def load(path):
    b = open(path, "rb").read()
    assert b[:6] == b"\x93NUMPY", "magic"
    if b[6] == 1:
        n, off = struct.unpack("<H", b[8:10])[0], 10
    else:
        n, off = struct.unpack("<I", b[8:12])[0], 12
    assert (off + n) % 64 == 0, "header not 64-byte aligned"
    d = ast.literal_eval(b[off:off + n].decode("latin1"))
    assert d["descr"] == "<f4" and d["fortran_order"] is False, d
    count = 1
    for s in d["shape"]:
        count *= s
    return d["shape"], struct.unpack("<%df" % count, b[off + n:])
got_shape, got = load(sys.argv[1])
want_shape, want = load(sys.argv[2])
assert got_shape == want_shape, (got_shape, want_shape)
err = max(abs(a - b) for a, b in zip(got, want))
print("max abs error %.3g" % err)
sys.exit(0 if err <= float(sys.argv[3]) else 1)
EOF
}

for m in tiny_mlp tiny_convnet tiny_sparse_gru; do
  check "run $m" 0 "output 0: " "$bin" run "$models/$m.spw" \
    --input "$npy/${m}_x.npy" --output "$tmp/${m}_y.npy"
done
for m in tiny_mlp tiny_convnet; do
  # Inputs and weights are multiples of 1/64; a few float32 roundings.
  if [ -z "$python" ]; then
    echo "skip: $m output check (no python3)"
  elif out=$(compare_npy "$tmp/${m}_y.npy" "$npy/${m}_y.npy" 1e-5 2>&1); then
    ok "run $m matches the float64 reference ($out)"
  else
    bad "run $m output differs from testdata/npy/${m}_y.npy"; echo "$out"
  fi
done
check "run --threads 2 --fast --no-fuse" 0 "output 0: probs \[1, 4\] f32" \
  "$bin" run "$models/tiny_mlp.spw" --threads 2 --fast --no-fuse \
  -i "$npy/tiny_mlp_x.npy" -o "$tmp/fast_y.npy"
if [ -n "$python" ]; then
  if out=$(compare_npy "$tmp/fast_y.npy" "$npy/tiny_mlp_y.npy" 1e-4 2>&1); then
    ok "run --fast is within 1e-4 ($out)"
  else
    bad "run --fast output"; echo "$out"
  fi
fi
check "run --repeat 3 steps the GRU" 0 "output 0: y \[1, 8\] f32" \
  "$bin" run "$models/tiny_sparse_gru.spw" --repeat 3 \
  --input "$npy/tiny_sparse_gru_x.npy" --output "$tmp/gru3_y.npy"
if cmp -s "$tmp/gru3_y.npy" "$tmp/tiny_sparse_gru_y.npy"; then
  bad "run --repeat 3 gave the output of one step"
else
  ok "run --repeat 3 differs from one step (state carried over)"
fi

# numpy itself, where it is installed: a fresh input, and numpy.load of the
# output.
if [ -n "$python" ] && "$python" -c "import numpy" 2>/dev/null; then
  "$python" -c "
import numpy as np
np.save('$tmp/np_x.npy', np.full((1, 8), 0.25, dtype=np.float32))"
  check "run on a numpy-written input" 0 "output 0:" "$bin" run \
    "$models/tiny_mlp.spw" -i "$tmp/np_x.npy" -o "$tmp/np_y.npy"
  if out=$("$python" -c "
import numpy as np
y = np.load('$tmp/np_y.npy')
assert y.dtype == np.float32 and y.shape == (1, 4), (y.dtype, y.shape)
assert abs(float(y.sum()) - 1.0) < 1e-5, y
print(y)" 2>&1); then
    ok "numpy.load reads run's output ($out)"
  else
    bad "numpy.load of run's output"; echo "$out"
  fi
else
  echo "skip: numpy checks (numpy not installed)"
fi

check "run: wrong input shape names the input and both shapes" 1 \
  "input 0 'x': expected shape \[1, 8\] f32, .*f32_2x3.npy has shape \[2, 3\] f32" \
  "$bin" run "$models/tiny_mlp.spw" -i "$npy/f32_2x3.npy" -o "$tmp/y.npy"
check "run: i32 file for an f32 input" 1 "has shape \[4\] i32" \
  "$bin" run "$models/tiny_mlp.spw" -i "$npy/i32_4.npy" -o "$tmp/y.npy"
check "run: float64 input is rejected with a hint" 1 "'<f8' is not supported" \
  "$bin" run "$models/tiny_mlp.spw" -i "$npy/bad_f64.npy" -o "$tmp/y.npy"
check "run: big-endian input is rejected" 1 "big-endian" \
  "$bin" run "$models/tiny_mlp.spw" -i "$npy/bad_big_endian.npy" -o "$tmp/y.npy"
check "run: missing input file" 1 "NOT_FOUND: .*none.npy" \
  "$bin" run "$models/tiny_mlp.spw" -i "$tmp/none.npy" -o "$tmp/y.npy"
check "run: too many inputs" 1 "the model has 1 input (x \[1, 8\] f32); 2 --input paths given" \
  "$bin" run "$models/tiny_mlp.spw" -i "$npy/tiny_mlp_x.npy" -i "$npy/tiny_mlp_x.npy" -o "$tmp/y.npy"
check "run: too many outputs" 1 "the model has 1 output (probs \[1, 4\] f32); 2 --output paths given" \
  "$bin" run "$models/tiny_mlp.spw" -i "$npy/tiny_mlp_x.npy" -o "$tmp/y.npy" -o "$tmp/y2.npy"
check "run: no --output is a usage error" 2 "output is required" \
  "$bin" run "$models/tiny_mlp.spw" -i "$npy/tiny_mlp_x.npy"
check "run: unwritable output" 1 "cannot create" \
  "$bin" run "$models/tiny_mlp.spw" -i "$npy/tiny_mlp_x.npy" -o "$tmp/no/dir/y.npy"
check "run: --repeat 0 is a usage error" 2 "repeat" \
  "$bin" run "$models/tiny_mlp.spw" -i "$npy/tiny_mlp_x.npy" -o "$tmp/y.npy" --repeat 0

# --- bench -------------------------------------------------------------------
for m in tiny_mlp tiny_convnet tiny_sparse_gru; do
  check_all "bench $m" 0 "$bin" bench "$models/$m.spw" --iterations 20 --warmup 2 -- \
    "2 warm-up + 20 timed invokes" "latency (us): p50 .* p90 .* p99 .* min .* mean" \
    "step 0: .*%"
done
check "bench --seconds" 0 "timed invokes in" "$bin" bench "$models/tiny_mlp.spw" --seconds 0.2
check "bench --iterations excludes --seconds" 2 "excludes" \
  "$bin" bench "$models/tiny_mlp.spw" --iterations 5 --seconds 1
check "bench of a malformed model exits 1" 1 "sparrow bench: DATA_LOSS" \
  "$bin" bench "$models/bad/h1_short_header.spw" --iterations 1

# --- no benchmark peer in the binary -------------------------------------------
peers="eigen|openblas|dnnl|xnnpack|pthreadpool|@benchmark"
if [ -n "$deps" ]; then
  if ! grep -q "^//runtime:interpreter$" "$deps"; then
    bad "$deps does not list //runtime:interpreter: not the dependency graph?"
  elif grep -E -i "$peers" "$deps"; then
    bad "//tools:sparrow depends on a benchmark peer"
  else
    ok "//tools:sparrow's dependency graph has no benchmark peer"
  fi
fi
if command -v ldd >/dev/null 2>&1; then
  if ldd "$bin" | grep -E -i "openblas|dnnl|xnnpack|libbenchmark"; then
    bad "sparrow links a benchmark peer's library"
  else
    ok "sparrow links no benchmark peer's library"
  fi
fi

echo "$passed passed, $failed failed"
exit $fail
