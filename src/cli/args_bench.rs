//! Options of the bench command, as the library takes them.

/// What `preinterp bench` runs.
#[derive(Clone, Debug, Default)]
pub struct BenchOpts {
    /// JSON instead of a table.
    pub json: bool,
    /// Timed repeats per workload.
    pub repeats: usize,
    /// Only these parts (training config ids, `eval`, `scaling`,
    /// `monitored`); all when empty.
    pub only: Vec<String>,
}
