// params.go — the workload table (names, parameters, defaults, ranges, the power-of-10 rule) and the
// checking of --param values against it. It mirrors the C++ harness's table: same names, same defaults,
// same ranges, so a case means the same work on every runtime.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// paramSpec is one workload parameter: its default and inclusive range; powerOf10 adds the rule that the
// value must be 1, 10, 100, ...
type paramSpec struct {
	Name      string `json:"name"`
	Default   int64  `json:"default"`
	Min       int64  `json:"min"`
	Max       int64  `json:"max"`
	PowerOf10 bool   `json:"power_of_10,omitempty"`
}

// workloadSpec is one workload: its parameters in their canonical order (the order of the case name) and
// the function that runs it once.
type workloadSpec struct {
	Name   string               `json:"name"`
	Params []paramSpec          `json:"params"`
	Run    func(params) outcome `json:"-"`
	// Prepare, if set, runs before every repetition, after the GC and before the timer starts.
	Prepare func() `json:"-"`
	// AliveAtOnce is how many goroutines the workload keeps alive at the same time, where that is known
	// up front (nil otherwise); memory_guard.go refuses a case whose stacks alone cannot fit.
	AliveAtOnce func(params) int64 `json:"-"`
	// Refuse, if set, returns why a case cannot run on this machine (a limit: descriptors, ports, memory),
	// checked once before the first repetition; "" lets it run.
	Refuse func(params) string `json:"-"`
	// Check, if set, returns why the params do not fit together (a rule across params); "" when they do.
	Check func(params) string `json:"-"`
	// TestOnly workloads misbehave on purpose for the harness's tests: listed and run only when
	// SPINDLE_TEST_WORKLOADS=1, as the harness's fault workloads.
	TestOnly bool `json:"-"`
}

// params maps a parameter name to its effective value; it always holds every parameter of its workload.
type params map[string]int64

// workloads is the table, in the order `list` prints it.
var workloads = []workloadSpec{
	{
		Name: "spawn-million", Run: runSpawnMillion,
		Params: []paramSpec{{Name: "tasks", Default: 1_000_000, Min: 1, Max: 100_000_000}},
	},
	{
		Name: "ping-pong", Run: runPingPong, AliveAtOnce: func(p params) int64 { return 2 * p["pairs"] },
		Params: []paramSpec{
			{Name: "pairs", Default: 1, Min: 1, Max: 100_000},
			{Name: "round-trips", Default: 100_000, Min: 1, Max: 1_000_000_000}},
	},
	{
		Name: "context-switch-storm", Run: runContextSwitchStorm, AliveAtOnce: paramTasks,
		Params: []paramSpec{
			{Name: "tasks", Default: 1_000, Min: 1, Max: 10_000_000},
			{Name: "yields", Default: 1_000, Min: 1, Max: 1_000_000_000}},
	},
	{
		Name: "skynet", Run: runSkynet,
		Params: []paramSpec{{Name: "leaves", Default: 1_000_000, Min: 1, Max: 100_000_000, PowerOf10: true}},
	},
	{
		Name: "memory-per-task", Run: runMemoryPerTask, Prepare: prepareMemoryPerTask, AliveAtOnce: paramTasks,
		Params: []paramSpec{{Name: "tasks", Default: 100_000, Min: 1, Max: 10_000_000}},
	},
	{
		Name: "echo", Run: runEcho, Refuse: refuseEcho,
		Params: []paramSpec{
			{Name: "connections", Default: 100, Min: 1, Max: 100_000},
			{Name: "messages", Default: 1_000, Min: 1, Max: 1_000_000_000},
			{Name: "bytes", Default: 64, Min: 1, Max: 1_048_576},
			{Name: "rate", Default: 0, Min: 0, Max: 1_000_000_000}},
	},
	{
		Name: "idle-connections", Run: runIdleConnections, Prepare: prepareMemoryPerTask, Refuse: refuseIdleConnections,
		Params: []paramSpec{{Name: "connections", Default: 1_000, Min: 1, Max: 100_000}},
	},
	{
		Name: "deep-stack", Run: runDeepStack, Prepare: prepareMemoryPerTask, AliveAtOnce: paramTasks, Refuse: refuseDeepStack,
		Params: []paramSpec{
			{Name: "tasks", Default: 10_000, Min: 1, Max: 1_000_000},
			{Name: "depth-kib", Default: 256, Min: 1, Max: 1_048_576}},
	},
	{
		Name: "blocking-syscall", Run: runBlockingSyscall, Check: checkBlockingSyscall, AliveAtOnce: paramTasks,
		Params: []paramSpec{
			{Name: "tasks", Default: 1_000, Min: 2, Max: 100_000},
			{Name: "blocking", Default: 100, Min: 0, Max: 4_096},
			{Name: "block-us", Default: 1_000, Min: 1, Max: 1_000_000},
			{Name: "steps", Default: 100, Min: 2, Max: 1_000_000_000},
			{Name: "hold-ms", Default: 1_000, Min: 1, Max: 600_000}},
	},
	{
		Name: "hog-latency", Run: runHogLatency,
		Params: []paramSpec{
			{Name: "hogs", Default: 0, Min: 0, Max: 1_024},
			{Name: "hog-ms", Default: 200, Min: 1, Max: 60_000},
			{Name: "ticks", Default: 100, Min: 1, Max: 1_000_000}},
	},
	{
		Name: "fault-deadlock", Run: runFaultDeadlock, TestOnly: true,
		Params: []paramSpec{{Name: "tasks", Default: 1, Min: 1, Max: 1_000}},
	},
}

// testWorkloadsEnabled: SPINDLE_TEST_WORKLOADS=1 shows the test-only workloads.
func testWorkloadsEnabled() bool { return os.Getenv("SPINDLE_TEST_WORKLOADS") == "1" }

// visibleWorkloads is the table without the test-only workloads unless they are enabled.
func visibleWorkloads() []workloadSpec {
	var v []workloadSpec
	for _, w := range workloads {
		if !w.TestOnly || testWorkloadsEnabled() {
			v = append(v, w)
		}
	}
	return v
}

func paramTasks(p params) int64 { return p["tasks"] }

// usageError is bad input from the command line; main prints its message as one line and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// findWorkload returns the named workload or a usage error listing the valid names.
func findWorkload(name string) (*workloadSpec, error) {
	for i := range workloads {
		if workloads[i].Name == name && (!workloads[i].TestOnly || testWorkloadsEnabled()) {
			return &workloads[i], nil
		}
	}
	return nil, usageErrorf("unknown workload %q (valid: %s)", name, workloadNames())
}

func workloadNames() string {
	var names []string
	for _, w := range visibleWorkloads() {
		names = append(names, w.Name)
	}
	return strings.Join(names, ", ")
}

func (w *workloadSpec) paramNames() string {
	names := make([]string, len(w.Params))
	for i, p := range w.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// resolveParams turns the "k=v" strings of --param into the full parameter set of w: every parameter not
// given takes its default. Unknown names, repeated names, non-integers, out-of-range values and
// non-powers of 10 (where required) are usage errors naming the value and the valid choices.
func (w *workloadSpec) resolveParams(assignments []string) (params, error) {
	given := params{}
	for _, a := range assignments {
		key, value, found := strings.Cut(a, "=")
		if !found || key == "" {
			return nil, usageErrorf("malformed --param %q (expected name=value, names for %s: %s)", a, w.Name, w.paramNames())
		}
		spec := w.param(key)
		if spec == nil {
			return nil, usageErrorf("unknown param %q for %s (valid: %s)", key, w.Name, w.paramNames())
		}
		if _, dup := given[key]; dup {
			return nil, usageErrorf("param %q given twice (give each of %s at most once)", key, w.paramNames())
		}
		v, err := spec.parse(value)
		if err != nil {
			return nil, err
		}
		given[key] = v
	}
	resolved := params{}
	for _, spec := range w.Params {
		if v, ok := given[spec.Name]; ok {
			resolved[spec.Name] = v
		} else {
			resolved[spec.Name] = spec.Default
		}
	}
	if w.Check != nil {
		if why := w.Check(resolved); why != "" {
			return nil, usageErrorf("%s params: %s", w.Name, why)
		}
	}
	return resolved, nil
}

func (w *workloadSpec) param(name string) *paramSpec {
	for i := range w.Params {
		if w.Params[i].Name == name {
			return &w.Params[i]
		}
	}
	return nil
}

// parse checks one value against the spec: a decimal integer inside [Min, Max], a power of 10 if required.
func (p *paramSpec) parse(text string) (int64, error) {
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, usageErrorf("param %s=%q is not an integer (valid: %d..%d)", p.Name, text, p.Min, p.Max)
	}
	if v < p.Min || v > p.Max {
		return 0, usageErrorf("param %s=%d out of range (valid: %d..%d)", p.Name, v, p.Min, p.Max)
	}
	if p.PowerOf10 && !isPowerOf10(v) {
		return 0, usageErrorf("param %s=%d is not a power of 10 (valid: 1, 10, 100, ..., %d)", p.Name, v, p.Max)
	}
	return v, nil
}

func isPowerOf10(v int64) bool {
	if v < 1 {
		return false
	}
	for v%10 == 0 {
		v /= 10
	}
	return v == 1
}

// caseName is the case's stable key, e.g. skynet/go/leaves:1000000/workers:2: parameters in table order.
func (w *workloadSpec) caseName(p params, workers int) string {
	var b strings.Builder
	b.WriteString(w.Name)
	b.WriteString("/go")
	for _, spec := range w.Params {
		fmt.Fprintf(&b, "/%s:%d", spec.Name, p[spec.Name])
	}
	fmt.Fprintf(&b, "/workers:%d", workers)
	return b.String()
}
