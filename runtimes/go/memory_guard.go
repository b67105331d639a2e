// memory_guard.go — keeps a case from taking the machine down: one whose goroutines cannot fit is refused
// up front, and workloads holding many goroutines stop spawning once the process outgrows the memory that
// was available. Both are recorded as status "limit", never run smaller in silence.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// minGoroutineStackBytes is the Go runtime's initial goroutine stack (runtime's stackMin, 2 KiB): a lower
// bound on what each live goroutine costs, so a refusal based on it never refuses a case that could fit.
const minGoroutineStackBytes = 2048

// memoryReserveFraction: a watched workload leaves MemTotal/memoryReserveFraction to everything else.
const memoryReserveFraction = 10 // 1/10

// meminfo is the part of /proc/meminfo the guard (and idle-connections: Slab) needs, in bytes.
type meminfo struct {
	totalBytes, availableBytes, slabBytes int64
}

func readMeminfo() (meminfo, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return meminfo{}, err
	}
	defer f.Close()
	var m meminfo
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text()) // "MemAvailable:   24156088 kB"
		if len(fields) < 2 {
			continue
		}
		var dst *int64
		switch fields[0] {
		case "MemTotal:":
			dst = &m.totalBytes
		case "MemAvailable:":
			dst = &m.availableBytes
		case "Slab:":
			dst = &m.slabBytes
		default:
			continue
		}
		kib, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return meminfo{}, fmt.Errorf("parsing /proc/meminfo %q: %w", sc.Text(), err)
		}
		*dst = kib * 1024
		found++
	}
	if err := sc.Err(); err != nil {
		return meminfo{}, err
	}
	if found != 3 {
		return meminfo{}, fmt.Errorf("/proc/meminfo lacks MemTotal, MemAvailable or Slab")
	}
	return m, nil
}

// refuseIfTooBig returns why a case cannot fit: `alive` goroutines live at once need at least
// alive·2 KiB of stack. It returns "" when the case may run or memory cannot be read.
func refuseIfTooBig(alive int64) string {
	m, err := readMeminfo()
	if err != nil {
		return ""
	}
	need := alive * minGoroutineStackBytes
	if need > m.availableBytes {
		return fmt.Sprintf("%d goroutines alive at once need at least %d bytes of stack (2 KiB each), MemAvailable is %d bytes",
			alive, need, m.availableBytes)
	}
	return ""
}

// memoryWatch tells a spawning loop when the process has grown by more than it may: MemAvailable at the
// start minus a reserve of MemTotal/memoryReserveFraction. While it watches it reads only the peak RSS
// from getrusage (about 2 µs; /proc/meminfo costs about 100 µs and statm 30 µs on the test machine). The
// peak never falls, so after an earlier, bigger repetition it may stop early, never late.
type memoryWatch struct {
	startRSSBytes int64
	budgetBytes   int64 // how much the RSS may grow; < 0: memory could not be read, never stop
}

// startMemoryWatch is newMemoryWatch; tests replace it to force a limit.
var startMemoryWatch = newMemoryWatch

func newMemoryWatch() memoryWatch {
	m, errInfo := readMeminfo()
	rss, errRSS := readMemory()
	if errInfo != nil || errRSS != nil {
		return memoryWatch{budgetBytes: -1}
	}
	budget := m.availableBytes - m.totalBytes/memoryReserveFraction
	if budget < 0 {
		budget = 0
	}
	return memoryWatch{startRSSBytes: rss.rssBytes, budgetBytes: budget}
}

// exhausted returns why spawning must stop, or "" while the process is inside its budget.
func (w memoryWatch) exhausted() string {
	if w.budgetBytes < 0 {
		return ""
	}
	grown := readUsage().maxRSSBytes - w.startRSSBytes
	if grown <= w.budgetBytes {
		return ""
	}
	return fmt.Sprintf("RSS grew by %d bytes, over the %d bytes that were available (MemAvailable minus MemTotal/%d)",
		grown, w.budgetBytes, memoryReserveFraction)
}

// memoryCheckEvery is how many goroutines a watched loop starts between two looks at the watch.
const memoryCheckEvery = 16_384

// spawnWatched starts goroutines [0, n) by calling startBatch(from, to) on consecutive ranges of at most
// memoryCheckEvery, looking at the memory watch between ranges. It returns how many it started and, when it
// stopped short of n, why.
func spawnWatched(n int64, startBatch func(from, to int64)) (started int64, limit string) {
	watch := startMemoryWatch()
	for started < n {
		to := started + memoryCheckEvery
		if to > n {
			to = n
		}
		startBatch(started, to)
		started = to
		if started < n {
			if why := watch.exhausted(); why != "" {
				return started, fmt.Sprintf("stopped at %d of %d goroutines: %s", started, n, why)
			}
		}
	}
	return started, ""
}
