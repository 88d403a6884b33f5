#!/usr/bin/python3
"""Times torch.nn.GRUCell, batch 1, on one thread: the peer for BM_GruStep_*.

    /usr/bin/python3 bench/torch_gru.py            # 384 x 384
    /usr/bin/python3 bench/torch_gru.py --input 128 --hidden 256

Uses Debian's python3-torch (1.13); call /usr/bin/python3 explicitly if another
python3 comes first on PATH. Prints the median, min and mean microseconds per
step over many steps (the state is fed back, as in a real sequence).

One thread means one: torch.set_num_threads(1) does not reach Debian's
OpenBLAS (openblas-pthread), whose own pool would run the GEMV on every core,
so its pool is capped before torch loads (bench/torch_train.py does the same).
"""
import argparse
import os
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
import torch  # noqa: E402  (after the thread caps, which it reads at load)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=int, default=384)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    cell = torch.nn.GRUCell(args.input, args.hidden).eval()
    x = torch.rand(1, args.input) * 2 - 1
    h = torch.rand(1, args.hidden) * 2 - 1

    times = []
    with torch.no_grad():
        for _ in range(args.warmup):
            h = cell(x, h)
        for _ in range(args.steps):
            t0 = time.perf_counter()
            h = cell(x, h)
            times.append(time.perf_counter() - t0)

    us = [t * 1e6 for t in times]
    flops = 2 * 3 * args.hidden * (args.input + args.hidden)
    med = statistics.median(us)
    print(f"torch {torch.__version__} GRUCell({args.input}, {args.hidden}) "
          f"batch 1, threads={torch.get_num_threads()}: "
          f"median {med:.1f} us/step, min {min(us):.1f}, "
          f"mean {statistics.mean(us):.1f} "
          f"({flops / med / 1e3:.2f} GFLOP/s at the median)")


if __name__ == "__main__":
    main()
