// histogram.go — the latency histogram shared with the C++ workloads: log-bucketed, values in ns as uint64,
// relative precision 1/64 (1.6 %; HdrHistogram with 2 significant binary digits' worth, 64 sub-buckets per
// power of two). Bucket of v: v itself for v < 128; otherwise, with msb = bits.Len64(v)-1 (>= 7) and
// shift = msb-6, 64*shift + (v >> shift) (v >> shift is in [64, 128)). A bucket reports its highest
// equivalent value: v for v < 128, else (((v >> shift) + 1) << shift) - 1. Percentile p: the reported value
// of the first bucket whose cumulative count reaches ceil(p/100 * total), capped at the exact maximum.
package main

import (
	"fmt"
	"math/bits"
)

// histogramBuckets: the index of 2^64-1 is 64*57 + 127 = 3775.
const histogramBuckets = 64*57 + 128

// bucketIndex is the bucket of v.
func bucketIndex(v uint64) int {
	if v < 128 {
		return int(v)
	}
	shift := bits.Len64(v) - 7 // msb - 6
	return 64*shift + int(v>>shift)
}

// bucketValue is the highest value that falls in bucket i.
func bucketValue(i int) uint64 {
	if i < 128 {
		return uint64(i)
	}
	shift := i/64 - 1
	mantissa := uint64(i%64 + 64)
	return ((mantissa + 1) << shift) - 1 // wraps to 2^64-1 for the last bucket, as it should
}

// histogram counts values in buckets. It keeps only the window of buckets between the lowest and the
// highest one used (a client's latencies span a few hundred buckets, so 10,000 clients' histograms stay
// small); counts are uint64.
type histogram struct {
	first  int      // the bucket index of counts[0]
	counts []uint64 // counts[k] is the count of bucket first+k
	total  uint64
	max    uint64
}

// record adds one value.
func (h *histogram) record(v uint64) {
	h.add(bucketIndex(v), 1)
	if v > h.max {
		h.max = v
	}
}

// add adds count values to bucket i (the max is the caller's business).
func (h *histogram) add(i int, count uint64) {
	if count == 0 {
		return
	}
	switch {
	case len(h.counts) == 0:
		h.first = i
		h.counts = make([]uint64, 1, 16)
	case i < h.first:
		grown := make([]uint64, h.first-i+len(h.counts), h.first-i+cap(h.counts))
		copy(grown[h.first-i:], h.counts)
		h.counts, h.first = grown, i
	case i >= h.first+len(h.counts):
		h.counts = append(h.counts, make([]uint64, i-h.first-len(h.counts)+1)...)
	}
	h.counts[i-h.first] += count
	h.total += count
}

// merge adds every count of o to h.
func (h *histogram) merge(o *histogram) {
	for k, c := range o.counts {
		h.add(o.first+k, c)
	}
	if o.max > h.max {
		h.max = o.max
	}
}

// percentile is the reported value of the first bucket whose cumulative count reaches
// ceil(perMille/1000 * total), computed in integers (perMille 500, 900, 990, 999 for p50 ... p99.9);
// 0 for an empty histogram.
func (h *histogram) percentile(perMille uint64) uint64 {
	if h.total == 0 {
		return 0
	}
	hi, lo := bits.Mul64(perMille, h.total)
	lo, carry := bits.Add64(lo, 999, 0)
	rank, _ := bits.Div64(hi+carry, lo, 1000)
	if rank == 0 {
		rank = 1
	}
	var cumulative uint64
	for k, c := range h.counts {
		cumulative += c
		if cumulative >= rank {
			return min(bucketValue(h.first+k), h.max) // never above the maximum, as in C++
		}
	}
	return h.max
}

// histogramJSON is a histogram on the wire between the echo client process and its parent: the non-empty
// buckets as [index, count] pairs, the total and the exact max.
type histogramJSON struct {
	Buckets [][2]uint64 `json:"buckets"`
	Total   uint64      `json:"total"`
	Max     uint64      `json:"max"`
}

func (h *histogram) toJSON() histogramJSON {
	out := histogramJSON{Buckets: [][2]uint64{}, Total: h.total, Max: h.max}
	for k, c := range h.counts {
		if c != 0 {
			out.Buckets = append(out.Buckets, [2]uint64{uint64(h.first + k), c})
		}
	}
	return out
}

func histogramFromJSON(j histogramJSON) (histogram, error) {
	var h histogram
	for _, b := range j.Buckets {
		if b[0] >= histogramBuckets {
			return histogram{}, fmt.Errorf("histogram bucket %d out of range (0..%d)", b[0], histogramBuckets-1)
		}
		h.add(int(b[0]), b[1])
	}
	if h.total != j.Total {
		return histogram{}, fmt.Errorf("histogram buckets add up to %d, total says %d", h.total, j.Total)
	}
	h.max = j.Max
	return h, nil
}
