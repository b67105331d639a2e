// histogram_test.go — the bucket math exactly as the shared spec states it (C++ uses the same), the
// percentile ranks, merging and the wire form.
package main

import (
	"math"
	"math/bits"
	"math/rand"
	"testing"
)

// specIndex and specValue are the spec's words, written out independently of histogram.go.
func specIndex(v uint64) int {
	if v < 128 {
		return int(v)
	}
	msb := bits.Len64(v) - 1
	shift := msb - 6
	return 64*shift + int(v>>shift)
}

func specValue(v uint64) uint64 {
	if v < 128 {
		return v
	}
	shift := bits.Len64(v) - 1 - 6
	return (((v >> shift) + 1) << shift) - 1
}

func TestBucketIndexAndValueKnownPoints(t *testing.T) {
	cases := []struct {
		v     uint64
		index int
		value uint64
	}{
		{0, 0, 0}, {1, 1, 1}, {127, 127, 127},
		{128, 128, 129}, {129, 128, 129}, {130, 129, 131}, {255, 191, 255},
		{256, 192, 259}, {259, 192, 259}, {260, 193, 263}, {511, 255, 511}, {512, 256, 519},
		{1000, 64*3 + 125, 1007},
		{1 << 20, 64*14 + 64, (65 << 14) - 1},
		{math.MaxUint64, 64*57 + 127, math.MaxUint64},
	}
	for _, c := range cases {
		if got := bucketIndex(c.v); got != c.index {
			t.Errorf("bucketIndex(%d) = %d, want %d", c.v, got, c.index)
		}
		if got := bucketValue(bucketIndex(c.v)); got != c.value {
			t.Errorf("reported value of %d = %d, want %d", c.v, got, c.value)
		}
	}
	if histogramBuckets != bucketIndex(math.MaxUint64)+1 {
		t.Errorf("histogramBuckets %d, want %d", histogramBuckets, bucketIndex(math.MaxUint64)+1)
	}
}

func TestBucketsMatchTheSpecAndAreContiguous(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	check := func(v uint64) {
		i := bucketIndex(v)
		if i != specIndex(v) || bucketValue(i) != specValue(v) {
			t.Fatalf("v %d: index %d value %d, spec %d %d", v, i, bucketValue(i), specIndex(v), specValue(v))
		}
		if v >= 128 {
			// Relative precision 1/64: the reported value exceeds v by less than v/64.
			if d := bucketValue(i) - v; d > v>>6 {
				t.Fatalf("v %d reported as %d: more than 1/64 above", v, bucketValue(i))
			}
		}
	}
	for v := uint64(0); v < 1<<16; v++ {
		check(v)
	}
	for k := 0; k < 200_000; k++ {
		check(r.Uint64() >> uint(r.Intn(64)))
	}
	// Every bucket is [value(i-1)+1, value(i)]: no gaps, no overlaps, indices 0..3775 all used.
	for i := 0; i < histogramBuckets; i++ {
		hi := bucketValue(i)
		if bucketIndex(hi) != i {
			t.Fatalf("bucket %d's highest value %d maps to bucket %d", i, hi, bucketIndex(hi))
		}
		if i+1 < histogramBuckets && bucketIndex(hi+1) != i+1 {
			t.Fatalf("value %d after bucket %d maps to %d", hi+1, i, bucketIndex(hi+1))
		}
	}
}

func TestPercentileRanks(t *testing.T) {
	var h histogram
	for v := uint64(1); v <= 1000; v++ {
		h.record(v)
	}
	// rank = ceil(p/100 * 1000): 500, 900, 990, 999.
	for _, c := range []struct{ perMille, v uint64 }{{500, 500}, {900, 900}, {990, 990}, {999, 999}} {
		if got, want := h.percentile(c.perMille), bucketValue(bucketIndex(c.v)); got != want {
			t.Errorf("p%v of 1..1000 = %d, want %d", float64(c.perMille)/10, got, want)
		}
	}
	if h.max != 1000 || h.total != 1000 {
		t.Errorf("max %d total %d", h.max, h.total)
	}

	// Ten values: p99.9's rank is ceil(9.99) = 10, the largest; p50's is 5.
	var ten histogram
	for v := uint64(10); v <= 100; v += 10 {
		ten.record(v)
	}
	if ten.percentile(999) != 100 || ten.percentile(500) != 50 || ten.percentile(900) != 90 {
		t.Errorf("ten values: p50 %d p90 %d p99.9 %d", ten.percentile(500), ten.percentile(900), ten.percentile(999))
	}
	// Three values: p50's rank is ceil(1.5) = 2; p99 is the top bucket, capped at the exact max.
	var three histogram
	for _, v := range []uint64{7, 3000, 5} {
		three.record(v)
	}
	if three.percentile(500) != 7 || three.max != 3000 || three.percentile(990) != min(bucketValue(bucketIndex(3000)), 3000) {
		t.Errorf("three values: p50 %d p99 %d max %d", three.percentile(500), three.percentile(990), three.max)
	}
	var empty histogram
	if empty.percentile(500) != 0 || empty.max != 0 {
		t.Error("an empty histogram reports non-zero")
	}
}

func TestMergeAndWireForm(t *testing.T) {
	var a, b, all histogram
	r := rand.New(rand.NewSource(2))
	for k := 0; k < 5000; k++ {
		v := uint64(r.Int63n(1 << uint(1+r.Intn(40))))
		if k%2 == 0 {
			a.record(v)
		} else {
			b.record(v)
		}
		all.record(v)
	}
	var merged histogram
	merged.merge(&a)
	merged.merge(&b)
	if merged.total != all.total || merged.max != all.max {
		t.Fatalf("merged total %d max %d, want %d %d", merged.total, merged.max, all.total, all.max)
	}
	for _, p := range []uint64{500, 900, 990, 999, 1000} {
		if merged.percentile(p) != all.percentile(p) {
			t.Errorf("p %d: merged %d, recorded together %d", p, merged.percentile(p), all.percentile(p))
		}
	}
	back, err := histogramFromJSON(merged.toJSON())
	if err != nil {
		t.Fatal(err)
	}
	if back.total != all.total || back.max != all.max || back.percentile(990) != all.percentile(990) {
		t.Errorf("after the wire: total %d max %d", back.total, back.max)
	}
	if _, err := histogramFromJSON(histogramJSON{Buckets: [][2]uint64{{5, 1}}, Total: 2}); err == nil {
		t.Error("a total that disagrees with the buckets was accepted")
	}
	if _, err := histogramFromJSON(histogramJSON{Buckets: [][2]uint64{{histogramBuckets, 1}}, Total: 1}); err == nil {
		t.Error("a bucket past the last was accepted")
	}
}

func TestHistogramWindowGrowsBothWays(t *testing.T) {
	var h histogram
	for _, v := range []uint64{1 << 20, 1 << 10, 1 << 30, 5} {
		h.record(v)
	}
	if h.first != 5 || len(h.counts) != bucketIndex(1<<30)-5+1 || h.total != 4 {
		t.Fatalf("first %d len %d total %d", h.first, len(h.counts), h.total)
	}
	if h.percentile(250) != 5 || h.percentile(500) != bucketValue(bucketIndex(1<<10)) || h.percentile(1000) != min(bucketValue(bucketIndex(1<<30)), 1<<30) {
		t.Errorf("percentiles %d %d %d", h.percentile(250), h.percentile(500), h.percentile(1000))
	}
}
