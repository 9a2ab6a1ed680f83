//! preinterp reproduces *Pre-interpolation loss behaviour in neural
//! networks* (Venter, Theunissen & Davel, 2021) on CPUs.
//!
//! The data's path through the crate:
//! [`data`] (IDX files, downloads, splits) -> [`model`] (shapes, one
//! parameter buffer, initialisation) and [`kernels`] (matmul, fused
//! bias + ReLU, fused softmax + cross-entropy, SIMD exp) -> [`net`]
//! (forward and backward of a batch) -> [`optim`] (SGD, Adam) ->
//! [`train`] (the step and the loop) -> [`eval`] (per-sample losses on
//! all cores) -> [`record`] (the HDF5 file) -> [`analysis`] ->
//! [`plot`] -> [`report`]; [`compare`] sets runs side by side; [`paper`]
//! reproduces the whole paper. [`bench`](mod@bench) measures it. The
//! command line lives in the `preinterp` binary (`src/cli`, the `cli`
//! feature), which only parses, dispatches and prints; the library has
//! no clap.
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod analysis;
pub mod bench;
pub mod compare;
pub mod config;
pub mod data;
pub mod error;
pub mod eval;
pub mod kernels;
pub mod machine;
pub mod model;
pub mod net;
pub mod optim;
pub mod paper;
pub(crate) mod plot;
pub mod record;
pub mod report;
pub(crate) mod rng;
pub mod run;
pub mod stats;
pub mod sweep;
pub mod threads;
pub mod train;
pub mod weights;

pub use error::{Error, ErrorKind, Result};
