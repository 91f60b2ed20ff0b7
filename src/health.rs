//! `healthcheck` without a shell, curl or an open port: the sidecar records each good
//! collection in a small file, and `ecs-emf-exporter healthcheck` (run by ECS inside the same
//! container) reads it. With a read-only root filesystem, mount a writable volume at the
//! file's folder (`/tmp` by default) or point `ECS_EMF_HEALTH_FILE` at one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub last_success_ms: i64,
    pub interval_ms: u64,
}

impl Heartbeat {
    /// Healthy while the last good collection is at most three intervals old (and at least
    /// 30 s, so one slow poll at a short interval does not flap the container's health).
    pub fn stale_after(&self) -> Duration {
        Duration::from_millis(self.interval_ms.saturating_mul(3)).max(Duration::from_secs(30))
    }

    pub fn is_fresh(&self, now_ms: i64) -> bool {
        let age = now_ms.saturating_sub(self.last_success_ms);
        age >= -60_000 && (age as u128) <= self.stale_after().as_millis()
    }
}

pub struct HealthFile {
    path: PathBuf,
    warned: bool,
}

impl HealthFile {
    pub fn new(path: PathBuf) -> HealthFile {
        HealthFile {
            path,
            warned: false,
        }
    }

    /// Records a good collection. Written to a temporary file and renamed, so a reader never
    /// sees half a file. A failure is logged once and otherwise ignored: health reporting
    /// must not stop metrics.
    pub fn record(&mut self, beat: Heartbeat) {
        let result = serde_json::to_vec(&beat)
            .map_err(std::io::Error::other)
            .and_then(|body| {
                let tmp = self.path.with_extension("tmp");
                std::fs::write(&tmp, body)?;
                std::fs::rename(&tmp, &self.path)
            });
        if let Err(e) = result {
            if !self.warned {
                tracing::warn!(
                    "cannot write the health file {}: {e}; `healthcheck` will report unhealthy (mount a writable volume there or set ECS_EMF_HEALTH_FILE)",
                    self.path.display()
                );
                self.warned = true;
            }
        }
    }
}

/// Reads the heartbeat; the error says why the container is unhealthy.
pub fn check(path: &Path, now_ms: i64) -> Result<Heartbeat, String> {
    let body =
        std::fs::read(path).map_err(|e| format!("no health file at {}: {e}", path.display()))?;
    let beat: Heartbeat = serde_json::from_slice(&body)
        .map_err(|e| format!("unreadable health file {}: {e}", path.display()))?;
    if beat.is_fresh(now_ms) {
        Ok(beat)
    } else {
        let age_s = now_ms.saturating_sub(beat.last_success_ms) / 1000;
        Err(format!(
            "last good collection {age_s} s ago (stale after {} s)",
            beat.stale_after().as_secs()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_within_three_intervals_and_at_least_thirty_seconds() {
        let beat = Heartbeat {
            last_success_ms: 1_000_000,
            interval_ms: 60_000,
        };
        assert!(beat.is_fresh(1_000_000 + 180_000));
        assert!(!beat.is_fresh(1_000_000 + 180_001));
        let fast = Heartbeat {
            last_success_ms: 0,
            interval_ms: 1_000,
        };
        assert!(fast.is_fresh(30_000));
        assert!(!fast.is_fresh(30_001));
    }

    #[test]
    fn record_then_check_round_trips_and_missing_file_is_unhealthy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("health");
        assert!(
            check(&path, 0)
                .expect_err("missing")
                .contains("no health file")
        );
        let mut file = HealthFile::new(path.clone());
        let beat = Heartbeat {
            last_success_ms: 5_000,
            interval_ms: 10_000,
        };
        file.record(beat);
        assert_eq!(check(&path, 20_000), Ok(beat));
        assert!(
            check(&path, 5_000 + 30_001)
                .expect_err("stale")
                .contains("stale after 30 s")
        );
    }
}
