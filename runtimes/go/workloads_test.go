// workloads_test.go — every workload at small sizes: its checksum passes, and it reports the tasks it
// created and the ops it did exactly as the results format defines them.
package main

import (
	"runtime"
	"testing"
)

func TestWorkloadsAtSmallSizes(t *testing.T) {
	cases := []struct {
		workload     string
		params       params
		tasksCreated int64
		ops          int64
	}{
		{"spawn-million", params{"tasks": 1}, 1, 1},
		{"spawn-million", params{"tasks": 10_000}, 10_000, 10_000},
		{"ping-pong", params{"pairs": 1, "round-trips": 1}, 2, 1},
		{"ping-pong", params{"pairs": 7, "round-trips": 300}, 14, 2_100},
		{"context-switch-storm", params{"tasks": 1, "yields": 1}, 1, 1},
		{"context-switch-storm", params{"tasks": 50, "yields": 200}, 50, 10_000},
		{"skynet", params{"leaves": 1}, 1, 1},
		{"skynet", params{"leaves": 10}, 11, 11},
		{"skynet", params{"leaves": 10_000}, 11_111, 11_111},
		{"memory-per-task", params{"tasks": 1}, 1, 1},
		{"memory-per-task", params{"tasks": 5_000}, 5_000, 5_000},
	}
	for _, c := range cases {
		w, err := findWorkload(c.workload)
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 2} {
			old := runtime.GOMAXPROCS(workers)
			out := w.Run(c.params)
			runtime.GOMAXPROCS(old)
			if !out.ChecksumOK || out.Reason != "" {
				t.Errorf("%s %v workers %d: checksum failed: %q", c.workload, c.params, workers, out.Reason)
			}
			if out.TasksCreated != c.tasksCreated || out.Ops != c.ops {
				t.Errorf("%s %v: tasks_created %d ops %d, want %d and %d",
					c.workload, c.params, out.TasksCreated, out.Ops, c.tasksCreated, c.ops)
			}
			if (out.Memory != nil) != (c.workload == "memory-per-task") {
				t.Errorf("%s: memory figures present = %v", c.workload, out.Memory != nil)
			}
			if out.Memory != nil && (out.TasksReached == nil || *out.TasksReached != c.params["tasks"] || out.Memory.Mappings <= 0) {
				t.Errorf("%s: tasks_reached %v mappings %d", c.workload, out.TasksReached, out.Memory.Mappings)
			}
		}
	}
}

func TestPingPongPairsRunConcurrently(t *testing.T) {
	// 2000 pairs blocked in unbuffered channels at once on one worker: must not deadlock.
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	if out := runPingPong(params{"pairs": 2_000, "round-trips": 5}); !out.ChecksumOK {
		t.Fatal(out.Reason)
	}
}
