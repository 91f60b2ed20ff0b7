//! Serving captured responses instead of the generated task.
//!
//! The files' bytes are served verbatim (never parsed and re-serialized), so a test can compare
//! what the exporter read with the fixture byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

/// Captured responses: one `/task` and one `/task/stats` per request (the last one of each
/// repeating, so containers can appear and stop between polls), and optionally
/// `/taskWithTags` (404 without it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub task: Vec<String>,
    pub stats: Vec<String>,
    pub task_with_tags: Option<String>,
}

impl Replay {
    /// Reads the files. Each must be JSON (a typo in a path or a non-JSON capture is caught
    /// here, at start, and not as a confusing client error later); errors name the file.
    pub fn from_files(
        task: &[PathBuf],
        stats: &[PathBuf],
        task_with_tags: Option<&Path>,
    ) -> Result<Replay, String> {
        if task.is_empty() || stats.is_empty() {
            return Err("replay needs at least one task file and one stats file".to_owned());
        }
        Ok(Replay {
            task: task
                .iter()
                .map(|p| read_json(p))
                .collect::<Result<_, _>>()?,
            stats: stats
                .iter()
                .map(|p| read_json(p))
                .collect::<Result<_, _>>()?,
            task_with_tags: task_with_tags.map(read_json).transpose()?,
        })
    }

    /// The stats body for stats request number `n` (from 1).
    pub(crate) fn stats_for(&self, n: u64) -> &str {
        nth_or_last(&self.stats, n)
    }

    /// The task body for task request number `n` (from 1).
    pub(crate) fn task_for(&self, n: u64) -> &str {
        nth_or_last(&self.task, n)
    }

    /// The first container of the replayed task, for `${ECS_CONTAINER_METADATA_URI_V4}`.
    /// This one is re-serialized: the fixtures hold no such file to serve verbatim.
    pub(crate) fn first_container(&self) -> Option<String> {
        let first = self.containers()?.into_iter().next()?;
        serde_json::to_string(&first).ok()
    }

    /// The DockerIds of every replayed task file, so stats faults can key their entries like
    /// the task.
    pub(crate) fn docker_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = (0..self.task.len())
            .flat_map(|i| self.containers_of(i).unwrap_or_default())
            .filter_map(|c| c.get("DockerId")?.as_str().map(str::to_owned))
            .collect();
        ids.dedup();
        ids
    }

    fn containers(&self) -> Option<Vec<serde_json::Value>> {
        self.containers_of(0)
    }

    fn containers_of(&self, index: usize) -> Option<Vec<serde_json::Value>> {
        let mut task: serde_json::Value = serde_json::from_str(self.task.get(index)?).ok()?;
        match task.get_mut("Containers")?.take() {
            serde_json::Value::Array(containers) => Some(containers),
            _ => None,
        }
    }
}

fn nth_or_last(bodies: &[String], n: u64) -> &str {
    let last = bodies.len().saturating_sub(1);
    let index = usize::try_from(n.saturating_sub(1)).map_or(last, |i| i.min(last));
    bodies.get(index).map_or("", String::as_str)
}

fn read_json(path: &Path) -> Result<String, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("replay file {}: cannot read it: {e}", path.display()))?;
    serde_json::from_str::<serde::de::IgnoredAny>(&text)
        .map_err(|e| format!("replay file {}: not JSON: {e}", path.display()))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Scratch;

    #[test]
    fn reads_files_verbatim() {
        let dir = Scratch::new("replay-verbatim");
        let task = dir.file("task.json", "{ \"Containers\" : [ {\"Name\": \"a\"} ] }\n");
        let s1 = dir.file("s1.json", "{\"a\":1}");
        let s2 = dir.file("s2.json", "{\"a\": 2}\n\n");
        let r = Replay::from_files(std::slice::from_ref(&task), &[s1, s2], None)
            .expect("files are readable");
        assert_eq!(
            r.task_for(1),
            "{ \"Containers\" : [ {\"Name\": \"a\"} ] }\n"
        );
        assert_eq!(r.task_for(5), r.task_for(1));
        assert_eq!(r.stats_for(1), "{\"a\":1}");
        assert_eq!(r.stats_for(2), "{\"a\": 2}\n\n");
        assert_eq!(r.stats_for(9), "{\"a\": 2}\n\n");
        assert_eq!(r.task_with_tags, None);
        assert_eq!(r.first_container().as_deref(), Some("{\"Name\":\"a\"}"));
        assert!(r.docker_ids().is_empty());
    }

    #[test]
    fn errors_name_the_file() {
        let dir = Scratch::new("replay-errors");
        let good = dir.file("good.json", "{}");
        let bad = dir.file("bad.json", "<html>");
        let missing = dir.0.join("missing.json");

        let e = Replay::from_files(
            std::slice::from_ref(&missing),
            std::slice::from_ref(&good),
            None,
        )
        .expect_err("missing");
        assert!(e.contains("missing.json"), "{e}");
        let e =
            Replay::from_files(std::slice::from_ref(&good), &[bad], None).expect_err("not json");
        assert!(e.contains("bad.json") && e.contains("not JSON"), "{e}");
        let e = Replay::from_files(std::slice::from_ref(&good), &[], None).expect_err("no stats");
        assert!(
            e.contains("at least one task file and one stats file"),
            "{e}"
        );
        let e = Replay::from_files(
            std::slice::from_ref(&good),
            std::slice::from_ref(&good),
            Some(&missing),
        )
        .expect_err("tags");
        assert!(e.contains("missing.json"), "{e}");
    }
}
