// params_test.go — the param table and the command line: defaults fill in, every kind of bad input is a
// usage error that names the bad value and the valid choices.
package main

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestDefaultsMatchTheDesign(t *testing.T) {
	want := map[string]params{
		"spawn-million":        {"tasks": 1_000_000},
		"ping-pong":            {"pairs": 1, "round-trips": 100_000},
		"context-switch-storm": {"tasks": 1_000, "yields": 1_000},
		"skynet":               {"leaves": 1_000_000},
		"memory-per-task":      {"tasks": 100_000},
		"echo":                 {"connections": 100, "messages": 1_000, "bytes": 64, "rate": 0},
		"idle-connections":     {"connections": 1_000},
		"deep-stack":           {"tasks": 10_000, "depth-kib": 256},
		"blocking-syscall":     {"tasks": 1_000, "blocking": 100, "block-us": 1_000, "steps": 100, "hold-ms": 1_000},
		"hog-latency":          {"hogs": 0, "hog-ms": 200, "ticks": 100},
	}
	t.Setenv("SPINDLE_TEST_WORKLOADS", "") // fault-deadlock is test-only: not in the design's table
	if len(visibleWorkloads()) != len(want) {
		t.Fatalf("%d workloads, want %d", len(visibleWorkloads()), len(want))
	}
	for name, defaults := range want {
		c, err := parseArgs([]string{"--workload", name})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.params) != len(defaults) {
			t.Errorf("%s: params %v, want %v", name, c.params, defaults)
		}
		for k, v := range defaults {
			if c.params[k] != v {
				t.Errorf("%s: %s = %d, want %d", name, k, c.params[k], v)
			}
		}
		if c.workers != runtime.NumCPU() || c.repetitions != 1 {
			t.Errorf("%s: workers %d repetitions %d, want %d and 1", name, c.workers, c.repetitions, runtime.NumCPU())
		}
	}
}

func TestGivenValuesAndBothOptionForms(t *testing.T) {
	c, err := parseArgs([]string{"--workload=ping-pong", "--param", "round-trips=7", "--param=pairs=3",
		"--workers", "3", "--repetitions=4"})
	if err != nil {
		t.Fatal(err)
	}
	if c.params["pairs"] != 3 || c.params["round-trips"] != 7 || c.workers != 3 || c.repetitions != 4 {
		t.Fatalf("parsed %+v", c)
	}
	if got := c.workload.caseName(c.params, c.workers); got != "ping-pong/go/pairs:3/round-trips:7/workers:3" {
		t.Errorf("case name %q", got)
	}
}

func TestRangeEdgesAreAccepted(t *testing.T) {
	for _, w := range workloads {
		for _, p := range w.Params {
			for _, v := range []int64{p.Min, p.Max, p.Default} {
				if _, err := p.parse(strconv.FormatInt(v, 10)); err != nil {
					t.Errorf("%s %s=%d rejected: %v", w.Name, p.Name, v, err)
				}
			}
			if p.Default < p.Min || p.Default > p.Max {
				t.Errorf("%s %s: default %d outside %d..%d", w.Name, p.Name, p.Default, p.Min, p.Max)
			}
		}
	}
}

func TestBadInputIsAUsageErrorNamingValueAndChoices(t *testing.T) {
	cases := []struct {
		args    []string
		mention []string // every one must appear in the message
	}{
		{[]string{}, []string{"--workload", "skynet", "spawn-million"}},
		{[]string{"--workload", "fibonacci"}, []string{`"fibonacci"`, "spawn-million, ping-pong, context-switch-storm, skynet, memory-per-task"}},
		{[]string{"--workload", "skynet", "--param", "tasks=5"}, []string{`"tasks"`, "leaves"}},
		{[]string{"--workload", "skynet", "--param", "leaves"}, []string{`"leaves"`, "name=value"}},
		{[]string{"--workload", "skynet", "--param", "leaves=1e6"}, []string{`"1e6"`, "1..100000000"}},
		{[]string{"--workload", "skynet", "--param", "leaves=50"}, []string{"leaves=50", "power of 10"}},
		{[]string{"--workload", "skynet", "--param", "leaves=1000000000"}, []string{"leaves=1000000000", "1..100000000"}},
		{[]string{"--workload", "spawn-million", "--param", "tasks=0"}, []string{"tasks=0", "1..100000000"}},
		{[]string{"--workload", "spawn-million", "--param", "tasks=-3"}, []string{"tasks=-3", "1..100000000"}},
		{[]string{"--workload", "ping-pong", "--param", "pairs=100001"}, []string{"pairs=100001", "1..100000"}},
		{[]string{"--workload", "context-switch-storm", "--param", "yields=0"}, []string{"yields=0", "1..1000000000"}},
		{[]string{"--workload", "memory-per-task", "--param", "tasks=10000001"}, []string{"tasks=10000001", "1..10000000"}},
		{[]string{"--workload", "skynet", "--param", "leaves=10", "--param", "leaves=100"}, []string{`"leaves"`, "twice"}},
		{[]string{"--workload", "skynet", "--workers", "0"}, []string{`"0"`, "1..4096"}},
		{[]string{"--workload", "skynet", "--workers", "two"}, []string{`"two"`, "1..4096"}},
		{[]string{"--workload", "skynet", "--repetitions", "0"}, []string{"--repetitions", "1..10000"}},
		{[]string{"--workload", "skynet", "--workers"}, []string{"--workers", "needs a value"}},
		{[]string{"--workload", "skynet", "--stack", "8k"}, []string{`"--stack"`, "--workload, --param, --workers, --repetitions"}},
		{[]string{"--workload", "skynet", "--workload", "skynet"}, []string{"--workload", "twice"}},
	}
	for _, c := range cases {
		_, err := parseArgs(c.args)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: got %v, want a usage error", c.args, err)
			continue
		}
		if strings.Contains(ue.msg, "\n") {
			t.Errorf("%v: message spans lines: %q", c.args, ue.msg)
		}
		for _, m := range c.mention {
			if !strings.Contains(ue.msg, m) {
				t.Errorf("%v: message %q does not mention %q", c.args, ue.msg, m)
			}
		}
	}
}

func TestIsPowerOf10(t *testing.T) {
	yes := []int64{1, 10, 100, 1_000, 1_000_000, 100_000_000, 1_000_000_000_000_000_000}
	no := []int64{-10, 0, 2, 11, 20, 50, 101, 110, 999_999, 1_000_001, 2_000_000}
	for _, v := range yes {
		if !isPowerOf10(v) {
			t.Errorf("isPowerOf10(%d) = false", v)
		}
	}
	for _, v := range no {
		if isPowerOf10(v) {
			t.Errorf("isPowerOf10(%d) = true", v)
		}
	}
}
