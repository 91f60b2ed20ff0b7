//! The host's cgroup tree (daemon mode): where an ECS task's cgroup directory is, from its
//! containers' `HostConfig.CgroupParent` (`docker inspect`) and Docker's cgroup driver
//! (`docker info`), and the CPU throttling counters in that directory's `cpu.stat`. (Each
//! container's own counters come from Docker's stats, `cpu_stats.throttling_data`, which
//! Docker reads from the container's `cpu.stat`; only the task's are read here.)
//!
//! The tree is the host's `/sys/fs/cgroup` mounted read-only into the exporter's container
//! (`ECS_EMF_CGROUP_ROOT`, default [`DEFAULT_ROOT`]). Nothing here writes to it, and nothing
//! here trusts a name it is given: a cgroup parent that could leave the root (`..`, NUL, `.`
//! components, a `/` in a systemd slice name) is refused, never joined.
//!
//! # Where an ECS task's cgroup is
//!
//! With task CPU/memory limits (`ECS_ENABLE_TASK_CPU_MEM_LIMIT`, on by default) the ECS agent
//! sets every container's `CgroupParent` to a cgroup of the task's own
//! (aws/amazon-ecs-agent `agent/api/task/task_linux.go`, `BuildCgroupRoot` and
//! `overrideCgroupParent`; prefixes in `agent/config/config_unix.go`):
//!
//! * cgroup v1: `/ecs/<task id>` (`DefaultTaskCgroupV1Prefix = "/ecs"`), used with Docker's
//!   cgroupfs driver;
//! * cgroup v2: the systemd slice `ecstasks-<task id>.slice`
//!   (`DefaultTaskCgroupV2Prefix = "ecstasks"`), which systemd places at
//!   `ecstasks.slice/ecstasks-<task id>.slice/` (the agent's `buildCgroupV2Root` comment draws
//!   that tree, with `docker-<id>.scope` under it).
//!
//! Docker hands the parent to runc (moby/moby `daemon/oci_linux.go`, `WithCgroups`), which
//! makes each container's cgroup a child of it (`<parent>/<id>` with cgroupfs,
//! `docker-<id>.scope` in the slice with systemd): the task's cgroup is the parent itself,
//! placed as runc places it (opencontainers/runc):
//!
//! * cgroupfs: an absolute path is taken under the hierarchy's top as it is
//!   (`libcontainer/cgroups/fs2/defaultpath.go`, `defaultDirPath`; v1 the same under each
//!   controller's hierarchy); a relative one is taken under runc's *own* cgroup, which
//!   `docker inspect` does not tell, so it is refused here.
//! * systemd: the slice expanded the systemd way: `a-b-c.slice` is
//!   `a.slice/a-b.slice/a-b-c.slice` (`libcontainer/cgroups/systemd/common.go`, `ExpandSlice`),
//!   under the hierarchy's top.
//!
//! An empty `CgroupParent` (the container is under Docker's default parent, `/docker` or
//! `system.slice`, or under a daemon-wide `--cgroup-parent`) and Docker's defaults named
//! explicitly are shared by every container of the host, so they are never taken for a task;
//! nor is any parent other than the agent's.
//!
//! cgroup v1 keeps one hierarchy per controller; the CPU counters are in the `cpu`
//! controller's, mounted at `ROOT/cpu` or `ROOT/cpu,cpuacct` (with `cpu` a symlink to it on
//! most hosts). cgroup v2 is one unified hierarchy at `ROOT` itself.
//!
//! # `cpu.stat`
//!
//! * cgroup v1, CFS bandwidth control (torvalds/linux `Documentation/scheduler/sched-bwc.rst`,
//!   "Statistics"): `nr_periods`, `nr_throttled`, `throttled_time` in **nanoseconds**; newer
//!   kernels add `nr_bursts` and `burst_time`. A cgroup with no quota still has the file,
//!   with zeros: that is real data.
//! * cgroup v2 (torvalds/linux `Documentation/admin-guide/cgroup-v2.rst`, "CPU Interface
//!   Files"): `usage_usec`, `user_usec`, `system_usec` always; `nr_periods`, `nr_throttled`,
//!   `throttled_usec` (and, newer, `nr_bursts`, `burst_usec`) only when the cpu controller is
//!   enabled for the cgroup. All durations in **microseconds**.
//!
//! Unknown keys are ignored; a missing or malformed throttling key is an error naming the file
//! and the key, never a made-up zero.

use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Component, Path, PathBuf};

/// The variable that names where the host's cgroup tree is mounted.
pub(crate) const ROOT_ENV: &str = "ECS_EMF_CGROUP_ROOT";
/// Where the host's cgroup tree is when `ECS_EMF_CGROUP_ROOT` is not set.
pub(crate) const DEFAULT_ROOT: &str = "/sys/fs/cgroup";

/// The largest `cpu.stat` read (a real one is a few hundred bytes).
const CPU_STAT_LIMIT: u64 = 64 * 1024;
/// The cgroup v1 `cpu` controller's hierarchy, in the order looked for: `cpu` (a directory,
/// or on most hosts a symlink to the co-mounted `cpu,cpuacct`), then the co-mounted names.
const V1_CPU_DIRS: [&str; 3] = ["cpu", "cpu,cpuacct", "cpuacct,cpu"];
/// The ECS agent's cgroup v1 task parent: `/ecs/<task id>` (`DefaultTaskCgroupV1Prefix`).
const ECS_V1_PREFIX: &str = "ecs";
/// The ECS agent's cgroup v2 task slice: `ecstasks-<task id>.slice`
/// (`DefaultTaskCgroupV2Prefix`).
const ECS_V2_SLICE_PREFIX: &str = "ecstasks";
const SLICE_SUFFIX: &str = ".slice";

/// Which cgroup hierarchy the host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CgroupVersion {
    /// One hierarchy per controller (`ROOT/cpu/...`); a hybrid host (v1 controllers plus
    /// `ROOT/unified`) counts as v1, since the CPU counters are in the v1 `cpu` hierarchy.
    V1,
    /// The unified hierarchy (`ROOT/cgroup.controllers` exists).
    V2,
}

/// Docker's cgroup driver (`docker info`'s `CgroupDriver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CgroupDriver {
    Cgroupfs,
    Systemd,
}

impl CgroupDriver {
    /// `docker info`'s `CgroupDriver` value: `cgroupfs` or `systemd`; anything else (`none`,
    /// an empty string, an unknown name) is `None`, since no task cgroup can be found from
    /// it.
    pub(crate) fn parse(docker_info_value: &str) -> Option<CgroupDriver> {
        match docker_info_value.trim() {
            "cgroupfs" => Some(CgroupDriver::Cgroupfs),
            "systemd" => Some(CgroupDriver::Systemd),
            _ => None,
        }
    }
}

/// The CPU throttling counters of one cgroup, from its `cpu.stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CpuStat {
    /// Enforcement periods that have elapsed (`nr_periods`).
    pub(crate) nr_periods: u64,
    /// Periods in which the cgroup was throttled (`nr_throttled`).
    pub(crate) nr_throttled: u64,
    /// Time throttled, in nanoseconds (v1 `throttled_time` is ns; v2 `throttled_usec` × 1000).
    pub(crate) throttled_ns: u64,
}

/// The host's cgroup tree: a root (`ECS_EMF_CGROUP_ROOT`, default `/sys/fs/cgroup`) and its
/// version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupTree {
    root: PathBuf,
    version: CgroupVersion,
    /// Where the cpu controller's hierarchy starts: `root` on v2, `root/cpu` (or
    /// `root/cpu,cpuacct`) on v1.
    cpu_root: PathBuf,
}

impl CgroupTree {
    /// v2 when ROOT/cgroup.controllers exists; v1 when the cpu controller's directory exists
    /// (ROOT/cpu, or ROOT/cpu,cpuacct, or ROOT/cpuacct,cpu); else an error naming the root and
    /// what was looked for.
    pub(crate) fn detect(root: &Path) -> Result<CgroupTree, String> {
        match fs::metadata(root) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(format!(
                    "cgroup root {} ({ROOT_ENV}) is not a directory",
                    root.display()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "cgroup root {} ({ROOT_ENV}): {e}; mount the host's {DEFAULT_ROOT} there \
                     read-only",
                    root.display()
                ));
            }
        }
        let controllers = root.join("cgroup.controllers");
        if exists(&controllers, false)? {
            return Ok(CgroupTree {
                root: root.to_path_buf(),
                version: CgroupVersion::V2,
                cpu_root: root.to_path_buf(),
            });
        }
        for dir in V1_CPU_DIRS {
            let cpu = root.join(dir);
            if exists(&cpu, true)? {
                return Ok(CgroupTree {
                    root: root.to_path_buf(),
                    version: CgroupVersion::V1,
                    cpu_root: cpu,
                });
            }
        }
        Err(format!(
            "cgroup root {r} ({ROOT_ENV}) holds no cgroup tree: neither cgroup v2 \
             ({r}/cgroup.controllers) nor the cgroup v1 cpu controller ({r}/cpu, \
             {r}/cpu,cpuacct or {r}/cpuacct,cpu); mount the host's {DEFAULT_ROOT} there \
             read-only",
            r = root.display()
        ))
    }

    pub(crate) fn version(&self) -> CgroupVersion {
        self.version
    }

    /// The tree's root, as given to [`CgroupTree::detect`].
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The task's cgroup directory: the container's parent when the parent is a per-task
    /// cgroup the ECS agent made (cgroupfs: `/ecs/<task id>`; systemd:
    /// `ecstasks-<task id>.slice`, at `ecstasks.slice/ecstasks-<task id>.slice`), None
    /// otherwise: Docker's default parents (`/docker`, `system.slice`) are shared by all
    /// containers, and any other parent is not known to be a task's.
    pub(crate) fn task_dir(
        &self,
        driver: CgroupDriver,
        cgroup_parent: Option<&str>,
    ) -> Option<PathBuf> {
        let parent = cgroup_parent.filter(|p| !p.is_empty())?;
        let parts = match driver {
            CgroupDriver::Cgroupfs => {
                let parts = cgroupfs_parts(parent).ok()?;
                match parts.as_slice() {
                    [ecs, task] if ecs == ECS_V1_PREFIX && is_task_id(task) => parts,
                    _ => return None,
                }
            }
            CgroupDriver::Systemd => {
                let task = parent
                    .strip_prefix(ECS_V2_SLICE_PREFIX)?
                    .strip_prefix('-')?
                    .strip_suffix(SLICE_SUFFIX)?;
                if !is_task_id(task) {
                    return None;
                }
                expand_slice(parent).ok()?
            }
        };
        Some(self.under_cpu_root(&parts))
    }

    /// Reads DIR/cpu.stat (DIR inside the tree's root): `nr_periods`, `nr_throttled` and the
    /// throttled time (v1 `throttled_time` ns, v2 `throttled_usec` µs, given in ns). Err, naming
    /// the file, when it is missing, larger than 64 KiB, not UTF-8, or lacks a throttling key
    /// or has a value that is not a whole number (on v2 the keys are missing where the cpu
    /// controller is not enabled for the cgroup).
    pub(crate) fn cpu_stat(&self, dir: &Path) -> Result<CpuStat, String> {
        if !dir.starts_with(&self.root) || dir.components().any(|c| c == Component::ParentDir) {
            return Err(format!(
                "{}: not a directory inside the cgroup root {}",
                dir.display(),
                self.root.display()
            ));
        }
        let path = dir.join("cpu.stat");
        let text = read_bounded(&path)?;
        parse_cpu_stat(&text, self.version, &path)
    }

    fn under_cpu_root(&self, parts: &[String]) -> PathBuf {
        let mut path = self.cpu_root.clone();
        path.extend(parts);
        path
    }
}

/// Whether `path` exists as a directory (`dir`) or a file; errors other than "not found" are
/// reported (a tree that cannot be read is not a tree that is absent).
fn exists(path: &Path, dir: bool) -> Result<bool, String> {
    match fs::metadata(path) {
        Ok(m) => Ok(if dir { m.is_dir() } else { m.is_file() }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// An ECS task id as it appears in the agent's cgroup names: the last part of the task ARN,
/// 32 hex digits (or, for tasks from before the long ARN format, a UUID with dashes).
fn is_task_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// What every parent must not hold, whichever the driver: NUL, other control characters,
/// `..` anywhere.
fn check_parent_chars(parent: &str) -> Result<(), String> {
    if parent.contains("..") {
        return Err(format!("cgroup parent {parent:?} contains \"..\": refused"));
    }
    if parent.chars().any(char::is_control) {
        return Err(format!(
            "cgroup parent {parent:?} contains a control character (NUL, newline, ...): refused"
        ));
    }
    Ok(())
}

/// A cgroupfs parent as path components under a hierarchy's top: absolute (`/ecs/<task>`),
/// empty components dropped as Docker's `filepath.Join` drops them, `.` and `..` refused.
fn cgroupfs_parts(parent: &str) -> Result<Vec<String>, String> {
    check_parent_chars(parent)?;
    if !parent.starts_with('/') {
        return Err(format!(
            "cgroup parent {parent:?} is relative: runc resolves it against its own cgroup, \
             which docker inspect does not show"
        ));
    }
    let mut parts = Vec::new();
    for part in parent.split('/').filter(|p| !p.is_empty()) {
        if part == "." {
            return Err(format!(
                "cgroup parent {parent:?} has a \".\" component: refused"
            ));
        }
        // Belt and braces: one normal component, nothing a Path would read otherwise.
        let mut components = Path::new(part).components();
        if !matches!(
            (components.next(), components.next()),
            (Some(Component::Normal(_)), None)
        ) {
            return Err(format!(
                "cgroup parent {parent:?}: component {part:?} refused"
            ));
        }
        parts.push(part.to_owned());
    }
    Ok(parts)
}

/// A systemd slice name expanded the systemd way, as runc's `ExpandSlice`
/// (libcontainer/cgroups/systemd/common.go): `a-b-c.slice` is
/// `a.slice/a-b.slice/a-b-c.slice`, `-.slice` is the root. The name must end in `.slice` and
/// be more than that, hold no `/`, and no dash-separated part may be empty (`a--b.slice`,
/// `-a.slice`). Characters are further limited to those systemd allows in unit names
/// (ASCII letters and digits, `:`, `_`, `.`, `\`, `-`, `@`).
fn expand_slice(slice: &str) -> Result<Vec<String>, String> {
    check_parent_chars(slice)?;
    let Some(name) = slice.strip_suffix(SLICE_SUFFIX).filter(|n| !n.is_empty()) else {
        return Err(format!(
            "cgroup parent {slice:?} is not a systemd slice name (\"<name>.slice\")"
        ));
    };
    if !slice
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.' | b'\\' | b'-' | b'@'))
    {
        return Err(format!(
            "cgroup parent {slice:?} has a character systemd does not allow in a unit name"
        ));
    }
    if name == "-" {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    let mut prefix = String::new();
    for component in name.split('-') {
        if component.is_empty() {
            return Err(format!(
                "cgroup parent {slice:?} is not a valid slice name (empty part between dashes)"
            ));
        }
        parts.push(format!("{prefix}{component}{SLICE_SUFFIX}"));
        prefix.push_str(component);
        prefix.push('-');
    }
    Ok(parts)
}

/// The whole of `path`, refused past [`CPU_STAT_LIMIT`] bytes (read through a bounded
/// reader: cgroupfs reports sizes of 0 or 4096 whatever the content).
fn read_bounded(path: &Path) -> Result<String, String> {
    let file = fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(CPU_STAT_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > CPU_STAT_LIMIT {
        return Err(format!(
            "{}: larger than {} KiB: refused",
            path.display(),
            CPU_STAT_LIMIT / 1024
        ));
    }
    String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8: {e}", path.display()))
}

/// `cpu.stat`'s flat keyed lines (`key value`), the throttling keys of `version`.
fn parse_cpu_stat(text: &str, version: CgroupVersion, path: &Path) -> Result<CpuStat, String> {
    let time_key = match version {
        CgroupVersion::V1 => "throttled_time",
        CgroupVersion::V2 => "throttled_usec",
    };
    let keys = ["nr_periods", "nr_throttled", time_key];
    let mut values: [Option<u64>; 3] = [None; 3];
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(key) = fields.next() else { continue };
        let Some(slot) = keys.iter().position(|k| *k == key) else {
            continue;
        };
        let value = match (fields.next(), fields.next()) {
            (Some(value), None) => value,
            _ => {
                return Err(format!(
                    "{}: {key}: expected one value, found {line:?}",
                    path.display()
                ));
            }
        };
        // `u64::from_str` takes a leading `+`; the kernel never writes one.
        let parsed = value
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| value.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| {
                format!(
                    "{}: {key}: {value:?} is not a whole number of at most 20 digits",
                    path.display()
                )
            })?;
        if values[slot].replace(parsed).is_some() {
            return Err(format!("{}: {key} appears twice", path.display()));
        }
    }
    let mut out = [0u64; 3];
    for (i, key) in keys.iter().enumerate() {
        out[i] = values[i].ok_or_else(|| match version {
            CgroupVersion::V1 => format!("{}: no {key}", path.display()),
            CgroupVersion::V2 => format!(
                "{}: no {key} (cgroup v2 reports it only where the cpu controller is enabled)",
                path.display()
            ),
        })?;
    }
    let [nr_periods, nr_throttled, time] = out;
    let throttled_ns = match version {
        CgroupVersion::V1 => time,
        CgroupVersion::V2 => time.checked_mul(1000).ok_or_else(|| {
            format!(
                "{}: throttled_usec {time} does not fit in nanoseconds",
                path.display()
            )
        })?,
    };
    Ok(CpuStat {
        nr_periods,
        nr_throttled,
        throttled_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task id as the ECS agent puts it in cgroup names (the end of a long-format task ARN).
    const TASK: &str = "0123456789abcdef0123456789abcdef";

    fn write(path: &Path, content: &str) {
        fs::create_dir_all(path.parent().expect("test path has a parent")).expect("mkdir");
        fs::write(path, content).expect("write");
    }

    fn tempdir() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    /// A v2 root: `cgroup.controllers` at the top.
    fn v2_root(root: &Path) {
        write(
            &root.join("cgroup.controllers"),
            "cpuset cpu io memory hugetlb pids\n",
        );
    }

    /// The tree `detect` should find, written out by hand.
    fn tree(root: &Path, version: CgroupVersion, cpu_root: PathBuf) -> CgroupTree {
        CgroupTree {
            root: root.to_path_buf(),
            version,
            cpu_root,
        }
    }

    const V1_STAT: &str = "nr_periods 120\nnr_throttled 7\nthrottled_time 350000000\n\
                           nr_bursts 0\nburst_time 0\n";
    const V2_STAT: &str = "usage_usec 1000\nuser_usec 600\nsystem_usec 400\n\
                           nr_periods 10\nnr_throttled 3\nthrottled_usec 1500\n\
                           nr_bursts 0\nburst_usec 0\n";

    #[test]
    fn driver_parse_knows_docker_info_values() {
        assert_eq!(
            CgroupDriver::parse("cgroupfs"),
            Some(CgroupDriver::Cgroupfs)
        );
        assert_eq!(CgroupDriver::parse("systemd"), Some(CgroupDriver::Systemd));
        assert_eq!(
            CgroupDriver::parse(" systemd\n"),
            Some(CgroupDriver::Systemd)
        );
        assert_eq!(CgroupDriver::parse("none"), None);
        assert_eq!(CgroupDriver::parse(""), None);
        assert_eq!(CgroupDriver::parse("Systemd"), None);
    }

    #[test]
    fn v1_cgroupfs_ecs_task_through_cpu_symlink() {
        let tmp = tempdir();
        let root = tmp.path();
        // What AL2 hosts have: `cpu,cpuacct` mounted, `cpu` and `cpuacct` symlinks to it.
        fs::create_dir_all(root.join("cpu,cpuacct")).expect("mkdir");
        std::os::unix::fs::symlink("cpu,cpuacct", root.join("cpu")).expect("symlink");
        std::os::unix::fs::symlink("cpu,cpuacct", root.join("cpuacct")).expect("symlink");
        write(
            &root.join(format!("cpu,cpuacct/ecs/{TASK}/cpu.stat")),
            "nr_periods 300\nnr_throttled 41\nthrottled_time 2000000001\n",
        );

        let tree = CgroupTree::detect(root).expect("detect");
        assert_eq!(tree, self::tree(root, CgroupVersion::V1, root.join("cpu")));
        assert_eq!(tree.version(), CgroupVersion::V1);
        assert_eq!(tree.root(), root);

        let expected = root.join(format!("cpu/ecs/{TASK}"));
        // Empty components are dropped, as Docker's `filepath.Join` drops them.
        for parent in [format!("/ecs/{TASK}"), format!("//ecs//{TASK}/")] {
            assert_eq!(
                tree.task_dir(CgroupDriver::Cgroupfs, Some(&parent)),
                Some(expected.clone()),
                "{parent}"
            );
        }
        assert_eq!(
            tree.cpu_stat(&expected).expect("task cpu.stat"),
            CpuStat {
                nr_periods: 300,
                nr_throttled: 41,
                throttled_ns: 2_000_000_001,
            }
        );
        // An old-format (UUID) task id.
        assert_eq!(
            tree.task_dir(
                CgroupDriver::Cgroupfs,
                Some("/ecs/0c3c3bd0-1a2b-4c5d-8e9f-0123456789ab")
            ),
            Some(root.join("cpu/ecs/0c3c3bd0-1a2b-4c5d-8e9f-0123456789ab"))
        );
    }

    #[test]
    fn v1_without_cpu_symlink_uses_the_comounted_directory() {
        for dir in ["cpu,cpuacct", "cpuacct,cpu"] {
            let tmp = tempdir();
            let root = tmp.path();
            write(&root.join(format!("{dir}/ecs/{TASK}/cpu.stat")), V1_STAT);
            // A hybrid host's `unified` v2 hierarchy does not make the tree v2.
            v2_root(&root.join("unified"));
            let tree = CgroupTree::detect(root).expect("detect");
            assert_eq!(tree, self::tree(root, CgroupVersion::V1, root.join(dir)));
            let task = tree
                .task_dir(CgroupDriver::Cgroupfs, Some(&format!("/ecs/{TASK}")))
                .expect("task dir");
            assert_eq!(task, root.join(format!("{dir}/ecs/{TASK}")));
            assert_eq!(
                tree.cpu_stat(&task).expect("cpu.stat"),
                CpuStat {
                    nr_periods: 120,
                    nr_throttled: 7,
                    throttled_ns: 350_000_000,
                }
            );
        }
    }

    #[test]
    fn v1_cgroupfs_default_and_other_parents_have_no_task() {
        let tmp = tempdir();
        let root = tmp.path();
        fs::create_dir_all(root.join("cpu")).expect("mkdir");
        let tree = CgroupTree::detect(root).expect("detect");
        // Docker's default parent, unnamed or named.
        for parent in [None, Some(""), Some("/docker")] {
            assert_eq!(
                tree.task_dir(CgroupDriver::Cgroupfs, parent),
                None,
                "{parent:?}"
            );
        }
        // Parents that are not /ecs/<task id>.
        for parent in [
            "/ecs".to_owned(),
            "/ecs/".to_owned(),
            "/custom/x".to_owned(),
            format!("/other/{TASK}"),
            format!("/ecs/{TASK}/x"),
            format!("/x/ecs/{TASK}"),
            "/ecs/bad id".to_owned(),
            "/ecs/-abc".to_owned(),
            "/ecs/abc-".to_owned(),
            "/ecs/a--b".to_owned(),
            "/ecs/a_b".to_owned(),
            format!("/ecs/{}", "a".repeat(65)),
            format!("/ECS/{TASK}"),
            format!("ecstasks-{TASK}.slice"),
        ] {
            assert_eq!(
                tree.task_dir(CgroupDriver::Cgroupfs, Some(&parent)),
                None,
                "{parent}"
            );
        }
    }

    #[test]
    fn v1_systemd_driver_task_slice() {
        let tmp = tempdir();
        let root = tmp.path();
        fs::create_dir_all(root.join("cpu")).expect("mkdir");
        let tree = CgroupTree::detect(root).expect("detect");
        // v1 takes the expanded slice under the cpu controller's hierarchy.
        assert_eq!(
            tree.task_dir(
                CgroupDriver::Systemd,
                Some(&format!("ecstasks-{TASK}.slice"))
            ),
            Some(root.join(format!("cpu/ecstasks.slice/ecstasks-{TASK}.slice")))
        );
        for parent in [None, Some(""), Some("system.slice")] {
            assert_eq!(tree.task_dir(CgroupDriver::Systemd, parent), None);
        }
    }

    #[test]
    fn v2_cgroupfs_ecs_task_and_microseconds() {
        let tmp = tempdir();
        let root = tmp.path();
        v2_root(root);
        // A v1-looking `cpu` directory does not matter once cgroup.controllers is there.
        fs::create_dir_all(root.join("cpu")).expect("mkdir");
        write(&root.join(format!("ecs/{TASK}/cpu.stat")), V2_STAT);

        let tree = CgroupTree::detect(root).expect("detect");
        assert_eq!(
            tree,
            self::tree(root, CgroupVersion::V2, root.to_path_buf())
        );
        assert_eq!(tree.version(), CgroupVersion::V2);
        let task = tree
            .task_dir(CgroupDriver::Cgroupfs, Some(&format!("/ecs/{TASK}")))
            .expect("task dir");
        assert_eq!(task, root.join(format!("ecs/{TASK}")));
        // 1500 µs is 1 500 000 ns.
        assert_eq!(
            tree.cpu_stat(&task).expect("cpu.stat"),
            CpuStat {
                nr_periods: 10,
                nr_throttled: 3,
                throttled_ns: 1_500_000,
            }
        );
        for parent in [None, Some(""), Some("/docker")] {
            assert_eq!(tree.task_dir(CgroupDriver::Cgroupfs, parent), None);
        }
    }

    #[test]
    fn v2_systemd_ecs_task_slice() {
        let tmp = tempdir();
        let root = tmp.path();
        v2_root(root);
        let task = root.join(format!("ecstasks.slice/ecstasks-{TASK}.slice"));
        write(
            &task.join("cpu.stat"),
            "usage_usec 9\nuser_usec 5\nsystem_usec 4\nnr_periods 11\nnr_throttled 4\n\
             throttled_usec 2001\n",
        );

        let tree = CgroupTree::detect(root).expect("detect");
        let parent = format!("ecstasks-{TASK}.slice");
        let task_dir = tree
            .task_dir(CgroupDriver::Systemd, Some(&parent))
            .expect("task dir");
        assert_eq!(task_dir, task);
        assert_eq!(
            tree.cpu_stat(&task_dir).expect("task cpu.stat"),
            CpuStat {
                nr_periods: 11,
                nr_throttled: 4,
                throttled_ns: 2_001_000,
            }
        );
        // An old-format (UUID) task id: its dashes nest slices, as systemd does.
        assert_eq!(
            tree.task_dir(CgroupDriver::Systemd, Some("ecstasks-ab12-cd34.slice")),
            Some(root.join("ecstasks.slice/ecstasks-ab12.slice/ecstasks-ab12-cd34.slice"))
        );
        // Slices that are not a task's.
        for parent in [
            "ecstasks.slice".to_owned(),
            "ecstasks-.slice".to_owned(),
            "ecs-abc.slice".to_owned(),
            "ecstasksx-abc.slice".to_owned(),
            "ecstasks-a--b.slice".to_owned(),
            "ecstasks-a_b.slice".to_owned(),
            format!("ecstasks-{TASK}.scope"),
            format!("ecstasks-{TASK}"),
            format!("/ecs/{TASK}"),
        ] {
            assert_eq!(
                tree.task_dir(CgroupDriver::Systemd, Some(&parent)),
                None,
                "{parent}"
            );
        }
    }

    #[test]
    fn v2_systemd_default_parent_has_no_task() {
        let tmp = tempdir();
        let root = tmp.path();
        v2_root(root);
        let tree = CgroupTree::detect(root).expect("detect");
        for parent in [None, Some(""), Some("system.slice"), Some("-.slice")] {
            assert_eq!(
                tree.task_dir(CgroupDriver::Systemd, parent),
                None,
                "{parent:?}"
            );
        }
    }

    #[test]
    fn expand_slice_follows_runc() {
        assert_eq!(
            expand_slice("a-b-c.slice").expect("valid"),
            ["a.slice", "a-b.slice", "a-b-c.slice"]
        );
        assert_eq!(
            expand_slice("system.slice").expect("valid"),
            ["system.slice"]
        );
        assert!(expand_slice("-.slice").expect("root").is_empty());
        for bad in [
            ".slice",
            "a--b.slice",
            "-a.slice",
            "a-.slice",
            "a/b.slice",
            "system",
            "system.scope",
            "a b.slice",
            "",
        ] {
            assert!(expand_slice(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hostile_parents_are_refused() {
        let tmp = tempdir();
        let root = tmp.path();
        fs::create_dir_all(root.join("cpu")).expect("mkdir");
        let tree = CgroupTree::detect(root).expect("detect");
        for (parent, why) in [
            ("/ecs/../../etc".to_owned(), "\"..\""),
            ("/..".to_owned(), "\"..\""),
            (format!("/ecs/{TASK}/.."), "\"..\""),
            ("../x".to_owned(), "\"..\""),
            ("/ecs/./x".to_owned(), "\".\" component"),
            (format!("/ecs/{TASK}/."), "\".\" component"),
            (format!("ecs/{TASK}"), "is relative"),
            (format!("/ecs/{TASK}\0"), "control character"),
            ("/ecs/a\nb".to_owned(), "control character"),
        ] {
            let err = cgroupfs_parts(&parent).expect_err(&parent);
            assert!(err.contains("cgroup parent") && err.contains(why), "{err}");
            assert_eq!(
                tree.task_dir(CgroupDriver::Cgroupfs, Some(&parent)),
                None,
                "{parent:?}"
            );
        }
        for (parent, why) in [
            ("../x.slice".to_owned(), "\"..\""),
            ("ecstasks-..slice".to_owned(), "\"..\""),
            ("system.slice/../../x.slice".to_owned(), "\"..\""),
            (format!("ecstasks-{TASK}\0.slice"), "control character"),
            ("ecstasks-a/b.slice".to_owned(), "does not allow"),
            (
                format!("ecstasks.slice/ecstasks-{TASK}.slice"),
                "does not allow",
            ),
            (format!("/ecs/{TASK}"), "not a systemd slice name"),
        ] {
            let err = expand_slice(&parent).expect_err(&parent);
            assert!(err.contains("cgroup parent") && err.contains(why), "{err}");
            assert_eq!(
                tree.task_dir(CgroupDriver::Systemd, Some(&parent)),
                None,
                "{parent:?}"
            );
        }
        // A directory outside the root is not read.
        let outside = tempdir();
        write(&outside.path().join("cpu.stat"), V1_STAT);
        let err = tree.cpu_stat(outside.path()).expect_err("outside");
        assert!(
            err.contains("not a directory inside the cgroup root"),
            "{err}"
        );
        write(&root.join("cpu.stat"), V1_STAT);
        assert!(tree.cpu_stat(&root.join("cpu/..")).is_err());
        assert!(tree.cpu_stat(&root.join("cpu/ecs/../..")).is_err());
    }

    #[test]
    fn missing_cpu_stat_names_the_file() {
        let tmp = tempdir();
        let root = tmp.path();
        fs::create_dir_all(root.join("cpu")).expect("mkdir");
        let tree = CgroupTree::detect(root).expect("detect");
        // The task's directory is not checked when its path is made: the read says it is gone.
        let dir = tree
            .task_dir(CgroupDriver::Cgroupfs, Some(&format!("/ecs/{TASK}")))
            .expect("task dir");
        let err = tree.cpu_stat(&dir).expect_err("no file");
        let path = root.join(format!("cpu/ecs/{TASK}/cpu.stat"));
        assert!(err.contains(&path.display().to_string()), "{err}");
    }

    #[test]
    fn cpu_stat_over_64_kib_is_refused() {
        let tmp = tempdir();
        let root = tmp.path();
        let dir = root.join(format!("cpu/ecs/{TASK}"));
        fs::create_dir_all(&dir).expect("mkdir");
        let tree = CgroupTree::detect(root).expect("detect");
        // Exactly 64 KiB of valid content (unknown keys padding it) is read...
        let mut text = String::from("nr_periods 1\nnr_throttled 2\nthrottled_time 3\n");
        while text.len() + 8 <= 64 * 1024 {
            text.push_str("pad 12\n");
        }
        text.push_str(&"x".repeat(64 * 1024 - text.len() - 1));
        text.push('\n');
        assert_eq!(text.len(), 64 * 1024);
        write(&dir.join("cpu.stat"), &text);
        assert_eq!(
            tree.cpu_stat(&dir).expect("64 KiB"),
            CpuStat {
                nr_periods: 1,
                nr_throttled: 2,
                throttled_ns: 3,
            }
        );
        // ... one byte more is not.
        text.push('\n');
        write(&dir.join("cpu.stat"), &text);
        let err = tree.cpu_stat(&dir).expect_err("too large");
        assert!(err.contains("larger than 64 KiB"), "{err}");
        assert!(
            err.contains(&dir.join("cpu.stat").display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn garbage_values_are_errors_naming_file_and_key() {
        let path = Path::new("/h/cpu/ecs/x/cpu.stat");
        for (text, key) in [
            (
                "nr_periods abc\nnr_throttled 0\nthrottled_time 0\n",
                "nr_periods",
            ),
            (
                "nr_periods 1\nnr_throttled -1\nthrottled_time 0\n",
                "nr_throttled",
            ),
            (
                "nr_periods 1\nnr_throttled 1\nthrottled_time 1.5\n",
                "throttled_time",
            ),
            (
                "nr_periods 1\nnr_throttled 1\nthrottled_time +5\n",
                "throttled_time",
            ),
            (
                "nr_periods\nnr_throttled 1\nthrottled_time 1\n",
                "nr_periods",
            ),
            (
                "nr_periods 1 2\nnr_throttled 1\nthrottled_time 1\n",
                "nr_periods",
            ),
            (
                "nr_periods 1\nnr_throttled 1\nthrottled_time 18446744073709551616\n",
                "throttled_time",
            ),
            (
                "nr_periods 1\nnr_periods 2\nnr_throttled 1\nthrottled_time 1\n",
                "nr_periods",
            ),
        ] {
            let err = parse_cpu_stat(text, CgroupVersion::V1, path).expect_err(text);
            assert!(err.contains("/h/cpu/ecs/x/cpu.stat"), "{err}");
            assert!(err.contains(key), "{key}: {err}");
        }
        // Unknown keys, even odd ones, are ignored; blank lines too.
        assert_eq!(
            parse_cpu_stat(
                "\nweird\nnr_bursts x y\nnr_periods 5\nnr_throttled 1\nthrottled_time 9\n",
                CgroupVersion::V1,
                path
            )
            .expect("valid"),
            CpuStat {
                nr_periods: 5,
                nr_throttled: 1,
                throttled_ns: 9,
            }
        );
        // The largest u64 is a whole number (v1 nanoseconds are taken as they are).
        assert_eq!(
            parse_cpu_stat(
                "nr_periods 0\nnr_throttled 0\nthrottled_time 18446744073709551615\n",
                CgroupVersion::V1,
                path
            )
            .expect("u64::MAX")
            .throttled_ns,
            u64::MAX
        );
        // v2 microseconds that do not fit in nanoseconds.
        let err = parse_cpu_stat(
            "nr_periods 1\nnr_throttled 1\nthrottled_usec 18446744073709551615\n",
            CgroupVersion::V2,
            path,
        )
        .expect_err("overflow");
        assert!(err.contains("throttled_usec"), "{err}");
    }

    #[test]
    fn garbage_bytes_in_file_are_refused() {
        let tmp = tempdir();
        let root = tmp.path();
        let dir = root.join(format!("cpu/ecs/{TASK}"));
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(
            dir.join("cpu.stat"),
            b"nr_periods 1\nnr_throttled \xff\nthrottled_time 0\n",
        )
        .expect("write");
        let tree = CgroupTree::detect(root).expect("detect");
        let err = tree.cpu_stat(&dir).expect_err("not utf-8");
        assert!(err.contains("cpu.stat") && err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn a_missing_key_is_an_error_not_a_zero() {
        let path = Path::new("/h/x/cpu.stat");
        let err = parse_cpu_stat("nr_periods 1\nnr_throttled 1\n", CgroupVersion::V1, path)
            .expect_err("no throttled_time");
        assert!(
            err.contains("/h/x/cpu.stat") && err.contains("throttled_time"),
            "{err}"
        );
        // A v1 file read as v2 (or the reverse) lacks the other's time key.
        let err = parse_cpu_stat(V1_STAT, CgroupVersion::V2, path).expect_err("v1 as v2");
        assert!(err.contains("throttled_usec"), "{err}");
        let err = parse_cpu_stat(V2_STAT, CgroupVersion::V1, path).expect_err("v2 as v1");
        assert!(err.contains("throttled_time"), "{err}");
        assert!(parse_cpu_stat("", CgroupVersion::V1, path).is_err());

        // v2 without the cpu controller enabled for the task's cgroup: usage only.
        let tmp = tempdir();
        let root = tmp.path();
        v2_root(root);
        let dir = root.join(format!("ecstasks.slice/ecstasks-{TASK}.slice"));
        write(
            &dir.join("cpu.stat"),
            "usage_usec 10\nuser_usec 5\nsystem_usec 5\n",
        );
        let tree = CgroupTree::detect(root).expect("detect");
        let err = tree.cpu_stat(&dir).expect_err("controller off");
        assert!(
            err.contains(&dir.join("cpu.stat").display().to_string())
                && err.contains("nr_periods")
                && err.contains("cpu controller"),
            "{err}"
        );
    }

    #[test]
    fn detect_says_what_it_looked_for() {
        let tmp = tempdir();
        let root = tmp.path();
        fs::create_dir_all(root.join("memory")).expect("mkdir");
        let err = CgroupTree::detect(root).expect_err("no tree");
        let r = root.display().to_string();
        assert!(err.contains(&format!("{r}/cgroup.controllers")), "{err}");
        for dir in V1_CPU_DIRS {
            assert!(err.contains(&format!("{r}/{dir}")), "{err}");
        }
        assert!(
            err.contains(ROOT_ENV) && err.contains(DEFAULT_ROOT),
            "{err}"
        );

        let gone = root.join("absent");
        let err = CgroupTree::detect(&gone).expect_err("no root");
        assert!(err.contains(&gone.display().to_string()), "{err}");
        assert!(
            err.contains(ROOT_ENV) && err.contains(DEFAULT_ROOT),
            "{err}"
        );

        let file = root.join("file");
        write(&file, "");
        let err = CgroupTree::detect(&file).expect_err("a file");
        assert!(
            err.contains(&file.display().to_string()) && err.contains("not a directory"),
            "{err}"
        );
        // `cpu` as a plain file is not the cpu controller, nor is a directory named
        // `cgroup.controllers` a v2 tree.
        let tmp2 = tempdir();
        write(&tmp2.path().join("cpu"), "");
        fs::create_dir_all(tmp2.path().join("cgroup.controllers")).expect("mkdir");
        assert!(CgroupTree::detect(tmp2.path()).is_err());
    }

    /// This machine's own tree, when it has one: the version and the cpu controller's
    /// directory are what is mounted, the root cgroup's `cpu.stat` parses (v1) or names its
    /// missing key (v2's root cgroup reports usage only), and the ECS agent's task cgroups
    /// that exist are found where they are and read.
    #[test]
    fn this_machines_cgroup_tree() {
        let root = Path::new(DEFAULT_ROOT);
        if !root.is_dir() {
            eprintln!("skipped: no {DEFAULT_ROOT} on this machine");
            return;
        }
        let tree = match CgroupTree::detect(root) {
            Ok(tree) => tree,
            Err(e) => {
                eprintln!("skipped: {DEFAULT_ROOT} holds no usable tree: {e}");
                return;
            }
        };
        // Worked out here without detect's help.
        let (version, cpu_root) = if root.join("cgroup.controllers").is_file() {
            (CgroupVersion::V2, root.to_path_buf())
        } else {
            let dir = ["cpu", "cpu,cpuacct", "cpuacct,cpu"]
                .into_iter()
                .map(|d| root.join(d))
                .find(|d| d.is_dir())
                .expect("detect found a v1 cpu directory");
            (CgroupVersion::V1, dir)
        };
        assert_eq!(tree, self::tree(root, version, cpu_root.clone()));

        let stat_file = cpu_root.join("cpu.stat");
        if stat_file.is_file() {
            let raw = fs::read_to_string(&stat_file).expect("readable cpu.stat");
            match tree.cpu_stat(&cpu_root) {
                Ok(stat) => {
                    assert!(stat.nr_throttled <= stat.nr_periods, "{stat:?}");
                    eprintln!("{}: {stat:?}", stat_file.display());
                }
                Err(e) => {
                    assert_eq!(version, CgroupVersion::V2, "{e}");
                    assert!(!raw.contains("throttled_usec"), "{e}");
                    assert!(e.contains(&stat_file.display().to_string()), "{e}");
                }
            }
        } else {
            eprintln!("no {}", stat_file.display());
        }

        // The task cgroups the ECS agent made here, if any.
        let (driver, tasks) = match version {
            CgroupVersion::V1 => (CgroupDriver::Cgroupfs, cpu_root.join("ecs")),
            CgroupVersion::V2 => (CgroupDriver::Systemd, cpu_root.join("ecstasks.slice")),
        };
        let Ok(entries) = fs::read_dir(&tasks) else {
            eprintln!("no {}", tasks.display());
            return;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !dir.is_dir() {
                continue;
            }
            let parent = match driver {
                CgroupDriver::Cgroupfs => format!("/ecs/{name}"),
                CgroupDriver::Systemd => name.clone(),
            };
            let Some(found) = tree.task_dir(driver, Some(&parent)) else {
                eprintln!("not a task cgroup: {}", dir.display());
                continue;
            };
            assert_eq!(found, dir, "{parent}");
            match tree.cpu_stat(&found) {
                Ok(stat) => {
                    assert!(stat.nr_throttled <= stat.nr_periods, "{stat:?}");
                    eprintln!("{}: {stat:?}", found.display());
                }
                // Gone since it was listed, or (v2) no cpu controller there.
                Err(e) if !found.is_dir() || version == CgroupVersion::V2 => {
                    eprintln!("{e}");
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
}
