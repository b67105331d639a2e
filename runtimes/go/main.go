// main.go — the spindle-go command: parses a case, runs each repetition in this process with GOMAXPROCS =
// --workers, prints ONE Google-Benchmark-format JSON document of Spindle records (docs/results-format.md).
// Exit 0 ok (also for status "limit"), 1 a checksum failed, 2 bad input.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const (
	spindleSchema  = 1
	maxWorkers     = 4096
	maxRepetitions = 10_000
)

// outcome is what one run of a workload reports: its own checksum verdict and what it did.
type outcome struct {
	ChecksumOK   bool
	Reason       string // why the checksum failed; empty when it passed
	Limit        string // why the workload stopped short of its size (status "limit"); empty when it did not
	TasksCreated int64
	Ops          int64
	Memory       *MemoryFigures   // memory-per-task only (its tasks_reached: TasksReached)
	Echo         *EchoFigures     // echo only
	Idle         *IdleFigures     // idle-connections only
	Blocking     *BlockingFigures // blocking-syscall only
	Hog          *HogFigures      // hog-latency only
	Deep         *DeepFigures     // deep-stack only
	// TasksReached: memory-per-task's and deep-stack's goroutines that reached their parking point.
	TasksReached *int64
	// ConnectionsReached: echo's clients that finished all messages, idle-connections' parked goroutines.
	ConnectionsReached *int64
	// ClientProcess (network workloads): 1 when the client side ran in a second process, else 0.
	ClientProcess *int
}

// settle gives the outcome its verdict: the first non-empty problem fails it (the checksum's reason); with
// none, a limit stops it short; with neither, its checksum holds.
func (o *outcome) settle(limit string, problems ...string) {
	for _, p := range problems {
		if p != "" {
			o.Reason = p
			return
		}
	}
	if limit != "" {
		o.Limit = limit
		return
	}
	o.ChecksumOK = true
}

// errText is err's message, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// MemoryFigures are memory-per-task's extra counters.
type MemoryFigures struct {
	RSSBytesPerTask float64 `json:"rss_bytes_per_task"`
	VMBytesPerTask  float64 `json:"vm_bytes_per_task"`
	Mappings        int64   `json:"mappings"`
}

// caseSpec is one fully resolved command line.
type caseSpec struct {
	workload    *workloadSpec
	params      params
	workers     int
	repetitions int
}

type benchmarkContext struct {
	Date          string `json:"date"`
	HostName      string `json:"host_name"`
	Executable    string `json:"executable"`
	NumCPUs       int    `json:"num_cpus"`
	SpindleSchema int    `json:"spindle_schema"`
	GoVersion     string `json:"go_version"`
	GOMAXPROCS    int    `json:"gomaxprocs"`
}

// record is one repetition, in Google Benchmark's field order first, then Spindle's fields and counters.
type record struct {
	Name            string  `json:"name"`
	RunName         string  `json:"run_name"`
	RunType         string  `json:"run_type"`
	Repetitions     int     `json:"repetitions"`
	RepetitionIndex int     `json:"repetition_index"`
	Threads         int     `json:"threads"`
	Iterations      int     `json:"iterations"`
	RealTime        float64 `json:"real_time"`
	CPUTime         float64 `json:"cpu_time"`
	TimeUnit        string  `json:"time_unit"`
	ErrorOccurred   bool    `json:"error_occurred,omitempty"`
	ErrorMessage    string  `json:"error_message,omitempty"`
	CaseID          string  `json:"case_id"`
	Runtime         string  `json:"runtime"`
	Workload        string  `json:"workload"`
	Params          params  `json:"params"`
	Workers         int     `json:"workers"`
	Status          string  `json:"status"`
	Reason          string  `json:"reason,omitempty"`
	ChecksumOK      bool    `json:"checksum_ok"`
	TasksCreated    int64   `json:"tasks_created"`
	GoVersion       string  `json:"go_version"`
	Ops             int64   `json:"ops"`
	NsPerOp         float64 `json:"ns_per_op"`
	OpsPerSecond    float64 `json:"ops_per_second"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
	VoluntaryCSW    int64   `json:"voluntary_csw"`
	InvoluntaryCSW  int64   `json:"involuntary_csw"`
	UserCPUSeconds  float64 `json:"user_cpu_s"`
	SysCPUSeconds   float64 `json:"sys_cpu_s"`
	*MemoryFigures
	*EchoFigures
	*IdleFigures
	*BlockingFigures
	*HogFigures
	*DeepFigures
	TasksReached       *int64 `json:"tasks_reached,omitempty"`
	ConnectionsReached *int64 `json:"connections_reached,omitempty"`
	ClientProcess      *int   `json:"client_process,omitempty"`
}

type document struct {
	Context    benchmarkContext `json:"context"`
	Benchmarks []record         `json:"benchmarks"`
}

const usageLine = "usage: spindle-go --workload W [--param k=v]... [--workers N] [--repetitions N] | spindle-go list | spindle-go version"

func main() {
	if addr := os.Getenv(clientProcessEnv); addr != "" {
		os.Exit(runClientProcess(addr, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 {
		switch args[0] {
		case "version":
			fmt.Fprintln(stdout, runtime.Version())
			return 0
		case "list":
			return printList(stdout, stderr)
		case "-h", "--help", "help":
			fmt.Fprintln(stdout, usageLine)
			return 0
		}
	}
	c, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "spindle-go: %s\n", err)
		return 2
	}
	doc := runCase(c)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "spindle-go: encoding results: %s\n", err)
		return 1
	}
	stdout.Write(append(out, '\n'))
	for _, r := range doc.Benchmarks {
		if r.Status == "failed" {
			return 1
		}
	}
	return 0
}

// parseArgs reads `--workload W [--param k=v]... [--workers N] [--repetitions N]`; each option also
// accepts the `--option=value` form.
func parseArgs(args []string) (caseSpec, error) {
	var workloadName string
	var assignments []string
	workers, repetitions := runtime.NumCPU(), 1
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		option, value, inline := strings.Cut(args[i], "=")
		switch option {
		case "--workload", "--param", "--workers", "--repetitions":
		default:
			return caseSpec{}, usageErrorf("unknown argument %q (valid: --workload, --param, --workers, --repetitions, list, version)", args[i])
		}
		if !inline {
			if i+1 >= len(args) {
				return caseSpec{}, usageErrorf("%s needs a value (%s)", option, usageLine)
			}
			i++
			value = args[i]
		}
		if option != "--param" && seen[option] {
			return caseSpec{}, usageErrorf("%s given twice (give it at most once)", option)
		}
		seen[option] = true
		var err error
		switch option {
		case "--workload":
			workloadName = value
		case "--param":
			assignments = append(assignments, value)
		case "--workers":
			workers, err = parseCount(option, value, maxWorkers)
		case "--repetitions":
			repetitions, err = parseCount(option, value, maxRepetitions)
		}
		if err != nil {
			return caseSpec{}, err
		}
	}
	if workloadName == "" {
		return caseSpec{}, usageErrorf("--workload is required (valid: %s)", workloadNames())
	}
	w, err := findWorkload(workloadName)
	if err != nil {
		return caseSpec{}, err
	}
	p, err := w.resolveParams(assignments)
	if err != nil {
		return caseSpec{}, err
	}
	return caseSpec{workload: w, params: p, workers: workers, repetitions: repetitions}, nil
}

func parseCount(option, text string, max int) (int, error) {
	v, err := strconv.Atoi(text)
	if err != nil || v < 1 || v > max {
		return 0, usageErrorf("%s %q is not an integer in 1..%d", option, text, max)
	}
	return v, nil
}

// runCase runs every repetition and builds the document. GC (and the workload's Prepare) run before each
// repetition, untimed.
func runCase(c caseSpec) document {
	runtime.GOMAXPROCS(c.workers)
	host, _ := os.Hostname()
	exe, _ := os.Executable()
	doc := document{Context: benchmarkContext{
		Date:          time.Now().Format("2006-01-02T15:04:05-07:00"),
		HostName:      host,
		Executable:    exe,
		NumCPUs:       runtime.NumCPU(),
		SpindleSchema: spindleSchema,
		GoVersion:     runtime.Version(),
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
	}, Benchmarks: []record{}}
	name := c.workload.caseName(c.params, c.workers)
	why := ""
	if c.workload.AliveAtOnce != nil {
		why = refuseIfTooBig(c.workload.AliveAtOnce(c.params))
	}
	if why == "" && c.workload.Refuse != nil {
		why = c.workload.Refuse(c.params)
	}
	if why != "" {
		// Refused before it starts: one record, nothing spawned.
		doc.Benchmarks = append(doc.Benchmarks, makeRecord(c, name, 0, outcome{Limit: why}, 0, usageSnapshot{}, usageSnapshot{}))
		return doc
	}
	for rep := 0; rep < c.repetitions; rep++ {
		runtime.GC()
		if c.workload.Prepare != nil {
			c.workload.Prepare()
		}
		usageBefore := readUsage()
		start := time.Now()
		out := c.workload.Run(c.params)
		elapsed := time.Since(start)
		usageAfter := readUsage()
		doc.Benchmarks = append(doc.Benchmarks, makeRecord(c, name, rep, out, elapsed, usageBefore, usageAfter))
	}
	return doc
}

func makeRecord(c caseSpec, name string, rep int, out outcome, elapsed time.Duration, before, after usageSnapshot) record {
	r := record{
		Name: name, RunName: name, RunType: "iteration",
		Repetitions: c.repetitions, RepetitionIndex: rep, Threads: 1, Iterations: 1,
		TimeUnit: "ms", CaseID: name, Runtime: "go", Workload: c.workload.Name,
		Params: c.params, Workers: c.workers, Status: "ok",
		ChecksumOK: out.ChecksumOK, TasksCreated: out.TasksCreated, GoVersion: runtime.Version(),
		Ops:                out.Ops,
		PeakRSSBytes:       after.maxRSSBytes,
		VoluntaryCSW:       after.voluntaryCSW - before.voluntaryCSW,
		InvoluntaryCSW:     after.involuntaryCSW - before.involuntaryCSW,
		UserCPUSeconds:     after.userCPU - before.userCPU,
		SysCPUSeconds:      after.sysCPU - before.sysCPU,
		MemoryFigures:      out.Memory,
		EchoFigures:        out.Echo,
		IdleFigures:        out.Idle,
		BlockingFigures:    out.Blocking,
		HogFigures:         out.Hog,
		DeepFigures:        out.Deep,
		TasksReached:       out.TasksReached,
		ConnectionsReached: out.ConnectionsReached,
		ClientProcess:      out.ClientProcess,
	}
	switch {
	case out.Limit != "":
		r.Status, r.Reason, r.ChecksumOK = "limit", out.Limit, false
	case !out.ChecksumOK:
		r.Status, r.Reason = "failed", out.Reason
	}
	if r.Status != "ok" {
		// A wrong or partial answer is never a time: no timing on a record that is not ok.
		r.ErrorOccurred, r.ErrorMessage = true, r.Reason
		r.Iterations = 0
		return r
	}
	r.RealTime = float64(elapsed.Nanoseconds()) / 1e6
	r.CPUTime = (r.UserCPUSeconds + r.SysCPUSeconds) * 1e3
	if out.Ops > 0 {
		r.NsPerOp = float64(elapsed.Nanoseconds()) / float64(out.Ops)
	}
	if elapsed > 0 {
		r.OpsPerSecond = float64(out.Ops) / elapsed.Seconds()
	}
	return r
}

// printList writes the workload table as JSON: what `spindle list` shows for the go runtime.
func printList(stdout, stderr io.Writer) int {
	out, err := json.MarshalIndent(struct {
		Runtime   string         `json:"runtime"`
		GoVersion string         `json:"go_version"`
		Workloads []workloadSpec `json:"workloads"`
	}{"go", runtime.Version(), visibleWorkloads()}, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "spindle-go: %s\n", err)
		return 1
	}
	stdout.Write(append(out, '\n'))
	return 0
}
