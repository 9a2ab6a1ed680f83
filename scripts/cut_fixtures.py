#!/usr/bin/env python3
"""Cut small, deterministic IDX fixtures from the full MNIST / Fashion-MNIST datasets.

For each dataset (mnist, fashion-mnist) this takes the FIRST 1000 training
images+labels and the FIRST 500 test images+labels, rewrites them as valid IDX
files (images: magic 0x00000803, count, 28, 28; labels: magic 0x00000801, count;
all big-endian u32) and gzip-compresses them deterministically (mtime=0, empty
file name, compresslevel 9) under the canonical four file names:

    <out>/mnist-small/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    <out>/fashion-mnist-small/...

It then writes <out>/CHECKSUMS.sha256 in `sha256sum` format (paths relative to
<out>), so `cd fixtures && sha256sum -c CHECKSUMS.sha256` verifies them.

Pure Python standard library. Usage (from anywhere):

    python3 scripts/cut_fixtures.py [--src DIR] [--out DIR]

--src defaults to ../shared/datasets relative to the repository root (the
parent of this script's directory); --out defaults to fixtures/ in the
repository root. Relative paths given on the command line are taken relative
to the current working directory.

Note: the compressed bytes depend on the zlib build used by Python; the
decompressed IDX content is fully determined by the source data.
"""

import argparse
import gzip
import hashlib
import io
import os
import struct
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DATASETS = ["mnist", "fashion-mnist"]
# (split file prefix, number of samples to keep)
SPLITS = [("train", 1000), ("t10k", 500)]

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
ROWS = COLS = 28


def read_gz(path):
    with gzip.open(path, "rb") as f:
        return f.read()


def cut_images(raw, n, path):
    if len(raw) < 16:
        raise ValueError(f"{path}: too short for an IDX image header")
    magic, count, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != IMAGES_MAGIC:
        raise ValueError(f"{path}: bad magic 0x{magic:08x}, expected 0x{IMAGES_MAGIC:08x}")
    if (rows, cols) != (ROWS, COLS):
        raise ValueError(f"{path}: unexpected image size {rows}x{cols}")
    if len(raw) != 16 + count * rows * cols:
        raise ValueError(f"{path}: length {len(raw)} does not match header count {count}")
    if count < n:
        raise ValueError(f"{path}: only {count} images, need {n}")
    body = raw[16:16 + n * rows * cols]
    return struct.pack(">IIII", IMAGES_MAGIC, n, rows, cols) + body


def cut_labels(raw, n, path):
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for an IDX label header")
    magic, count = struct.unpack(">II", raw[:8])
    if magic != LABELS_MAGIC:
        raise ValueError(f"{path}: bad magic 0x{magic:08x}, expected 0x{LABELS_MAGIC:08x}")
    if len(raw) != 8 + count:
        raise ValueError(f"{path}: length {len(raw)} does not match header count {count}")
    if count < n:
        raise ValueError(f"{path}: only {count} labels, need {n}")
    body = raw[8:8 + n]
    if any(b > 9 for b in body):
        raise ValueError(f"{path}: label outside 0..9")
    return struct.pack(">II", LABELS_MAGIC, n) + body


def gzip_deterministic(data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(data)
    return buf.getvalue()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "datasets")),
                    help="directory holding mnist/ and fashion-mnist/ (default: ../shared/datasets from repo root)")
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "fixtures"),
                    help="output directory (default: fixtures/ in repo root)")
    args = ap.parse_args(argv)

    src = os.path.abspath(args.src)
    out = os.path.abspath(args.out)
    checksums = []  # (relpath, sha256)
    summary = []

    for ds in DATASETS:
        ds_out = os.path.join(out, f"{ds}-small")
        os.makedirs(ds_out, exist_ok=True)
        for split, n in SPLITS:
            img_name = f"{split}-images-idx3-ubyte.gz"
            lbl_name = f"{split}-labels-idx1-ubyte.gz"
            img_src = os.path.join(src, ds, img_name)
            lbl_src = os.path.join(src, ds, lbl_name)
            images = cut_images(read_gz(img_src), n, img_src)
            labels = cut_labels(read_gz(lbl_src), n, lbl_src)
            counts = [0] * 10
            for b in labels[8:]:
                counts[b] += 1
            for name, data in ((img_name, images), (lbl_name, labels)):
                gz = gzip_deterministic(data)
                # Round-trip check.
                if gzip.decompress(gz) != data:
                    raise RuntimeError(f"gzip round-trip failed for {ds}/{name}")
                path = os.path.join(ds_out, name)
                with open(path, "wb") as f:
                    f.write(gz)
                rel = os.path.relpath(path, out).replace(os.sep, "/")
                checksums.append((rel, hashlib.sha256(gz).hexdigest()))
                summary.append((rel, n, len(data), len(gz), hashlib.sha256(data).hexdigest()))
            print(f"{ds}-small {split}: {n} samples, class counts {counts}")

    checksums.sort()
    with open(os.path.join(out, "CHECKSUMS.sha256"), "w", newline="\n") as f:
        for rel, h in checksums:
            f.write(f"{h}  {rel}\n")

    print()
    print(f"source: {src}")
    print(f"output: {out}")
    print(f"{'file':<50} {'n':>5} {'idx bytes':>10} {'gz bytes':>9}  sha256(idx)")
    for rel, n, raw_len, gz_len, raw_sha in summary:
        print(f"{rel:<50} {n:>5} {raw_len:>10} {gz_len:>9}  {raw_sha}")
    print(f"wrote {len(checksums)} files + CHECKSUMS.sha256")
    return 0


if __name__ == "__main__":
    sys.exit(main())
