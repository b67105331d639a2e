// usage.rs — per-repetition process resource usage from getrusage(2) (declared here: std does not expose
// it, and the crate takes no dependency beyond tokio), memory readings from /proc/self, and the memory
// guard (the same rules as runtimes/go/memory_guard.go): a case whose tasks cannot fit is refused up
// front, and spawning loops stop once the process outgrows the memory that was available.

use std::os::raw::{c_int, c_long};

#[repr(C)]
struct Timeval {
    tv_sec: c_long,
    tv_usec: c_long,
}

/// struct rusage on Linux: two timevals, then fourteen longs.
#[repr(C)]
struct Rusage {
    ru_utime: Timeval,
    ru_stime: Timeval,
    ru_maxrss: c_long,
    ru_ixrss: c_long,
    ru_idrss: c_long,
    ru_isrss: c_long,
    ru_minflt: c_long,
    ru_majflt: c_long,
    ru_nswap: c_long,
    ru_inblock: c_long,
    ru_oublock: c_long,
    ru_msgsnd: c_long,
    ru_msgrcv: c_long,
    ru_nsignals: c_long,
    ru_nvcsw: c_long,
    ru_nivcsw: c_long,
}

extern "C" {
    fn getrusage(who: c_int, usage: *mut Rusage) -> c_int;
}

const RUSAGE_SELF: c_int = 0;

/// getrusage(RUSAGE_SELF) at one instant.
#[derive(Clone, Copy, Default)]
pub struct UsageSnapshot {
    pub user_cpu: f64,
    pub sys_cpu: f64,
    pub voluntary_csw: i64,
    pub involuntary_csw: i64,
    /// The process's peak RSS so far (ru_maxrss is in KiB on Linux).
    pub max_rss_bytes: i64,
}

pub fn read_usage() -> UsageSnapshot {
    // SAFETY: Rusage is plain data of the kernel's layout; getrusage fills it or fails.
    let mut ru: Rusage = unsafe { std::mem::zeroed() };
    if unsafe { getrusage(RUSAGE_SELF, &mut ru) } != 0 {
        return UsageSnapshot::default();
    }
    let secs = |tv: &Timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    UsageSnapshot {
        user_cpu: secs(&ru.ru_utime),
        sys_cpu: secs(&ru.ru_stime),
        voluntary_csw: ru.ru_nvcsw as i64,
        involuntary_csw: ru.ru_nivcsw as i64,
        max_rss_bytes: ru.ru_maxrss as i64 * 1024,
    }
}

/// The process's resident and virtual size in bytes, from /proc/self/statm.
#[derive(Clone, Copy, Default)]
pub struct MemorySnapshot {
    pub rss_bytes: i64,
    pub vm_bytes: i64,
}

const PAGE_BYTES: i64 = 4096;

pub fn read_memory() -> Result<MemorySnapshot, String> {
    let text = std::fs::read_to_string("/proc/self/statm").map_err(|e| format!("reading /proc/self/statm: {e}"))?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<i64>());
    match (fields.next(), fields.next()) {
        (Some(Ok(size)), Some(Ok(resident))) => {
            Ok(MemorySnapshot { rss_bytes: resident * PAGE_BYTES, vm_bytes: size * PAGE_BYTES })
        }
        _ => Err(format!("parsing /proc/self/statm {text:?}")),
    }
}

/// The number of lines of /proc/self/maps: the kernel mappings the process holds.
pub fn count_mappings() -> Result<i64, String> {
    let text = std::fs::read_to_string("/proc/self/maps").map_err(|e| format!("reading /proc/self/maps: {e}"))?;
    Ok(text.lines().count() as i64)
}

/// MemTotal and MemAvailable from /proc/meminfo, in bytes.
fn read_meminfo() -> Option<(i64, i64)> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<i64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        Some(line.split_whitespace().nth(1)?.parse::<i64>().ok()? * 1024)
    };
    Some((field("MemTotal:")?, field("MemAvailable:")?))
}

/// A lower bound on one live tokio task: its header, scheduler hooks and future, padded to 128 bytes. A
/// refusal based on it never refuses a case that could fit.
pub const MIN_TASK_BYTES: i64 = 128;

/// Why a case with `alive` tasks alive at once cannot fit, or None when it may run.
pub fn refuse_if_too_big(alive: i64) -> Option<String> {
    let (_, available) = read_meminfo()?;
    let need = alive.saturating_mul(MIN_TASK_BYTES);
    (need > available).then(|| {
        format!("{alive} tasks alive at once need at least {need} bytes ({MIN_TASK_BYTES} B each), MemAvailable is {available} bytes")
    })
}

/// A watched workload leaves MemTotal/MEMORY_RESERVE_FRACTION to everything else.
const MEMORY_RESERVE_FRACTION: i64 = 10;

/// Tells a spawning loop when the process has grown by more than it may: MemAvailable at the start minus
/// a reserve of MemTotal/10, judged by the peak RSS from getrusage (which never falls, so after an
/// earlier, bigger repetition it may stop early, never late).
#[derive(Clone, Copy)]
pub struct MemoryWatch {
    start_rss_bytes: i64,
    budget_bytes: Option<i64>, // None: memory could not be read, never stop
}

impl MemoryWatch {
    pub fn start() -> MemoryWatch {
        match (read_meminfo(), read_memory()) {
            (Some((total, available)), Ok(rss)) => MemoryWatch {
                start_rss_bytes: rss.rss_bytes,
                budget_bytes: Some((available - total / MEMORY_RESERVE_FRACTION).max(0)),
            },
            _ => MemoryWatch { start_rss_bytes: 0, budget_bytes: None },
        }
    }

    /// Why spawning must stop, or None while the process is inside its budget.
    pub fn exhausted(&self) -> Option<String> {
        let budget = self.budget_bytes?;
        let grown = read_usage().max_rss_bytes - self.start_rss_bytes;
        (grown > budget).then(|| {
            format!("RSS grew by {grown} bytes, over the {budget} bytes that were available (MemAvailable minus MemTotal/{MEMORY_RESERVE_FRACTION})")
        })
    }
}

/// How many tasks a watched loop starts between two looks at the watch.
pub const MEMORY_CHECK_EVERY: i64 = 16_384;

/// Starts tasks [0, n) by calling `start_batch(from, to)` on consecutive ranges of at most
/// MEMORY_CHECK_EVERY, looking at the memory watch between ranges. Returns how many it started and, when
/// it stopped short of n, why.
pub fn spawn_watched(n: i64, mut start_batch: impl FnMut(i64, i64)) -> (i64, Option<String>) {
    let watch = MemoryWatch::start();
    let mut started = 0;
    while started < n {
        let to = (started + MEMORY_CHECK_EVERY).min(n);
        start_batch(started, to);
        started = to;
        if started < n {
            if let Some(why) = watch.exhausted() {
                return (started, Some(format!("stopped at {started} of {n} tasks: {why}")));
            }
        }
    }
    (started, None)
}

extern "C" {
    fn malloc_trim(pad: usize) -> c_int;
}

/// release_free_heap: returns glibc's free heap pages to the OS (untimed, before each repetition), so
/// pages an earlier repetition left mapped do not hide memory-per-task's growth.
pub fn release_free_heap() {
    // SAFETY: malloc_trim only walks glibc's own free lists.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_plausible() {
        let u = read_usage();
        assert!(u.max_rss_bytes > 0);
        let m = read_memory().unwrap();
        assert!(m.rss_bytes > 0 && m.vm_bytes >= m.rss_bytes);
        assert!(count_mappings().unwrap() > 0);
    }

    #[test]
    fn guard_refuses_only_the_impossible() {
        assert!(refuse_if_too_big(1000).is_none());
        assert!(refuse_if_too_big(i64::MAX / 2).unwrap().contains("MemAvailable"));
    }

    #[test]
    fn spawn_watched_covers_every_index_once() {
        let mut seen = Vec::new();
        let (n, limit) = spawn_watched(40_000, |from, to| seen.push((from, to)));
        assert_eq!((n, limit), (40_000, None));
        assert_eq!(seen, vec![(0, 16_384), (16_384, 32_768), (32_768, 40_000)]);
    }
}
