// context_switch_storm.go — context-switch-storm: `tasks` goroutines each call runtime.Gosched() `yields`
// times and count their yields. Checksum: the total count = tasks·yields. Spawning stops early, as
// status "limit", if the process outgrows the memory that was available (memory_guard.go).
package main

import (
	"fmt"
	"runtime"
	"sync"
)

func runContextSwitchStorm(p params) outcome {
	tasks, yields := p["tasks"], p["yields"]
	counts := make([]int64, tasks) // counts[k]: yields done by goroutine k; written once, by it, at its end
	var wg sync.WaitGroup
	started, limit := spawnWatched(tasks, func(from, to int64) {
		wg.Add(int(to - from))
		for k := from; k < to; k++ {
			go func(k int64) {
				defer wg.Done()
				var n int64
				for i := int64(0); i < yields; i++ {
					runtime.Gosched()
					n++
				}
				counts[k] = n
			}(k)
		}
	})
	wg.Wait()
	if limit != "" {
		return outcome{TasksCreated: started, Ops: started * yields, Limit: limit}
	}

	var total int64
	for _, c := range counts {
		total += c
	}
	want := tasks * yields
	out := outcome{ChecksumOK: total == want, TasksCreated: tasks, Ops: want}
	if !out.ChecksumOK {
		out.Reason = fmt.Sprintf("counted %d yields, want %d", total, want)
	}
	return out
}
