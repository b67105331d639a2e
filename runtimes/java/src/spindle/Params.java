// Params.java — the workload table (names, parameters, defaults, ranges, the power-of-10 rule) and the
// checking of --param values against it. It mirrors the C++ harness's table and runtimes/go/params.go:
// same names, defaults, ranges and messages, so a case means the same work on every runtime.
package spindle;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

final class Params {
  private Params() {}

  /** One parameter: its default and inclusive range; powerOf10 adds the rule that the value is 1, 10, 100, ... */
  record ParamSpec(String name, long defaultValue, long min, long max, boolean powerOf10) {
    static ParamSpec of(String name, long defaultValue, long min, long max) {
      return new ParamSpec(name, defaultValue, min, max, false);
    }

    /** parse: a decimal integer inside [min, max], a power of 10 if required; else a UsageError naming it. */
    long parse(String text) {
      long v;
      try {
        v = Long.parseLong(text);
      } catch (NumberFormatException e) {
        throw new UsageError(String.format("param %s=\"%s\" is not an integer (valid: %d..%d)", name, text, min, max));
      }
      if (v < min || v > max)
        throw new UsageError(String.format("param %s=%d out of range (valid: %d..%d)", name, v, min, max));
      if (powerOf10 && !isPowerOf10(v))
        throw new UsageError(String.format("param %s=%d is not a power of 10 (valid: 1, 10, 100, ..., %d)", name, v, max));
      return v;
    }
  }

  /**
   * One workload: its parameters in their canonical order (the order of the case name), how many virtual
   * threads it keeps alive at once where that is known up front (null otherwise), and whether it is timed
   * (and so gets JIT warm-up repetitions) or measures memory.
   */
  record WorkloadSpec(String name, List<ParamSpec> params, ToLongFunction<Map<String, Long>> aliveAtOnce,
                      boolean measuresMemory) {
    String paramNames() {
      return String.join(", ", params.stream().map(ParamSpec::name).toList());
    }

    /** resolve: the `k=v` strings of --param as the full parameter set, defaults filled in. */
    Map<String, Long> resolve(List<String> assignments) {
      Map<String, Long> given = new HashMap<>();
      for (String a : assignments) {
        int eq = a.indexOf('=');
        if (eq <= 0)
          throw new UsageError(String.format("malformed --param \"%s\" (expected name=value, names for %s: %s)", a, name, paramNames()));
        String key = a.substring(0, eq);
        ParamSpec spec = params.stream().filter(p -> p.name().equals(key)).findFirst().orElseThrow(
            () -> new UsageError(String.format("unknown param \"%s\" for %s (valid: %s)", key, name, paramNames())));
        if (given.containsKey(key))
          throw new UsageError(String.format("param \"%s\" given twice (give each of %s at most once)", key, paramNames()));
        given.put(key, spec.parse(a.substring(eq + 1)));
      }
      Map<String, Long> resolved = new LinkedHashMap<>();
      for (ParamSpec p : params) resolved.put(p.name(), given.getOrDefault(p.name(), p.defaultValue()));
      return resolved;
    }

    /** caseName: the case's stable key, e.g. skynet/java-vthreads/leaves:1000000/workers:2. */
    String caseName(String runtime, Map<String, Long> p, int workers) {
      StringBuilder b = new StringBuilder(name).append('/').append(runtime);
      for (ParamSpec s : params) b.append('/').append(s.name()).append(':').append(p.get(s.name()));
      return b.append("/workers:").append(workers).toString();
    }
  }

  /** The table, in the order `list` prints it. */
  static final List<WorkloadSpec> WORKLOADS = List.of(
      new WorkloadSpec("spawn-million", List.of(ParamSpec.of("tasks", 1_000_000, 1, 100_000_000)), null, false),
      new WorkloadSpec("ping-pong",
          List.of(ParamSpec.of("pairs", 1, 1, 100_000), ParamSpec.of("round-trips", 100_000, 1, 1_000_000_000)),
          p -> 2 * p.get("pairs"), false),
      new WorkloadSpec("context-switch-storm",
          List.of(ParamSpec.of("tasks", 1_000, 1, 10_000_000), ParamSpec.of("yields", 1_000, 1, 1_000_000_000)),
          p -> p.get("tasks"), false),
      new WorkloadSpec("skynet", List.of(new ParamSpec("leaves", 1_000_000, 1, 100_000_000, true)), null, false),
      new WorkloadSpec("memory-per-task", List.of(ParamSpec.of("tasks", 100_000, 1, 10_000_000)), p -> p.get("tasks"), true));

  static String workloadNames() {
    return String.join(", ", WORKLOADS.stream().map(WorkloadSpec::name).toList());
  }

  static WorkloadSpec find(String name) {
    return WORKLOADS.stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow(
        () -> new UsageError(String.format("unknown workload \"%s\" (valid: %s)", name, workloadNames())));
  }

  static boolean isPowerOf10(long v) {
    if (v < 1) return false;
    while (v % 10 == 0) v /= 10;
    return v == 1;
  }

  /** UsageError: bad input from the command line; Main prints its message as one line and exits 2. */
  static final class UsageError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageError(String message) {
      super(message);
    }
  }
}
