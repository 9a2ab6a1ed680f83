//! A one-line progress bar with ETA on stderr, shown only when stderr
//! is a terminal (nothing is printed there otherwise).

use std::io::{IsTerminal, Write};
use std::time::Instant;

use crate::error::Result;
use crate::train::{EpochMetrics, Observer, PerSample, Trainer};

/// Epoch progress for one run.
pub struct Progress {
    enabled: bool,
    total: usize,
    start: Instant,
}

impl Progress {
    /// A bar for `total` epochs, drawn only if stderr is a tty.
    pub fn new(total: usize) -> Self {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            total,
            start: Instant::now(),
        }
    }

    /// Clears the line (call before printing the summary).
    pub fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

/// `83s` -> `1m23s`.
pub fn fmt_secs(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

impl Observer for Progress {
    fn epoch_end(&mut self, m: &EpochMetrics, _: &PerSample, _: &Trainer) -> Result<()> {
        if !self.enabled || self.total == 0 {
            return Ok(());
        }
        let frac = m.epoch as f64 / self.total as f64;
        let width = 30;
        let filled = ((frac * width as f64) as usize).min(width);
        let el = self.start.elapsed().as_secs_f64();
        let eta = if m.epoch > 0 {
            el / frac - el
        } else {
            f64::NAN
        };
        let eta = if eta.is_finite() {
            fmt_secs(eta)
        } else {
            "?".into()
        };
        eprint!(
            "\r\x1b[2K[{}{}] epoch {}/{}  train {:.4} ({:.1}%)  val {:.4} ({:.1}%)  ETA {eta}",
            "#".repeat(filled),
            " ".repeat(width - filled),
            m.epoch,
            self.total,
            m.train.loss,
            100.0 * m.train.acc,
            m.val.loss,
            100.0 * m.val.acc
        );
        let _ = std::io::stderr().flush();
        Ok(())
    }
}
