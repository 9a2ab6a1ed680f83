pub mod eval;
pub mod kernels;
pub mod record;
pub mod train_step;
