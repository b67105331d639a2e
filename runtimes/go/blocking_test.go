// blocking_test.go — blocking-syscall, hog-latency and fault-deadlock: small runs with their checksums and
// counters (never a timed bound), the cross-param rule, the LCG jump, and the built program dying of Go's own
// deadlock detector on fault-deadlock.
package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLCGJumpMatchesTheSteps(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 3, 1023, 1024, 100_000} {
		if got, want := lcgJump(42, n), lcgSteps(42, n); got != want {
			t.Errorf("lcgJump(42, %d) = %d, want %d", n, got, want)
		}
	}
}

func TestBlockingSyscallSmall(t *testing.T) {
	for _, workers := range []int{1, 2} {
		old := runtime.GOMAXPROCS(workers)
		out := runBlockingSyscall(params{"tasks": 11, "blocking": 2, "block-us": 200, "steps": 30, "hold-ms": 50})
		runtime.GOMAXPROCS(old)
		if !out.ChecksumOK || out.Reason != "" {
			t.Fatalf("workers %d: checksum failed: %q", workers, out.Reason)
		}
		f := out.Blocking
		if out.TasksCreated != 11 || out.Ops != 9*30 || f == nil {
			t.Fatalf("tasks %d ops %d figures %+v", out.TasksCreated, out.Ops, f)
		}
		if f.StepsPerSecond <= 0 || f.BlockingCalls < 2 || f.StepGapP50Ns > f.StepGapP99Ns || f.StepGapP99Ns > f.StepGapMaxNs {
			t.Errorf("figures %+v", f)
		}
	}
}

func TestBlockingSyscallWithoutBlockingTasks(t *testing.T) {
	out := runBlockingSyscall(params{"tasks": 3, "blocking": 0, "block-us": 1, "steps": 5, "hold-ms": 50})
	if !out.ChecksumOK || out.Ops != 15 || out.Blocking.BlockingCalls != 0 {
		t.Fatalf("%+v %+v", out, out.Blocking)
	}
}

func TestBlockingSyscallNeedsOneSteppingTask(t *testing.T) {
	w, err := findWorkload("blocking-syscall")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.resolveParams([]string{"tasks=5", "blocking=5"}); err == nil ||
		!strings.Contains(err.Error(), "blocking=5 must be less than tasks=5") {
		t.Errorf("err %v", err)
	}
	if _, err := w.resolveParams([]string{"tasks=5", "blocking=4"}); err != nil {
		t.Error(err)
	}
}

func TestHogLatencySmall(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	out := runHogLatency(params{"hogs": 0, "hog-ms": 20, "ticks": 5})
	if !out.ChecksumOK || out.Reason != "" {
		t.Fatalf("checksum failed: %q", out.Reason)
	}
	f := out.Hog
	if out.TasksCreated != 3 || out.Ops != 5 || f == nil || f.Hogs != 2 || f.HogSpins == 0 {
		t.Fatalf("tasks %d ops %d figures %+v", out.TasksCreated, out.Ops, f)
	}
	if f.LatenessP50Ns > f.LatenessP99Ns || f.LatenessP99Ns > f.LatenessMaxNs {
		t.Errorf("percentiles out of order: %+v", f)
	}
}

func TestFaultDeadlockIsHiddenUnlessTestWorkloadsAreOn(t *testing.T) {
	t.Setenv("SPINDLE_TEST_WORKLOADS", "")
	if _, err := findWorkload("fault-deadlock"); err == nil {
		t.Error("fault-deadlock found without SPINDLE_TEST_WORKLOADS=1")
	}
	t.Setenv("SPINDLE_TEST_WORKLOADS", "1")
	if _, err := findWorkload("fault-deadlock"); err != nil {
		t.Error(err)
	}
}

func TestBuiltProgramDiesOfGoDeadlockDetection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, builtProgram(t), "--workload", "fault-deadlock", "--param", "tasks=3", "--workers", "2")
	cmd.Env = append(os.Environ(), "SPINDLE_TEST_WORKLOADS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatal("fault-deadlock still ran after 60 s: the Go runtime did not see every goroutine asleep")
	}
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 2 {
		t.Errorf("%v, want exit status 2", err)
	}
	if !strings.Contains(stderr.String(), "fatal error: all goroutines are asleep - deadlock!") {
		t.Errorf("stderr %q", stderr.String())
	}
}
