#!/usr/bin/env python3
"""Generate PyTorch golden reference files for preinterp's MLP training.

NOT run in CI. It needs PyTorch, h5py and numpy (see scripts/requirements-golden.txt):

    python3 -m venv /tmp/golden-venv
    /tmp/golden-venv/bin/pip install -r scripts/requirements-golden.txt
    /tmp/golden-venv/bin/python scripts/make_golden.py            # writes fixtures/golden/*.h5
    /tmp/golden-venv/bin/python scripts/make_golden.py --check    # also replays each file in numpy float64

It reads the 1000 training samples of fixtures/mnist-small (created by
scripts/cut_fixtures.py), pixels as torch.from_numpy(u8).float() / 255.0
(float32, i.e. an IEEE float32 division by 255, not a multiply by 1/255),
labels int64. For each config below it builds an MLP
784 -> [Linear(h) -> ReLU] x L -> Linear(10) (default nn.Linear init after
torch.manual_seed(seed)), trains it with nn.CrossEntropyLoss() (mean over the
batch) for exactly 240 optimiser steps on CPU, single-threaded, with
torch.use_deterministic_algorithms(True), float32 everywhere, and writes
fixtures/golden/<name>.h5 with:

  root attrs: format_version=1, name, depth, width, optimizer ("adam"|"sgd"),
              lr, batch_size, momentum, beta1, beta2, eps, steps, seed,
              torch_version, dataset="fixtures/mnist-small", n_train=1000
  init/layer{i}/weight (out,in) f32, init/layer{i}/bias (out,) f32   i = 0..L
  final/layer{i}/...   weights after the 240 steps
  grad0/layer{i}/...   gradients of the mean loss at step 0 (before any update)
  batch_offsets u64 (steps+1,), batch_indices u32 (total,)
              step s uses samples batch_indices[batch_offsets[s]:batch_offsets[s+1]], in order
  losses f32 (steps,)  batch-mean CE of step s, before that step's update
  logits0 f32 (8,10), per_sample_loss0 f32 (8,)   first 8 training samples, initial weights

Batch order: each epoch draws torch.randperm(1000, generator=g) from one
torch.Generator seeded with seed+1000 (one generator for the whole run), split
into consecutive batches of B; the last partial batch is kept; epochs repeat
until 240 steps are done (the last epoch may be cut short).

All datasets are plain contiguous h5py datasets (no compression, no chunking).
"""

import argparse
import gzip
import os
import struct
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASET_REL = "fixtures/mnist-small"
N_TRAIN = 1000
STEPS = 240
N_PROBE = 8

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8

CONFIGS = [
    # name, depth L, width h, optimizer, lr, batch, momentum, seed
    dict(name="adam_3x100_b64", depth=3, width=100, optimizer="adam", lr=1e-3, batch_size=64, momentum=0.0, seed=1),
    dict(name="sgd_1x50_b16", depth=1, width=50, optimizer="sgd", lr=0.05, batch_size=16, momentum=0.0, seed=2),
    dict(name="adam_5x64_b256", depth=5, width=64, optimizer="adam", lr=2e-3, batch_size=256, momentum=0.0, seed=3),
    dict(name="sgdm_2x32_b96", depth=2, width=32, optimizer="sgd", lr=0.02, batch_size=96, momentum=0.9, seed=4),
]


# ---------------------------------------------------------------- data

def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    assert magic == 0x00000803, f"{path}: bad magic 0x{magic:08x}"
    assert (rows, cols) == (28, 28), f"{path}: bad shape {rows}x{cols}"
    assert len(raw) == 16 + n * rows * cols, f"{path}: bad length"
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows * cols).copy()


def read_idx_labels(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n = struct.unpack(">II", raw[:8])
    assert magic == 0x00000801, f"{path}: bad magic 0x{magic:08x}"
    assert len(raw) == 8 + n, f"{path}: bad length"
    return np.frombuffer(raw, dtype=np.uint8, offset=8).copy()


def load_train(repo_root):
    d = os.path.join(repo_root, DATASET_REL)
    x_u8 = read_idx_images(os.path.join(d, "train-images-idx3-ubyte.gz"))
    y_u8 = read_idx_labels(os.path.join(d, "train-labels-idx1-ubyte.gz"))
    assert x_u8.shape == (N_TRAIN, 784) and y_u8.shape == (N_TRAIN,)
    x = torch.from_numpy(x_u8).float() / 255.0
    y = torch.from_numpy(y_u8.astype(np.int64))
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    return x, y


# ---------------------------------------------------------------- model

def build_mlp(depth, width, seed):
    torch.manual_seed(seed)
    layers = []
    fan_in = 784
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        layers.append(nn.ReLU())
        fan_in = width
    layers.append(nn.Linear(fan_in, 10))
    model = nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert len(linears) == depth + 1
    return model, linears


def snapshot(linears, grad=False):
    out = []
    for lin in linears:
        w = lin.weight.grad if grad else lin.weight
        b = lin.bias.grad if grad else lin.bias
        out.append((w.detach().clone().numpy().astype(np.float32), b.detach().clone().numpy().astype(np.float32)))
    return out


def batch_schedule(seed, batch_size, n=N_TRAIN, steps=STEPS):
    g = torch.Generator()
    g.manual_seed(seed + 1000)
    batches = []
    while len(batches) < steps:
        perm = torch.randperm(n, generator=g)
        for start in range(0, n, batch_size):
            if len(batches) == steps:
                break
            batches.append(perm[start:start + batch_size].clone())
    return batches


# ---------------------------------------------------------------- run + write

def run_config(cfg, x, y):
    model, linears = build_mlp(cfg["depth"], cfg["width"], cfg["seed"])
    init = snapshot(linears)

    with torch.no_grad():
        logits0 = model(x[:N_PROBE])
        per_sample_loss0 = nn.functional.cross_entropy(logits0, y[:N_PROBE], reduction="none")

    if cfg["optimizer"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], betas=(BETA1, BETA2), eps=EPS)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    loss_fn = nn.CrossEntropyLoss()

    batches = batch_schedule(cfg["seed"], cfg["batch_size"])
    losses = np.zeros(STEPS, dtype=np.float32)
    grad0 = None
    for s, idx in enumerate(batches):
        opt.zero_grad(set_to_none=True)
        logits = model(x[idx])
        loss = loss_fn(logits, y[idx])
        loss.backward()
        if s == 0:
            grad0 = snapshot(linears, grad=True)
        opt.step()
        losses[s] = np.float32(loss.item())
    final = snapshot(linears)

    sizes = [len(b) for b in batches]
    offsets = np.zeros(STEPS + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum(sizes, dtype=np.uint64)
    indices = torch.cat(batches).numpy().astype(np.uint32)
    assert indices.shape == (int(offsets[-1]),)

    return dict(init=init, final=final, grad0=grad0, losses=losses, offsets=offsets, indices=indices,
                logits0=logits0.numpy().astype(np.float32),
                per_sample_loss0=per_sample_loss0.numpy().astype(np.float32))


def write_h5(path, cfg, res):
    tmp = path + ".tmp"
    with h5py.File(tmp, "w", libver="earliest") as f:
        a = f.attrs
        a["format_version"] = np.int64(1)
        a["name"] = cfg["name"]
        a["depth"] = np.int64(cfg["depth"])
        a["width"] = np.int64(cfg["width"])
        a["optimizer"] = cfg["optimizer"]
        a["lr"] = np.float64(cfg["lr"])
        a["batch_size"] = np.int64(cfg["batch_size"])
        a["momentum"] = np.float64(cfg["momentum"])
        a["beta1"] = np.float64(BETA1)
        a["beta2"] = np.float64(BETA2)
        a["eps"] = np.float64(EPS)
        a["steps"] = np.int64(STEPS)
        a["seed"] = np.int64(cfg["seed"])
        a["torch_version"] = str(torch.__version__)
        a["dataset"] = DATASET_REL
        a["n_train"] = np.int64(N_TRAIN)
        for group in ("init", "final", "grad0"):
            for i, (w, b) in enumerate(res[group]):
                f.create_dataset(f"{group}/layer{i}/weight", data=w)
                f.create_dataset(f"{group}/layer{i}/bias", data=b)
        f.create_dataset("batch_offsets", data=res["offsets"])
        f.create_dataset("batch_indices", data=res["indices"])
        f.create_dataset("losses", data=res["losses"])
        f.create_dataset("logits0", data=res["logits0"])
        f.create_dataset("per_sample_loss0", data=res["per_sample_loss0"])
    os.replace(tmp, path)


# ---------------------------------------------------------------- independent replay (numpy, float64)

def replay_check(path, x_np, y_np):
    """Re-run training from the file's init weights and batch schedule with a
    hand-written float64 numpy MLP/optimiser; return max deviations."""
    with h5py.File(path, "r") as f:
        a = dict(f.attrs)
        L = int(a["depth"])
        W = [f[f"init/layer{i}/weight"][()].astype(np.float64) for i in range(L + 1)]
        B = [f[f"init/layer{i}/bias"][()].astype(np.float64) for i in range(L + 1)]
        Wf = [f[f"final/layer{i}/weight"][()] for i in range(L + 1)]
        Bf = [f[f"final/layer{i}/bias"][()] for i in range(L + 1)]
        G0 = [(f[f"grad0/layer{i}/weight"][()], f[f"grad0/layer{i}/bias"][()]) for i in range(L + 1)]
        offs = f["batch_offsets"][()]
        idxs = f["batch_indices"][()]
        losses = f["losses"][()]
        logits0 = f["logits0"][()]
        psl0 = f["per_sample_loss0"][()]

    def forward_backward(W, B, xb, yb):
        acts = [xb]
        h = xb
        for i in range(L + 1):
            z = h @ W[i].T + B[i]
            if i < L:
                h = np.maximum(z, 0.0)
                acts.append(h)
            else:
                logits = z
        m = logits.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
        per = lse - logits[np.arange(len(yb)), yb]
        p = np.exp(logits - lse[:, None])
        p[np.arange(len(yb)), yb] -= 1.0
        d = p / len(yb)
        gW, gB = [None] * (L + 1), [None] * (L + 1)
        for i in range(L, -1, -1):
            gW[i] = d.T @ acts[i]
            gB[i] = d.sum(axis=0)
            if i > 0:
                d = (d @ W[i]) * (acts[i] > 0)
        return logits, per, gW, gB

    dev = {}
    lg, per, _, _ = forward_backward(W, B, x_np[:N_PROBE], y_np[:N_PROBE])
    dev["logits0"] = float(np.abs(lg - logits0).max())
    dev["per_sample_loss0"] = float(np.abs(per - psl0).max())

    params = W + B
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    rl = np.zeros(len(losses))
    for s in range(len(losses)):
        ib = idxs[offs[s]:offs[s + 1]].astype(np.int64)
        _, per, gW, gB = forward_backward(params[:L + 1], params[L + 1:], x_np[ib], y_np[ib])
        rl[s] = per.mean()
        grads = gW + gB
        if s == 0:
            dev["grad0"] = max(float(np.abs(grads[i] - G0[i][0]).max()) for i in range(L + 1))
            dev["grad0"] = max(dev["grad0"], max(float(np.abs(grads[L + 1 + i] - G0[i][1]).max()) for i in range(L + 1)))
        t = s + 1
        for k, g in enumerate(grads):
            if a["optimizer"] == "adam":
                m1[k] = a["beta1"] * m1[k] + (1 - a["beta1"]) * g
                m2[k] = a["beta2"] * m2[k] + (1 - a["beta2"]) * g * g
                mh = m1[k] / (1 - a["beta1"] ** t)
                vh = m2[k] / (1 - a["beta2"] ** t)
                params[k] = params[k] - a["lr"] * mh / (np.sqrt(vh) + a["eps"])
            else:
                if a["momentum"] != 0:
                    m1[k] = g if s == 0 else a["momentum"] * m1[k] + g
                    g = m1[k]
                params[k] = params[k] - a["lr"] * g
    dev["losses"] = float(np.abs(rl - losses).max())
    dev["final_weights"] = max(float(np.abs(params[k] - (Wf + Bf)[k]).max()) for k in range(2 * (L + 1)))
    return dev


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description="Write PyTorch golden files to fixtures/golden/.")
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "fixtures", "golden"))
    ap.add_argument("--only", action="append", help="config name(s) to run (default: all)")
    ap.add_argument("--check", action="store_true", help="replay each written file in numpy float64 and report deviations")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)

    x, y = load_train(REPO_ROOT)
    os.makedirs(args.out, exist_ok=True)
    print(f"torch {torch.__version__}, h5py {h5py.__version__}, numpy {np.__version__}")
    total = 0
    for cfg in CONFIGS:
        if args.only and cfg["name"] not in args.only:
            continue
        res = run_config(cfg, x, y)
        path = os.path.join(args.out, cfg["name"] + ".h5")
        write_h5(path, cfg, res)
        size = os.path.getsize(path)
        total += size
        l = res["losses"]
        print(f"{cfg['name']:<16} batches/epoch={-(-N_TRAIN // cfg['batch_size']):>3} "
              f"loss[0]={l[0]:.6f} loss[-1]={l[-1]:.6f} mean(last 16)={l[-16:].mean():.6f} "
              f"samples={len(res['indices'])} size={size} B")
        if args.check:
            dev = replay_check(path, x.double().numpy(), y.numpy())
            print("    numpy f64 replay max|diff|: " + ", ".join(f"{k}={v:.3g}" for k, v in dev.items()))
    print(f"total {total} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
