//! `memory_stats`: the keys of cgroup v1 and v2, sized so the agent's working set is exact.
//!
//! Memory is counted in a unit `u` ((k+1) MiB for normal container k): working set 64 u and
//! file cache 16 u, so `usage` is 80 u on both cgroup versions. The other keys are chosen so
//! that the wrong formulas give visibly wrong answers (see `scenario.rs`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{FARGATE_NO_LIMIT, MIB};
use crate::scenario::{Cgroup, Platform, Scenario};

#[derive(Debug, Serialize)]
pub(super) struct MemoryStats {
    usage: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_usage: Option<u64>,
    stats: BTreeMap<&'static str, u64>,
    limit: u64,
}

pub(super) fn memory_stats(scenario: &Scenario, u: u64) -> MemoryStats {
    let working_set = 64 * u;
    let file_cache = 16 * u;
    let usage = working_set + file_cache;
    let limit = match scenario.platform {
        Platform::Fargate => FARGATE_NO_LIMIT,
        Platform::Ec2 => 512 * MIB,
    };
    match scenario.cgroup {
        Cgroup::V1 => {
            // total_inactive_file (12 units) differs from cache (16): `docker stats`' formula
            // and the agent's give different answers, and only the agent's is 64 units.
            let task_limit = match scenario.platform {
                Platform::Fargate => 2048 * MIB,
                Platform::Ec2 => 512 * MIB,
            };
            let mut stats: BTreeMap<&'static str, u64> = V1_KEYS
                .iter()
                .chain(V1_TOTAL_KEYS)
                .map(|key| {
                    let plain = key.trim_start_matches("total_");
                    (*key, v1_value(plain, working_set, file_cache))
                })
                .collect();
            stats.insert("hierarchical_memory_limit", task_limit);
            stats.insert("hierarchical_memsw_limit", FARGATE_NO_LIMIT);
            MemoryStats {
                usage,
                max_usage: Some(usage + 8 * u),
                stats,
                limit,
            }
        }
        Cgroup::V2 => {
            // anon + file = usage; usage − inactive_file = the 64-unit working set.
            let anon = 56 * u;
            let stats = BTreeMap::from([
                ("active_anon", 8 * u),
                ("active_file", 8 * u),
                ("anon", anon),
                ("anon_thp", 0),
                ("file", 24 * u),
                ("file_dirty", 0),
                ("file_mapped", 4 * u),
                ("file_writeback", 0),
                ("inactive_anon", anon - 8 * u),
                ("inactive_file", file_cache),
                ("kernel_stack", u / 8),
                ("pgactivate", 1000),
                ("pgdeactivate", 500),
                ("pgfault", 20_000),
                ("pglazyfree", 0),
                ("pglazyfreed", 0),
                ("pgmajfault", 100),
                ("pgrefill", 600),
                ("pgscan", 2_000),
                ("pgsteal", 1_000),
                ("shmem", 0),
                ("slab", u / 4),
                ("slab_reclaimable", u / 8),
                ("slab_unreclaimable", u / 8),
                ("sock", 0),
                ("thp_collapse_alloc", 0),
                ("thp_fault_alloc", 0),
                ("unevictable", 0),
                ("workingset_activate", 0),
                ("workingset_nodereclaim", 0),
                ("workingset_refault", 0),
            ]);
            MemoryStats {
                usage,
                max_usage: None,
                stats,
                limit,
            }
        }
    }
}

const V1_KEYS: &[&str] = &[
    "active_anon",
    "active_file",
    "cache",
    "dirty",
    "inactive_anon",
    "inactive_file",
    "mapped_file",
    "pgfault",
    "pgmajfault",
    "pgpgin",
    "pgpgout",
    "rss",
    "rss_huge",
    "unevictable",
    "writeback",
];

const V1_TOTAL_KEYS: &[&str] = &[
    "total_active_anon",
    "total_active_file",
    "total_cache",
    "total_dirty",
    "total_inactive_anon",
    "total_inactive_file",
    "total_mapped_file",
    "total_pgfault",
    "total_pgmajfault",
    "total_pgpgin",
    "total_pgpgout",
    "total_rss",
    "total_rss_huge",
    "total_unevictable",
    "total_writeback",
];

/// One cgroup v1 memory key; `total_x` (the hierarchy) equals `x` for a leaf container.
fn v1_value(key: &str, working_set: u64, file_cache: u64) -> u64 {
    match key {
        "cache" => file_cache,
        "rss" | "inactive_anon" => working_set,
        "active_file" => file_cache / 4,
        "inactive_file" => file_cache - file_cache / 4,
        "mapped_file" => file_cache / 2,
        "pgfault" => 20_000,
        "pgmajfault" => 100,
        "pgpgin" => 30_000,
        "pgpgout" => 4_000,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn memory(scenario: &Scenario, u: u64) -> Value {
        serde_json::to_value(memory_stats(scenario, u)).unwrap_or(json!(null))
    }

    #[test]
    fn cgroup_v1_working_set_is_usage_minus_cache() {
        let m = memory(&Scenario::fargate(), 2 * MIB);
        assert_eq!(m["usage"], 2 * 80 * MIB);
        assert_eq!(m["stats"]["cache"], 2 * 16 * MIB);
        assert_eq!(m["stats"]["total_cache"], 2 * 16 * MIB);
        assert_eq!(m["stats"]["rss"], 2 * 64 * MIB);
        assert_eq!(m["stats"]["total_inactive_file"], 2 * 12 * MIB);
        assert_eq!(m["max_usage"], 2 * 88 * MIB);
        assert_eq!(m["limit"], FARGATE_NO_LIMIT);
        assert_eq!(m["stats"]["hierarchical_memory_limit"], 2048 * MIB);
    }

    #[test]
    fn cgroup_v2_working_set_is_usage_minus_inactive_file() {
        let m = memory(&Scenario::ec2(), 3 * MIB);
        assert_eq!(m["usage"], 3 * 80 * MIB);
        assert_eq!(m["stats"]["inactive_file"], 3 * 16 * MIB);
        assert!(m["stats"].get("cache").is_none());
        assert!(m.get("max_usage").is_none());
        assert_eq!(m["limit"], 536_870_912);
        let anon = m["stats"]["anon"].as_u64().unwrap_or(0);
        let file = m["stats"]["file"].as_u64().unwrap_or(0);
        assert_eq!(anon + file, 3 * 80 * MIB);
    }
}
