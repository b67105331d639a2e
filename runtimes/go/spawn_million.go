// spawn_million.go — spawn-million: the root goroutine spawns `tasks` trivial goroutines, each adds its
// index to one atomic sum, and waits for all on a sync.WaitGroup. Checksum: sum = tasks·(tasks−1)/2.
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
)

func runSpawnMillion(p params) outcome {
	tasks := p["tasks"]
	var sum atomic.Int64
	var wg sync.WaitGroup
	wg.Add(int(tasks))
	for i := int64(0); i < tasks; i++ {
		go func(index int64) {
			sum.Add(index)
			wg.Done()
		}(i)
	}
	wg.Wait()

	want := tasks * (tasks - 1) / 2
	out := outcome{ChecksumOK: sum.Load() == want, TasksCreated: tasks, Ops: tasks}
	if !out.ChecksumOK {
		out.Reason = fmt.Sprintf("sum of task indices is %d, want %d", sum.Load(), want)
	}
	return out
}
