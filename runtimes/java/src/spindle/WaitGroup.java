// WaitGroup.java — Go's sync.WaitGroup for one waiter: add before spawning, done at each task's end, await
// parks (LockSupport, so a virtual thread unmounts) until the count is zero. The waiter publishes itself
// before it reads the count and done() decrements before it reads the waiter, so one of them always sees
// the other: no wake-up is lost.
package spindle;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

final class WaitGroup {
  private final AtomicLong count = new AtomicLong();
  private volatile Thread waiter;

  void add(long n) {
    count.addAndGet(n);
  }

  void done() {
    if (count.decrementAndGet() == 0) {
      Thread w = waiter;
      if (w != null) LockSupport.unpark(w);
    }
  }

  void await() {
    waiter = Thread.currentThread();
    while (count.get() != 0) LockSupport.park(this);
    waiter = null;
  }
}
