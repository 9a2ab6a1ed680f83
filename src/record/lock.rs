//! Who is writing a run file. The writer holds a lock on it for as long
//! as it records (an open-file-description lock, Linux `F_OFD_SETLK`, on
//! its first byte), which the kernel drops when the writer exits, however
//! it exits. A file whose writer was killed is therefore told apart from
//! one that a live process is still writing: the first can be resumed,
//! the second must not be touched. HDF5's own locks (`flock`) and SWMR
//! readers are not affected.

use std::fs::File;
use std::path::Path;

/// Held while a run file is being written.
#[derive(Debug)]
pub(crate) struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the lock on `path`; `None` if another process holds it.
    pub(crate) fn acquire(path: &Path) -> std::io::Result<Option<WriterLock>> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        Ok(sys::lock(&file)?.then_some(WriterLock { _file: file }))
    }
}

/// Whether another process is writing `path` now.
pub(crate) fn held_by_another(path: &Path) -> bool {
    File::open(path)
        .and_then(|f| sys::is_locked(&f))
        .unwrap_or(false)
}

#[cfg(target_os = "linux")]
mod sys {
    use std::fs::File;
    use std::os::fd::AsRawFd;

    fn first_byte(kind: libc::c_int) -> libc::flock {
        // SAFETY: `flock` is plain old data; all-zero is a valid value.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = kind as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        fl.l_start = 0;
        fl.l_len = 1;
        fl
    }

    /// Takes a write lock without waiting: true if taken.
    pub fn lock(f: &File) -> std::io::Result<bool> {
        let fl = first_byte(libc::F_WRLCK);
        // SAFETY: a valid descriptor and a valid `flock` for F_OFD_SETLK.
        let rc = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_OFD_SETLK, &fl) };
        if rc == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(false),
            _ => Err(e),
        }
    }

    /// Whether some other open file description holds a lock.
    pub(crate) fn is_locked(f: &File) -> std::io::Result<bool> {
        let mut fl = first_byte(libc::F_WRLCK);
        // SAFETY: a valid descriptor and a valid `flock` for F_OFD_GETLK.
        let rc = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(fl.l_type != libc::F_UNLCK as libc::c_short)
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::fs::File;

    /// No lock on this platform: every file counts as unlocked.
    pub fn lock(_: &File) -> std::io::Result<bool> {
        Ok(true)
    }

    /// See [`lock`].
    pub(crate) fn is_locked(_: &File) -> std::io::Result<bool> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_seen_and_released_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("run.h5");
        std::fs::write(&p, b"x").unwrap();
        assert!(!held_by_another(&p));
        let l = WriterLock::acquire(&p).unwrap().unwrap();
        assert!(held_by_another(&p));
        assert!(WriterLock::acquire(&p).unwrap().is_none());
        drop(l);
        assert!(!held_by_another(&p));
    }
}
