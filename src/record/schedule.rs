//! When checkpoints fall: log-spaced iterations.

/// The checkpoint iterations: 0, then `round(10^(k / per_decade))` for
/// `k = 0, 1, ...`, without repeats.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    per_decade: u32,
    k: u32,
    next: u64,
}

impl Schedule {
    /// Starts at iteration 0; `per_decade = 0` means no checkpoints.
    pub fn new(per_decade: u32) -> Self {
        let next = if per_decade == 0 { u64::MAX } else { 0 };
        Schedule {
            per_decade: per_decade.max(1),
            k: 0,
            next,
        }
    }
    /// Whether `it` is a checkpoint (call with non-decreasing `it`).
    pub(crate) fn is_due(&mut self, it: u64) -> bool {
        if it < self.next {
            return false;
        }
        let due = it == self.next;
        while self.next <= it {
            self.next = 10f64.powf(self.k as f64 / self.per_decade as f64).round() as u64;
            self.k += 1;
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_log_spaced_and_deduplicated() {
        let mut s = Schedule::new(20);
        let due: Vec<u64> = (0..=100).filter(|&i| s.is_due(i)).collect();
        assert_eq!(&due[..6], &[0, 1, 2, 3, 4, 5]);
        assert_eq!(due.last(), Some(&100));
        // 10^(k/20) between 10 and 100 gives 20 distinct values.
        assert_eq!(due.iter().filter(|&&i| (10..100).contains(&i)).count(), 20);
        let mut s = Schedule::new(20);
        assert!(s.is_due(0) && !s.is_due(0));
        let mut none = Schedule::new(0);
        assert!((0..1000).all(|i| !none.is_due(i)));
    }
}
