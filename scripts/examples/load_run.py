#!/usr/bin/env python3
"""Load a preinterp run file into xarray and pandas, and redraw the
learning curves (the paper's figure 1) and the validation-loss spread
with matplotlib.

    python scripts/examples/load_run.py RUN.h5 [--out curves.png]

Needs: xarray, h5netcdf, pandas, matplotlib (see tests/python/requirements.txt).
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402


def load(path):
    """The three groups of a run file as xarray Datasets."""
    curves = xr.open_dataset(path, engine="h5netcdf", group="curves")
    checkpoints = xr.open_dataset(path, engine="h5netcdf", group="checkpoints")
    try:
        val = xr.open_dataset(path, engine="h5netcdf", group="val_per_epoch")
    except OSError:
        val = None  # recorded with --record-samples checkpoints|none
    return curves, val, checkpoints


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--out", default="curves.png")
    args = ap.parse_args()

    curves, val, ck = load(args.run)
    # pandas: one row per epoch, indexed by epoch (the per-epoch series;
    # the reliability tables are over epoch x confidence_bin).
    per_epoch = [v for v in curves.data_vars if curves[v].dims == ("epoch",)]
    df = curves[per_epoch].to_dataframe()
    best = int(df["val_loss"].idxmin())
    print(df[["val_loss", "val_accuracy", "train_accuracy"]].describe().T[["min", "max"]])
    print(f"minimum validation loss at epoch {best}: {df.loc[best, 'val_loss']:.4f}")

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4.5))
    for name, color in [("train", "C0"), ("val", "C3"), ("eval", "C2")]:
        ax1.semilogy(df.index, df[f"{name}_loss"], color=color, label=name)
        ax2.plot(df.index, df[f"{name}_accuracy"], color=color, label=name)
    for ax in (ax1, ax2):
        ax.axvline(best, color="C4", ls="--", label=f"min val loss (epoch {best})")
        ax.set_xlabel("epoch")
        ax.legend()
    ax1.set_ylabel("mean cross-entropy loss (nats)")
    ax2.set_ylabel("accuracy")
    if val is not None:
        # Quantiles of the per-sample validation loss at every epoch: the
        # median keeps falling while the top tail grows.
        q = val.loss.quantile([0.5, 0.9, 0.99], dim="val_sample")
        for p, color in zip(q["quantile"].values, ["C0", "C1", "C3"]):
            ax3.semilogy(val.epoch, q.sel(quantile=p), color=color, label=f"{int(p * 100)}th percentile")
        ax3.set_xlabel("epoch")
        ax3.set_ylabel("validation loss per sample (nats)")
        ax3.legend()
    fig.suptitle(curves.attrs.get("title", "") or xr.open_dataset(args.run, engine="h5netcdf").attrs.get("title", ""))
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
    # The loss histograms of the checkpoints, as a pandas table.
    h = ck.val_loss_hist.to_pandas()
    print(f"{h.shape[0]} checkpoints x {h.shape[1]} loss bins; last checkpoint: "
          f"{int(h.iloc[-1].sum())} validation samples counted")
    assert np.all(h.sum(axis=1) + ck.val_loss_nan.to_pandas() == h.sum(axis=1).iloc[0])


if __name__ == "__main__":
    main()
