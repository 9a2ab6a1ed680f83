//! A streaming reader for IDX files (plain or gzip), validating as it
//! goes: magic number, dimensions, counts, and exact file length.
//!
//! IDX is big-endian: images are `0x00000803, n, rows, cols` then
//! `n * rows * cols` bytes; labels are `0x00000801, n` then `n` bytes.

use std::fs::File;
use std::io::{BufReader, ErrorKind as IoKind, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{Error, Result};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions.
pub(crate) const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension.
pub(crate) const LABELS_MAGIC: u32 = 0x0000_0801;

/// Opens `path`, transparently decompressing gzip (sniffed from the
/// first two bytes, not the file name).
fn open(path: &Path) -> Result<Box<dyn Read>> {
    let mut f = File::open(path).map_err(|e| Error::data(path, format!("cannot open: {e}")))?;
    let mut magic = [0u8; 2];
    let n = read_fully(&mut f, &mut magic)
        .map_err(|e| Error::data(path, format!("cannot read: {e}")))?;
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let stream = head.chain(f);
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            GzDecoder::new(stream),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 16, stream)))
    }
}

/// Reads until `buf` is full or EOF; returns bytes read.
fn read_fully<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Turns a decoder error into a message a user can act on.
fn stream_error(path: &Path, e: std::io::Error) -> Error {
    Error::data(
        path,
        format!("corrupt gzip stream ({e}); delete the file and fetch it again"),
    )
}

fn read_exact_or(path: &Path, r: &mut dyn Read, buf: &mut [u8], what: &str) -> Result<()> {
    let got = read_fully(r, buf).map_err(|e| stream_error(path, e))?;
    if got < buf.len() {
        return Err(Error::data(
            path,
            format!(
                "truncated IDX file: {what} needs {} bytes, only {got} present",
                buf.len()
            ),
        ));
    }
    Ok(())
}

fn header(path: &Path, r: &mut dyn Read, words: usize, magic: u32) -> Result<Vec<u32>> {
    let mut h = vec![0u8; 4 * words];
    read_exact_or(path, r, &mut h, "the header")?;
    let w: Vec<u32> = h
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if w[0] != magic {
        return Err(Error::data(
            path,
            format!(
                "wrong IDX magic number 0x{:08x} (expected 0x{magic:08x})",
                w[0]
            ),
        ));
    }
    Ok(w)
}

/// After the payload: the stream must end here (and a gzip trailer
/// must check out, which reading to EOF verifies).
fn expect_eof(path: &Path, r: &mut dyn Read, expected: usize) -> Result<()> {
    let mut extra = [0u8; 1];
    let got = read_fully(r, &mut extra).map_err(|e| stream_error(path, e))?;
    if got != 0 {
        return Err(Error::data(
            path,
            format!("IDX file is longer than its header says ({expected} bytes of data expected)"),
        ));
    }
    Ok(())
}

/// IDX images: `n` images of the `rows x cols` bytes asked for.
pub(crate) struct IdxImages {
    /// Pixels, `n * rows * cols`, row-major.
    pub pixels: Vec<u8>,
    /// Image count.
    pub n: usize,
}

/// Reads an IDX image file, checking that images are `want_rows x
/// want_cols`.
pub(crate) fn read_images(path: &Path, want_rows: usize, want_cols: usize) -> Result<IdxImages> {
    let mut r = open(path)?;
    let h = header(path, &mut *r, 4, IMAGES_MAGIC)?;
    let (n, rows, cols) = (h[1] as usize, h[2] as usize, h[3] as usize);
    if (rows, cols) != (want_rows, want_cols) {
        return Err(Error::data(
            path,
            format!("images are {rows}x{cols}, expected {want_rows}x{want_cols}"),
        ));
    }
    let len = n * rows * cols;
    let mut pixels = vec![0u8; len];
    read_exact_or(
        path,
        &mut *r,
        &mut pixels,
        &format!("{n} images of {rows}x{cols}"),
    )?;
    expect_eof(path, &mut *r, len)?;
    Ok(IdxImages { pixels, n })
}

/// Reads an IDX label file, checking every label is below `classes`.
pub(crate) fn read_labels(path: &Path, classes: usize) -> Result<Vec<u8>> {
    let mut r = open(path)?;
    let h = header(path, &mut *r, 2, LABELS_MAGIC)?;
    let n = h[1] as usize;
    let mut labels = vec![0u8; n];
    read_exact_or(path, &mut *r, &mut labels, &format!("{n} labels"))?;
    expect_eof(path, &mut *r, n)?;
    if let Some(pos) = labels.iter().position(|&y| y as usize >= classes) {
        return Err(Error::data(
            path,
            format!(
                "label {} at index {pos} is not a class 0..{}",
                labels[pos],
                classes - 1
            ),
        ));
    }
    Ok(labels)
}
