// Gate.java — what closing a Go channel does for the receivers parked on it: await() parks the caller
// (LockSupport, so a virtual thread unmounts) until open(), and open() unparks every waiter in one loop, as
// Go's closechan readies every receiver. Waiters push themselves on a lock-free stack; open() swaps in a
// sentinel, so a waiter that arrives later sees it and does not park.
package spindle;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

final class Gate {
  private static final class Node {
    final Thread thread;
    Node next;

    Node(Thread thread) {
      this.thread = thread;
    }
  }

  private static final Node OPEN = new Node(null);
  private final AtomicReference<Node> waiters = new AtomicReference<>();

  /** await: returns once the gate is open (at once if it already is). */
  void await() {
    Node me = new Node(Thread.currentThread());
    for (;;) {
      Node top = waiters.get();
      if (top == OPEN) return;
      me.next = top;
      if (waiters.compareAndSet(top, me)) break;
    }
    while (waiters.get() != OPEN) LockSupport.park(this);
  }

  /** open: releases every waiter, now and later. */
  void open() {
    for (Node n = waiters.getAndSet(OPEN); n != null && n != OPEN; n = n.next) LockSupport.unpark(n.thread);
  }
}
