// blocking_syscall.go — blocking-syscall, as workloads/blocking_syscall.h: `tasks` goroutines, `blocking` of
// them in a loop of plain blocking read(2) calls on a pipe of their own (syscall.Pipe2 + syscall.Read, not
// os.File, so the read is a blocking system call the Go runtime only sees as "in a syscall", never the
// netpoller), each read answered by a byte written `block-us` microseconds after the goroutine asked for it
// (time.AfterFunc), its value the call's sequence number mod 256; back to back, no Gosched between two reads,
// until every stepping goroutine has finished or `hold-ms` has passed. The other tasks - blocking goroutines do `steps`
// steps of LCG work (256 steps) and a hand-off with their partner (i^1, an odd one out with itself) over
// capacity-1 channels. op = one step. Counters: steps_per_second (steps over start .. last stepping
// goroutine done), step_gap_p50/p99/max_ns (histogram.go; per-goroutine histograms merged), blocking_calls.
// Checksum: every step got the partner's step number, every pipe byte came back with its value.
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// BlockingFigures are blocking-syscall's counters.
type BlockingFigures struct {
	StepsPerSecond float64 `json:"steps_per_second"`
	StepGapP50Ns   uint64  `json:"step_gap_p50_ns"`
	StepGapP99Ns   uint64  `json:"step_gap_p99_ns"`
	StepGapMaxNs   uint64  `json:"step_gap_max_ns"`
	BlockingCalls  int64   `json:"blocking_calls"`
}

// blockingWorkRounds is the CPU part of a step, as in C++.
const blockingWorkRounds = 256

// checkBlockingSyscall is the rule across params: at least one task must step.
func checkBlockingSyscall(p params) string {
	if p["blocking"] < p["tasks"] {
		return ""
	}
	return fmt.Sprintf("blocking=%d must be less than tasks=%d (at least one task must step)", p["blocking"], p["tasks"])
}

func runBlockingSyscall(p params) outcome {
	tasks, blocking, steps := p["tasks"], p["blocking"], p["steps"]
	stepping := tasks - blocking
	block := time.Duration(p["block-us"]) * time.Microsecond
	hold := time.Duration(p["hold-ms"]) * time.Millisecond
	pipes := make([][2]int, blocking)
	for i := range pipes {
		if err := syscall.Pipe2(pipes[i][:], syscall.O_CLOEXEC); err != nil {
			return outcome{Reason: fmt.Sprintf("pipe2: %v", err)}
		}
	}
	defer func() {
		for _, fds := range pipes {
			syscall.Close(fds[0])
			syscall.Close(fds[1])
		}
	}()
	inbox := make([]chan int64, stepping)
	for i := range inbox {
		inbox[i] = make(chan int64, 1)
	}
	gaps := make([]histogram, stepping)
	var stop atomic.Bool
	var calls, goodBytes, written, goodSteps atomic.Int64
	var sink atomic.Uint64
	var blockingDone, steppingDone, writers sync.WaitGroup

	start := time.Now()
	giveUp := start.Add(hold)
	blockingDone.Add(int(blocking))
	for b := range pipes {
		go func(rfd, wfd int) {
			defer blockingDone.Done()
			var n, good int64
			buf := []byte{0}
			for {
				value := byte(n)
				writers.Add(1)
				time.AfterFunc(block, func() {
					defer writers.Done()
					if k, err := syscall.Write(wfd, []byte{value}); k == 1 && err == nil {
						written.Add(1)
					}
				})
				k, err := syscall.Read(rfd, buf) // the plain blocking call
				for err == syscall.EINTR {
					k, err = syscall.Read(rfd, buf)
				}
				if k == 1 && err == nil && buf[0] == value {
					good++
				}
				n++
				if stop.Load() || !time.Now().Before(giveUp) {
					break
				}
			}
			calls.Add(n)
			goodBytes.Add(good)
		}(pipes[b][0], pipes[b][1])
	}
	steppingDone.Add(int(stepping))
	for i := int64(0); i < stepping; i++ {
		go func(i int64) {
			defer steppingDone.Done()
			mine, partner := inbox[i], inbox[i]
			if i^1 < stepping {
				partner = inbox[i^1]
			}
			x, good, h := uint64(i), int64(0), &gaps[i]
			var last time.Time
			for s := int64(0); s < steps; s++ {
				x = lcgSteps(x, blockingWorkRounds)
				partner <- s
				if <-mine == s {
					good++
				}
				now := time.Now()
				if s > 0 {
					h.record(uint64(now.Sub(last)))
				}
				last = now
			}
			sink.Add(x)
			goodSteps.Add(good)
		}(i)
	}
	steppingDone.Wait()
	elapsed := time.Since(start)
	stop.Store(true)
	blockingDone.Wait()
	writers.Wait()

	var all histogram
	for i := range gaps {
		all.merge(&gaps[i])
	}
	figures := &BlockingFigures{
		StepGapP50Ns: all.percentile(500), StepGapP99Ns: all.percentile(990), StepGapMaxNs: all.max,
		BlockingCalls: calls.Load(),
	}
	if elapsed > 0 {
		figures.StepsPerSecond = float64(stepping*steps) / elapsed.Seconds()
	}
	out := outcome{ChecksumOK: true, TasksCreated: tasks, Ops: stepping * steps, Blocking: figures}
	out.expect("steps that got the partner's step number", stepping*steps, goodSteps.Load())
	out.expect("pipe bytes read back with their value", calls.Load(), goodBytes.Load())
	out.expect("pipe bytes written", calls.Load(), written.Load())
	out.expect("step gaps recorded", stepping*(steps-1), int64(all.total))
	if sink.Load() == 0x5EED {
		out.Reason += " " // keeps the CPU work observable
	}
	return out
}

// expect records a failed check in the outcome (the C++ workloads' expect).
func (o *outcome) expect(what string, want, got int64) {
	if want == got {
		return
	}
	o.ChecksumOK = false
	if o.Reason != "" {
		o.Reason += "; "
	}
	o.Reason += fmt.Sprintf("%s: expected %d, got %d", what, want, got)
}
