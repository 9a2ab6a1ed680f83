//! Thread counts as settings give them: a number, where 0 means every
//! core. [`Threads`] resolves that in one place; settings files, run
//! configurations and HDF5 attributes keep the plain number.

/// Logical cores available to this process (1 when unknown).
pub fn num_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// A thread count as given (`--threads N`, `threads = N`): 0 means all
/// cores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Threads(usize);

impl Threads {
    /// Every core (written as 0).
    pub const ALL: Threads = Threads(0);

    /// `n` threads as written; 0 is [`Threads::ALL`].
    pub const fn new(n: usize) -> Threads {
        Threads(n)
    }

    /// The threads to start: the number given, or every core for 0.
    pub fn get(self) -> usize {
        match self.0 {
            0 => num_cpus(),
            n => n,
        }
    }

    /// The number as written (0 for all cores), as stored in settings.
    pub fn given(self) -> usize {
        self.0
    }
}

impl From<usize> for Threads {
    fn from(n: usize) -> Threads {
        Threads(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_every_core_and_a_number_is_itself() {
        assert_eq!(Threads::ALL, Threads::from(0));
        assert_eq!(Threads::ALL.get(), num_cpus());
        assert!(Threads::ALL.get() >= 1);
        assert_eq!(Threads::new(3).get(), 3);
        assert_eq!(Threads::from(5).given(), 5);
        assert_eq!(Threads::default().given(), 0);
    }
}
