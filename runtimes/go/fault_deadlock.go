// fault_deadlock.go — fault-deadlock, test only (listed and run only with SPINDLE_TEST_WORKLOADS=1, as the
// harness's fault workloads): `tasks` goroutines and the main one all wait on channels nobody sends to, with
// no timer and no socket, so the Go runtime finds every goroutine asleep and dies with "fatal error: all
// goroutines are asleep - deadlock!" (exit 2). The harness turns that line into the case's failure reason
// (runtime.json: fatal_line_prefixes).
package main

import "sync"

func runFaultDeadlock(p params) outcome {
	var wg sync.WaitGroup
	wg.Add(int(p["tasks"]))
	for i := int64(0); i < p["tasks"]; i++ {
		never := make(chan int64)
		go func() {
			defer wg.Done()
			<-never
		}()
	}
	wg.Wait()
	return outcome{Reason: "fault-deadlock returned: the goroutines were not all asleep"}
}
