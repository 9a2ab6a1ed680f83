#!/usr/bin/env python3
"""Per-sample evaluation speed, preinterp against PyTorch, side by side.

Shared machines are noisy, so absolute samples/s drift from run to run;
this script alternates the two on the same workload, several rounds, and
reports each round's ratio and their median. The workload is the one of
`preinterp bench` (eval part): 10,000 MNIST-like samples (19% nonzero
pixels), 3x100 and 3x1000 ReLU MLPs, per-sample cross-entropy, the
predicted class and correctness, on 1 thread and on all cores.

Needs torch and numpy (see scripts/requirements-golden.txt); not used by
the tests or CI.

    scripts/eval-vs-pytorch.py [--bin target/release/preinterp] [--rounds 5]
"""

import argparse
import json
import os
import subprocess
import time

import numpy as np
import torch

N = 10_000


def torch_eval_rate(width, threads, x_u8, y, repeats):
    torch.set_num_threads(threads)
    layers, fan_in = [], 784
    for _ in range(3):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
        fan_in = width
    model = torch.nn.Sequential(*layers, torch.nn.Linear(fan_in, 10)).eval()
    loss = torch.empty(N)
    correct = torch.empty(N, dtype=torch.bool)
    best = float("inf")
    with torch.inference_mode():
        for rep in range(repeats + 1):
            t = time.perf_counter()
            for i in range(0, N, 1024):
                xb = x_u8[i:i + 1024].float().div_(255.0)
                z = model(xb)
                loss[i:i + 1024] = torch.nn.functional.cross_entropy(z, y[i:i + 1024], reduction="none")
                correct[i:i + 1024] = z.argmax(1) == y[i:i + 1024]
            if rep:
                best = min(best, time.perf_counter() - t)
    return N / best


def preinterp_rates(binary, repeats):
    out = subprocess.run([binary, "bench", "--only", "eval", "--json", "--repeats", str(repeats)],
                         capture_output=True, text=True, check=True)
    return {(e["model"], e["threads"]): e["samples_per_s"] for e in json.loads(out.stdout)["eval"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/preinterp")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5, help="timed passes per measurement (best kept)")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    pixels = np.where(rng.random((N, 784)) < 0.19, rng.integers(1, 256, (N, 784)), 0).astype(np.uint8)
    x_u8 = torch.from_numpy(pixels)
    y = torch.from_numpy(rng.integers(0, 10, N))
    cores = os.cpu_count() or 1
    print(f"torch {torch.__version__}, {cores} cores; samples/s, best of {a.repeats} passes over {N}")
    ratios = {}
    for r in range(a.rounds):
        ours = preinterp_rates(a.bin, a.repeats)
        for (model, threads), rate in sorted(ours.items()):
            width = int(model.split("x")[1])
            theirs = torch_eval_rate(width, threads, x_u8, y, a.repeats)
            ratios.setdefault((model, threads), []).append(rate / theirs)
            print(f"round {r + 1}: {model} {threads} thread(s): preinterp {rate:10.0f}  "
                  f"torch {theirs:10.0f}  ratio {rate / theirs:5.2f}")
    print("median ratio (preinterp / torch):")
    for (model, threads), v in sorted(ratios.items()):
        print(f"  {model} {threads} thread(s): {np.median(v):.2f}  (rounds: {', '.join(f'{x:.2f}' for x in v)})")


if __name__ == "__main__":
    main()
