//! `preinterp sweep list`.

use super::args::{SweepArgs, SweepCmd};
use crate::error::Result;
use crate::sweep::{Shard, Sweep};

/// The shard from `--shard`, else from Slurm's job-array variables.
fn shard(flag: &Option<String>) -> Result<Shard> {
    match flag {
        Some(s) => Shard::parse(s),
        None => Ok(Shard::from_slurm(|k| std::env::var(k).ok())?.unwrap_or(Shard::ALL)),
    }
}

pub(super) fn run(a: &SweepArgs) -> Result<u8> {
    match &a.cmd {
        SweepCmd::List { spec, shard: flag } => {
            let sweep = Sweep::read(spec)?;
            let shard = shard(flag)?;
            let mine: Vec<_> = sweep
                .runs
                .iter()
                .enumerate()
                .filter(|(k, _)| shard.contains(*k))
                .collect();
            println!(
                "sweep {}: {} runs{}",
                sweep.name,
                sweep.runs.len(),
                if shard.count > 1 {
                    format!(
                        ", shard {}/{} has {}",
                        shard.index + 1,
                        shard.count,
                        mine.len()
                    )
                } else {
                    String::new()
                }
            );
            for (_, r) in mine {
                println!("{}\t{}", r.id, r.cfg.title());
            }
            Ok(0)
        }
    }
}
