// cpu_work.go — CPU work the compiler cannot fold away, as workloads/cpu_work.h: n steps of a 64-bit LCG
// (Knuth's MMIX constants), and the same LCG jumped ahead n steps in O(log n) to check a spinner's value.
package main

const lcgA, lcgC uint64 = 6364136223846793005, 1442695040888963407

// lcgSteps applies x -> a*x + c (mod 2^64) n times, one step at a time (the work).
func lcgSteps(x, n uint64) uint64 {
	for i := uint64(0); i < n; i++ {
		x = x*lcgA + lcgC
	}
	return x
}

// lcgJump is lcgSteps(x, n) by composing the affine map with itself (square and multiply).
func lcgJump(x, n uint64) uint64 {
	a, c, accA, accC := lcgA, lcgC, uint64(1), uint64(0)
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			accA *= a
			accC = accC*a + c
		}
		c = (a + 1) * c
		a *= a
	}
	return accA*x + accC
}
