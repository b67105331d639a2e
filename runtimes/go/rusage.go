// rusage.go — per-repetition process resource usage from getrusage(2) and memory readings from /proc/self:
// context switches and CPU time as deltas, peak RSS as ru_maxrss, RSS/VM size from statm, mapping count.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"syscall"
)

// usageSnapshot is getrusage(RUSAGE_SELF) at one instant.
type usageSnapshot struct {
	userCPU, sysCPU              float64 // seconds
	voluntaryCSW, involuntaryCSW int64
	maxRSSBytes                  int64 // the process's peak RSS so far (ru_maxrss is in KiB on Linux)
}

func readUsage() usageSnapshot {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usageSnapshot{}
	}
	return usageSnapshot{
		userCPU:        timevalSeconds(ru.Utime),
		sysCPU:         timevalSeconds(ru.Stime),
		voluntaryCSW:   int64(ru.Nvcsw),
		involuntaryCSW: int64(ru.Nivcsw),
		maxRSSBytes:    int64(ru.Maxrss) * 1024,
	}
}

func timevalSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// memorySnapshot is the process's resident and virtual size in bytes, from /proc/self/statm.
type memorySnapshot struct {
	rssBytes, vmBytes int64
}

func readMemory() (memorySnapshot, error) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return memorySnapshot{}, err
	}
	var sizePages, residentPages int64
	if _, err := fmt.Sscan(string(data), &sizePages, &residentPages); err != nil {
		return memorySnapshot{}, fmt.Errorf("parsing /proc/self/statm: %w", err)
	}
	page := int64(os.Getpagesize())
	return memorySnapshot{rssBytes: residentPages * page, vmBytes: sizePages * page}, nil
}

// countMappings is the number of lines of /proc/self/maps: the kernel mappings the process holds.
func countMappings() (int64, error) {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	var n int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// resetPeakRSS sets the peak resident set (VmHWM) to the current one (/proc/self/clear_refs 5, Linux >= 4.0),
// as the C++ harness does before each repetition.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// readPeakRSS is VmHWM from /proc/self/status in bytes: the peak RSS since the last resetPeakRSS; the
// process's lifetime peak (ru_maxrss) where VmHWM cannot be read.
func readPeakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var kib int64
			if n, _ := fmt.Sscanf(sc.Text(), "VmHWM: %d kB", &kib); n == 1 {
				return kib * 1024
			}
		}
	}
	return readUsage().maxRSSBytes
}
