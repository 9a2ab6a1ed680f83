#!/usr/bin/env python3
"""Training and evaluation speed, preinterp against PyTorch, side by side.

The workloads of `preinterp bench` on real MNIST (one thread): Adam
training epochs of 5000 samples for 3x100 at batch 16/64/256, 3x1000 and
10x100 at batch 64; per-sample evaluation of the 10,000 test samples for
3x100 and 3x1000; the monitored epoch (3x100 b64: 5k training +
evaluation of 20k samples). Rounds alternate the two tools; each figure
is the median over rounds of each round's median, with the range.

Needs torch and numpy; not used by the tests or CI.

    PREINTERP_DATA_DIR=... scripts/train-vs-pytorch.py [--bin target/release/preinterp] [--rounds 2]
"""

import argparse
import gzip
import json
import os
import subprocess
import time

import numpy as np
import torch

CONFIGS = [(3, 100, 64), (3, 100, 16), (3, 100, 256), (3, 1000, 64), (10, 100, 64)]


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def mlp(depth, width):
    layers, fan_in = [], 784
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
        fan_in = width
    return torch.nn.Sequential(*layers, torch.nn.Linear(fan_in, 10))


def timed(f, repeats):
    f()
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        runs.append((time.perf_counter() - t) * 1e3)
    return float(np.median(runs))


def torch_train_ms(depth, width, batch, x, y, repeats, fused):
    model = mlp(depth, width)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        for i in range(0, len(y), batch):
            xb = x[i:i + batch].float().div_(255.0)
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), y[i:i + batch]).backward()
            opt.step()
    return timed(epoch, repeats)


def torch_eval(width, x, y, out_loss, out_ok):
    model = mlp(3, width).eval()

    def go():
        with torch.inference_mode():
            for i in range(0, len(y), 1024):
                z = model(x[i:i + 1024].float().div_(255.0))
                out_loss[i:i + 1024] = torch.nn.functional.cross_entropy(z, y[i:i + 1024], reduction="none")
                out_ok[i:i + 1024] = z.argmax(1) == y[i:i + 1024]
    return go


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/preinterp")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(1)
    d = os.path.join(os.environ.get("PREINTERP_DATA_DIR", "."), "mnist")
    xtr = torch.from_numpy(idx(os.path.join(d, "train-images-idx3-ubyte.gz"))[:5000].reshape(-1, 784).copy())
    ytr = torch.from_numpy(idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))[:5000].astype(np.int64))
    xte = torch.from_numpy(idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784).copy())
    yte = torch.from_numpy(idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    loss, ok = torch.empty(10_000), torch.empty(10_000, dtype=torch.bool)
    res = {}
    for r in range(a.rounds):
        out = subprocess.run([a.bin, "bench", "--datasets", "mnist", "--only",
                              ",".join(f"{d}x{w}-b{b}" for d, w, b in CONFIGS) + ",eval,monitored",
                              "--format", "json", "--repeats", str(a.repeats)],
                             capture_output=True, text=True, check=True)
        rep = json.loads(out.stdout)
        for t in rep["train"]:
            res.setdefault(("train", t["id"]), {}).setdefault("preinterp", []).append(t["ms"]["median"])
        for e in rep["eval"]:
            if e["threads"] == 1:
                res.setdefault(("eval", e["model"]), {}).setdefault("preinterp", []).append(e["samples_per_s"])
        for m in rep["monitored"]:
            res.setdefault(("monitored", "3x100"), {}).setdefault("preinterp", []).append(m["total_ms"]["median"])
        for dd, w, b in CONFIGS:
            key = ("train", f"{dd}x{w}-b{b}")
            res[key].setdefault("torch", []).append(torch_train_ms(dd, w, b, xtr, ytr, a.repeats, False))
            if b == 64 and dd == 3:
                res[key].setdefault("torch fused", []).append(torch_train_ms(dd, w, b, xtr, ytr, a.repeats, True))
        for w in (100, 1000):
            ms = timed(torch_eval(w, xte, yte, loss, ok), a.repeats)
            res[("eval", f"3x{w}")].setdefault("torch", []).append(10_000 / ms * 1e3)
        tr = torch_train_ms(3, 100, 64, xtr, ytr, a.repeats, False)
        ev = timed(torch_eval(100, xte, yte, loss, ok), a.repeats) * 2
        res[("monitored", "3x100")].setdefault("torch", []).append(tr + ev)
        print(f"round {r + 1} done", flush=True)
    print(f"torch {torch.__version__}, one thread; medians over {a.rounds} rounds [range]")
    for (kind, name), tools in res.items():
        unit = "samples/s" if kind == "eval" else "ms"
        cells = "  ".join(f"{t} {np.median(v):.1f} [{min(v):.1f}-{max(v):.1f}]" for t, v in tools.items())
        print(f"{kind:9} {name:12} ({unit}): {cells}")


if __name__ == "__main__":
    main()
