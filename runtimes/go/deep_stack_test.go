// deep_stack_test.go — deep-stack at a small size: the checksum over every frame holds, the figures are
// there, the grown stacks are resident after the excursion and given back by the GCs; a depth beyond Go's
// maximum stack is refused as a limit before anything runs.
package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestDeepDescendMatchesTheClosedForm(t *testing.T) {
	for _, frames := range []uint64{1, 2, 300} {
		if got, want := deepDescend(frames, 7), deepExpected(frames, 7); got != want {
			t.Errorf("frames %d: descend %d, closed form %d", frames, got, want)
		}
	}
	if deepExpected(300, 7) == deepExpected(299, 7) {
		t.Error("the last frame does not change the checksum")
	}
}

func TestDeepStackSmallCase(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	p := params{"tasks": 200, "depth-kib": 256}
	out := runDeepStack(p)
	if !out.ChecksumOK || out.Reason != "" || out.Limit != "" {
		t.Fatalf("checksum failed: %q (limit %q)", out.Reason, out.Limit)
	}
	if out.TasksCreated != 200 || out.Ops != 200 || out.TasksReached == nil || *out.TasksReached != 200 {
		t.Fatalf("tasks_created %d ops %d tasks_reached %v", out.TasksCreated, out.Ops, out.TasksReached)
	}
	d := out.Deep
	if d == nil || d.DeepNsPerTask <= 0 || d.GCCycles < 2 {
		t.Fatalf("figures %+v", d)
	}
	// Each goroutine's stack grew past 256 KiB and stays resident until a GC shrinks it.
	if d.RSSBytesPerParkedAfterDeep < 128*1024 || d.PeakRSSBytesPerTask < d.RSSBytesPerParkedAfterDeep/2 {
		t.Errorf("after deep %v B/task, peak %v B/task: the grown stacks are not resident", d.RSSBytesPerParkedAfterDeep, d.PeakRSSBytesPerTask)
	}
	if d.RSSBytesPerParkedAfterGC >= d.RSSBytesPerParkedAfterDeep {
		t.Errorf("after GC %v B/task, after deep %v B/task: the GCs gave nothing back", d.RSSBytesPerParkedAfterGC, d.RSSBytesPerParkedAfterDeep)
	}
}

func TestDeepStackBeyondGosMaximumStackIsALimit(t *testing.T) {
	code, doc := runInProcess(t, "--workload", "deep-stack", "--param", "tasks=1", "--param", "depth-kib=1048576")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	r := doc["benchmarks"].([]any)[0].(map[string]any)
	if r["status"] != "limit" || !strings.Contains(r["reason"].(string), "SetMaxStack") {
		t.Fatalf("status %v reason %v", r["status"], r["reason"])
	}
	if refuseDeepStack(params{"tasks": 10, "depth-kib": 256}) != "" {
		t.Error("a small case is refused")
	}
}
