// Usage.java — per-repetition process resource usage and memory readings from /proc (the JDK has no
// getrusage): CPU time from /proc/self/stat, context switches summed over /proc/self/task/*/status (live
// threads), peak RSS from VmHWM, RSS/VM from statm, the mapping count, the JVM's heap from its
// MemoryMXBean; and the memory guard (the rules of runtimes/go/memory_guard.go).
package spindle;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongConsumer;

final class Usage {
  private Usage() {}

  static final long PAGE_BYTES = 4096;
  static final double CLOCK_TICKS_PER_SECOND = 100;  // USER_HZ on Linux

  /** The process's usage at one instant. */
  record Snapshot(double userCpu, double sysCpu, long voluntaryCsw, long involuntaryCsw, long maxRssBytes) {}

  static Snapshot read() {
    double user = 0, sys = 0;
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");  // fields from 3 (state) on
      user = Long.parseLong(f[11]) / CLOCK_TICKS_PER_SECOND;  // field 14 utime
      sys = Long.parseLong(f[12]) / CLOCK_TICKS_PER_SECOND;   // field 15 stime
    } catch (IOException | RuntimeException e) {
      // leave zeros: usage is informative, never a verdict
    }
    long vol = 0, invol = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path t : tasks) {
        try {
          for (String line : Files.readAllLines(t.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")) vol += Long.parseLong(line.split("\\s+")[1]);
            else if (line.startsWith("nonvoluntary_ctxt_switches:")) invol += Long.parseLong(line.split("\\s+")[1]);
          }
        } catch (IOException | RuntimeException e) {
          // the thread exited while we looked
        }
      }
    } catch (IOException e) {
      // leave zeros
    }
    return new Snapshot(user, sys, vol, invol, statusKib("VmHWM:") * 1024);
  }

  private static long statusKib(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status")))
        if (line.startsWith(field)) return Long.parseLong(line.split("\\s+")[1]);
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return 0;
  }

  /** The process's resident and virtual size in bytes, from /proc/self/statm. */
  record Memory(long rssBytes, long vmBytes) {}

  static Memory memory() throws IOException {
    String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
    return new Memory(Long.parseLong(f[1]) * PAGE_BYTES, Long.parseLong(f[0]) * PAGE_BYTES);
  }

  static long mappings() throws IOException {
    try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
      return lines.count();
    }
  }

  static MemoryUsage heap() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
  }

  /** MemTotal and MemAvailable in bytes, or null. */
  static long[] meminfo() {
    long total = -1, available = -1;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) total = Long.parseLong(line.split("\\s+")[1]) * 1024;
        if (line.startsWith("MemAvailable:")) available = Long.parseLong(line.split("\\s+")[1]) * 1024;
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return total < 0 || available < 0 ? null : new long[] {total, available};
  }

  /**
   * A lower bound on one live virtual thread: its Thread object, continuation and smallest stack chunk on
   * the heap. A refusal based on it never refuses a case that could fit.
   */
  static final long MIN_VIRTUAL_THREAD_BYTES = 256;

  /** refuseIfTooBig: why `alive` virtual threads alive at once cannot fit (memory or the JVM's max heap), or null. */
  static String refuseIfTooBig(long alive) {
    long need = alive * MIN_VIRTUAL_THREAD_BYTES;
    long maxHeap = Runtime.getRuntime().maxMemory();
    if (need > maxHeap)
      return String.format("%d virtual threads alive at once need at least %d bytes of heap (%d B each), the JVM's max heap is %d bytes",
          alive, need, MIN_VIRTUAL_THREAD_BYTES, maxHeap);
    long[] m = meminfo();
    if (m != null && need > m[1])
      return String.format("%d virtual threads alive at once need at least %d bytes (%d B each), MemAvailable is %d bytes",
          alive, need, MIN_VIRTUAL_THREAD_BYTES, m[1]);
    return null;
  }

  /** A watched workload leaves MemTotal/10 to everything else. */
  static final long MEMORY_RESERVE_FRACTION = 10;

  /**
   * MemoryWatch: tells a spawning loop when the process's RSS has grown by more than MemAvailable at the
   * start minus MemTotal/10.
   */
  static final class MemoryWatch {
    private final long startRss;
    private final long budget;  // < 0: memory could not be read, never stop

    MemoryWatch() {
      long[] m = meminfo();
      long rss = -1;
      try {
        rss = memory().rssBytes();
      } catch (IOException | RuntimeException e) {
        // never stop
      }
      startRss = rss;
      budget = m == null || rss < 0 ? -1 : Math.max(0, m[1] - m[0] / MEMORY_RESERVE_FRACTION);
    }

    /** exhausted: why spawning must stop, or null while the process is inside its budget. */
    String exhausted() {
      if (budget < 0) return null;
      long grown;
      try {
        grown = memory().rssBytes() - startRss;
      } catch (IOException | RuntimeException e) {
        return null;
      }
      if (grown <= budget) return null;
      return String.format("RSS grew by %d bytes, over the %d bytes that were available (MemAvailable minus MemTotal/%d)",
          grown, budget, MEMORY_RESERVE_FRACTION);
    }
  }

  /** How many virtual threads a watched loop starts between two looks at the watch. */
  static final long MEMORY_CHECK_EVERY = 16_384;

  /** The result of spawnWatched: how many were started and, when short of n, why. */
  record Spawned(long started, String limit) {}

  /** spawnWatched: starts [0, n) by calling startOne(i), looking at the memory watch every MEMORY_CHECK_EVERY. */
  static Spawned spawnWatched(long n, LongConsumer startOne) {
    MemoryWatch watch = new MemoryWatch();
    for (long i = 0; i < n; i++) {
      if (i > 0 && i % MEMORY_CHECK_EVERY == 0) {
        String why = watch.exhausted();
        if (why != null) return new Spawned(i, String.format("stopped at %d of %d virtual threads: %s", i, n, why));
      }
      startOne.accept(i);
    }
    return new Spawned(n, null);
  }
}
