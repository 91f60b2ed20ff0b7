//! `healthcheck` without a shell, curl or an open port: the sidecar keeps a small file whose
//! modification time is its last good collection, and `ecs-emf-exporter healthcheck` (run by
//! ECS inside the same container) reads it. The file is written once (it holds the poll
//! interval); a good cycle then only updates its modification time, one syscall, and at most
//! once per `TOUCH_GAP` (at a 1 s interval a touch every cycle was a tenth of the
//! exporter's CPU, docs/performance.md; the file is stale only after 30 s). With a
//! read-only root filesystem, mount a writable volume at the file's folder (`/tmp` by
//! default) or point `ECS_EMF_HEALTH_FILE` at one.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

/// The file's content: what `healthcheck` needs besides the modification time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct HealthInfo {
    pub(crate) interval_ms: u64,
}

impl HealthInfo {
    /// Healthy while the last good collection is at most three intervals old (and at least
    /// 30 s, so one slow poll at a short interval does not flap the container's health).
    pub(crate) fn stale_after(&self) -> Duration {
        Duration::from_millis(self.interval_ms.saturating_mul(3)).max(Duration::from_secs(30))
    }
}

/// The least time between two updates of the modification time. Every interval from 5 s up
/// updates it every cycle; shorter ones every few cycles, so the file is at most about 6 s
/// behind, far inside `stale_after`'s 30 s minimum.
pub(crate) const TOUCH_GAP: Duration = Duration::from_millis(4_500);

pub(crate) struct HealthFile {
    path: PathBuf,
    interval: Duration,
    file: Option<File>,
    last_touch: Option<Instant>,
    warned: bool,
}

impl HealthFile {
    /// Removes a file left by an earlier run, so nothing reports healthy before this run
    /// has collected once.
    pub(crate) fn new(path: PathBuf, interval: Duration) -> HealthFile {
        let _ = std::fs::remove_file(&path);
        HealthFile {
            path,
            interval,
            file: None,
            last_touch: None,
            warned: false,
        }
    }

    /// Records a good collection. A failure is logged once and otherwise ignored: health
    /// reporting must not stop metrics.
    pub(crate) fn record(&mut self) {
        let recent = self.last_touch.is_some_and(|t| t.elapsed() < TOUCH_GAP);
        if self.file.is_some() && recent {
            return;
        }
        if let Err(e) = self.touch() {
            self.file = None;
            self.last_touch = None;
            if !self.warned {
                tracing::warn!(
                    "cannot write the health file {}: {e}; `healthcheck` will report unhealthy (mount a writable volume there or set ECS_EMF_HEALTH_FILE)",
                    self.path.display()
                );
                self.warned = true;
            }
        }
    }

    fn touch(&mut self) -> std::io::Result<()> {
        if self.file.is_none() {
            let info = HealthInfo {
                interval_ms: u64::try_from(self.interval.as_millis()).unwrap_or(u64::MAX),
            };
            let body = serde_json::to_vec(&info).map_err(std::io::Error::other)?;
            // Written under a temporary name and renamed, so a reader never sees half a file.
            let tmp = write_new_beside(&self.path, &body)?;
            if let Err(e) = std::fs::rename(&tmp, &self.path) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            self.file = Some(
                File::options()
                    .append(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(&self.path)?,
            );
        }
        if let Some(f) = &self.file {
            f.set_modified(SystemTime::now())?;
            self.last_touch = Some(Instant::now());
        }
        Ok(())
    }
}

/// Writes `body` to a new file in `path`'s folder and returns its name. The file is created
/// fresh (`O_EXCL`, `O_NOFOLLOW`): a link planted under a predictable name cannot make this
/// write land in the file it points to; the name is this process's and a counter's, and a
/// name already taken is skipped.
fn write_new_beside(path: &Path, body: &[u8]) -> std::io::Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut last = None;
    for _ in 0..8 {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()));
        let created = File::options()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o644)
            .open(&tmp);
        match created {
            Ok(mut file) => {
                if let Err(e) = file.write_all(body) {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
                return Ok(tmp);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// Checks the file at `now`; the error says why the container is unhealthy.
pub(crate) fn check(path: &Path, now: SystemTime) -> Result<Duration, String> {
    let body =
        std::fs::read(path).map_err(|e| format!("no health file at {}: {e}", path.display()))?;
    let info: HealthInfo = serde_json::from_slice(&body)
        .map_err(|e| format!("unreadable health file {}: {e}", path.display()))?;
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| format!("cannot read the health file's time: {e}"))?;
    // A clock step backwards makes the file look newer than now: healthy, age 0.
    let age = now.duration_since(modified).unwrap_or_default();
    if age <= info.stale_after() {
        Ok(age)
    } else {
        Err(format!(
            "last good collection {} s ago (stale after {} s)",
            age.as_secs(),
            info.stale_after().as_secs()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_after_three_intervals_and_at_least_thirty_seconds() {
        assert_eq!(
            HealthInfo {
                interval_ms: 60_000
            }
            .stale_after(),
            Duration::from_secs(180)
        );
        assert_eq!(
            HealthInfo { interval_ms: 1_000 }.stale_after(),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn record_then_check_follows_the_modification_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("health");
        std::fs::write(&path, b"left over").expect("write");
        let mut file = HealthFile::new(path.clone(), Duration::from_secs(10));
        let now = SystemTime::now();
        assert!(
            check(&path, now)
                .expect_err("removed at start")
                .contains("no health file")
        );
        file.record();
        assert!(check(&path, now + Duration::from_secs(30)).is_ok());
        let stale = check(&path, now + Duration::from_secs(32)).expect_err("stale");
        assert!(stale.contains("stale after 30 s"), "{stale}");
        // The next record moves the time forward again.
        std::thread::sleep(Duration::from_millis(20));
        file.record();
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        assert!(modified > now, "record() updates the modification time");
    }

    #[test]
    fn the_time_is_updated_at_most_once_per_touch_gap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("health");
        let mut file = HealthFile::new(path.clone(), Duration::from_secs(1));
        let mtime = || {
            std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .expect("mtime")
        };
        file.record();
        let old = SystemTime::now() - Duration::from_secs(100);
        std::fs::File::options()
            .append(true)
            .open(&path)
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
        file.record();
        assert_eq!(
            mtime(),
            old,
            "a second good cycle within 4.5 s leaves the file alone"
        );
        file.last_touch = Some(Instant::now() - TOUCH_GAP);
        file.record();
        assert!(
            mtime() > old + Duration::from_secs(99),
            "updated once 4.5 s have passed"
        );
    }

    #[test]
    fn an_unwritable_place_is_reported_not_fatal() {
        let mut file = HealthFile::new(
            PathBuf::from("/nonexistent-dir/health"),
            Duration::from_secs(1),
        );
        file.record();
        file.record();
        assert!(file.warned);
    }

    #[test]
    fn links_planted_beside_the_health_file_are_never_written_through() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let path = dir.path().join("health");
        // The old temporary name, and the health file itself, as links to the victim.
        symlink(&victim, path.with_extension("tmp")).expect("link");
        symlink(&victim, &path).expect("link");
        let mut file = HealthFile::new(path.clone(), Duration::from_secs(1));
        symlink(&victim, &path).expect("link again, after new() removed it");
        file.record();
        assert!(!file.warned, "recorded");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        assert!(
            !std::fs::symlink_metadata(&path)
                .expect("metadata")
                .file_type()
                .is_symlink(),
            "the health file is a file of its own"
        );
        assert!(check(&path, SystemTime::now()).is_ok());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers, ["health.tmp"], "only the planted link");
    }
}
