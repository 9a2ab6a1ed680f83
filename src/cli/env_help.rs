//! The environment variables preinterp reads, for the end of
//! `preinterp --help`. Those that stand in for a flag (`--mirror`) also
//! show as `[env: ...]` beside it.

/// The "Environment:" section of the top-level `--help`.
pub(super) const ENV: &str = "\
Environment:
  PREINTERP_DATA_DIR       Folder searched for the datasets after --data-dir and before the
                           cache (a folder holding mnist/ and fashion-mnist/, as `fetch --to`
                           fills it, or the four files of one dataset)
  PREINTERP_CACHE_DIR      The dataset cache, searched last and downloaded into [default:
                           $XDG_CACHE_HOME/preinterp, else ~/.cache/preinterp]
  XDG_CACHE_HOME           See PREINTERP_CACHE_DIR (ignored unless an absolute path)
  PREINTERP_MIRROR         Base URL to download the datasets from instead of the canonical
                           mirrors, unless --mirror is given
  PREINTERP_SIMD           avx2: use the AVX2 kernels on an AVX-512 machine; native or unset:
                           the best the CPU has
  PREINTERP_DENORMALS      keep: keep subnormal floats in training (PyTorch's exact arithmetic,
                           slower) [default: flushed to zero]
  PREINTERP_MIN_CUT_MACS   Multiply-adds a layer's product needs to be cut across threads
                           [default: 6291456]; results never depend on it
  PREINTERP_MIN_PART_MACS  Multiply-adds each part of a cut product gets [default: 1048576];
                           results never depend on it
  PREINTERP_CLAIM_STALE_S  Seconds after which a sweep worker's claim on a run, not refreshed,
                           may be taken over by another worker [default: 600]
  PREINTERP_BENCH_DIR      Folder of `bench --save NAME` / `--compare NAME` results [default:
                           bench-results]
  SLURM_ARRAY_TASK_ID,     The default of `sweep list/run --shard` inside a Slurm job array
  SLURM_ARRAY_TASK_COUNT,  (the task ids count from SLURM_ARRAY_TASK_MIN)
  SLURM_ARRAY_TASK_MIN

Precedence for the datasets: --data-dir, then PREINTERP_DATA_DIR, then the cache, then a
download (unless --no-download); `preinterp fetch` fills a folder for machines without network.";
