// skynet.go — skynet: the classic 10-ary goroutine tree; leaf k sends k, each parent sums its 10 children
// from a channel of capacity 10 it owns. Each answer carries its subtree's goroutine count, as in the C++
// workload (workloads/skynet.h), so the count costs no shared atomic. Checksum: root sum = leaves·(leaves−1)/2 and (10·leaves−1)/9
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
	result := make(chan skynetAnswer)
	go tree.node(result, 0, leaves)
	answer := <-result
	sum, tasks := answer.sum, answer.tasks
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

// skynetAnswer is what a subtree sends up: the sum of its leaves' numbers and its goroutines, root included.
type skynetAnswer struct {
	sum, tasks int64
}

// skynetTree is the state the whole tree shares.
type skynetTree struct {
	watch memoryWatch
	limit atomic.Value // string: why the tree stopped growing; set once, before any node skips its subtree
}

// node is the subtree of `size` leaves numbered from `first`; it sends the sum of their numbers up.
func (t *skynetTree) node(up chan<- skynetAnswer, first, size int64) {
	if size == 1 {
		up <- skynetAnswer{first, 1}
		return
	}
	if size >= skynetCheckSize && t.outOfMemory() {
		up <- skynetAnswer{0, 1}
		return
	}
	children := make(chan skynetAnswer, skynetFanOut)
	step := size / skynetFanOut
	for i := int64(0); i < skynetFanOut; i++ {
		go t.node(children, first+i*step, step)
	}
	total := skynetAnswer{0, 1}
	for i := 0; i < skynetFanOut; i++ {
		a := <-children
		total.sum += a.sum
		total.tasks += a.tasks
	}
	up <- total
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
