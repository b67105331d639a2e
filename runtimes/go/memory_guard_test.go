// memory_guard_test.go — the guard: cases that cannot fit are refused up front, and workloads that stop
// spawning for lack of memory are recorded as "limit" with what they did reach, no timing and exit 0.
package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestMeminfoIsPlausible(t *testing.T) {
	m, err := readMeminfo()
	if err != nil {
		t.Fatal(err)
	}
	if m.totalBytes < 64<<20 || m.availableBytes <= 0 || m.availableBytes > m.totalBytes {
		t.Errorf("MemTotal %d MemAvailable %d", m.totalBytes, m.availableBytes)
	}
}

func TestRefuseIfTooBig(t *testing.T) {
	if why := refuseIfTooBig(1); why != "" {
		t.Errorf("one goroutine refused: %s", why)
	}
	why := refuseIfTooBig(1 << 40) // 2 PiB of stacks
	if !strings.Contains(why, "1099511627776 goroutines") || !strings.Contains(why, "MemAvailable") {
		t.Errorf("2 PiB of stacks not refused: %q", why)
	}
}

// withExhaustedMemory makes every memory watch report exhaustion at its first look.
func withExhaustedMemory(t *testing.T) {
	real := startMemoryWatch
	startMemoryWatch = func() memoryWatch { return memoryWatch{startRSSBytes: 0, budgetBytes: 1} }
	t.Cleanup(func() { startMemoryWatch = real })
}

func TestWatchedWorkloadsStopAsLimit(t *testing.T) {
	withExhaustedMemory(t)
	cases := []struct {
		args         []string
		tasksCreated float64
	}{
		{[]string{"--workload", "memory-per-task", "--param", "tasks=40000"}, memoryCheckEvery},
		{[]string{"--workload", "context-switch-storm", "--param", "tasks=40000", "--param", "yields=2"}, memoryCheckEvery},
		{[]string{"--workload", "skynet", "--param", "leaves=100000"}, 1},  // the root looks before spawning
		{[]string{"--workload", "skynet", "--param", "leaves=1000"}, 1111}, // too small to look: runs whole
	}
	for _, c := range cases {
		code, doc := runInProcess(t, append(c.args, "--repetitions", "2")...)
		records := doc["benchmarks"].([]any)
		for _, raw := range records {
			r := raw.(map[string]any)
			if r["tasks_created"] != c.tasksCreated {
				t.Errorf("%v: tasks_created %v, want %v", c.args, r["tasks_created"], c.tasksCreated)
			}
			if c.tasksCreated == 1111 {
				if code != 0 || r["status"] != "ok" {
					t.Errorf("%v: exit %d status %v, want a full run", c.args, code, r["status"])
				}
				continue
			}
			if code != 0 || r["status"] != "limit" || r["checksum_ok"] != false || r["real_time"] != 0.0 ||
				r["iterations"] != 0.0 || !strings.Contains(r["reason"].(string), "RSS grew") {
				t.Errorf("%v: exit %d, record %v", c.args, code, r)
			}
		}
		if len(records) != 2 {
			t.Errorf("%v: %d records, want 2", c.args, len(records))
		}
	}
}

func TestCaseThatCannotFitIsRefusedBeforeItRuns(t *testing.T) {
	w := &workloadSpec{
		Name:        "huge",
		Run:         func(params) outcome { t.Fatal("a refused case ran"); return outcome{} },
		AliveAtOnce: func(params) int64 { return 1 << 40 },
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	doc := runCase(caseSpec{workload: w, params: params{}, workers: 1, repetitions: 3})
	if len(doc.Benchmarks) != 1 {
		t.Fatalf("%d records, want 1", len(doc.Benchmarks))
	}
	r := doc.Benchmarks[0]
	if r.Status != "limit" || r.ChecksumOK || r.TasksCreated != 0 || r.Iterations != 0 || r.RealTime != 0 ||
		!strings.Contains(r.Reason, "need at least") || r.Name != "huge/go/workers:1" {
		t.Errorf("record %+v", r)
	}
}
