//! How much memory this process may still use, as far as the system says.
//!
//! Linux overcommits: a large allocation succeeds and the process is killed
//! later, or (under an address-space limit, `ulimit -v`) fails and aborts.
//! So the command checks its estimated need against [`available`] before it
//! reads the data, and reports a shortfall as an error instead.

use std::fs;

/// Bytes this process can still allocate: the least of the kernel's
/// `MemAvailable`, what its cgroup's memory limit leaves, and what its
/// address-space and data-size limits leave. `None` where the system does
/// not say (not Linux).
pub fn available() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    let mut least = meminfo_kib(&meminfo, "MemAvailable")?.saturating_mul(1024);
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let limits = fs::read_to_string("/proc/self/limits").unwrap_or_default();
    for (limit, used) in [("Max address space", "VmSize"), ("Max data size", "VmData")] {
        if let (Some(max), Some(used)) = (rlimit(&limits, limit), meminfo_kib(&status, used)) {
            least = least.min(max.saturating_sub(used.saturating_mul(1024)));
        }
    }
    if let Some(room) = cgroup_room() {
        least = least.min(room);
    }
    Some(least)
}

/// A `Key:   123 kB` line of `/proc/meminfo` or `/proc/self/status`, in KiB.
fn meminfo_kib(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The soft limit of a `/proc/self/limits` row, in bytes (`None` if unlimited).
fn rlimit(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// Memory the process's cgroup (v2, else v1) lets it use beyond what the
/// cgroup uses now, if it has a limit.
fn cgroup_room() -> Option<u64> {
    let cgroups = fs::read_to_string("/proc/self/cgroup").ok()?;
    let read = |path: String| -> Option<u64> { fs::read_to_string(path).ok()?.trim().parse().ok() };
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let (limit, usage) = if controllers.is_empty() {
            let dir = format!("/sys/fs/cgroup{path}");
            (
                read(format!("{dir}/memory.max")),
                read(format!("{dir}/memory.current")),
            )
        } else if controllers.split(',').any(|c| c == "memory") {
            // inside a container the path may not exist: fall back to the mount's root
            let dir = [
                format!("/sys/fs/cgroup/memory{path}"),
                "/sys/fs/cgroup/memory".into(),
            ]
            .into_iter()
            .find(|d| fs::metadata(format!("{d}/memory.limit_in_bytes")).is_ok())?;
            (
                read(format!("{dir}/memory.limit_in_bytes")),
                read(format!("{dir}/memory.usage_in_bytes")),
            )
        } else {
            continue;
        };
        if let Some(limit) = limit {
            return Some(limit.saturating_sub(usage.unwrap_or(0)));
        }
    }
    None
}

/// A size as people write it: `512MiB`, `4GiB`, `1.5 GB`, `100k`, `2e9`
/// (binary units KiB/MiB/GiB/TiB and K/M/G/T; decimal KB/MB/GB/TB; bytes
/// without a unit). `None` if it is not one.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.trim().parse().ok()?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return None,
    };
    let bytes = value * scale;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Bytes as people read them: `512 B`, `3.0 KiB`, `1.5 GiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read() {
        let meminfo = "MemTotal:       24000000 kB\nMemAvailable:   23989464 kB\n";
        assert_eq!(meminfo_kib(meminfo, "MemAvailable"), Some(23_989_464));
        assert_eq!(meminfo_kib(meminfo, "MemFree"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max data size             unlimited            unlimited            bytes\n\
                      Max address space         4294967296           unlimited            bytes\n";
        assert_eq!(rlimit(limits, "Max address space"), Some(4_294_967_296));
        assert_eq!(rlimit(limits, "Max data size"), None);
    }

    #[test]
    fn this_machine_says_something() {
        if cfg!(target_os = "linux") {
            assert!(available().is_some_and(|b| b > 0));
        }
    }

    #[test]
    fn sizes_parse_like_people_write_them() {
        assert_eq!(parse_size("512MiB"), Some(512 << 20));
        assert_eq!(parse_size("4GiB"), Some(4 << 30));
        assert_eq!(parse_size("4g"), Some(4 << 30));
        assert_eq!(parse_size("1.5 GB"), Some(1_500_000_000));
        assert_eq!(parse_size("2e9"), Some(2_000_000_000));
        assert_eq!(parse_size("4096"), Some(4096));
        for bad in ["", "GiB", "-1MiB", "12 parsecs", "1e999", "nan"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3 << 10), "3.0 KiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
    }
}
