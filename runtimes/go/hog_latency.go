// hog_latency.go — hog-latency, as workloads/hog_latency.h: `hogs` goroutines (0 = GOMAXPROCS) spin an LCG
// for `hog-ms` without a function call or channel operation in the loop, 1024 steps between two clock reads,
// while one ticker goroutine, started first, sleeps 1 ms `ticks` times. Lateness of tick k = (end of tick k
// - end of tick k-1) - 1 ms, tick 0 counted from the ticker's start; nothing clipped. Go's asynchronous
// preemption (since Go 1.14) is what keeps the ticker on time. op = one tick. Counters: lateness_p50/p99/
// max_ns (histogram.go), hogs, hog_spins. Checksum: every tick counted, every hog spun at least hog-ms by its
// own clock, and each hog's final LCG value equals the LCG jumped ahead by its step count.
package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// HogFigures are hog-latency's counters.
type HogFigures struct {
	LatenessP50Ns uint64 `json:"lateness_p50_ns"`
	LatenessP99Ns uint64 `json:"lateness_p99_ns"`
	LatenessMaxNs uint64 `json:"lateness_max_ns"`
	Hogs          int64  `json:"hogs"`
	HogSpins      uint64 `json:"hog_spins"`
}

const hogSpinSteps = 1024

func runHogLatency(p params) outcome {
	hogs, ticks := p["hogs"], p["ticks"]
	if hogs == 0 {
		hogs = int64(runtime.GOMAXPROCS(0))
	}
	hogTime := time.Duration(p["hog-ms"]) * time.Millisecond
	var lateness histogram // the ticker's alone; read after wg.Wait
	var ticked, longEnough, rightValue atomic.Int64
	var spins atomic.Uint64
	var wg sync.WaitGroup
	wg.Add(int(hogs + 1))
	spawned := time.Now()
	go func() {
		defer wg.Done()
		last := spawned
		for k := int64(0); k < ticks; k++ {
			time.Sleep(time.Millisecond)
			now := time.Now()
			lateness.record(uint64(max(now.Sub(last)-time.Millisecond, 0)))
			last = now
			ticked.Add(1)
		}
	}()
	for h := int64(0); h < hogs; h++ {
		go func(h int64) {
			defer wg.Done()
			seed := 0x9E3779B97F4A7C15 * uint64(h+1)
			x, rounds := seed, uint64(0)
			start := time.Now()
			now := start
			for now.Sub(start) < hogTime {
				for i := 0; i < hogSpinSteps; i++ { // inlined by hand: no call, no scheduling point
					x = x*lcgA + lcgC
				}
				rounds++
				now = time.Now()
			}
			if now.Sub(start) >= hogTime {
				longEnough.Add(1)
			}
			if x == lcgJump(seed, rounds*hogSpinSteps) {
				rightValue.Add(1)
			}
			spins.Add(rounds * hogSpinSteps)
		}(h)
	}
	wg.Wait()
	out := outcome{ChecksumOK: true, TasksCreated: hogs + 1, Ops: ticks, Hog: &HogFigures{
		LatenessP50Ns: lateness.percentile(500), LatenessP99Ns: lateness.percentile(990),
		LatenessMaxNs: lateness.max, Hogs: hogs, HogSpins: spins.Load(),
	}}
	out.expect("ticks", ticks, ticked.Load())
	out.expect("hogs that spun at least hog-ms", hogs, longEnough.Load())
	out.expect("hogs whose LCG value checks", hogs, rightValue.Load())
	return out
}
