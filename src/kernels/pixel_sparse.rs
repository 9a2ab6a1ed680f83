//! The first layer on each image's non-zero pixels only.
//!
//! An MNIST image has 19% non-zero pixels, but a batch of 64 uses 63% of
//! the columns ([`super::sparse_input`] compacts to those), so the dense
//! product still multiplies three zeros for every useful pixel. Here
//! each image's non-zero pixels are listed ([`NonZeros`]) and the layer
//! is `z[b, :] = sum_p x[b, p] W^T[p, :]` over them, vectorised across
//! the output units, on the weights transposed once per evaluation into
//! [`PackedFirst`]. (Training keeps the dense product: transposing the
//! weights every step costs more than the zeros do; docs/performance.md
//! has the numbers.)
//!
//! **Bit-identical to faer's product.** private-gemm-x86 sums every
//! output in one fused multiply-add chain over the inner dimension, in
//! order, from `+0`, one block of [`GEMM_KC`] at a time, and adds each
//! block's chain to the output (its micro-kernels never split a chain
//! on AVX2 or AVX-512). This kernel runs the same two chains per output
//! (pixels below 512, then from 512) and adds them. A zero pixel's term
//! `fma(0, w, acc)` is `acc` exactly for finite `w` (a chain from `+0`
//! never holds `-0`), so leaving the zeros out changes no bit; with a
//! non-finite weight (`0 * inf` is NaN) [`PackedFirst::pack`] reports
//! it and the caller takes the dense product. [`applies`] admits only
//! the shapes for which faer takes that path (not its matrix-vector,
//! rank-one or nano-gemm kernels); tests compare the bits.

use pulp::Simd;

use super::matmul::FAER_SMALL_MNK;
use super::sparse_input::{ActiveCols, GEMM_KC};
use crate::data::Samples;
use crate::model::INPUTS;

/// Most SIMD vectors of output units per pass over an image's pixels
/// (8 x 16 = 128 units on AVX-512, 8 x 8 = 64 on AVX2): the chain's
/// accumulators stay in registers.
const TILE_VECTORS: usize = 8;

/// Pixels per range of a tile's pass: the range's weight rows (64 rows
/// of at most 128 floats; 28 KiB for 100 units) stay in L1 while every
/// image adds its non-zeros in the range (measured: 64 beat 32, 128 and
/// a single range).
const RANGE: usize = 64;

// [`NonZeros::fill`] scans whole words of 8 pixels; no range straddles
// the [`GEMM_KC`] boundary.
const _: () =
    assert!(INPUTS.is_multiple_of(8) && RANGE.is_multiple_of(16) && GEMM_KC.is_multiple_of(RANGE));

/// For each 8-lane mask, the lanes that are set, in order, then lane 0
/// (past the count: overwritten by the next store): the permutation
/// that moves the set lanes to the front.
#[cfg(target_arch = "x86_64")]
static COMPRESS8: [[u32; 8]; 256] = {
    let mut t = [[0u32; 8]; 256];
    let mut m = 0;
    while m < 256 {
        let mut k = 0;
        let mut lane = 0;
        while lane < 8 {
            if m & (1 << lane) != 0 {
                t[m][k] = lane as u32;
                k += 1;
            }
            lane += 1;
        }
        while k < 8 {
            t[m][k] = 0;
            k += 1;
        }
        m += 1;
    }
    t
};

/// Ranges of [`RANGE`] pixels in an image.
const RANGES: usize = INPUTS.div_ceil(RANGE);

/// The non-zero pixels of a block of images, each image's in increasing
/// pixel order, and the scratch the sparse product keeps its chains in.
pub struct NonZeros {
    /// Pixel index of every non-zero, image after image.
    idx: Vec<u16>,
    /// Its value, `byte / 255` (exactly as the dense gather rounds it).
    val: Vec<f32>,
    /// Image `r`'s non-zeros are `start[r]..start[r + 1]`.
    start: Vec<u32>,
    /// Per image, the end of its non-zeros in each range of [`RANGE`]
    /// pixels ([`RANGES`] per image).
    ends: Vec<u32>,
    /// Per image, [`TILE_VECTORS`] vectors of the chain over pixels
    /// below [`GEMM_KC`] and of the chain over the rest (16 lanes).
    lo: Vec<f32>,
    hi: Vec<f32>,
    /// Images held.
    rows: usize,
}

impl NonZeros {
    /// Room for `rows` images.
    pub fn new(rows: usize) -> Self {
        NonZeros {
            // 16 past the end: the AVX-512 fill stores whole vectors.
            idx: vec![0; rows * INPUTS + 16],
            val: vec![0.0; rows * INPUTS + 16],
            start: vec![0; rows + 1],
            ends: vec![0; rows * RANGES],
            lo: vec![0.0; rows * TILE_VECTORS * 16 + 16],
            hi: vec![0.0; rows * TILE_VECTORS * 16 + 16],
            rows: 0,
        }
    }

    /// Lists the non-zero pixels of images `idx` of `src` (at most the
    /// capacity given to [`NonZeros::new`]); returns how many.
    pub fn fill(&mut self, src: &Samples, idx: &[u32]) -> usize {
        assert!(idx.len() <= self.capacity(), "NonZeros holds fewer images");
        #[cfg(target_arch = "x86_64")]
        match super::simd_path() {
            // SAFETY: the CPU has AVX-512F (checked by `simd_path`).
            super::SimdPath::Avx512 => return unsafe { self.fill_avx512(src, idx) },
            // SAFETY: the CPU has AVX2 and FMA (checked by `simd_path`).
            super::SimdPath::Avx2 => return unsafe { self.fill_avx2(src, idx) },
            super::SimdPath::Baseline => {}
        }
        self.fill_portable(src, idx)
    }

    /// [`NonZeros::fill`] 8 pixels at a time on AVX2: the non-zero
    /// lanes moved to the front by a permutation looked up from their
    /// mask ([`COMPRESS8`]) and stored whole (within the slack).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn fill_avx2(&mut self, src: &Samples, idx: &[u32]) -> usize {
        use std::arch::x86_64::*;
        let r255 = _mm256_set1_ps(1.0 / 255.0);
        let k255 = _mm256_set1_ps(255.0);
        let iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let zero = _mm256_setzero_si256();
        let mut n = 0usize;
        for (r, &i) in idx.iter().enumerate() {
            self.start[r] = n as u32;
            let img = src.image(i as usize);
            assert_eq!(img.len(), INPUTS);
            for k in (0..INPUTS).step_by(8) {
                if k % RANGE == 0 && k > 0 {
                    self.ends[r * RANGES + k / RANGE - 1] = n as u32;
                }
                // SAFETY: `img[k..k + 8]` is in bounds; the stores write 8
                // values from `n <= r * 784 + k`, within the slack.
                unsafe {
                    let bytes = _mm_loadl_epi64(img.as_ptr().add(k).cast());
                    let v = _mm256_cvtepu8_epi32(bytes);
                    let lit = _mm256_cmpgt_epi32(v, zero);
                    let mask = _mm256_movemask_ps(_mm256_castsi256_ps(lit)) as usize;
                    let perm = _mm256_loadu_si256(COMPRESS8[mask].as_ptr().cast());
                    let x = _mm256_cvtepi32_ps(v);
                    let q = _mm256_mul_ps(x, r255);
                    let e = _mm256_fnmadd_ps(q, k255, x);
                    let y = _mm256_fmadd_ps(e, r255, q);
                    _mm256_storeu_ps(
                        self.val.as_mut_ptr().add(n),
                        _mm256_permutevar8x32_ps(y, perm),
                    );
                    let at = _mm256_add_epi32(iota, _mm256_set1_epi32(k as i32));
                    let at = _mm256_permutevar8x32_epi32(at, perm);
                    let packed = _mm_packus_epi32(
                        _mm256_castsi256_si128(at),
                        _mm256_extracti128_si256(at, 1),
                    );
                    _mm_storeu_si128(self.idx.as_mut_ptr().add(n).cast(), packed);
                    n += mask.count_ones() as usize;
                }
            }
            self.ends[r * RANGES + RANGES - 1] = n as u32;
        }
        self.start[idx.len()] = n as u32;
        self.rows = idx.len();
        n
    }

    /// [`NonZeros::fill`] eight pixels at a time, on any CPU.
    fn fill_portable(&mut self, src: &Samples, idx: &[u32]) -> usize {
        // Compiled for the SIMD level present (pulp dispatch), so that
        // `byte_to_unit`'s fused multiply-adds are instructions.
        struct Op<'a>(&'a mut NonZeros, &'a Samples, &'a [u32]);
        impl pulp::WithSimd for Op<'_> {
            type Output = usize;
            #[inline(always)]
            fn with_simd<S: Simd>(self, _: S) -> usize {
                let Op(nz, src, idx) = self;
                let mut n = 0usize;
                for (r, &i) in idx.iter().enumerate() {
                    nz.start[r] = n as u32;
                    let img = src.image(i as usize);
                    // Eight pixels at a time: most words of an MNIST
                    // image are 0 (784 = 98 x 8).
                    for (w, chunk) in img.chunks_exact(8).enumerate() {
                        if u64::from_ne_bytes(chunk.try_into().unwrap()) != 0 {
                            for (k, &p) in chunk.iter().enumerate() {
                                nz.idx[n] = (w * 8 + k) as u16;
                                nz.val[n] = super::byte_to_unit(p);
                                n += (p != 0) as usize;
                            }
                        }
                        let next = w * 8 + 8;
                        if next % RANGE == 0 || next == INPUTS {
                            nz.ends[r * RANGES + (next - 1) / RANGE] = n as u32;
                        }
                    }
                }
                nz.start[idx.len()] = n as u32;
                nz.rows = idx.len();
                n
            }
        }
        super::arch().dispatch(Op(self, src, idx))
    }

    /// [`NonZeros::fill`] 16 pixels at a time: the non-zero lanes'
    /// values and indices compressed to the front of a vector and stored
    /// whole (the buffers have 16 floats of slack), `byte_to_unit`'s
    /// arithmetic on all lanes (the same operations, so the same bits).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn fill_avx512(&mut self, src: &Samples, idx: &[u32]) -> usize {
        use std::arch::x86_64::*;
        const _: () = assert!(INPUTS.is_multiple_of(16));
        let r255 = _mm512_set1_ps(1.0 / 255.0);
        let k255 = _mm512_set1_ps(255.0);
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let mut n = 0usize;
        for (r, &i) in idx.iter().enumerate() {
            self.start[r] = n as u32;
            let img = src.image(i as usize);
            assert_eq!(img.len(), INPUTS);
            for k in (0..INPUTS).step_by(16) {
                if (k % RANGE == 0) && k > 0 {
                    self.ends[r * RANGES + k / RANGE - 1] = n as u32;
                }
                // SAFETY: `img[k..k + 16]` is in bounds; the stores write
                // 16 values from `n <= r * 784 + k`, within the slack.
                unsafe {
                    let bytes = _mm_loadu_si128(img.as_ptr().add(k).cast());
                    let v = _mm512_cvtepu8_epi32(bytes);
                    // No branch on the mask: zero runs and lit pixels
                    // alternate too irregularly to predict.
                    let mask = _mm512_test_epi32_mask(v, v);
                    // `byte_to_unit`: q = x / 255 by reciprocal, then the
                    // remainder's correction, both fused.
                    let x = _mm512_cvtepi32_ps(v);
                    let q = _mm512_mul_ps(x, r255);
                    let e = _mm512_fnmadd_ps(q, k255, x);
                    let y = _mm512_fmadd_ps(e, r255, q);
                    let at = _mm512_add_epi32(iota, _mm512_set1_epi32(k as i32));
                    debug_assert!(n + 16 <= self.val.len());
                    _mm512_storeu_ps(
                        self.val.as_mut_ptr().add(n),
                        _mm512_maskz_compress_ps(mask, y),
                    );
                    let packed = _mm512_cvtepi32_epi16(_mm512_maskz_compress_epi32(mask, at));
                    _mm256_storeu_si256(self.idx.as_mut_ptr().add(n).cast(), packed);
                    n += mask.count_ones() as usize;
                }
            }
            self.ends[r * RANGES + RANGES - 1] = n as u32;
        }
        self.start[idx.len()] = n as u32;
        self.rows = idx.len();
        n
    }

    /// Non-zeros held.
    pub fn len(&self) -> usize {
        self.start[self.rows] as usize
    }

    /// Whether no image is held.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Images held.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The most images it can hold.
    pub fn capacity(&self) -> usize {
        self.start.len() - 1
    }

    /// Whether each [`GEMM_KC`] block of pixels is used by no image or
    /// holds at least two distinct used pixels (then a product on the
    /// block's compacted columns has an inner dimension of 2 or more,
    /// whatever the compaction: see [`applies_either_way`]).
    pub fn two_or_none_per_block(&self) -> bool {
        let split = GEMM_KC / RANGE; // ranges below the boundary
        let mut first = [u16::MAX; 2];
        let mut last = [0u16; 2];
        let mut any = [false; 2];
        for r in 0..self.rows {
            let (s, m, e) = (
                self.start[r] as usize,
                self.ends[r * RANGES + split - 1] as usize,
                self.start[r + 1] as usize,
            );
            for (b, run) in [(0, &self.idx[s..m]), (1, &self.idx[m..e])] {
                if let (Some(&lo), Some(&hi)) = (run.first(), run.last()) {
                    any[b] = true;
                    first[b] = first[b].min(lo);
                    last[b] = last[b].max(hi);
                }
            }
        }
        (0..2).all(|b| !any[b] || first[b] < last[b])
    }
}

/// The first layer's weights `W (O x 784)` transposed into tiles of at
/// most [`TILE_VECTORS`] SIMD vectors of output units: tile `t` holds
/// units `t * tile..`, 784 rows of `width` floats (zero-padded to whole
/// vectors), so an image's pass reads one row per non-zero pixel.
pub struct PackedFirst {
    /// The tiles, from `data[at..]` (64-byte aligned: a vector load then
    /// never straddles two cache lines).
    data: Vec<f32>,
    at: usize,
    /// Output units.
    o: usize,
    /// Floats per SIMD vector on the path it was packed for.
    lanes: usize,
}

impl PackedFirst {
    /// Room for a layer of up to `o` units.
    pub fn new(o: usize) -> Self {
        let lanes = lanes();
        let data = vec![0.0; o.next_multiple_of(lanes) * INPUTS + 16];
        PackedFirst {
            at: aligned_start(&data),
            data,
            o: 0,
            lanes,
        }
    }

    /// Units per tile.
    fn tile(&self) -> usize {
        TILE_VECTORS * self.lanes
    }

    /// Transposes `w` (`o x 784`, row-major) in; returns whether every
    /// weight is finite.
    pub fn pack(&mut self, w: &[f32], o: usize) -> bool {
        assert_eq!(w.len(), o * INPUTS);
        assert!(self.at + o.next_multiple_of(self.lanes) * INPUTS <= self.data.len());
        self.o = o;
        let tile = self.tile();
        let mut finite = true;
        let mut at = self.at;
        for o0 in (0..o).step_by(tile) {
            let ow = tile.min(o - o0);
            let width = ow.next_multiple_of(self.lanes);
            let block = &mut self.data[at..at + width * INPUTS];
            for (p, row) in block.chunks_exact_mut(width).enumerate() {
                for (j, d) in row[..ow].iter_mut().enumerate() {
                    *d = w[(o0 + j) * INPUTS + p];
                }
                row[ow..].fill(0.0);
            }
            finite &= block.iter().all(|v| v.is_finite());
            at += width * INPUTS;
        }
        finite
    }
}

/// The first index of `v` at a 64-byte boundary (at most 15).
fn aligned_start(v: &[f32]) -> usize {
    let misalign = v.as_ptr() as usize % 64;
    (64 - misalign) % 64 / 4
}

/// `v` from its first 64-byte boundary.
fn aligned_mut(v: &mut [f32]) -> &mut [f32] {
    let at = aligned_start(v);
    &mut v[at..]
}

/// f32 lanes of the SIMD path the kernels run on.
fn lanes() -> usize {
    struct Lanes;
    impl pulp::WithSimd for Lanes {
        type Output = usize;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) -> usize {
            S::F32_LANES
        }
    }
    super::arch().dispatch(Lanes)
}

/// Whether the sparse product is bit-identical to the dense product the
/// first layer would otherwise take for `rows` images and `o` units:
/// faer must route every product through its GEMM (at least 2 rows and
/// units, more than [`FAER_SMALL_MNK`] multiply-adds, an inner dimension
/// of 2 or more: one product on all 784 columns, or with `compact`
/// columns one per [`GEMM_KC`] block), and run on AVX2 or AVX-512.
pub fn applies(rows: usize, o: usize, compact: Option<&ActiveCols>) -> bool {
    if super::simd_path() == super::SimdPath::Baseline || rows < 2 || o < 2 {
        return false;
    }
    let gemm = |k: usize| k == 0 || (k >= 2 && rows * o * k > FAER_SMALL_MNK);
    match compact {
        None => gemm(INPUTS),
        Some(cols) => cols.blocks().iter().all(|b| gemm(b.len())),
    }
}

/// Whether the sparse product is bit-identical to the first layer's
/// dense product for `rows` images and `o` units, compacted or not,
/// given that every [`GEMM_KC`] block of pixels is used by none of the
/// images or holds two distinct used pixels
/// ([`NonZeros::two_or_none_per_block`]): then every product either
/// way has at least 2 rows, units and inner columns and more than
/// [`FAER_SMALL_MNK`] multiply-adds, so [`applies`] holds without
/// knowing the compaction.
pub fn applies_either_way(rows: usize, o: usize) -> bool {
    super::simd_path() != super::SimdPath::Baseline
        && rows >= 2
        && o >= 2
        && rows * o * 2 > FAER_SMALL_MNK
}

/// Whether the sparse product is likely faster than the dense one on
/// `width` columns, for `rows` images with about `nonzeros` non-zero
/// pixels in all and `o` units. Either way the results are the same
/// bits. Costs in cycles, fitted to `bench --only breakdown` on the
/// 2-core AMD EPYC (Zen 4) on both SIMD paths: the sparse product is
/// load-bound (each weight row is read once per non-zero pixel) at
/// about 0.127 per non-zero and unit on AVX-512 and 0.165 on AVX2, and
/// listing an image's non-zeros costs about 650 and 1000; the dense
/// product reuses what it loads, about 0.066 per column and unit, plus
/// its gather (0.079 in all).
pub fn pays(nonzeros: usize, rows: usize, width: usize, o: usize) -> bool {
    let (per_unit, per_image) = match super::simd_path() {
        super::SimdPath::Avx512 => (0.127, 650.0),
        _ => (0.165, 1000.0),
    };
    let sparse = (nonzeros * o) as f64 * per_unit + rows as f64 * per_image;
    let dense = (rows * width * o) as f64 * 0.079;
    sparse < dense
}

/// An estimate of the non-zero pixels of images `idx` of `src`, from
/// the first few.
pub fn estimate_nonzeros(src: &Samples, idx: &[u32]) -> usize {
    const PROBE: usize = 8;
    let probe = &idx[..idx.len().min(PROBE)];
    let seen: usize = probe
        .iter()
        .map(|&i| src.image(i as usize).iter().filter(|&&p| p != 0).count())
        .sum();
    seen * idx.len() / probe.len().max(1)
}

/// `z (rows x O) = x W^T` on the non-zero pixels `nz`, into `out` at
/// `out[r * rs + j * cs]` (row-major: `rs = O, cs = 1`; feature-major:
/// `rs = 1, cs = rows`). No bias, no ReLU.
pub fn first_layer_sparse(
    packed: &PackedFirst,
    nz: &mut NonZeros,
    out: &mut [f32],
    rs: usize,
    cs: usize,
) {
    struct Op<'a>(
        &'a PackedFirst,
        &'a mut NonZeros,
        &'a mut [f32],
        usize,
        usize,
    );
    impl pulp::WithSimd for Op<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let Op(packed, nz, out, rs, cs) = self;
            assert_eq!(packed.lanes, S::F32_LANES, "packed for another SIMD path");
            let (o, tile) = (packed.o, packed.tile());
            assert!(nz.rows == 0 || (nz.rows - 1) * rs + (o - 1) * cs < out.len());
            let mut at = packed.at;
            for o0 in (0..o).step_by(tile) {
                let ow = tile.min(o - o0);
                let nv = ow.div_ceil(S::F32_LANES);
                let w = &packed.data[at..at + nv * S::F32_LANES * INPUTS];
                let dst = Dst {
                    out: &mut *out,
                    rs,
                    cs,
                    o0,
                    ow,
                };
                let nz = &mut *nz;
                match nv {
                    1 => tile_pass::<S, 1>(simd, w, nz, dst),
                    2 => tile_pass::<S, 2>(simd, w, nz, dst),
                    3 => tile_pass::<S, 3>(simd, w, nz, dst),
                    4 => tile_pass::<S, 4>(simd, w, nz, dst),
                    5 => tile_pass::<S, 5>(simd, w, nz, dst),
                    6 => tile_pass::<S, 6>(simd, w, nz, dst),
                    7 => tile_pass::<S, 7>(simd, w, nz, dst),
                    _ => tile_pass::<S, TILE_VECTORS>(simd, w, nz, dst),
                }
                at += nv * S::F32_LANES * INPUTS;
            }
        }
    }
    super::arch().dispatch(Op(packed, nz, out, rs, cs));
}

/// Where one tile's outputs go: units `o0..o0 + ow` of every row.
struct Dst<'a> {
    out: &'a mut [f32],
    rs: usize,
    cs: usize,
    o0: usize,
    ow: usize,
}

/// One tile of `NV` vectors of units over every image, [`RANGE`] pixels
/// at a time (the weights' rows of a range are read from L1 by every
/// image with non-zeros there): per image, one chain over its pixels
/// below [`GEMM_KC`] and one over the rest, each from `+0` and in pixel
/// order, kept in `nz.lo` / `nz.hi` between ranges; then their sum (as
/// faer adds its second block to the first).
#[inline(always)]
fn tile_pass<S: Simd, const NV: usize>(simd: S, w: &[f32], nz: &mut NonZeros, dst: Dst<'_>) {
    let width = NV * S::F32_LANES;
    let rows = nz.rows;
    let NonZeros {
        idx,
        val,
        start,
        ends,
        lo,
        hi,
        ..
    } = nz;
    let (lo, hi) = (aligned_mut(lo), aligned_mut(hi));
    lo[..rows * width].fill(0.0);
    hi[..rows * width].fill(0.0);
    for range in 0..RANGES {
        let chains = if range * RANGE < GEMM_KC {
            &mut *lo
        } else {
            &mut *hi
        };
        for r in 0..rows {
            let from = if range == 0 {
                start[r]
            } else {
                ends[r * RANGES + range - 1]
            };
            let (from, to) = (from as usize, ends[r * RANGES + range] as usize);
            if from == to {
                continue;
            }
            let (acc, _) = S::as_mut_simd_f32s(&mut chains[r * width..][..width]);
            let mut a: [S::f32s; NV] = core::array::from_fn(|j| acc[j]);
            for (&p, &x) in idx[from..to].iter().zip(&val[from..to]) {
                let row = &w[p as usize * width..][..width];
                let (rv, _) = S::as_simd_f32s(row);
                let xv = simd.splat_f32s(x);
                for j in 0..NV {
                    a[j] = simd.mul_add_f32s(xv, rv[j], a[j]);
                }
            }
            acc[..NV].copy_from_slice(&a);
        }
    }
    let mut sum = [0.0f32; TILE_VECTORS * 16];
    for r in 0..rows {
        let (t, _) = S::as_mut_simd_f32s(&mut sum[..width]);
        let (l, _) = S::as_simd_f32s(&lo[r * width..][..width]);
        let (h, _) = S::as_simd_f32s(&hi[r * width..][..width]);
        for j in 0..NV {
            t[j] = simd.add_f32s(l[j], h[j]);
        }
        let base = r * dst.rs + dst.o0 * dst.cs;
        for (j, &v) in sum[..dst.ow].iter().enumerate() {
            dst.out[base + j * dst.cs] = v;
        }
    }
}

/// Scalar twin of [`first_layer_sparse`] on the dense inputs `x`
/// (`rows x 784`) and weights `w` (`O x 784`): the same two chains per
/// output with `f32::mul_add`, zeros included.
#[cfg(test)]
pub(crate) fn first_layer_sparse_ref(x: &[f32], w: &[f32], rows: usize, o: usize, out: &mut [f32]) {
    for r in 0..rows {
        for j in 0..o {
            let (mut lo, mut hi) = (0.0f32, 0.0f32);
            for p in 0..INPUTS {
                let t =
                    x[r * INPUTS + p].mul_add(w[j * INPUTS + p], if p < GEMM_KC { lo } else { hi });
                if p < GEMM_KC {
                    lo = t;
                } else {
                    hi = t;
                }
            }
            out[r * o + j] = lo + hi;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Images with runs, isolated pixels, both sides of the GEMM block
    /// boundary, the last pixel, and an empty one.
    fn images(n: usize) -> Samples {
        let mut pixels = vec![0u8; n * INPUTS];
        for (s, img) in pixels.chunks_exact_mut(INPUTS).enumerate() {
            if s % 6 == 5 {
                continue;
            }
            for (k, p) in img.iter_mut().enumerate() {
                if (k * 31 + s * 17) % (3 + s % 4) == 0 {
                    *p = ((k * 7 + s) % 255 + 1) as u8;
                }
            }
            img[INPUTS - 1] = 255;
        }
        Samples {
            labels: vec![0; n],
            pixels,
        }
    }

    #[test]
    fn every_fill_lists_the_same_non_zeros() {
        let src = images(13);
        let idx: Vec<u32> = (0..13).rev().collect();
        let mut b = NonZeros::new(13);
        let n = b.fill_portable(&src, &idx);
        let mut fills: Vec<(&str, NonZeros)> = vec![];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                let mut a = NonZeros::new(13);
                // SAFETY: AVX2 and FMA checked above.
                assert_eq!(unsafe { a.fill_avx2(&src, &idx) }, n);
                fills.push(("avx2", a));
            }
            if std::is_x86_feature_detected!("avx512f") {
                let mut a = NonZeros::new(13);
                // SAFETY: AVX-512F checked above.
                assert_eq!(unsafe { a.fill_avx512(&src, &idx) }, n);
                fills.push(("avx512", a));
            }
        }
        for (name, a) in &fills {
            assert_eq!(a.start, b.start, "{name}");
            assert_eq!(a.ends, b.ends, "{name}");
            assert_eq!(a.idx[..n], b.idx[..n], "{name}");
            assert_eq!(a.val[..n], b.val[..n], "{name}");
        }
        // Against the images themselves.
        let mut k = 0;
        for &i in &idx {
            for (p, &v) in src.image(i as usize).iter().enumerate() {
                if v != 0 {
                    assert_eq!((b.idx[k] as usize, b.val[k]), (p, v as f32 / 255.0));
                    k += 1;
                }
            }
        }
        assert_eq!(k, n);
    }

    /// The kernel against its scalar twin, bit for bit, in both output
    /// layouts, for widths within one tile and across several.
    #[test]
    fn sparse_product_agrees_with_its_scalar_twin() {
        let rows = 11;
        let src = images(rows);
        let idx: Vec<u32> = (0..rows as u32).collect();
        let mut x = vec![0.0f32; rows * INPUTS];
        for (r, row) in x.chunks_exact_mut(INPUTS).enumerate() {
            for (d, &p) in row.iter_mut().zip(src.image(r)) {
                *d = p as f32 / 255.0;
            }
        }
        let mut nz = NonZeros::new(rows);
        nz.fill(&src, &idx);
        for o in [1, 7, 16, 100, 129, 260] {
            let w: Vec<f32> = (0..o * INPUTS)
                .map(|i| ((i * 2654435761) % 2001) as f32 / 1000.0 - 1.0)
                .collect();
            let mut packed = PackedFirst::new(o);
            assert!(packed.pack(&w, o));
            let mut want = vec![0.0; rows * o];
            first_layer_sparse_ref(&x, &w, rows, o, &mut want);
            let mut got = vec![f32::NAN; rows * o];
            first_layer_sparse(&packed, &mut nz, &mut got, o, 1);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{o} units, row-major");
            let mut fm = vec![f32::NAN; rows * o];
            first_layer_sparse(&packed, &mut nz, &mut fm, 1, rows);
            for r in 0..rows {
                for j in 0..o {
                    assert_eq!(fm[j * rows + r].to_bits(), want[r * o + j].to_bits());
                }
            }
        }
    }
}
