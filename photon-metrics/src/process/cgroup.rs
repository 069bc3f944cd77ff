//! The memory limit the kernel enforces on this process: its cgroup's.
//!
//! cgroup v2 keeps it in `memory.max` (`max` = no limit), v1 in
//! `memory.limit_in_bytes` (a value near 2^63 = no limit). A limit set on
//! any ancestor cgroup applies too, so the effective limit is the smallest
//! one on the way from the process's cgroup up to the mount root. When the
//! path in `/proc/self/cgroup` is not visible (a container without its own
//! cgroup namespace shows the host's path), the mount root itself is the
//! container's cgroup and is read alone.

use std::path::{Path, PathBuf};

/// v1 writes "no limit" as the largest page-aligned `i64`; anything from
/// 2^62 on is taken as unlimited (no machine has 4 EiB of memory).
const V1_UNLIMITED_FROM: u64 = 1 << 62;

/// The effective memory limit in bytes of the process whose `/proc` and
/// `/sys` are under `root` (`/` on a live system), or `None` when there is
/// no limit or no cgroup memory controller.
pub(crate) fn memory_limit(root: &Path) -> Option<u64> {
    let table = std::fs::read_to_string(root.join("proc/self/cgroup")).ok()?;
    // v1 first: on a hybrid host the unified line ("0::…") exists too, but
    // without the memory controller.
    let v1 = table.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        controllers
            .split(',')
            .any(|c| c == "memory")
            .then_some(path)
    });
    if let Some(path) = v1 {
        let mount = root.join("sys/fs/cgroup/memory");
        return smallest(&mount, path, "memory.limit_in_bytes", |text| {
            text.parse::<u64>().ok().filter(|&v| v < V1_UNLIMITED_FROM)
        });
    }
    let path = table.lines().find_map(|line| line.strip_prefix("0::"))?;
    let mount = root.join("sys/fs/cgroup");
    smallest(&mount, path, "memory.max", |text| match text {
        "max" => None,
        number => number.parse::<u64>().ok(),
    })
}

/// The smallest limit in `file` from `mount/path` up to `mount`.
fn smallest(
    mount: &Path,
    path: &str,
    file: &str,
    parse: impl Fn(&str) -> Option<u64>,
) -> Option<u64> {
    let leaf = mount.join(path.trim_start_matches('/'));
    let start: PathBuf = if leaf.is_dir() {
        leaf
    } else {
        mount.to_path_buf()
    };
    start
        .ancestors()
        .take_while(|dir| dir.starts_with(mount))
        .filter_map(|dir| std::fs::read_to_string(dir.join(file)).ok())
        .filter_map(|text| parse(text.trim()))
        .min()
}

#[cfg(test)]
mod tests {
    use super::memory_limit;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cgroup")
            .join(name)
    }

    #[test]
    fn v2_limit_is_read_from_the_process_cgroup() {
        assert_eq!(memory_limit(&fixture("v2-limited")), Some(536_870_912));
    }

    #[test]
    fn v2_max_means_no_limit() {
        assert_eq!(memory_limit(&fixture("v2-unlimited")), None);
    }

    #[test]
    fn v2_a_parent_limit_applies_to_the_child() {
        // The pod's cgroup allows 1 GiB, the container's own says max.
        assert_eq!(
            memory_limit(&fixture("v2-parent-limited")),
            Some(1_073_741_824)
        );
    }

    #[test]
    fn v2_without_a_cgroup_namespace_reads_the_mount_root() {
        // /proc/self/cgroup names a host path that this mount does not show.
        assert_eq!(memory_limit(&fixture("v2-namespaced")), Some(268_435_456));
    }

    #[test]
    fn v1_limit_is_read_from_the_memory_controller() {
        assert_eq!(memory_limit(&fixture("v1-limited")), Some(2_147_483_648));
    }

    #[test]
    fn v1_page_aligned_i64_max_means_no_limit() {
        // This is what a v1 host without a limit writes (and this CI machine).
        assert_eq!(memory_limit(&fixture("v1-unlimited")), None);
    }

    #[test]
    fn hybrid_hosts_use_the_v1_memory_controller() {
        // "0::/" is present, but memory is on v1.
        assert_eq!(memory_limit(&fixture("hybrid")), Some(805_306_368));
    }

    #[test]
    fn no_cgroup_files_means_no_limit() {
        assert_eq!(memory_limit(&fixture("missing")), None);
    }
}
