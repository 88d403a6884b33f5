#!/bin/bash
# sparrow train / eval / demo end to end on the committed Fashion-MNIST
# subset (testdata/fashion_mnist_subset: 100 train, 100 test images):
# metrics, checkpoints, bit-exact resume, export, evaluation through the
# runtime, and clean errors for bad data, specs and checkpoints.
set -uo pipefail
bin="$1"
data=testdata/fashion_mnist_subset
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
source tools/cli_test_lib.sh  # ok, bad, expect; fail

spec="conv(4,5,stride=2) relu maxpool(2) flatten linear(10)"
expect "train with metrics, checkpoint and export" 0 "^epoch 3/3: .*test loss" \
  "$bin" train --data $data --model "$spec" --epochs 3 --batch 10 -q \
  --metrics "$tmp/m.csv" --checkpoint "$tmp/ck" --export "$tmp/m.spw"
[ "$(wc -l < "$tmp/m.csv")" = 4 ] && head -1 "$tmp/m.csv" | grep -q '^epoch,step,train_loss' \
  && ok "metrics CSV has a header and 3 rows" || bad "metrics CSV: $(cat "$tmp/m.csv")"
expect "eval the export through the runtime" 0 "on 100 test examples: accuracy [0-9.]+%" \
  "$bin" eval "$tmp/m.spw" --data $data

# Bit-exact resume: 3 epochs straight == 1 epoch, then resume to 3.
"$bin" train --data $data --model "$spec" --epochs 3 --batch 10 -q --export "$tmp/a.spw" >/dev/null 2>&1
"$bin" train --data $data --model "$spec" --epochs 1 --batch 10 -q --checkpoint "$tmp/r" >/dev/null 2>&1
expect "resume continues at epoch 1" 0 "resumed from .* at epoch 1, step 10" \
  "$bin" train --data $data --model "$spec" --epochs 3 --batch 10 -q \
  --checkpoint "$tmp/r" --resume --export "$tmp/b.spw"
cmp -s "$tmp/a.spw" "$tmp/b.spw" && ok "resumed model is byte-identical" \
  || bad "resumed model differs from the uninterrupted run"

expect "a checkpoint of another model is refused" 1 "INVALID_ARGUMENT: .*ck" \
  "$bin" train --data $data --model mlp --epochs 2 -q --checkpoint "$tmp/ck" --resume
expect "missing dataset names the path and the package" 1 "NOT_FOUND: .*dataset-fashion-mnist" \
  "$bin" train --data "$tmp/nowhere" -q
expect "bad spec names the layer" 1 "unknown layer 'softmax'" \
  "$bin" train --data $data --model "linear(10) softmax" -q
expect "bad optimizer" 1 "INVALID_ARGUMENT" \
  "$bin" train --data $data --optimizer "adam:lr=-1" -q
expect "--resume needs --checkpoint" 1 "--resume needs --checkpoint" \
  "$bin" train --data $data --resume -q
printf 'garbage' > "$tmp/t10k-images-idx3-ubyte.gz"
cp $data/t10k-labels-idx1-ubyte.gz $data/train-*.gz "$tmp/" 2>/dev/null
expect "a corrupt dataset file is a clean error" 1 "t10k-images" \
  "$bin" eval "$tmp/m.spw" --data "$tmp"
expect "eval of a model that is not a classifier" 1 "want \[N, 28, 28, 1\]" \
  "$bin" eval testdata/models/tiny_mlp.spw --data $data
expect "demo end to end" 0 "test accuracy .*runtime, 100 images" \
  "$bin" demo --data $data --epochs 1 --model mlp --out-dir "$tmp"
exit $fail
