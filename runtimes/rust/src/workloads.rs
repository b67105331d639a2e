// workloads.rs — the five workloads as tokio tasks, line by line ports of runtimes/go (and so of the C++
// workloads): every task is its own tokio::spawn, channels are tokio::sync ones, a yield is
// tokio::task::yield_now. Each checks its own answer; a wrong answer is a failed record, never a time.

use crate::params::Params;
use crate::sync::{rendezvous, WaitGroup};
use crate::usage::{count_mappings, read_memory, spawn_watched, MemoryWatch};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, Semaphore};

/// What one run of a workload reports: its own checksum verdict and what it did.
#[derive(Default, Debug)]
pub struct Outcome {
    pub checksum_ok: bool,
    /// Why the checksum failed; empty when it passed.
    pub reason: String,
    /// Why the workload stopped short of its size (status "limit"); empty when it did not.
    pub limit: String,
    pub tasks_created: i64,
    pub ops: i64,
    /// memory-per-task only.
    pub memory: Option<MemoryFigures>,
}

#[derive(Default, Debug, Clone, Copy)]
pub struct MemoryFigures {
    pub rss_bytes_per_task: f64,
    pub vm_bytes_per_task: f64,
    pub tasks_reached: i64,
    pub mappings: i64,
}

/// run: the named workload, as the root task of the current runtime.
pub async fn run(workload: &str, p: Params) -> Outcome {
    match workload {
        "spawn-million" => spawn_million(p["tasks"]).await,
        "ping-pong" => ping_pong(p["pairs"], p["round-trips"]).await,
        "context-switch-storm" => context_switch_storm(p["tasks"], p["yields"]).await,
        "skynet" => skynet(p["leaves"]).await,
        "memory-per-task" => memory_per_task(p["tasks"]).await,
        other => Outcome { reason: format!("no such workload {other}"), ..Default::default() },
    }
}

fn verdict(ok: bool, tasks_created: i64, ops: i64, reason: impl FnOnce() -> String) -> Outcome {
    Outcome { checksum_ok: ok, reason: if ok { String::new() } else { reason() }, tasks_created, ops, ..Default::default() }
}

/// spawn-million: `tasks` trivial tasks, each adds its index to one atomic sum; one wait group.
/// Checksum: sum = tasks·(tasks−1)/2.
pub async fn spawn_million(tasks: i64) -> Outcome {
    struct Shared {
        sum: AtomicI64,
        wg: WaitGroup,
    }
    let shared = Arc::new(Shared { sum: AtomicI64::new(0), wg: WaitGroup::default() });
    shared.wg.add(tasks);
    for index in 0..tasks {
        let s = shared.clone();
        tokio::spawn(async move {
            s.sum.fetch_add(index, Relaxed);
            s.wg.done();
        });
    }
    shared.wg.wait().await;
    let (sum, want) = (shared.sum.load(Relaxed), tasks * (tasks - 1) / 2);
    verdict(sum == want, tasks, tasks, || format!("sum of task indices is {sum}, want {want}"))
}

/// ping-pong: per pair two tasks and two rendezvous channels; the pinger sends i, the ponger replies i+1,
/// the pinger checks. Checksum: every one of the pairs·round-trips replies was correct.
pub async fn ping_pong(pairs: i64, round_trips: i64) -> Outcome {
    let correct = Arc::new(AtomicI64::new(0));
    let wg = Arc::new(WaitGroup::default());
    wg.add(2 * pairs);
    for _ in 0..pairs {
        let (ping_tx, mut ping_rx) = rendezvous::<i64>();
        let (pong_tx, mut pong_rx) = rendezvous::<i64>();
        let w = wg.clone();
        tokio::spawn(async move {
            // ponger
            for _ in 0..round_trips {
                let Some(v) = ping_rx.recv().await else { break };
                if pong_tx.send(v + 1).await.is_err() {
                    break;
                }
            }
            w.done();
        });
        let (w, c) = (wg.clone(), correct.clone());
        tokio::spawn(async move {
            // pinger
            let mut ok = 0;
            for i in 0..round_trips {
                if ping_tx.send(i).await.is_err() {
                    break;
                }
                if pong_rx.recv().await == Some(i + 1) {
                    ok += 1;
                }
            }
            c.fetch_add(ok, Relaxed);
            w.done();
        });
    }
    wg.wait().await;
    let (total, want) = (correct.load(Relaxed), pairs * round_trips);
    verdict(total == want, 2 * pairs, want, || format!("{total} of {want} round trips got the right reply"))
}

/// context-switch-storm: `tasks` tasks each call yield_now `yields` times and count their yields.
/// Checksum: the total count = tasks·yields. Spawning stops early (status "limit") if memory runs out.
pub async fn context_switch_storm(tasks: i64, yields: i64) -> Outcome {
    struct Shared {
        total: AtomicI64,
        wg: WaitGroup,
    }
    let shared = Arc::new(Shared { total: AtomicI64::new(0), wg: WaitGroup::default() });
    let (started, limit) = spawn_watched(tasks, |from, to| {
        shared.wg.add(to - from);
        for _ in from..to {
            let s = shared.clone();
            tokio::spawn(async move {
                let mut n = 0;
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                    n += 1;
                }
                s.total.fetch_add(n, Relaxed);
                s.wg.done();
            });
        }
    });
    shared.wg.wait().await;
    if let Some(why) = limit {
        return Outcome { tasks_created: started, ops: started * yields, limit: why, ..Default::default() };
    }
    let (total, want) = (shared.total.load(Relaxed), tasks * yields);
    verdict(total == want, tasks, want, || format!("counted {total} yields, want {want}"))
}

const SKYNET_FAN_OUT: i64 = 10;
/// Subtrees of at least this many leaves look at the memory watch before they spawn.
const SKYNET_CHECK_SIZE: i64 = 10_000;

/// What a subtree sends up: the sum of its leaves' numbers and its tasks, root included.
type SkynetAnswer = (i64, i64);

/// The state the whole tree shares.
struct SkynetTree {
    watch: MemoryWatch,
    /// Why the tree stopped growing; set once, before any node skips its subtree.
    limit: OnceLock<String>,
}

impl SkynetTree {
    fn out_of_memory(&self) -> bool {
        if self.limit.get().is_some() {
            return true;
        }
        match self.watch.exhausted() {
            None => false,
            Some(why) => {
                let _ = self.limit.set(format!("the tree stopped growing: {why}"));
                true
            }
        }
    }
}

/// skynet_node: spawns the task for the subtree of `size` leaves numbered from `first`; it sends the sum of
/// their numbers up. A plain fn that spawns (not a recursive async fn), so no task is boxed twice.
fn skynet_node(tree: Arc<SkynetTree>, up: mpsc::Sender<SkynetAnswer>, first: i64, size: i64) {
    tokio::spawn(async move {
        if size == 1 {
            let _ = up.send((first, 1)).await;
            return;
        }
        if size >= SKYNET_CHECK_SIZE && tree.out_of_memory() {
            let _ = up.send((0, 1)).await;
            return;
        }
        let (tx, mut children) = mpsc::channel(SKYNET_FAN_OUT as usize);
        let step = size / SKYNET_FAN_OUT;
        for i in 0..SKYNET_FAN_OUT {
            skynet_node(tree.clone(), tx.clone(), first + i * step, step);
        }
        drop(tx);
        let mut total: SkynetAnswer = (0, 1);
        for _ in 0..SKYNET_FAN_OUT {
            let Some((sum, tasks)) = children.recv().await else { break };
            total.0 += sum;
            total.1 += tasks;
        }
        let _ = up.send(total).await;
    });
}

/// skynet: the classic 10-ary task tree; leaf k sends k, each parent sums its 10 children from an mpsc
/// channel of capacity 10 it owns. Checksum: root sum = leaves·(leaves−1)/2 and (10·leaves−1)/9 tasks.
pub async fn skynet(leaves: i64) -> Outcome {
    let tree = Arc::new(SkynetTree { watch: MemoryWatch::start(), limit: OnceLock::new() });
    let (tx, mut result) = mpsc::channel(1);
    skynet_node(tree.clone(), tx, 0, leaves);
    let (sum, tasks) = result.recv().await.unwrap_or((0, 0));
    if let Some(why) = tree.limit.get() {
        return Outcome { tasks_created: tasks, ops: tasks, limit: why.clone(), ..Default::default() };
    }
    let want_sum = leaves * (leaves - 1) / 2;
    let want_tasks = (SKYNET_FAN_OUT * leaves - 1) / (SKYNET_FAN_OUT - 1);
    verdict(sum == want_sum && tasks == want_tasks, tasks, tasks, || {
        format!("root sum {sum} (want {want_sum}), {tasks} tasks in the tree (want {want_tasks})")
    })
}

/// memory-per-task: RSS growth per task while `tasks` tasks are all parked on one shared primitive, then
/// all released. A tokio mpsc receiver cannot be shared, so the "channel every task waits on and close
/// releases" is a Semaphore with no permits: each task parks in acquire(), close() wakes them all with
/// an error, as closing a Go channel does. Checksum: every task parked and exited.
pub async fn memory_per_task(tasks: i64) -> Outcome {
    struct Shared {
        parked_count: AtomicI64,
        exited_count: AtomicI64,
        parked: WaitGroup,
        exited: WaitGroup,
        release: Semaphore,
    }
    let before = match read_memory() {
        Ok(m) => m,
        Err(e) => return Outcome { reason: e, ..Default::default() },
    };
    let shared = Arc::new(Shared {
        parked_count: AtomicI64::new(0),
        exited_count: AtomicI64::new(0),
        parked: WaitGroup::default(),
        exited: WaitGroup::default(),
        release: Semaphore::new(0),
    });
    let (spawned, limit) = spawn_watched(tasks, |from, to| {
        shared.parked.add(to - from);
        shared.exited.add(to - from);
        for _ in from..to {
            let s = shared.clone();
            tokio::spawn(async move {
                s.parked_count.fetch_add(1, Relaxed);
                s.parked.done();
                let _ = s.release.acquire().await; // Err(Closed) once released
                s.exited_count.fetch_add(1, Relaxed);
                s.exited.done();
            });
        }
    });
    shared.parked.wait().await;
    let during = read_memory();
    let mappings = count_mappings();
    let reached = shared.parked_count.load(Relaxed);
    shared.release.close();
    shared.exited.wait().await;

    let exited = shared.exited_count.load(Relaxed);
    let (rss, vm) = during.as_ref().map(|d| (d.rss_bytes - before.rss_bytes, d.vm_bytes - before.vm_bytes)).unwrap_or((0, 0));
    let mut out = Outcome {
        tasks_created: spawned,
        ops: spawned,
        memory: Some(MemoryFigures {
            rss_bytes_per_task: rss as f64 / spawned as f64,
            vm_bytes_per_task: vm as f64 / spawned as f64,
            tasks_reached: reached,
            mappings: *mappings.as_ref().unwrap_or(&0),
        }),
        ..Default::default()
    };
    match (during, mappings, limit) {
        (Err(e), _, _) | (_, Err(e), _) => out.reason = e,
        _ if reached != spawned || exited != spawned => {
            out.reason = format!("{reached} tasks parked and {exited} exited, want {spawned}")
        }
        (_, _, Some(why)) => out.limit = why,
        _ => out.checksum_ok = true,
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(workers: usize, f: impl std::future::Future<Output = Outcome> + Send + 'static) -> Outcome {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build().unwrap();
        rt.block_on(async { tokio::spawn(f).await.unwrap() })
    }

    #[test]
    fn every_workload_checks_out_small() {
        for workers in [1, 2] {
            let o = on(workers, spawn_million(1000));
            assert!(o.checksum_ok && o.tasks_created == 1000, "{o:?}");
            let o = on(workers, ping_pong(3, 200));
            assert!(o.checksum_ok && o.tasks_created == 6 && o.ops == 600, "{o:?}");
            let o = on(workers, context_switch_storm(50, 20));
            assert!(o.checksum_ok && o.ops == 1000, "{o:?}");
            let o = on(workers, skynet(1000));
            assert!(o.checksum_ok && o.tasks_created == 1111, "{o:?}");
            let o = on(workers, memory_per_task(2000));
            let m = o.memory.unwrap();
            assert!(o.checksum_ok && m.tasks_reached == 2000 && m.mappings > 0, "{o:?}");
        }
    }

    #[test]
    fn rendezvous_send_waits_for_the_receiver() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = rendezvous::<i64>();
            let received = Arc::new(AtomicI64::new(0));
            let r = received.clone();
            let sender = tokio::spawn(async move {
                tx.send(7).await.unwrap();
                r.load(Relaxed) // the receiver has taken the value before send returns
            });
            std::thread::sleep(std::time::Duration::from_millis(20)); // block_on runs on this thread, not a worker
            assert!(!sender.is_finished(), "send returned before anyone received");
            received.store(1, Relaxed);
            assert_eq!(rx.recv().await, Some(7));
            assert_eq!(sender.await.unwrap(), 1);
        });
    }
}
