// SpindleTest.java — runtimes/java's test entry point (no JUnit: a main that runs every check and exits
// non-zero on the first failure): carriers follow --workers, the rendezvous channel hands off and parks
// without pinning, every workload passes its checksum at small sizes, and the command's JSON, list,
// version and exit codes match the protocol (docs/external-runtimes.md).
package spindle;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

public final class SpindleTest {
  static final int CARRIERS = 2;
  static int checks;

  static void check(boolean ok, String what) {
    checks++;
    if (!ok) throw new AssertionError(what);
  }

  public static void main(String[] args) throws Exception {
    check(Main.setCarriers(CARRIERS), "carriers can be set before the first virtual thread");
    carriersFollowWorkers();
    channelHandsOffAndCloses();
    parkedThreadsDoNotPinCarriers();
    everyWorkloadChecksOut();
    commandSpeaksTheProtocol();
    System.out.println("SpindleTest: " + checks + " checks passed");
  }

  static void carriersFollowWorkers() throws InterruptedException {
    Set<String> carriers = ConcurrentHashMap.newKeySet();
    WaitGroup wg = new WaitGroup();
    wg.add(200);
    Thread root = Thread.ofVirtual().start(() -> {
      for (int i = 0; i < 200; i++)
        Workloads.spawn(() -> {
          for (int y = 0; y < 20; y++) {
            String s = Thread.currentThread().toString();  // VirtualThread[#31]/runnable@ForkJoinPool-1-worker-2
            carriers.add(s.substring(s.indexOf('@') + 1));
            Thread.yield();
          }
          wg.done();
        });
      wg.await();
    });
    root.join();
    check(!carriers.isEmpty() && carriers.size() <= CARRIERS, "virtual threads ran on " + carriers + ", want at most " + CARRIERS + " carriers");
  }

  static void channelHandsOffAndCloses() throws InterruptedException {
    Channel<Long> ch = new Channel<>();
    AtomicBoolean sent = new AtomicBoolean();
    Thread sender = Thread.ofVirtual().start(() -> {
      ch.send(7L);
      sent.set(true);
    });
    Thread.sleep(50);
    check(!sent.get(), "send returned before any receiver took the value");
    check(ch.recv() == 7L, "recv gets the sent value");
    sender.join();
    check(sent.get(), "send returns after the hand-off");

    Channel<Object> release = new Channel<>();
    releasesEveryWaiter(3, () -> check(release.recv() == null, "a receiver released by close gets null"), release::close,
        "close releases every parked receiver");
    check(release.recv() == null, "recv on a closed channel returns null at once");

    Gate gate = new Gate();
    releasesEveryWaiter(100, gate::await, gate::open, "open releases every parked waiter");
    gate.await();  // returns at once once open
  }

  // releasesEveryWaiter: `n` virtual threads run `wait`, then `release` must let all of them through.
  static void releasesEveryWaiter(int n, Runnable wait, Runnable release, String what) throws InterruptedException {
    WaitGroup passed = new WaitGroup();
    passed.add(n);
    for (int i = 0; i < n; i++)
      Workloads.spawn(() -> {
        wait.run();
        passed.done();
      });
    Thread.sleep(20);
    release.run();
    Thread t = Thread.ofVirtual().start(passed::await);
    t.join(10_000);
    check(!t.isAlive(), what);
  }

  // With 2 carriers, 50 virtual threads parked in Channel.recv must leave the carriers free for the sender;
  // a primitive that pinned them would deadlock here.
  static void parkedThreadsDoNotPinCarriers() throws InterruptedException {
    int parked = 50;
    Channel<Long> ch = new Channel<>();
    WaitGroup wg = new WaitGroup();
    wg.add(parked);
    for (int i = 0; i < parked; i++)
      Workloads.spawn(() -> {
        ch.recv();
        wg.done();
      });
    Thread feeder = Thread.ofVirtual().start(() -> {
      for (long i = 0; i < parked; i++) ch.send(i);
      wg.await();
    });
    feeder.join(10_000);
    check(!feeder.isAlive(), "50 parked receivers on " + CARRIERS + " carriers must not starve the sender (pinning?)");
  }

  static Workloads.Outcome onVirtualThread(String workload, Map<String, Long> p) throws InterruptedException {
    Workloads.Outcome[] out = new Workloads.Outcome[1];
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        out[0] = Workloads.run(workload, p);
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    t.join(60_000);
    check(out[0] != null, workload + " finished");
    return out[0];
  }

  static void everyWorkloadChecksOut() throws InterruptedException {
    var o = onVirtualThread("spawn-million", Map.of("tasks", 1000L));
    check(o.checksumOk && o.tasksCreated == 1000, "spawn-million " + o.reason);
    o = onVirtualThread("ping-pong", Map.of("pairs", 3L, "round-trips", 200L));
    check(o.checksumOk && o.tasksCreated == 6 && o.ops == 600, "ping-pong " + o.reason);
    o = onVirtualThread("context-switch-storm", Map.of("tasks", 50L, "yields", 20L));
    check(o.checksumOk && o.ops == 1000, "context-switch-storm " + o.reason);
    o = onVirtualThread("skynet", Map.of("leaves", 1000L));
    check(o.checksumOk && o.tasksCreated == 1111, "skynet " + o.reason);
    o = onVirtualThread("memory-per-task", Map.of("tasks", 2000L));
    check(o.checksumOk && o.memory.tasksReached() == 2000 && o.memory.mappings() > 0 && o.memory.heapCommittedBytes() > 0,
        "memory-per-task " + o.reason);
  }

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static int count(String haystack, String needle) {
    int n = 0;
    for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
    return n;
  }

  static void commandSpeaksTheProtocol() {
    Result r = run("--workload", "skynet", "--param", "leaves=100", "--workers", "2", "--repetitions", "3");
    check(r.code() == 0, "skynet exits 0: " + r.err());
    check(count(r.out(), "\"case_id\": \"skynet/java-vthreads/leaves:100/workers:2\"") == 3, "one record per measured repetition");
    var warmups = java.util.regex.Pattern.compile("\"jit_warmup_repetitions\": (\\d+)").matcher(r.out());
    check(count(r.out(), "\"tasks_created\": 111,") == 3 && warmups.find()
          && Integer.parseInt(warmups.group(1)) >= Main.JIT_WARMUP_MIN_REPETITIONS
          && Integer.parseInt(warmups.group(1)) <= Main.JIT_WARMUP_MAX_REPETITIONS,
        "records carry tasks_created and the discarded warm-ups: " + r.out());
    r = run("--workload=memory-per-task", "--param=tasks=100", "--workers=2");
    check(r.code() == 0 && r.out().contains("\"jit_warmup_repetitions\": 0") && r.out().contains("\"jvm_heap_committed_bytes\""),
        "memory-per-task has no warm-up and reports the committed heap: " + r.out());
    for (String[] bad : new String[][] {{"--workload", "nope"}, {"--workload", "skynet", "--param", "leaves=3"},
                                        {"--workers", "0", "--workload", "skynet"}, {"--frob"}, {"--workload"},
                                        {"--workload", "skynet", "--workload", "skynet"}}) {
      r = run(bad);
      check(r.code() == 2 && r.out().isEmpty() && r.err().strip().lines().count() == 1,
          String.join(" ", bad) + " exits 2 with one line: " + r.err());
    }
    check(run("--workload", "skynet", "--param", "leaves=3").err().contains("leaves=3 is not a power of 10"), "names the bad value");
    r = run("list");
    for (var w : Params.WORKLOADS) check(r.out().contains("\"name\": \"" + w.name() + "\""), "list names " + w.name());
    check(run("version").out().startsWith("java "), "version");
  }
}
