// ping_pong.go — ping-pong: `pairs` pairs of goroutines, each pair with two unbuffered channels; the pinger
// sends i, the ponger replies i+1, the pinger checks the reply. Checksum: every one of the
// pairs·round-trips replies was correct.
package main

import (
	"fmt"
	"sync"
)

func runPingPong(p params) outcome {
	pairs, roundTrips := p["pairs"], p["round-trips"]
	correct := make([]int64, pairs) // correct[k]: correct replies seen by pinger k; written only by it
	var wg sync.WaitGroup
	wg.Add(int(2 * pairs))
	for k := int64(0); k < pairs; k++ {
		ping, pong := make(chan int64), make(chan int64)
		go func() { // ponger
			defer wg.Done()
			for i := int64(0); i < roundTrips; i++ {
				pong <- <-ping + 1
			}
		}()
		go func(k int64) { // pinger
			defer wg.Done()
			var ok int64
			for i := int64(0); i < roundTrips; i++ {
				ping <- i
				if <-pong == i+1 {
					ok++
				}
			}
			correct[k] = ok
		}(k)
	}
	wg.Wait()

	var total int64
	for _, c := range correct {
		total += c
	}
	want := pairs * roundTrips
	out := outcome{ChecksumOK: total == want, TasksCreated: 2 * pairs, Ops: want}
	if !out.ChecksumOK {
		out.Reason = fmt.Sprintf("%d of %d round trips got the right reply", total, want)
	}
	return out
}
