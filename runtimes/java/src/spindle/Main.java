// Main.java — the spindle-java command (runtime `java-vthreads`): parses a case, sets the virtual-thread
// scheduler's carriers to --workers, runs JIT warm-up repetitions (discarded, counted in every record),
// then each measured repetition in this JVM, and prints ONE Google-Benchmark-format JSON document of
// Spindle records (docs/external-runtimes.md). Exit 0 ok (also for status "limit"), 1 a checksum failed,
// 2 bad input. JDK standard library only.
package spindle;

import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

public final class Main {
  static final int SPINDLE_SCHEMA = 1;
  static final int MAX_WORKERS = 4096;
  static final int MAX_REPETITIONS = 10_000;
  static final String RUNTIME = "java-vthreads";
  /**
   * JIT warm-up: timed workloads first run whole repetitions that are discarded — at least
   * JIT_WARMUP_MIN_REPETITIONS and until JIT_WARMUP_MIN_SECONDS have passed (a 10 ms case needs many to
   * get its hot paths compiled, a 1 s case two), at most JIT_WARMUP_MAX_REPETITIONS; every record says how
   * many. The same rule holds for every runtime with a JIT; go and tokio are compiled ahead of time and
   * have none. memory-per-task has none: its figure is memory, and a warm-up's heap would hide the growth.
   */
  static final int JIT_WARMUP_MIN_REPETITIONS = 2;
  static final double JIT_WARMUP_MIN_SECONDS = 1.0;
  static final int JIT_WARMUP_MAX_REPETITIONS = 100;
  static final String USAGE =
      "usage: spindle-java --workload W [--param k=v]... [--workers N] [--repetitions N] | spindle-java list | spindle-java version";

  /** One fully resolved command line. */
  record CaseSpec(Params.WorkloadSpec workload, Map<String, Long> params, int workers, int repetitions) {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static String version() {
    return "java " + Runtime.version() + " (" + System.getProperty("java.vendor", "unknown vendor") + ")";
  }

  /** run: the whole command; returns the exit code. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 1) {
      switch (args[0]) {
        case "version" -> {
          out.println(version());
          return 0;
        }
        case "list" -> {
          out.println(listJson());
          return 0;
        }
        case "-h", "--help", "help" -> {
          out.println(USAGE);
          return 0;
        }
        default -> {}
      }
    }
    CaseSpec c;
    try {
      c = parseArgs(args);
    } catch (Params.UsageError e) {
      err.println("spindle-java: " + e.getMessage());
      return 2;
    }
    if (!setCarriers(c.workers())) {
      err.println("spindle-java: the virtual-thread scheduler was started before --workers " + c.workers() + " could set its carriers");
      return 2;
    }
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
      // A task that throws would leave its wait group short forever: fail the case now instead of hanging.
      System.err.println("spindle-java: a virtual thread threw: " + e);
      Runtime.getRuntime().halt(3);
    });
    List<Json> records = runCase(c);
    out.println(document(c, records));
    return records.stream().anyMatch(r -> r.render().contains("\"status\": \"failed\"")) ? 1 : 0;
  }

  /**
   * setCarriers: the default virtual-thread scheduler reads its parallelism and maximum pool size from
   * system properties when the first virtual thread is created; set both to --workers before that.
   * Returns false if they were already set differently (the scheduler may have started).
   */
  static boolean setCarriers(int workers) {
    String n = Integer.toString(workers);
    for (String key : new String[] {"jdk.virtualThreadScheduler.parallelism", "jdk.virtualThreadScheduler.maxPoolSize"}) {
      String old = System.getProperty(key);
      if (old != null && !old.equals(n)) return false;
      System.setProperty(key, n);
    }
    return true;
  }

  static CaseSpec parseArgs(String[] args) {
    String workloadName = null;
    List<String> assignments = new ArrayList<>();
    int workers = Runtime.getRuntime().availableProcessors(), repetitions = 1;
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      String option = eq < 0 ? args[i] : args[i].substring(0, eq);
      if (!List.of("--workload", "--param", "--workers", "--repetitions").contains(option))
        throw new Params.UsageError("unknown argument \"" + args[i] + "\" (valid: --workload, --param, --workers, --repetitions, list, version)");
      String value;
      if (eq >= 0) {
        value = args[i].substring(eq + 1);
      } else {
        if (i + 1 >= args.length) throw new Params.UsageError(option + " needs a value (" + USAGE + ")");
        value = args[++i];
      }
      if (!option.equals("--param") && !seen.add(option))
        throw new Params.UsageError(option + " given twice (give it at most once)");
      switch (option) {
        case "--workload" -> workloadName = value;
        case "--param" -> assignments.add(value);
        case "--workers" -> workers = parseCount(option, value, MAX_WORKERS);
        default -> repetitions = parseCount(option, value, MAX_REPETITIONS);
      }
    }
    if (workloadName == null) throw new Params.UsageError("--workload is required (valid: " + Params.workloadNames() + ")");
    Params.WorkloadSpec w = Params.find(workloadName);
    return new CaseSpec(w, w.resolve(assignments), workers, repetitions);
  }

  static int parseCount(String option, String text, int max) {
    try {
      int v = Integer.parseInt(text);
      if (v >= 1 && v <= max) return v;
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new Params.UsageError(option + " \"" + text + "\" is not an integer in 1.." + max);
  }

  /** GC totals of every collector, to report collections during a repetition. */
  record GcTotals(long count, long millis) {
    static GcTotals now() {
      long n = 0, ms = 0;
      for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        n += Math.max(0, gc.getCollectionCount());
        ms += Math.max(0, gc.getCollectionTime());
      }
      return new GcTotals(n, ms);
    }
  }

  /** One measured run: the outcome and what it cost. */
  record Measured(Workloads.Outcome outcome, long nanos, Usage.Snapshot before, Usage.Snapshot after,
                  GcTotals gcBefore, GcTotals gcAfter, long heapCommitted) {}

  /**
   * measure: one whole run of the workload as the root virtual thread; only the workload is timed. A full
   * GC runs before it, untimed (as runtime.GC() does in spindle-go).
   */
  static Measured measure(CaseSpec c) {
    System.gc();
    Workloads.Outcome[] result = new Workloads.Outcome[1];
    Usage.Snapshot before = Usage.read();
    GcTotals gcBefore = GcTotals.now();
    long t0 = System.nanoTime();
    Thread root = Workloads.VIRTUAL.newThread(() -> {
      try {
        result[0] = Workloads.run(c.workload().name(), c.params());
      } catch (OutOfMemoryError e) {
        result[0] = Workloads.Outcome.limited(0, 0, "the JVM's heap ran out (max " + Runtime.getRuntime().maxMemory() + " bytes): " + e.getMessage());
      } catch (Exception e) {
        result[0] = Workloads.Outcome.verdict(false, 0, 0, "the root task threw: " + e);
      }
    });
    root.start();
    try {
      root.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long nanos = System.nanoTime() - t0;
    GcTotals gcAfter = GcTotals.now();
    Usage.Snapshot after = Usage.read();
    return new Measured(result[0], nanos, before, after, gcBefore, gcAfter, Usage.heap().getCommitted());
  }

  static List<Json> runCase(CaseSpec c) {
    List<Json> records = new ArrayList<>();
    String name = c.workload().caseName(RUNTIME, c.params(), c.workers());
    if (c.workload().aliveAtOnce() != null) {
      String why = Usage.refuseIfTooBig(c.workload().aliveAtOnce().applyAsLong(c.params()));
      if (why != null) {
        Workloads.Outcome o = Workloads.Outcome.limited(0, 0, why);
        Usage.Snapshot zero = new Usage.Snapshot(0, 0, 0, 0, 0);
        records.add(record(c, name, 0, new Measured(o, 0, zero, zero, new GcTotals(0, 0), new GcTotals(0, 0), 0), 0));
        return records;
      }
    }
    int warmups = 0;
    long warmupStart = System.nanoTime();
    while (!c.workload().measuresMemory() && warmups < JIT_WARMUP_MAX_REPETITIONS
           && (warmups < JIT_WARMUP_MIN_REPETITIONS || System.nanoTime() - warmupStart < JIT_WARMUP_MIN_SECONDS * 1e9)) {
      Measured m = measure(c);
      warmups++;
      if (!m.outcome().checksumOk) {  // a warm-up that fails or stops is the case's verdict
        records.add(record(c, name, 0, m, warmups));
        return records;
      }
    }
    for (int rep = 0; rep < c.repetitions(); rep++) records.add(record(c, name, rep, measure(c), warmups));
    return records;
  }

  static Json record(CaseSpec c, String name, int rep, Measured m, int warmups) {
    Workloads.Outcome o = m.outcome();
    String status = !o.limit.isEmpty() ? "limit" : o.checksumOk ? "ok" : "failed";
    String reason = !o.limit.isEmpty() ? o.limit : o.reason;
    boolean ok = status.equals("ok");
    double user = m.after().userCpu() - m.before().userCpu(), sys = m.after().sysCpu() - m.before().sysCpu();
    double secs = m.nanos() / 1e9;
    Json r = new Json().str("name", name).str("run_name", name).str("run_type", "iteration")
        .num("repetitions", c.repetitions()).num("repetition_index", rep).num("threads", 1).num("iterations", ok ? 1 : 0)
        .num("real_time", ok ? m.nanos() / 1e6 : 0.0).num("cpu_time", ok ? (user + sys) * 1e3 : 0.0).str("time_unit", "ms");
    if (!ok) r.bool("error_occurred", true).str("error_message", reason);  // a wrong or partial answer is never a time
    Json params = new Json();
    c.params().forEach(params::num);
    r.str("case_id", name).str("runtime", RUNTIME).str("workload", c.workload().name()).obj("params", params)
        .num("workers", c.workers()).str("status", status);
    if (!reason.isEmpty()) r.str("reason", reason);
    r.bool("checksum_ok", ok).num("tasks_created", o.tasksCreated).str("java_version", version()).num("ops", o.ops)
        .num("ns_per_op", ok && o.ops > 0 ? (double) m.nanos() / o.ops : 0.0)
        .num("ops_per_second", ok && secs > 0 ? o.ops / secs : 0.0)
        .num("peak_rss_bytes", m.after().maxRssBytes())
        .num("voluntary_csw", m.after().voluntaryCsw() - m.before().voluntaryCsw())
        .num("involuntary_csw", m.after().involuntaryCsw() - m.before().involuntaryCsw())
        .num("user_cpu_s", user).num("sys_cpu_s", sys)
        .num("jit_warmup_repetitions", warmups)
        .num("jvm_heap_committed_bytes", o.memory != null ? o.memory.heapCommittedBytes() : m.heapCommitted())
        .num("jvm_gc_count", m.gcAfter().count() - m.gcBefore().count())
        .num("jvm_gc_ms", m.gcAfter().millis() - m.gcBefore().millis());
    if (o.memory != null) {
      r.num("rss_bytes_per_task", o.memory.rssBytesPerTask()).num("tasks_reached", o.memory.tasksReached())
          .num("vm_bytes_per_task", o.memory.vmBytesPerTask()).num("mappings", o.memory.mappings())
          .num("jvm_heap_used_bytes_per_task", o.memory.heapUsedBytesPerTask());
    }
    return r;
  }

  static String document(CaseSpec c, List<Json> records) {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = "";
    }
    Json ctx = new Json()
        .str("date", OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
        .str("host_name", host).str("executable", "spindle-java")
        .num("num_cpus", Runtime.getRuntime().availableProcessors()).num("spindle_schema", SPINDLE_SCHEMA)
        .str("java_version", version()).num("carriers", c.workers())
        .num("jvm_max_heap_bytes", Runtime.getRuntime().maxMemory())
        .str("jvm_gc", String.join(", ", ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName).toList()));
    List<String> bodies = records.stream().map(Json::render).toList();
    return "{\n  \"context\": " + ctx.render() + ",\n  \"benchmarks\": [\n    " + String.join(",\n    ", bodies) + "\n  ]\n}";
  }

  /** listJson: the workload table, what the harness asks for before it offers a workload. */
  static String listJson() {
    List<String> ws = new ArrayList<>();
    for (Params.WorkloadSpec w : Params.WORKLOADS) {
      List<String> ps = new ArrayList<>();
      for (Params.ParamSpec p : w.params()) {
        Json j = new Json().str("name", p.name()).num("default", p.defaultValue()).num("min", p.min()).num("max", p.max());
        if (p.powerOf10()) j.bool("power_of_10", true);
        ps.add(j.render());
      }
      ws.add("{\"name\": " + Json.quote(w.name()) + ", \"params\": [" + String.join(", ", ps) + "]}");
    }
    return "{\"runtime\": \"" + RUNTIME + "\", \"java_version\": " + Json.quote(version()) + ", \"workloads\": [\n  "
        + String.join(",\n  ", ws) + "\n]}";
  }
}
