pub mod eval;
pub mod kernels;
pub mod train_step;
