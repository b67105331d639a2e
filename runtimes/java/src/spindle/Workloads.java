// Workloads.java — the five workloads on virtual threads, line by line ports of runtimes/go (and so of the
// C++ workloads): every task is its own virtual thread, unbuffered channels are Channel (a hand-written
// rendezvous), skynet's per-parent channel of capacity 10 is an ArrayBlockingQueue (ReentrantLock-based,
// so a parked virtual thread unmounts), memory-per-task's tasks park on a Gate (Gate.java), a yield is
// Thread.yield(). Each checks its own answer.
package spindle;

import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

final class Workloads {
  private Workloads() {}

  /** Every task is started from this factory: one new virtual thread per task, unnamed. */
  static final ThreadFactory VIRTUAL = Thread.ofVirtual().factory();

  static void spawn(Runnable r) {
    VIRTUAL.newThread(r).start();
  }

  /** memory-per-task's extra figures. */
  record MemoryFigures(double rssBytesPerTask, double vmBytesPerTask, long tasksReached, long mappings,
                       double heapUsedBytesPerTask, long heapCommittedBytes) {}

  /** What one run reports: its own checksum verdict and what it did. */
  static final class Outcome {
    boolean checksumOk;
    String reason = "";  // why the checksum failed
    String limit = "";   // why the workload stopped short of its size (status "limit")
    long tasksCreated;
    long ops;
    MemoryFigures memory;  // memory-per-task only

    static Outcome verdict(boolean ok, long tasksCreated, long ops, String reason) {
      Outcome o = new Outcome();
      o.checksumOk = ok;
      o.reason = ok ? "" : reason;
      o.tasksCreated = tasksCreated;
      o.ops = ops;
      return o;
    }

    static Outcome limited(long tasksCreated, long ops, String why) {
      Outcome o = verdict(false, tasksCreated, ops, "");
      o.limit = why;
      return o;
    }
  }

  static Outcome run(String workload, Map<String, Long> p) throws Exception {
    return switch (workload) {
      case "spawn-million" -> spawnMillion(p.get("tasks"));
      case "ping-pong" -> pingPong(p.get("pairs"), p.get("round-trips"));
      case "context-switch-storm" -> contextSwitchStorm(p.get("tasks"), p.get("yields"));
      case "skynet" -> skynet(p.get("leaves"));
      case "memory-per-task" -> memoryPerTask(p.get("tasks"));
      default -> throw new IllegalArgumentException("no such workload " + workload);
    };
  }

  /** spawn-million: `tasks` trivial virtual threads each add their index to one atomic sum; one wait group. */
  static Outcome spawnMillion(long tasks) {
    AtomicLong sum = new AtomicLong();
    WaitGroup wg = new WaitGroup();
    wg.add(tasks);
    for (long i = 0; i < tasks; i++) {
      final long index = i;
      spawn(() -> {
        sum.addAndGet(index);
        wg.done();
      });
    }
    wg.await();
    long want = tasks * (tasks - 1) / 2;
    return Outcome.verdict(sum.get() == want, tasks, tasks, "sum of task indices is " + sum.get() + ", want " + want);
  }

  /** ping-pong: per pair two virtual threads and two rendezvous channels; the pinger checks every reply. */
  static Outcome pingPong(long pairs, long roundTrips) {
    AtomicLong correct = new AtomicLong();
    WaitGroup wg = new WaitGroup();
    wg.add(2 * pairs);
    for (long k = 0; k < pairs; k++) {
      Channel<Long> ping = new Channel<>(), pong = new Channel<>();
      spawn(() -> {  // ponger
        for (long i = 0; i < roundTrips; i++) pong.send(ping.recv() + 1);
        wg.done();
      });
      spawn(() -> {  // pinger
        long ok = 0;
        for (long i = 0; i < roundTrips; i++) {
          ping.send(i);
          if (pong.recv() == i + 1) ok++;
        }
        correct.addAndGet(ok);
        wg.done();
      });
    }
    wg.await();
    long want = pairs * roundTrips;
    return Outcome.verdict(correct.get() == want, 2 * pairs, want,
        correct.get() + " of " + want + " round trips got the right reply");
  }

  /** context-switch-storm: `tasks` virtual threads each call Thread.yield() `yields` times. */
  static Outcome contextSwitchStorm(long tasks, long yields) {
    AtomicLong total = new AtomicLong();
    WaitGroup wg = new WaitGroup();
    Usage.Spawned s = Usage.spawnWatched(tasks, k -> {
      wg.add(1);
      spawn(() -> {
        long n = 0;
        for (long i = 0; i < yields; i++) {
          Thread.yield();
          n++;
        }
        total.addAndGet(n);
        wg.done();
      });
    });
    wg.await();
    if (s.limit() != null) return Outcome.limited(s.started(), s.started() * yields, s.limit());
    long want = tasks * yields;
    return Outcome.verdict(total.get() == want, tasks, want, "counted " + total.get() + " yields, want " + want);
  }

  static final int SKYNET_FAN_OUT = 10;
  static final long SKYNET_CHECK_SIZE = 10_000;  // subtrees this big look at the memory watch first

  /** What a subtree sends up: the sum of its leaves' numbers and its virtual threads, root included. */
  record Answer(long sum, long tasks) {}

  /** The state the whole tree shares. */
  static final class Tree {
    final Usage.MemoryWatch watch = new Usage.MemoryWatch();
    final AtomicReference<String> limit = new AtomicReference<>();  // set once, before any node skips

    boolean outOfMemory() {
      if (limit.get() != null) return true;
      String why = watch.exhausted();
      if (why == null) return false;
      limit.compareAndSet(null, "the tree stopped growing: " + why);
      return true;
    }

    /** node: the subtree of `size` leaves numbered from `first`; puts the sum of their numbers on `up`. */
    void node(BlockingQueue<Answer> up, long first, long size) throws InterruptedException {
      if (size == 1) {
        up.put(new Answer(first, 1));
        return;
      }
      if (size >= SKYNET_CHECK_SIZE && outOfMemory()) {
        up.put(new Answer(0, 1));
        return;
      }
      BlockingQueue<Answer> children = new ArrayBlockingQueue<>(SKYNET_FAN_OUT);
      long step = size / SKYNET_FAN_OUT;
      for (int i = 0; i < SKYNET_FAN_OUT; i++) {
        final long childFirst = first + i * step;
        spawn(() -> {
          try {
            node(children, childFirst, step);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
      }
      long sum = 0, tasks = 1;
      for (int i = 0; i < SKYNET_FAN_OUT; i++) {
        Answer a = children.take();
        sum += a.sum();
        tasks += a.tasks();
      }
      up.put(new Answer(sum, tasks));
    }
  }

  /** skynet: the classic 10-ary tree; checksum root sum = leaves·(leaves−1)/2 and (10·leaves−1)/9 tasks. */
  static Outcome skynet(long leaves) throws InterruptedException {
    Tree tree = new Tree();
    BlockingQueue<Answer> result = new ArrayBlockingQueue<>(1);
    spawn(() -> {
      try {
        tree.node(result, 0, leaves);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Answer a = result.take();
    if (tree.limit.get() != null) return Outcome.limited(a.tasks(), a.tasks(), tree.limit.get());
    long wantSum = leaves * (leaves - 1) / 2, wantTasks = (SKYNET_FAN_OUT * leaves - 1) / (SKYNET_FAN_OUT - 1);
    return Outcome.verdict(a.sum() == wantSum && a.tasks() == wantTasks, a.tasks(), a.tasks(),
        "root sum " + a.sum() + " (want " + wantSum + "), " + a.tasks() + " tasks in the tree (want " + wantTasks + ")");
  }

  /**
   * memory-per-task: RSS growth per virtual thread while `tasks` of them are all parked on one shared Gate,
   * then all released by opening it — what closing a Go channel does to its receivers (the tokio port
   * closes a Semaphore the same way). Parking them on one Channel serialises them on its lock, and a
   * CountDownLatch releases its waiters as a chain, each woken thread waking the next: both were 5-7x
   * slower at 300,000 tasks, for the same memory. Beside RSS: the JVM heap's used growth per task and its
   * committed size while all are parked (a parked virtual thread's stack lives on the heap).
   */
  static Outcome memoryPerTask(long tasks) throws Exception {
    Usage.Memory before = Usage.memory();
    long heapBefore = Usage.heap().getUsed();
    AtomicLong parkedCount = new AtomicLong(), exitedCount = new AtomicLong();
    WaitGroup parked = new WaitGroup(), exited = new WaitGroup();
    Gate release = new Gate();
    Usage.Spawned s = Usage.spawnWatched(tasks, k -> {
      parked.add(1);
      exited.add(1);
      spawn(() -> {
        parkedCount.incrementAndGet();
        parked.done();
        release.await();
        exitedCount.incrementAndGet();
        exited.done();
      });
    });
    parked.await();
    Usage.Memory during = Usage.memory();
    long mappings = Usage.mappings();
    var heap = Usage.heap();
    long reached = parkedCount.get();
    release.open();
    exited.await();

    long spawned = s.started();
    Outcome o = Outcome.verdict(true, spawned, spawned, "");
    o.memory = new MemoryFigures((double) (during.rssBytes() - before.rssBytes()) / spawned,
        (double) (during.vmBytes() - before.vmBytes()) / spawned, reached, mappings,
        (double) (heap.getUsed() - heapBefore) / spawned, heap.getCommitted());
    if (reached != spawned || exitedCount.get() != spawned) {
      o.checksumOk = false;
      o.reason = reached + " virtual threads parked and " + exitedCount.get() + " exited, want " + spawned;
    } else if (s.limit() != null) {
      o.checksumOk = false;
      o.limit = s.limit();
    }
    return o;
  }
}
