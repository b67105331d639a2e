// deep_stack.go — deep-stack: `tasks` goroutines each recurse `depth-kib` KiB deep (1 KiB frames), return to
// their shallow entry frame and park on one shared channel; the RSS is read once all are parked, then again
// after garbage collections, then the channel is closed to release them. A port of workloads/deep_stack.h:
// same frames, same seeds, same checksum.
//
// Go grows a goroutine's stack by copying it into one twice the size (2 KiB → … → the next power of two
// above the depth) and shrinks it only during a GC's stack scan, to half, when the goroutine uses less than
// a quarter of it. So the figure after the excursion (before any GC) keeps the grown stacks, and
// rss_bytes_per_parked_task_after_gc is read after as many runtime.GC() cycles as halvings take the stack
// back to 2 KiB, plus debug.FreeOSMemory() so the freed stack spans are returned to the OS (without it they
// stay resident in Go's heap, ready for reuse, and the RSS would not show the shrinking).
package main

import (
	"fmt"
	"math/bits"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

const (
	deepFrameBytes    = 1024
	deepWordsPerFrame = deepFrameBytes / 8
	deepWordStride    = 8 // one word written per 64-byte line: every page of the frame is touched
	// deepHeadroomBytes: as DeepStack::kHeadroomBytes, the stack beyond the depth for entry frames.
	deepHeadroomBytes = 32 * 1024
	// goMaxStackBytes: the Go runtime's default maximum goroutine stack on 64-bit (runtime/debug.SetMaxStack).
	goMaxStackBytes = 1_000_000_000
	goMinStackBytes = 2048
)

// DeepFigures are deep-stack's extra counters.
type DeepFigures struct {
	DeepNsPerTask              float64 `json:"deep_ns_per_task"`
	RSSBytesPerParkedAfterDeep float64 `json:"rss_bytes_per_parked_task_after_deep"`
	RSSBytesPerParkedAfterGC   float64 `json:"rss_bytes_per_parked_task_after_gc"`
	PeakRSSBytesPerTask        float64 `json:"peak_rss_bytes_per_task"`
	GCCycles                   int64   `json:"gc_cycles"`
}

func deepNextSeed(seed uint64) uint64 { return seed*6364136223846793005 + 1442695040888963407 }

// deepDescend is `frames` nested calls of one 1 KiB array each, written before the call and read back after
// it, so every frame stays live across the call below; noinline keeps each call a real frame.
//
//go:noinline
func deepDescend(frames, seed uint64) uint64 {
	var frame [deepWordsPerFrame]uint64
	for i := 0; i < deepWordsPerFrame; i += deepWordStride {
		frame[i] = seed + uint64(i)
	}
	var sum uint64
	if frames > 1 {
		sum = deepDescend(frames-1, deepNextSeed(seed))
	}
	for i := 0; i < deepWordsPerFrame; i += deepWordStride {
		sum += frame[i]
	}
	return sum
}

// deepExpected is deepDescend's answer without recursion.
func deepExpected(frames, seed uint64) uint64 {
	var sum uint64
	for f := uint64(0); f < frames; f++ {
		for i := 0; i < deepWordsPerFrame; i += deepWordStride {
			sum += seed + uint64(i)
		}
		seed = deepNextSeed(seed)
	}
	return sum
}

// deepStackBytes is the stack a goroutine needs for the case (as the C++ requirement: depth + 1/16 + 32 KiB).
func deepStackBytes(p params) int64 {
	depth := p["depth-kib"] * 1024
	return depth + depth/16 + deepHeadroomBytes
}

// deepGrownStackBytes is the stack Go grows to for `need` bytes: the next power of two, from 2 KiB.
func deepGrownStackBytes(need int64) int64 {
	size := int64(goMinStackBytes)
	for size < need {
		size *= 2
	}
	return size
}

// refuseDeepStack: a stack that would grow past Go's maximum kills the process ("goroutine stack exceeds
// 1000000000-byte limit"), so such a case is a limit; so is one whose stacks cannot fit in memory.
func refuseDeepStack(p params) string {
	need := deepStackBytes(p)
	if grown := deepGrownStackBytes(need); grown > goMaxStackBytes {
		return fmt.Sprintf("a goroutine %d KiB deep grows its stack (by doubling) to %d bytes, over Go's maximum of %d bytes (runtime/debug.SetMaxStack)",
			p["depth-kib"], grown, goMaxStackBytes)
	}
	m, err := readMeminfo()
	if err != nil {
		return ""
	}
	if total := p["tasks"] * need; total > m.availableBytes/10*8 {
		return fmt.Sprintf("%d stacks touched %d KiB deep need %d MiB resident, more than 80%% of MemAvailable=%d MiB",
			p["tasks"], need>>10, total>>20, m.availableBytes>>20)
	}
	return ""
}

func runDeepStack(p params) outcome {
	tasks := p["tasks"]
	frames := uint64(p["depth-kib"]) * 1024 / deepFrameBytes
	before, err := readMemory()
	if err != nil {
		return outcome{Reason: err.Error()}
	}
	resetPeakRSS()

	var reachedCount, wokeCount atomic.Int64
	var sum atomic.Uint64
	var back, exited sync.WaitGroup
	release := make(chan struct{})
	start := time.Now()
	spawned, limit := spawnWatched(tasks, func(from, to int64) {
		back.Add(int(to - from))
		exited.Add(int(to - from))
		for i := from; i < to; i++ {
			go func(seed uint64) {
				sum.Add(deepDescend(frames, seed))
				reachedCount.Add(1)
				back.Done()
				<-release
				wokeCount.Add(1)
				exited.Done()
			}(uint64(i))
		}
	})
	back.Wait()
	deep := time.Since(start)
	afterDeep, errDeep := readMemory()
	// Each GC halves a parked goroutine's stack at most once: log2(grown / 2 KiB) cycles bring it to 2 KiB.
	cycles := bits.Len64(uint64(deepGrownStackBytes(deepStackBytes(p)) / goMinStackBytes))
	for c := 0; c < cycles; c++ {
		runtime.GC()
	}
	debug.FreeOSMemory()
	afterGC, errGC := readMemory()
	peak := readPeakRSS()
	reached := reachedCount.Load()
	close(release)
	exited.Wait()

	perTask := func(a, b int64) float64 {
		if a <= b {
			return 0
		}
		return float64(a-b) / float64(spawned)
	}
	out := outcome{TasksCreated: spawned, Ops: spawned, TasksReached: &reached, Deep: &DeepFigures{
		DeepNsPerTask:              float64(deep.Nanoseconds()) / float64(spawned),
		RSSBytesPerParkedAfterDeep: perTask(afterDeep.rssBytes, before.rssBytes),
		RSSBytesPerParkedAfterGC:   perTask(afterGC.rssBytes, before.rssBytes),
		PeakRSSBytesPerTask:        perTask(peak, before.rssBytes),
		GCCycles:                   int64(cycles + 1),
	}}
	var want uint64
	for i := int64(0); i < spawned; i++ {
		want += deepExpected(frames, uint64(i))
	}
	mismatch := ""
	switch {
	case sum.Load() != want:
		mismatch = fmt.Sprintf("sum over every frame of every goroutine: expected %d, got %d", int64(want), int64(sum.Load()))
	case reached != spawned || wokeCount.Load() != spawned:
		mismatch = fmt.Sprintf("%d goroutines back from their excursion and %d released, want %d", reached, wokeCount.Load(), spawned)
	}
	out.settle(limit, errText(errDeep), errText(errGC), mismatch)
	return out
}
