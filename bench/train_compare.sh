#!/bin/bash
# Training speed, Sparrow vs PyTorch side by side (issue 5): one step = forward,
# softmax cross-entropy, backward, Adam(lr=1e-3), batch 64, [28, 28, 1].
#
#   bench/train_compare.sh              # LeNet-5 and the MLP, 1 and 2 threads
#   THREADS=1 bench/train_compare.sh    # one thread only (the issue's goal)
#
# Sparrow: //bench:train_bench, BM_TrainStep_sparrow[_2threads]/<model>, median
# of REPS repetitions (Google Benchmark aggregates, wall clock). PyTorch:
# bench/torch_train.py under /usr/bin/python3 (Debian's python3-torch), median
# of REPS repetitions of 50 steps; its column reads n/a when torch is missing.
# The two run one after the other, never at once. Prints one table: model,
# threads, examples/s of each, the ratio and whether the goal (>= 2x PyTorch)
# is met; "vs issue" divides by the PyTorch figures the issue quotes (one
# thread: LeNet-5 2,450, MLP 11,300 examples/s); "cpu ratio" compares examples
# per CPU second instead of per wall second (one thread only), which a loaded
# machine disturbs less. PyTorch runs each thread count in its own process
# with OpenBLAS's pool capped to it (torch.set_num_threads alone leaves
# Debian's openblas-pthread on every core); "torch CPUs" is the CPU time over
# the wall time it measured, 1.00 when one thread really means one.
# Environment: THREADS (1,2), REPS (5), PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS="${THREADS:-1,2}"
REPS="${REPS:-5}"
PYTHON="${PYTHON:-/usr/bin/python3}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bazel build -c opt //bench:train_bench
bin="$(bazel info -c opt bazel-bin 2>/dev/null)/bench/train_bench"

filter=()
case ",$THREADS," in *,1,*) filter+=("BM_TrainStep_sparrow/") ;; esac
case ",$THREADS," in *,2,*) filter+=("BM_TrainStep_sparrow_2threads/") ;; esac
if [ ${#filter[@]} -eq 0 ]; then
  echo "THREADS=$THREADS: want 1, 2 or 1,2" >&2
  exit 2
fi
regex="^($(IFS='|'; echo "${filter[*]}"))"

echo "== sparrow: $bin --benchmark_filter='$regex'" >&2
"$bin" --benchmark_filter="$regex" --benchmark_repetitions="$REPS" \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="$tmp/sparrow.json" --benchmark_out_format=json >&2

echo "== torch: $PYTHON bench/torch_train.py --threads $THREADS --json" >&2
if ! "$PYTHON" bench/torch_train.py --threads "$THREADS" --reps "$REPS" \
    --json >"$tmp/torch.json"; then
  echo '{"skipped": "bench/torch_train.py failed"}' >"$tmp/torch.json"
fi

"$PYTHON" - "$tmp/sparrow.json" "$tmp/torch.json" <<'EOF'
import json, re, sys

ISSUE_TORCH = {"lenet5": 2450.0, "mlp": 11300.0}  # one thread, from the issue
GOAL = 2.0

sparrow = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    m = re.match(r"BM_TrainStep_sparrow(_2threads)?/(\w+)", b["run_name"])
    if m:
        # cpu_time is per iteration, in time_unit (ns by default).
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        sparrow[(m.group(2), 2 if m.group(1) else 1)] = (
            b["items_per_second"], 64.0 / (b["cpu_time"] * scale))

t = json.load(open(sys.argv[2]))
torch = {}
if "skipped" in t:
    print("PyTorch: " + t["skipped"])
else:
    print(f"PyTorch {t['torch']}, median of {t['reps']} x {t['steps']} steps")
    for r in t["results"]:
        torch[(r["model"], r["threads"])] = (r["examples_per_second"],
                                              r["cpu_examples_per_second"],
                                              r.get("cpus_used"))

print()
print(f"{'model':8s} {'threads':>7s} {'sparrow ex/s':>13s} {'torch ex/s':>11s} "
      f"{'ratio':>7s}  {'goal >= 2x':10s} {'vs issue':>8s} {'cpu ratio':>9s} "
      f"{'torch CPUs':>10s}")
for key in sorted(sparrow, key=lambda k: (k[1], k[0])):
    model, threads = key
    s, s_cpu = sparrow[key]
    p, p_cpu, p_cpus = torch.get(key, (None, None, None))
    ratio = f"{s / p:6.2f}x" if p else "    n/a"
    goal = ("met" if s / p >= GOAL else "MISSED") if p else "n/a"
    issue = (f"{s / ISSUE_TORCH[model]:7.2f}x"
             if threads == 1 and model in ISSUE_TORCH else "       -")
    # Sparrow's cpu_time is the main thread's only, torch's the whole
    # process's: comparable at one thread only.
    cpu = f"{s_cpu / p_cpu:8.2f}x" if p and threads == 1 else "        -"
    torch_col = f"{p:11.0f}" if p else f"{'n/a':>11s}"
    cpus = f"{p_cpus:10.2f}" if p_cpus else f"{'n/a':>10s}"
    print(f"{model:8s} {threads:7d} {s:13.0f} {torch_col} {ratio}  {goal:10s} "
          f"{issue} {cpu} {cpus}")
print()
print("ratio: wall clock, the goal's measure; cpu ratio: examples per CPU "
      "second, steadier on a loaded machine (one thread only)")
EOF
