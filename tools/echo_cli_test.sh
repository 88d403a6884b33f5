#!/bin/bash
# sparrow train --echo ... and sparrow echo-study end to end on the committed
# Fashion-MNIST subset (100 train, 100 test images): every placement, integer,
# fractional and auto e, the new metrics columns, resume through the pipeline,
# usage errors (exit 2), and a tiny study's files.
set -uo pipefail
bin="$1"
data=testdata/fashion_mnist_subset
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
source tools/cli_test_lib.sh  # ok, bad, expect; fail
# column NAME of CSV row ROW (1 = first data row); a quoted first field (a
# model spec with commas) is replaced first.
col() {
  sed -E 's/^"([^"]|"")*",/quoted,/' "$1" |
    awk -F, -v name="$2" -v row="$3" 'NR == 1 { for (i = 1; i <= NF; ++i) c[$i] = i; next }
      NR == row + 1 { print $(c[name]) }'
}
# succeeds when LO <= X <= HI (reals)
within() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "" && x >= lo && x <= hi) }'; }

spec="conv(4,5,stride=2) relu maxpool(2) flatten linear(10)"
train=("$bin" train --data $data --model "$spec" --batch 10 -q)
header="epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,seconds,examples_per_second,fresh_examples,consumed_examples,echo_factor,duplicate_rate,wait_fraction"

# The plain path: unchanged behaviour, the new columns say "every example once".
expect "plain training still works" 0 "^epoch 2/2: .*test loss" \
  "${train[@]}" --epochs 2 --metrics "$tmp/plain.csv"
[ "$(head -1 "$tmp/plain.csv")" = "$header" ] && ok "CSV header has the echo columns" \
  || bad "CSV header: $(head -1 "$tmp/plain.csv")"
[ "$(col "$tmp/plain.csv" fresh_examples 2)/$(col "$tmp/plain.csv" consumed_examples 2)/$(col "$tmp/plain.csv" echo_factor 2)" = "100/100/1.0000" ] \
  && ok "plain path: fresh = consumed = 100, e = 1" || bad "plain path row: $(sed -n 3p "$tmp/plain.csv")"

# Integer e: every fresh example exactly e times per epoch, at every placement.
for place in before_augment after_augment batch; do
  csv="$tmp/$place.csv"
  expect "--echo 2 --echo_place $place" 0 \
    "^epoch 2/2: .*\| fresh 100, consumed 200, e 2.00, dup [0-9.]+%, wait [0-9.]+%" \
    "${train[@]}" --epochs 2 --echo 2 --echo_place $place --metrics "$csv"
  for row in 1 2; do
    got="$(col "$csv" fresh_examples $row)/$(col "$csv" consumed_examples $row)/$(col "$csv" echo_factor $row)"
    [ "$got" = "100/200/2.0000" ] && ok "$place epoch $row: consumed = 2 x fresh" \
      || bad "$place epoch $row: fresh/consumed/e = $got"
  done
  [ "$(col "$csv" step 2)" = 40 ] && ok "$place: 40 steps of 10 for 2 x 2 x 100" \
    || bad "$place: step = $(col "$csv" step 2)"
done
[ "$(col "$tmp/batch.csv" duplicate_rate 1)" = "0.000000" ] \
  && ok "batch-level echoing never repeats an example within a batch" \
  || bad "batch placement duplicate_rate = $(col "$tmp/batch.csv" duplicate_rate 1)"
# Without a shuffle buffer, identical copies arrive side by side: half of
# every batch of 10 is a repeat.
expect "after_augment without shuffling: duplicate rate 50%" 0 \
  "^epoch 1/1: .*e 2.00, dup 50.0%" \
  "${train[@]}" --epochs 1 --echo 2 --echo_place after_augment --shuffle_buffer 0

# Fractional e: each example floor(e) or ceil(e) times.
expect "--echo 1.5" 0 "^epoch 2/2: .*\| fresh 100, consumed 1[0-9][0-9], e 1\.[0-9]+" \
  "${train[@]}" --epochs 2 --echo 1.5 --metrics "$tmp/frac.csv"
for row in 1 2; do
  c=$(col "$tmp/frac.csv" consumed_examples $row)
  within "$c" 120 180 && ok "--echo 1.5 epoch $row: $c consumed for 100 fresh" \
    || bad "--echo 1.5 epoch $row: consumed = $c"
done

# Auto e under a simulated slow source: e stays within [1, echo_max].
expect "--echo auto with a simulated upstream cost" 0 "^epoch 2/2: .*\| fresh 100, consumed [0-9]+, e [0-9.]+" \
  "${train[@]}" --epochs 2 --echo auto --echo_max 3 --upstream_cost_us 2000 \
  --metrics "$tmp/auto.csv"
e=$(col "$tmp/auto.csv" echo_factor 2)
within "$e" 1 3 && ok "auto e = $e within [1, 3]" || bad "auto e = $e"
w=$(col "$tmp/auto.csv" wait_fraction 1)
within "$w" 0 1 && ok "wait fraction $w in [0, 1]" || bad "wait fraction = $w"
expect "--upstream_cost_us alone runs the pipeline (e = 1, spin)" 0 \
  "^epoch 1/1: .*fresh 100, consumed 100, e 1.00" \
  "${train[@]}" --epochs 1 --upstream_cost_us 100 --cost_mode spin --augment off

# Resume through the pipeline: 2 epochs == 1 epoch, then resume to 2.
echoed=(--echo 2 --echo_place before_augment --augment pad=1,flip=1,noise=0.05)
"${train[@]}" --epochs 2 "${echoed[@]}" --export "$tmp/a.spw" >/dev/null 2>&1
"${train[@]}" --epochs 1 "${echoed[@]}" --checkpoint "$tmp/r" >/dev/null 2>&1
expect "pipeline resume continues at epoch 1" 0 "resumed from .* at epoch 1, step 20" \
  "${train[@]}" --epochs 2 "${echoed[@]}" --checkpoint "$tmp/r" --resume --export "$tmp/b.spw"
cmp -s "$tmp/a.spw" "$tmp/b.spw" && ok "resumed echoed run is byte-identical" \
  || bad "resumed echoed run differs from the uninterrupted one"

# Bad values are usage errors (exit 2) that name the flag.
expect "--echo 0.5 rejected" 2 "^--echo: '0.5': want a real in \[1, 1000\] or 'auto'" \
  "${train[@]}" --echo 0.5
expect "--echo abc rejected" 2 "--echo" "${train[@]}" --echo abc
expect "--echo_max 0.5 rejected" 2 "--echo_max" "${train[@]}" --echo auto --echo_max 0.5
expect "--echo_place sideways rejected" 2 "--echo_place" "${train[@]}" --echo 2 --echo_place sideways
expect "--augment pad=99 rejected" 2 "--augment.*pad=99" "${train[@]}" --augment pad=99
expect "--augment flip=2 rejected" 2 "--augment" "${train[@]}" --augment flip=2
expect "--cost_mode nap rejected" 2 "--cost_mode" "${train[@]}" --cost_mode nap
expect "--upstream_cost_us -1 rejected" 2 "--upstream_cost_us" "${train[@]}" --upstream_cost_us -1
expect "--shuffle_buffer -3 rejected" 2 "--shuffle_buffer" "${train[@]}" --shuffle_buffer -3
expect "echo-study needs --out" 2 "--out" "$bin" echo-study --data $data
expect "echo-study --echo 1,zero rejected" 2 "--echo" \
  "$bin" echo-study --data $data --out "$tmp/x" --echo 1,zero
expect "echo-study: cost and ratio exclude each other" 2 "excludes" \
  "$bin" echo-study --data $data --out "$tmp/x" --upstream_cost_us 10 --upstream_ratio 2
expect "echo-study --target 1.5 rejected" 2 "--target" \
  "$bin" echo-study --data $data --out "$tmp/x" --target 1.5

# A tiny study: e = 1 once, e = 2 at two placements, one seed.
study="$tmp/study"
expect "echo-study tiny run" 0 "wrote runs.csv, summary.csv, summary.md and the plots" \
  "$bin" echo-study --data $data --model "$spec" --batch 10 --echo 1,2 \
  --echo_place before_augment,batch --seeds 1 --target 0.2 --eval_every 50 \
  --eval_examples 100 --upstream_cost_us 200 --max_fresh_epochs 20 --out "$study"
[ "$(wc -l < "$study/runs.csv")" = 4 ] && ok "runs.csv: 3 runs" || bad "runs.csv: $(cat "$study/runs.csv")"
[ "$(wc -l < "$study/summary.csv")" = 4 ] && ok "summary.csv: 3 configurations" \
  || bad "summary.csv: $(cat "$study/summary.csv")"
grep -qF '"conv(4,5,stride=2) relu maxpool(2) flatten linear(10)",batch,2,1,' "$study/runs.csv" \
  && ok "runs.csv quotes a model spec with commas" || bad "runs.csv: $(cat "$study/runs.csv")"
grep -q '^any,1,1,1,' "$study/summary.csv" && grep -q '^batch,2,1,1,' "$study/summary.csv" \
  && ok "summary.csv rows for e=1 (any placement) and batch e=2" || bad "summary.csv: $(cat "$study/summary.csv")"
# A run stops mid-epoch, where some copies are still to come: 1 <= e <= 2.
e=$(col "$study/runs.csv" effective_echo 2)
[ "$(col "$study/runs.csv" echo 2)" = 2 ] && within "$e" 1 2 \
  && ok "an e=2 run's effective e is $e" || bad "runs.csv row 2: $(sed -n 3p "$study/runs.csv")"
for png in time_to_target fresh_to_target; do
  [ "$(head -c 8 "$study/$png.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
    && ok "$png.png is a PNG" || bad "$png.png signature"
done
grep -q '^sparrow echo-study .*--echo 1,2 ' "$study/summary.md" && grep -q '^| any | 1 |' "$study/summary.md" \
  && ok "summary.md has the command line and the table" || bad "summary.md: $(cat "$study/summary.md")"

# --replot rewrites the report from runs.csv alone, and rejects a broken one.
cp "$study/summary.csv" "$tmp/summary_before.csv"
rm -f "$study/summary.csv" "$study/summary.md" "$study"/*.png
expect "echo-study --replot rewrites the report" 0 "rewrote summary.csv, summary.md and the plots .* from 3 runs" \
  "$bin" echo-study --data $data --model "$spec" --batch 10 --echo 1,2 \
  --echo_place before_augment,batch --seeds 1 --target 0.2 --eval_every 50 \
  --eval_examples 100 --upstream_cost_us 200 --max_fresh_epochs 20 --out "$study" --replot
cmp -s "$study/summary.csv" "$tmp/summary_before.csv" && ok "replot: the same summary.csv" \
  || bad "replot summary.csv differs: $(diff "$study/summary.csv" "$tmp/summary_before.csv")"
[ -s "$study/time_to_target.png" ] && [ -s "$study/summary.md" ] && ok "replot: plots and summary.md" \
  || bad "replot: $(ls "$study")"
sed -i '3s/,1,/,x,/' "$study/runs.csv"
expect "echo-study --replot rejects a malformed runs.csv" 1 "runs.csv:3: malformed row" \
  "$bin" echo-study --out "$study" --upstream_cost_us 200 --replot
expect "echo-study --replot needs the cost" 1 "--upstream_cost_us" \
  "$bin" echo-study --out "$study" --replot

# The ratio path measures the step first; --final_seconds trains each run
# to a fixed budget.
expect "echo-study measures the step and sets the cost from the ratio" 0 \
  "measured training step: [0-9.]+ us/example .* upstream cost 2 x that" \
  "$bin" echo-study --data $data --model "$spec" --batch 10 --echo 1,auto \
  --echo_place after_augment --seeds 1 --target 0.2 --eval_every 50 \
  --upstream_ratio 2 --final_seconds 0.3 --max_fresh_epochs 1000 --out "$tmp/s2" -q
s=$(col "$tmp/s2/runs.csv" seconds 1)
within "$s" 0.3 5 && ok "--final_seconds 0.3: run clock $s s" || bad "run clock $s"
grep -q "after 0.3 s on its clock" "$tmp/s2/summary.md" && ok "summary.md defines the final accuracy" \
  || bad "summary.md: $(cat "$tmp/s2/summary.md")"
exit $fail
