//! Errors as values: a kind (which decides the exit code) and a one-line
//! message that names the file or flag and what is wrong.

use std::fmt;
use std::path::Path;

/// What went wrong, broadly. Decides the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A bad flag value or an impossible configuration (exit 2).
    Usage,
    /// Bad or missing input data: IDX, gzip, checksum (exit 1).
    Data,
    /// An I/O failure on an output or cache file (exit 1).
    Io,
    /// A download failed (exit 1).
    Download,
    /// The run was stopped by SIGINT (Ctrl-C) (exit 130).
    Interrupted,
    /// The run was stopped by SIGTERM, e.g. by Slurm (exit 143).
    Terminated,
    /// The run was stopped by SIGHUP (exit 129).
    HangUp,
}

/// The library's error: a kind plus a one-line, human message.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    msg: String,
}

impl Error {
    /// A new error of `kind`.
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Self {
        Error {
            kind,
            msg: msg.into(),
        }
    }
    /// A usage error (bad flag or configuration).
    pub fn usage(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, msg)
    }
    /// A data error about `path`.
    pub fn data(path: &Path, msg: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Data, format!("{}: {msg}", path.display()))
    }
    /// An I/O error about `path`.
    pub fn io(path: &Path, err: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Io, format!("{}: {err}", path.display()))
    }
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Usage => 2,
            ErrorKind::Interrupted => 130,
            ErrorKind::Terminated => 143,
            ErrorKind::HangUp => 129,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, always.
        f.write_str(&self.msg.replace('\n', " "))
    }
}

impl std::error::Error for Error {}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
