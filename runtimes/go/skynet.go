// skynet.go — skynet: the classic 10-ary goroutine tree; leaf k sends k, each parent sums its 10 children
// from a channel of capacity 10 it owns. Checksum: root sum = leaves·(leaves−1)/2 and (10·leaves−1)/9
// goroutines. Subtrees stop growing (status "limit") if memory runs out (memory_guard.go).
package main

import (
	"fmt"
	"sync/atomic"
)

const skynetFanOut = 10

func runSkynet(p params) outcome {
	leaves := p["leaves"]
	tree := &skynetTree{watch: startMemoryWatch()}
	result := make(chan int64)
	go tree.node(result, 0, leaves)
	sum := <-result
	tasks := tree.created.Load()
	if why, stopped := tree.limit.Load().(string); stopped {
		return outcome{TasksCreated: tasks, Ops: tasks, Limit: why}
	}

	wantSum := leaves * (leaves - 1) / 2
	wantTasks := (skynetFanOut*leaves - 1) / (skynetFanOut - 1)
	out := outcome{ChecksumOK: sum == wantSum && tasks == wantTasks, TasksCreated: tasks, Ops: tasks}
	if !out.ChecksumOK {
		out.Reason = fmt.Sprintf("root sum %d (want %d), %d goroutines in the tree (want %d)", sum, wantSum, tasks, wantTasks)
	}
	return out
}

// skynetCheckSize: subtrees of at least this many leaves look at the memory watch before they spawn
// (111 looks of about 2 µs for a million leaves).
const skynetCheckSize = 10_000

// skynetTree is the state the whole tree shares.
type skynetTree struct {
	created atomic.Int64 // goroutines of the tree, root included; each adds 1 when it starts
	watch   memoryWatch
	limit   atomic.Value // string: why the tree stopped growing; set once, before any node skips its subtree
}

// node is the subtree of `size` leaves numbered from `first`; it sends the sum of their numbers up.
func (t *skynetTree) node(up chan<- int64, first, size int64) {
	t.created.Add(1)
	if size == 1 {
		up <- first
		return
	}
	if size >= skynetCheckSize && t.outOfMemory() {
		up <- 0
		return
	}
	children := make(chan int64, skynetFanOut)
	step := size / skynetFanOut
	for i := int64(0); i < skynetFanOut; i++ {
		go t.node(children, first+i*step, step)
	}
	var sum int64
	for i := 0; i < skynetFanOut; i++ {
		sum += <-children
	}
	up <- sum
}

// outOfMemory reports whether the tree must stop growing, recording the first reason.
func (t *skynetTree) outOfMemory() bool {
	if t.limit.Load() != nil {
		return true
	}
	why := t.watch.exhausted()
	if why == "" {
		return false
	}
	t.limit.CompareAndSwap(nil, "the tree stopped growing: "+why)
	return true
}
