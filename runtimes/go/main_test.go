// main_test.go — the output and the exit codes: the JSON document decodes with every field the results
// format requires, a failed checksum yields a "failed" record without timing and exit 1, and the built
// spindle-go program exits 2 with one stderr line on bad input.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// runInProcess calls run and decodes its stdout; it fails the test unless stdout is one JSON document.
func runInProcess(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	old := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(old)
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	var doc map[string]any
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v: stdout is not JSON: %v (stderr %q)", args, err, stderr.String())
	}
	if dec.More() {
		t.Fatalf("%v: more than one JSON document on stdout", args)
	}
	return code, doc
}

func TestJSONShape(t *testing.T) {
	code, doc := runInProcess(t, "--workload", "ping-pong", "--param", "round-trips=500", "--param", "pairs=2",
		"--workers", "2", "--repetitions", "3")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	ctx := doc["context"].(map[string]any)
	for _, k := range []string{"date", "host_name", "num_cpus", "spindle_schema", "go_version", "gomaxprocs"} {
		if _, ok := ctx[k]; !ok {
			t.Errorf("context lacks %q", k)
		}
	}
	if ctx["spindle_schema"] != 1.0 || ctx["gomaxprocs"] != 2.0 || ctx["go_version"] != runtime.Version() {
		t.Errorf("context %v", ctx)
	}
	records := doc["benchmarks"].([]any)
	if len(records) != 3 {
		t.Fatalf("%d records, want 3 (one per repetition, no aggregates)", len(records))
	}
	const name = "ping-pong/go/pairs:2/round-trips:500/workers:2"
	for i, raw := range records {
		r := raw.(map[string]any)
		want := map[string]any{
			"name": name, "run_name": name, "case_id": name, "run_type": "iteration",
			"repetitions": 3.0, "repetition_index": float64(i), "iterations": 1.0, "time_unit": "ms",
			"runtime": "go", "workload": "ping-pong", "workers": 2.0, "status": "ok", "checksum_ok": true,
			"tasks_created": 4.0, "go_version": runtime.Version(), "ops": 1000.0,
		}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("record %d: %s = %v, want %v", i, k, r[k], v)
			}
		}
		p := r["params"].(map[string]any)
		if len(p) != 2 || p["pairs"] != 2.0 || p["round-trips"] != 500.0 {
			t.Errorf("record %d: params %v", i, p)
		}
		for _, k := range []string{"real_time", "cpu_time", "ns_per_op", "ops_per_second", "peak_rss_bytes",
			"voluntary_csw", "involuntary_csw", "user_cpu_s", "sys_cpu_s"} {
			if _, ok := r[k].(float64); !ok {
				t.Errorf("record %d: %s = %v, want a number", i, k, r[k])
			}
		}
		realTime, nsPerOp := r["real_time"].(float64), r["ns_per_op"].(float64)
		if realTime <= 0 || r["peak_rss_bytes"].(float64) <= 0 {
			t.Errorf("record %d: real_time %v peak_rss_bytes %v", i, realTime, r["peak_rss_bytes"])
		}
		if diff := realTime*1e6/1000 - nsPerOp; diff > 1e-6*nsPerOp || diff < -1e-6*nsPerOp {
			t.Errorf("record %d: ns_per_op %v is not real_time/ops (%v)", i, nsPerOp, realTime*1e6/1000)
		}
		for _, k := range []string{"reason", "error_occurred", "rss_bytes_per_task", "tasks_reached", "mappings"} {
			if _, ok := r[k]; ok {
				t.Errorf("record %d: unexpected field %q", i, k)
			}
		}
	}
}

func TestMemoryRecordCarriesMemoryFields(t *testing.T) {
	code, doc := runInProcess(t, "--workload", "memory-per-task", "--param", "tasks=2000", "--workers", "1")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	r := doc["benchmarks"].([]any)[0].(map[string]any)
	for _, k := range []string{"rss_bytes_per_task", "vm_bytes_per_task", "mappings", "tasks_reached"} {
		if _, ok := r[k].(float64); !ok {
			t.Errorf("%s = %v, want a number", k, r[k])
		}
	}
	if r["tasks_reached"] != 2000.0 {
		t.Errorf("tasks_reached %v", r["tasks_reached"])
	}
}

func TestChecksumFailureIsAFailedRecordAndExit1(t *testing.T) {
	w, _ := findWorkload("skynet")
	realRun := w.Run
	w.Run = func(p params) outcome {
		out := realRun(p)
		return outcome{TasksCreated: out.TasksCreated, Ops: out.Ops, Reason: "root sum 1 (want 4950)"}
	}
	defer func() { w.Run = realRun }()

	code, doc := runInProcess(t, "--workload", "skynet", "--param", "leaves=100", "--repetitions", "2")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	records := doc["benchmarks"].([]any)
	if len(records) != 2 {
		t.Fatalf("%d records, want 2", len(records))
	}
	for _, raw := range records {
		r := raw.(map[string]any)
		if r["status"] != "failed" || r["checksum_ok"] != false || r["reason"] != "root sum 1 (want 4950)" ||
			r["error_occurred"] != true || r["error_message"] != r["reason"] {
			t.Errorf("record %v", r)
		}
		if r["real_time"] != 0.0 || r["iterations"] != 0.0 || r["ns_per_op"] != 0.0 {
			t.Errorf("failed record carries timing: real_time %v iterations %v ns_per_op %v",
				r["real_time"], r["iterations"], r["ns_per_op"])
		}
		if r["tasks_created"] != 111.0 {
			t.Errorf("tasks_created %v, want 111", r["tasks_created"])
		}
	}
}

func TestListAndVersion(t *testing.T) {
	t.Setenv("SPINDLE_TEST_WORKLOADS", "") // the test-only workloads stay hidden
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version"}, &stdout, &stderr); code != 0 || stdout.String() != runtime.Version()+"\n" {
		t.Errorf("version: exit %d, %q", code, stdout.String())
	}
	stdout.Reset()
	if code := run([]string{"list"}, &stdout, &stderr); code != 0 {
		t.Fatalf("list: exit %d", code)
	}
	var list struct {
		Runtime   string
		Workloads []struct {
			Name   string
			Params []struct {
				Name              string
				Default, Min, Max int64
				PowerOf10         bool `json:"power_of_10"`
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if list.Runtime != "go" || len(list.Workloads) < 7 || list.Workloads[3].Name != "skynet" ||
		!list.Workloads[3].Params[0].PowerOf10 || list.Workloads[0].Params[0].Default != 1_000_000 ||
		list.Workloads[5].Name != "echo" || len(list.Workloads[5].Params) != 4 || list.Workloads[6].Name != "idle-connections" {
		t.Errorf("list %+v", list)
	}
	listed := map[string]bool{}
	for _, w := range list.Workloads {
		listed[w.Name] = true
	}
	if !listed["blocking-syscall"] || !listed["hog-latency"] || listed["fault-deadlock"] {
		t.Errorf("list %v: want blocking-syscall and hog-latency, and fault-deadlock hidden", listed)
	}
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	// The network workloads re-execute this binary as their client process (net_limits.go).
	if addr := os.Getenv(clientProcessEnv); addr != "" {
		os.Exit(runClientProcess(addr, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// builtProgram builds spindle-go once per test run with the go command on PATH (go test puts the GOROOT/bin
// of the toolchain running the tests first on PATH).
func builtProgram(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "spindle-go-test-"); buildErr != nil {
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(buildDir, "spindle-go"), ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0") // as runtimes/go/CMakeLists.txt builds it
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building spindle-go: %v", buildErr)
	}
	return filepath.Join(buildDir, "spindle-go")
}

func TestBuiltProgramBadInputExits2WithOneLine(t *testing.T) {
	bin := builtProgram(t)
	cases := [][]string{
		{},
		{"--workload", "nope"},
		{"--workload", "skynet", "--param", "leaves=20"},
		{"--workload", "ping-pong", "--param", "speed=3"},
		{"--workload", "spawn-million", "--param", "tasks=abc"},
		{"--workload", "spawn-million", "--workers", "-1"},
	}
	for _, args := range cases {
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		exitErr, ok := err.(*exec.ExitError)
		if !ok || exitErr.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2", args, err)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: stdout %q, want nothing", args, stdout.String())
		}
		if lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n"); len(lines) != 1 ||
			!strings.HasPrefix(lines[0], "spindle-go: ") || !strings.Contains(lines[0], "valid") &&
			!strings.Contains(lines[0], "1..") {
			t.Errorf("%v: stderr %q, want one line naming the valid choices", args, stderr.String())
		}
	}
}

// runBuilt runs the built program with args and returns its one record; GOMAXPROCS must be `workers`.
func runBuilt(t *testing.T, workers int, args ...string) record {
	t.Helper()
	out, err := exec.Command(builtProgram(t), args...).Output()
	if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	var doc document
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Context.GOMAXPROCS != workers || len(doc.Benchmarks) != 1 {
		t.Fatalf("context %+v, %d records", doc.Context, len(doc.Benchmarks))
	}
	return doc.Benchmarks[0]
}

func TestBuiltProgramRunsAFreshProcess(t *testing.T) {
	r := runBuilt(t, 1, "--workload", "memory-per-task", "--param", "tasks=20000", "--workers", "1")
	if r.Status != "ok" || r.MemoryFigures == nil || r.TasksReached == nil || *r.TasksReached != 20000 {
		t.Fatalf("record %+v", r)
	}
	// A fresh process: every goroutine needs at least a 2 KiB stack and a descriptor; far more than 64 KiB
	// would mean the RSS reading is in the wrong unit.
	if r.RSSBytesPerTask < 2048 || r.RSSBytesPerTask > 64*1024 {
		t.Errorf("rss_bytes_per_task %v, want 2 KiB..64 KiB", r.RSSBytesPerTask)
	}
}
