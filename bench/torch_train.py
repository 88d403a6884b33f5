#!/usr/bin/python3
"""Times one PyTorch training step, batch 64, Adam: the peer for BM_TrainStep_*.

    /usr/bin/python3 bench/torch_train.py                    # lenet5 and mlp, 1 thread
    /usr/bin/python3 bench/torch_train.py --threads 1,2 --json
    /usr/bin/python3 bench/torch_train.py --split            # + forward / backward / Adam

Uses Debian's python3-torch (1.13); call /usr/bin/python3 explicitly if another
python3 comes first on PATH. Without torch it says so and exits 0 (with
--json it prints {"skipped": "..."}), so bench/train_compare.sh still runs.

A step is what bench/train_bench.cc's BM_TrainStep_sparrow times: forward on
a [64, 1, 28, 28] batch (NCHW, as PyTorch prefers; Sparrow runs NHWC),
softmax cross-entropy, backward, torch.optim.Adam(lr=1e-3).step(), with
zero_grad(set_to_none=True) (the cheaper form, PyTorch 2's default). Data
are random pixels in [0, 1) and fixed labels; the batch tensor is reused.
Each repetition times --steps steps after --warmup untimed ones; examples/s
is 64 * steps / wall time, and the median repetition is reported.

Threads: torch.set_num_threads() does not reach Debian's OpenBLAS, which
links its own pthread pool (openblas-pthread) and by default runs every GEMM
on all cores, so "one thread" would quietly be two here. Each thread count
therefore runs in a fresh process with OPENBLAS_NUM_THREADS, OMP_NUM_THREADS
and MKL_NUM_THREADS set to it before torch loads; the JSON reports the CPUs
the process actually used (CPU time / wall time) as "cpus_used".
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BATCH = 64


def build(torch, model):
    nn = torch.nn
    if model == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))
    if model == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, 10))
    raise ValueError(f"unknown model {model!r} (want lenet5 or mlp)")


def median_rate(fn, warmup, steps, reps, cpu=None):
    """Median over reps of BATCH * steps / seconds for `steps` calls of fn
    (wall clock), with its min and max. When `cpu` is a list, the median
    rate over the process's CPU time is appended to it."""
    for _ in range(warmup):
        fn()
    rates, cpu_rates = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            fn()
        c1, t1 = time.process_time(), time.perf_counter()
        rates.append(BATCH * steps / (t1 - t0))
        cpu_rates.append(BATCH * steps / max(c1 - c0, 1e-9))
    if cpu is not None:
        cpu.append(statistics.median(cpu_rates))
    return statistics.median(rates), min(rates), max(rates)


def measure(torch, model, threads, args):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = build(torch, model).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(BATCH, 1, 28, 28)
    y = (torch.arange(BATCH) * 7 + 3) % 10  # the labels train_bench.cc uses

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    def forward():
        with torch.no_grad():
            loss_fn(net(x), y)

    def forward_backward():
        net.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()

    def adam():
        opt.step()

    cpu = []
    med, lo, hi = median_rate(step, args.warmup, args.steps, args.reps, cpu)
    # cpu_examples_per_second: over the process's CPU time (all its threads),
    # steadier than wall clock on a loaded machine when threads == 1.
    row = {"model": model, "threads": threads, "examples_per_second": med,
           "min": lo, "max": hi, "ms_per_step": 1e3 * BATCH / med,
           "cpu_examples_per_second": cpu[0],
           "cpus_used": med / cpu[0]}
    if args.split:
        # Times per step in ms; forward runs under no_grad (no autograd tape),
        # forward_backward builds and walks it. Adam reads the grads the last
        # forward_backward left.
        for name, fn in (("forward", forward),
                         ("forward_backward", forward_backward),
                         ("adam", adam)):
            r, _, _ = median_rate(fn, args.warmup, args.steps, args.reps)
            row[name + "_ms"] = 1e3 * BATCH / r
    return row


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="lenet5,mlp")
    parser.add_argument("--threads", default="1", help="comma list, e.g. 1,2")
    parser.add_argument("--steps", type=int, default=50,
                        help="timed steps per repetition")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--split", action="store_true",
                        help="also time forward, forward+backward and Adam alone")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object on stdout instead of lines")
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]

    if len(thread_counts) > 1:
        # One process per thread count (see the module docstring).
        results, header = [], None
        for threads in thread_counts:
            argv = [sys.executable, os.path.abspath(__file__),
                    "--models", args.models, "--threads", str(threads),
                    "--steps", str(args.steps), "--warmup", str(args.warmup),
                    "--reps", str(args.reps)]
            argv += ["--split"] if args.split else []
            argv += ["--json"] if args.json else []
            out = subprocess.run(argv, check=True, stdout=subprocess.PIPE,
                                 text=True).stdout
            if not args.json:
                sys.stdout.write(out)
                continue
            part = json.loads(out)
            if "skipped" in part:
                print(out, end="")
                return 0
            header = part
            results += part["results"]
        if args.json:
            header["results"] = results
            print(json.dumps(header))
        return 0

    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(thread_counts[0])
    try:
        import torch
    except ImportError as e:
        msg = (f"torch is not importable by {sys.executable} ({e}); "
               "Debian's python3-torch is used by /usr/bin/python3")
        if args.json:
            print(json.dumps({"skipped": msg}))
        else:
            print(f"SKIPPED: {msg}")
        return 0

    rows = []
    for threads in thread_counts:
        for model in args.models.split(","):
            row = measure(torch, model, threads, args)
            rows.append(row)
            if not args.json:
                line = (f"torch {torch.__version__} {model:6s} batch {BATCH} "
                        f"Adam threads={threads}: "
                        f"{row['examples_per_second']:8.0f} examples/s median "
                        f"(min {row['min']:.0f}, max {row['max']:.0f}; "
                        f"{row['ms_per_step']:.2f} ms/step, "
                        f"{row['cpus_used']:.2f} CPUs)")
                if args.split:
                    line += (f"  forward {row['forward_ms']:.2f} ms, "
                             f"forward+backward {row['forward_backward_ms']:.2f}"
                             f" ms, adam {row['adam_ms']:.2f} ms")
                print(line, flush=True)
    if args.json:
        print(json.dumps({"torch": torch.__version__, "batch": BATCH,
                          "steps": args.steps, "reps": args.reps,
                          "results": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
