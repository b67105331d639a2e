// memory_per_task.go — memory-per-task: RSS growth per goroutine while `tasks` goroutines are all parked on
// one shared channel, then all released. Checksum: every goroutine parked and exited. Spawning stops early
// (status "limit") if the process outgrows the memory that was available (memory_guard.go).
package main

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// prepareMemoryPerTask runs untimed before each repetition: it returns the heap's free pages to the OS, so
// pages an earlier repetition left mapped do not hide the growth. Go keeps exited goroutines' descriptors
// for reuse, so repetitions after the first in one process measure reused descriptors (see README).
func prepareMemoryPerTask() { debug.FreeOSMemory() }

func runMemoryPerTask(p params) outcome {
	tasks := p["tasks"]
	before, err := readMemory()
	if err != nil {
		return outcome{Reason: err.Error()}
	}

	var parkedCount, exitedCount atomic.Int64
	var parked, exited sync.WaitGroup
	release := make(chan struct{})
	spawned, limit := spawnWatched(tasks, func(from, to int64) {
		parked.Add(int(to - from))
		exited.Add(int(to - from))
		for i := from; i < to; i++ {
			go func() {
				parkedCount.Add(1)
				parked.Done()
				<-release
				exitedCount.Add(1)
				exited.Done()
			}()
		}
	})
	parked.Wait()
	during, errMem := readMemory()
	mappings, errMaps := countMappings()
	reached := parkedCount.Load()
	close(release)
	exited.Wait()

	out := outcome{TasksCreated: spawned, Ops: spawned, TasksReached: &reached, Memory: &MemoryFigures{
		RSSBytesPerTask: float64(during.rssBytes-before.rssBytes) / float64(spawned),
		VMBytesPerTask:  float64(during.vmBytes-before.vmBytes) / float64(spawned),
		Mappings:        mappings,
	}}
	mismatch := ""
	if reached != spawned || exitedCount.Load() != spawned {
		mismatch = fmt.Sprintf("%d goroutines parked and %d exited, want %d", reached, exitedCount.Load(), spawned)
	}
	out.settle(limit, errText(errMem), errText(errMaps), mismatch)
	return out
}
