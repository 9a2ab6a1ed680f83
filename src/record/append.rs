//! Appends to datasets that grow along their first axis, buffered per
//! chunk.
//!
//! Rows are pushed into an in-memory copy of the dataset's open chunk
//! (the one the next row falls in). HDF5 sees a write only at a flush
//! point ([`Appender::sync`]) or when the open chunk fills, and every
//! write covers the open chunk from its first row, in one call: HDF5
//! never has to read a chunk back and merge a row into it, and a chunk
//! whose rows are all written is final and never rewritten.
//!
//! The recorder syncs at every epoch end and checkpoint, because a
//! crash may happen at any time and the run must resume from its last
//! complete epoch, and readers of a running file (SWMR) should see
//! every epoch. Per-sample and histogram datasets hold one row per
//! chunk, so each of their writes is one whole chunk; the 1-D series
//! (256 rows per chunk) rewrite their open chunk, at most 2 KiB, at
//! each flush point until it fills.

use hdf5::{Dataset, H5Type};
use ndarray::{s, ArrayView1, ArrayView2, ArrayView3};

/// A growing dataset and its open chunk.
pub(super) struct Appender<T> {
    ds: Dataset,
    /// Shape of one row (the dataset's shape without its first axis).
    row_shape: Vec<usize>,
    /// Elements per row.
    row_len: usize,
    /// Rows per chunk along axis 0.
    chunk_rows: usize,
    /// First row of the open chunk.
    start: usize,
    /// Rows `start..start + k` of the open chunk.
    buf: Vec<T>,
    /// Rows in `buf`, at most `chunk_rows`.
    k: usize,
    /// Rows on disk.
    written: usize,
    /// The open chunk's rows on disk are not in `buf` yet.
    unread: bool,
}

fn err(e: impl std::fmt::Display) -> hdf5::Error {
    hdf5::Error::from(e.to_string())
}

impl<T: H5Type + Copy> Appender<T> {
    /// Binds `ds`, whose first `ds.shape()[0]` rows are kept: the part
    /// of them in the open chunk is read back before the next write, so
    /// that it can cover that chunk from its first row. The read waits
    /// for that write: a file a kill left with rows past its last flush
    /// is cut ([`Appender::truncate`]) before anything of it is read.
    pub(super) fn open(ds: Dataset) -> hdf5::Result<Self> {
        let shape = ds.shape();
        if shape.is_empty() || shape.len() > 3 {
            return Err(err(format!(
                "{}: not a growing dataset of 1 to 3 dimensions",
                ds.name()
            )));
        }
        let chunk_rows = ds
            .chunk()
            .map(|c| c[0])
            .ok_or_else(|| err(format!("{}: not chunked", ds.name())))?;
        let row_shape = shape[1..].to_vec();
        let row_len = row_shape.iter().product::<usize>();
        let rows = shape[0];
        let start = rows - rows % chunk_rows;
        Ok(Appender {
            ds,
            row_shape,
            row_len,
            chunk_rows,
            start,
            buf: Vec::with_capacity(chunk_rows * row_len),
            k: rows - start,
            written: rows,
            unread: rows > start,
        })
    }

    /// Reads back the open chunk's rows on disk, once, before the first
    /// write after [`Appender::open`].
    fn load(&mut self) -> hdf5::Result<()> {
        if !self.unread {
            return Ok(());
        }
        let (a, b) = (self.start, self.start + self.k);
        let kept: Vec<T> = match self.row_shape.len() {
            0 => self.ds.read_slice_1d(s![a..b])?.to_vec(),
            1 => {
                self.ds
                    .read_slice_2d(s![a..b, ..])?
                    .into_raw_vec_and_offset()
                    .0
            }
            _ => {
                self.ds
                    .read_slice::<T, _, ndarray::Ix3>(s![a..b, .., ..])?
                    .into_raw_vec_and_offset()
                    .0
            }
        };
        self.buf.clear();
        self.buf.extend_from_slice(&kept);
        self.unread = false;
        Ok(())
    }

    /// Cuts the dataset to its first `rows` rows and rebinds it.
    pub(super) fn truncate(&mut self, rows: usize) -> hdf5::Result<()> {
        let mut shape = vec![rows];
        shape.extend_from_slice(&self.row_shape);
        self.ds.resize(shape)?;
        *self = Appender::open(self.ds.clone())?;
        Ok(())
    }

    /// Rows appended so far (on disk or not).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.start + self.k
    }

    /// Appends one row (`row_len` values). Writes the open chunk first
    /// if it is full.
    pub(super) fn push(&mut self, row: &[T]) -> hdf5::Result<()> {
        if row.len() != self.row_len {
            return Err(err(format!(
                "{}: a row of {} values, expected {}",
                self.ds.name(),
                row.len(),
                self.row_len
            )));
        }
        self.load()?;
        if self.k == self.chunk_rows {
            self.sync()?;
        }
        self.buf.extend_from_slice(row);
        self.k += 1;
        Ok(())
    }

    /// Appends one single-value row.
    pub(super) fn push_value(&mut self, v: T) -> hdf5::Result<()> {
        self.push(&[v])
    }

    /// Writes the open chunk's rows, from its first, if any is not on
    /// disk yet; a full chunk is then closed.
    pub(super) fn sync(&mut self) -> hdf5::Result<()> {
        let k = self.k;
        let end = self.start + k;
        if end > self.written {
            let (a, b) = (self.start, end);
            let mut shape = vec![b];
            shape.extend_from_slice(&self.row_shape);
            self.ds.resize(shape)?;
            let buf = &self.buf[..];
            match self.row_shape[..] {
                [] => self.ds.write_slice(ArrayView1::from(buf), s![a..b])?,
                [d1] => self.ds.write_slice(
                    ArrayView2::from_shape((k, d1), buf).map_err(err)?,
                    s![a..b, ..],
                )?,
                [d1, d2] => self.ds.write_slice(
                    ArrayView3::from_shape((k, d1, d2), buf).map_err(err)?,
                    s![a..b, .., ..],
                )?,
                _ => unreachable!("checked in open"),
            }
            self.written = end;
        }
        if k == self.chunk_rows {
            self.start += k;
            self.buf.clear();
            self.k = 0;
        }
        Ok(())
    }
}

/// A growing dataset of any element type.
pub(super) trait Growing {
    /// See [`Appender::sync`].
    fn sync(&mut self) -> hdf5::Result<()>;
    /// See [`Appender::truncate`].
    fn truncate(&mut self, rows: usize) -> hdf5::Result<()>;
}

impl<T: H5Type + Copy> Growing for Appender<T> {
    fn sync(&mut self) -> hdf5::Result<()> {
        Appender::sync(self)
    }
    fn truncate(&mut self, rows: usize) -> hdf5::Result<()> {
        Appender::truncate(self, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdf5::{Extent, SimpleExtents};

    fn growing(f: &hdf5::File, name: &str, row: &[usize], chunk: usize) -> Dataset {
        let mut ext = vec![Extent::resizable(0)];
        ext.extend(row.iter().map(|&n| Extent::fixed(n)));
        let mut ch = vec![chunk];
        ch.extend_from_slice(row);
        f.new_dataset::<i64>()
            .shape(SimpleExtents::from_vec(ext))
            .chunk(ch)
            .shuffle()
            .deflate(4)
            .create(name)
            .unwrap()
    }

    #[test]
    fn rows_land_in_order_across_chunks_syncs_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.h5");
        let f = hdf5::File::create(&path).unwrap();
        let mut one = Appender::<i64>::open(growing(&f, "one", &[], 4)).unwrap();
        let mut two = Appender::<i64>::open(growing(&f, "two", &[3], 1)).unwrap();
        let mut three = Appender::<i64>::open(growing(&f, "three", &[2, 2], 2)).unwrap();
        for i in 0..11i64 {
            one.push_value(i).unwrap();
            two.push(&[i, -i, 2 * i]).unwrap();
            three.push(&[i, i + 1, i + 2, i + 3]).unwrap();
            // Sync at irregular points, as flushes fall.
            if i % 3 == 2 {
                for s in [&mut one, &mut two, &mut three] {
                    s.sync().unwrap();
                }
            }
        }
        // Rows 9 and 10 are not synced yet: not on disk.
        assert_eq!(f.dataset("one").unwrap().shape(), vec![9]);
        assert_eq!(one.len(), 11);
        one.sync().unwrap();
        two.sync().unwrap();
        three.sync().unwrap();
        let got: Vec<i64> = f.dataset("one").unwrap().read_raw().unwrap();
        assert_eq!(got, (0..11).collect::<Vec<_>>());
        let got: Vec<i64> = f.dataset("two").unwrap().read_raw().unwrap();
        assert_eq!(got.len(), 33);
        assert_eq!(&got[30..], &[10, -10, 20]);
        assert_eq!(f.dataset("three").unwrap().shape(), vec![11, 2, 2]);

        // Roll back to 6 rows (as a resume does), reopen, append.
        f.dataset("one").unwrap().resize(6).unwrap();
        let mut one = Appender::<i64>::open(f.dataset("one").unwrap()).unwrap();
        assert_eq!(one.len(), 6);
        for i in 100..103 {
            one.push_value(i).unwrap();
        }
        one.sync().unwrap();
        let got: Vec<i64> = f.dataset("one").unwrap().read_raw().unwrap();
        assert_eq!(got, vec![0, 1, 2, 3, 4, 5, 100, 101, 102]);
    }

    #[test]
    fn a_row_of_the_wrong_length_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = hdf5::File::create(dir.path().join("b.h5")).unwrap();
        let mut two = Appender::<i64>::open(growing(&f, "two", &[3], 1)).unwrap();
        let e = two.push(&[1, 2]).unwrap_err().to_string();
        assert!(e.contains("expected 3"), "{e}");
    }
}
