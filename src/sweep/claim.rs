//! Who works on a run of a shared sweep folder: a claim file
//! `DIR/<id>.claim`, created with `O_EXCL` (atomic on local file systems,
//! NFSv3+ and Lustre, unlike POSIX locks there), holding the worker's
//! host, pid, a token unique to this claim and a heartbeat (Unix time)
//! that a small thread refreshes while the claim is held.
//!
//! A claim is taken over when its heartbeat is older than the stale limit
//! (`PREINTERP_CLAIM_STALE_S`, 600 s by default; heartbeats from many
//! machines need synchronised clocks), or at once when it names this host
//! and a pid that is not alive. Two workers taking over the same stale
//! claim race for `DIR/<id>.claim.<token>.takeover` (`O_EXCL` again, one
//! file per stale claim's token, so one winner); the winner checks that
//! the claim still has that token, removes it, and creates its own with
//! `O_EXCL` (so a third worker that created a claim meanwhile keeps it).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// The stale limit when `PREINTERP_CLAIM_STALE_S` is not set.
pub(crate) const DEFAULT_STALE_S: f64 = 600.0;

/// The stale limit: `PREINTERP_CLAIM_STALE_S` seconds, else 600.
pub(crate) fn stale_limit() -> Duration {
    let s = std::env::var("PREINTERP_CLAIM_STALE_S")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(DEFAULT_STALE_S);
    Duration::from_secs_f64(s)
}

/// What a claim file says.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Holder {
    /// The worker's host name.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// Unique to this claim.
    pub token: String,
    /// Unix time of its last heartbeat (s).
    pub heartbeat: f64,
}

impl Holder {
    fn text(&self) -> String {
        format!(
            "host = \"{}\"\npid = {}\ntoken = \"{}\"\nheartbeat = {:.3}\n",
            self.host, self.pid, self.token, self.heartbeat
        )
    }

    fn parse(text: &str) -> Option<Holder> {
        let t: toml::Table = text.parse().ok()?;
        Some(Holder {
            host: t.get("host")?.as_str()?.to_string(),
            pid: u32::try_from(t.get("pid")?.as_integer()?).ok()?,
            token: t.get("token")?.as_str()?.to_string(),
            heartbeat: t.get("heartbeat")?.as_float()?,
        })
    }

    /// Whether another worker may take this claim over now.
    fn is_stale(&self, stale: Duration) -> bool {
        let dead_here = self.host == host() && !pid_alive(self.pid);
        dead_here || now() - self.heartbeat > stale.as_secs_f64()
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.pid)
    }
}

/// Unix time now (s).
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// This machine's host name.
pub(crate) fn host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for writes of its length; gethostname writes
    // at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Whether process `pid` of this host is alive.
fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// A token no other claim has: host, pid, time and a counter.
fn new_token() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNT.fetch_add(1, Ordering::SeqCst);
    format!("{}-{}-{nanos}-{n}", host(), std::process::id())
}

/// The claim file of run `id`.
pub(crate) fn claim_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.claim"))
}

/// The holder recorded in `path`, if it is there and readable.
fn read(path: &Path) -> Option<Holder> {
    Holder::parse(&std::fs::read_to_string(path).ok()?)
}

/// Writes `text` into a new file `path`; false if it exists.
fn create_new(path: &Path, text: &str) -> Result<bool> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => {
            f.write_all(text.as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| Error::io(path, e))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(path, format!("cannot create the claim: {e}"))),
    }
}

/// What [`try_claim`] found.
#[derive(Debug)]
pub(crate) enum Take {
    /// The run is ours until the claim drops.
    Mine(Claim),
    /// Another live worker holds it.
    Held(Holder),
}

/// Claims run `id` of folder `dir`, taking over a stale claim.
pub(crate) fn try_claim(dir: &Path, id: &str, stale: Duration) -> Result<Take> {
    let path = claim_path(dir, id);
    let me = Holder {
        host: host(),
        pid: std::process::id(),
        token: new_token(),
        heartbeat: now(),
    };
    // A few rounds: a claim can be released between our reads.
    for _ in 0..4 {
        if create_new(&path, &me.text())? {
            return Ok(Take::Mine(Claim::start(path, me, stale)));
        }
        match read(&path) {
            Some(old) if !old.is_stale(stale) => return Ok(Take::Held(old)),
            Some(old) => {
                if !take_over(&path, &old.token, stale, |h| {
                    h.is_some_and(|h| h.token == old.token)
                })? {
                    return Ok(Take::Held(old));
                }
            }
            // Being written or just released, or left empty by a worker
            // killed between creating and writing it (then old: remove).
            None => match unreadable_since(&path) {
                Some(t) if t.elapsed().unwrap_or_default() > stale.min(UNREADABLE) => {
                    let token = format!(
                        "unreadable-{:?}",
                        t.duration_since(UNIX_EPOCH).unwrap_or_default()
                    );
                    take_over(&path, &token, stale, |h| h.is_none())?;
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            },
        }
    }
    match read(&path) {
        Some(h) => Ok(Take::Held(h)),
        None => Err(Error::io(
            &path,
            "unreadable claim file (another worker is writing it)",
        )),
    }
}

/// How long a claim file may stay unreadable while its creator writes it.
const UNREADABLE: Duration = Duration::from_secs(5);

/// When the claim file at `path` was last written, if it is there.
fn unreadable_since(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Removes the stale claim (`token`) at `path`, if `still` says the file
/// there is still that claim, when this worker wins the right to take it
/// over; false if another worker did.
fn take_over(
    path: &Path,
    token: &str,
    stale: Duration,
    still: impl Fn(Option<Holder>) -> bool,
) -> Result<bool> {
    let right = path.with_extension(format!("claim.{token}.takeover"));
    if !create_new(&right, &host())? {
        // Another taker holds the right; if it died holding it for a
        // whole stale limit, free the right for the next round.
        let age = std::fs::metadata(&right)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if age.is_some_and(|a| a > stale) {
            let _ = std::fs::remove_file(&right);
        }
        return Ok(false);
    }
    if still(read(path)) {
        let _ = std::fs::remove_file(path);
    }
    let _ = std::fs::remove_file(&right);
    Ok(true)
}

/// A held claim: its heartbeat thread runs until it drops, which removes
/// the claim file (if it is still this worker's).
#[derive(Debug)]
pub(crate) struct Claim {
    path: PathBuf,
    token: String,
    done: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
    beat: Option<JoinHandle<()>>,
}

impl Claim {
    fn start(path: PathBuf, me: Holder, stale: Duration) -> Claim {
        let done = Arc::new(AtomicBool::new(false));
        let lost = Arc::new(AtomicBool::new(false));
        let every = (stale / 4).min(Duration::from_secs(30));
        let (p, d, l, token) = (path.clone(), done.clone(), lost.clone(), me.token.clone());
        let beat = std::thread::Builder::new()
            .name("claim-heartbeat".into())
            .spawn(move || heartbeat(&p, me, &d, &l, every))
            .ok();
        Claim {
            path,
            token,
            done,
            lost,
            beat,
        }
    }

    /// Raised when another worker has taken this claim over (this worker
    /// was stale: stopped or cut off for longer than the stale limit).
    pub(crate) fn lost_flag(&self) -> Arc<AtomicBool> {
        self.lost.clone()
    }
}

/// Refreshes the heartbeat in `path` every `every` until `done`, while
/// the claim there is still `me`'s (temp file, then rename); raises
/// `lost` once it is not.
fn heartbeat(path: &Path, mut me: Holder, done: &AtomicBool, lost: &AtomicBool, every: Duration) {
    let tmp = path.with_extension(format!("claim.{}.tmp", me.token));
    loop {
        std::thread::park_timeout(every);
        if done.load(Ordering::SeqCst) {
            return;
        }
        match read(path) {
            Some(h) if h.token == me.token => {
                me.heartbeat = now();
                let written = std::fs::write(&tmp, me.text()).is_ok();
                if written && std::fs::rename(&tmp, path).is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
            }
            Some(_) => lost.store(true, Ordering::SeqCst),
            // Unreadable for a moment (a taker between remove and
            // create): the next beat decides.
            None => {}
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(b) = self.beat.take() {
            b.thread().unpark();
            let _ = b.join();
        }
        if read(&self.path).is_some_and(|h| h.token == self.token) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(600);

    fn mine(t: Take) -> Claim {
        match t {
            Take::Mine(c) => c,
            Take::Held(h) => panic!("held by {h}"),
        }
    }

    fn write_holder(dir: &Path, id: &str, h: &Holder) {
        std::fs::write(claim_path(dir, id), h.text()).unwrap();
    }

    #[test]
    fn a_claim_is_created_refused_while_held_and_released() {
        let d = tempfile::tempdir().unwrap();
        let c = mine(try_claim(d.path(), "r", LONG).unwrap());
        let on_disk = read(&claim_path(d.path(), "r")).unwrap();
        assert_eq!((on_disk.pid, on_disk.host), (std::process::id(), host()));
        match try_claim(d.path(), "r", LONG).unwrap() {
            Take::Held(h) => assert_eq!(h.token, c.token),
            Take::Mine(_) => panic!("claimed twice"),
        }
        drop(c);
        assert!(!claim_path(d.path(), "r").exists());
        drop(mine(try_claim(d.path(), "r", LONG).unwrap()));
    }

    #[test]
    fn the_heartbeat_keeps_a_claim_fresh() {
        let d = tempfile::tempdir().unwrap();
        let stale = Duration::from_millis(400);
        let c = mine(try_claim(d.path(), "r", stale).unwrap());
        let first = read(&claim_path(d.path(), "r")).unwrap().heartbeat;
        std::thread::sleep(Duration::from_millis(700));
        let later = read(&claim_path(d.path(), "r")).unwrap().heartbeat;
        assert!(later > first, "{first} {later}");
        assert!(matches!(
            try_claim(d.path(), "r", stale).unwrap(),
            Take::Held(_)
        ));
        drop(c);
    }

    #[test]
    fn a_claim_taken_over_is_seen_as_lost() {
        let d = tempfile::tempdir().unwrap();
        let c = mine(try_claim(d.path(), "r", Duration::from_millis(200)).unwrap());
        let other = Holder {
            host: "elsewhere".into(),
            pid: 1,
            token: "new".into(),
            heartbeat: now(),
        };
        write_holder(d.path(), "r", &other);
        std::thread::sleep(Duration::from_millis(300));
        assert!(c.lost_flag().load(Ordering::SeqCst));
        drop(c);
        // The new owner's claim stays.
        assert_eq!(read(&claim_path(d.path(), "r")).unwrap().token, other.token);
    }

    #[test]
    fn an_empty_claim_left_by_a_kill_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(claim_path(d.path(), "r"), "").unwrap();
        assert!(try_claim(d.path(), "r", LONG).is_err());
        let old = SystemTime::now() - Duration::from_secs(60);
        let f = std::fs::File::options()
            .write(true)
            .open(claim_path(d.path(), "r"))
            .unwrap();
        f.set_modified(old).unwrap();
        drop(mine(try_claim(d.path(), "r", LONG).unwrap()));
    }

    #[test]
    fn a_stale_claim_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        let old = Holder {
            host: "elsewhere".into(),
            pid: 1,
            token: "old".into(),
            heartbeat: now() - 60.0,
        };
        write_holder(d.path(), "r", &old);
        assert!(matches!(
            try_claim(d.path(), "r", LONG).unwrap(),
            Take::Held(h) if h.token == old.token
        ));
        let c = mine(try_claim(d.path(), "r", Duration::from_secs(30)).unwrap());
        assert_eq!(read(&claim_path(d.path(), "r")).unwrap().token, c.token);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_dead_pid_on_this_host_is_taken_over_at_once() {
        let d = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = Holder {
            host: host(),
            pid,
            token: "dead".into(),
            heartbeat: now(),
        };
        write_holder(d.path(), "r", &dead);
        drop(mine(try_claim(d.path(), "r", LONG).unwrap()));
        // A live pid of this host (ours, as another worker) is respected.
        let live = Holder {
            pid: std::process::id(),
            token: "live".into(),
            ..dead
        };
        write_holder(d.path(), "r", &live);
        assert!(matches!(
            try_claim(d.path(), "r", LONG).unwrap(),
            Take::Held(_)
        ));
    }

    #[test]
    fn of_two_takers_of_one_stale_claim_one_wins() {
        let d = tempfile::tempdir().unwrap();
        let old = Holder {
            host: "elsewhere".into(),
            pid: 1,
            token: "old".into(),
            heartbeat: 0.0,
        };
        for _ in 0..20 {
            write_holder(d.path(), "r", &old);
            let takes: Vec<Take> = std::thread::scope(|s| {
                let h: Vec<_> = (0..4)
                    .map(|_| s.spawn(|| try_claim(d.path(), "r", LONG).unwrap()))
                    .collect();
                h.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let n = takes.iter().filter(|t| matches!(t, Take::Mine(_))).count();
            assert_eq!(n, 1);
            drop(takes);
            assert!(!claim_path(d.path(), "r").exists());
        }
    }
}
