// net_test.go — echo and idle-connections at small sizes, in one process and with the client side in a
// second process (this test binary, re-executed: TestMain dispatches it), their limits, and faults that must
// fail the run with a reason, never hang it.
package main

import (
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// withFileLimit makes netPlan see `soft` descriptors.
func withFileLimit(t *testing.T, soft uint64) {
	old := fileLimitForTests
	fileLimitForTests = soft
	t.Cleanup(func() { fileLimitForTests = old })
}

func TestEchoSmall(t *testing.T) {
	cases := []params{
		{"connections": 1, "messages": 1, "bytes": 1, "rate": 0},
		{"connections": 7, "messages": 300, "bytes": 64, "rate": 0},
		{"connections": 3, "messages": 20, "bytes": 300_000, "rate": 0},
		{"connections": 5, "messages": 40, "bytes": 100, "rate": 2_000},
	}
	for _, p := range cases {
		for _, workers := range []int{1, 2} {
			old := runtime.GOMAXPROCS(workers)
			out := runEcho(p)
			runtime.GOMAXPROCS(old)
			checkEcho(t, p, out, false)
		}
	}
}

func checkEcho(t *testing.T, p params, out outcome, twoProcesses bool) {
	t.Helper()
	if !out.ChecksumOK || out.Reason != "" || out.Limit != "" {
		t.Fatalf("echo %v: checksum %v reason %q limit %q", p, out.ChecksumOK, out.Reason, out.Limit)
	}
	if out.TasksCreated != 2*p["connections"] || out.Ops != p["connections"]*p["messages"] {
		t.Errorf("echo %v: tasks_created %d ops %d", p, out.TasksCreated, out.Ops)
	}
	if out.ConnectionsReached == nil || *out.ConnectionsReached != p["connections"] {
		t.Errorf("echo %v: connections_reached %v", p, out.ConnectionsReached)
	}
	if out.ClientProcess == nil || (*out.ClientProcess == 1) != twoProcesses {
		t.Errorf("echo %v: client_process %v, want a second process: %v", p, out.ClientProcess, twoProcesses)
	}
	f := out.Echo
	if f == nil || f.RoundTripsPerSecond <= 0 || f.LatencyP50Ns == 0 || f.LatencyP50Ns > f.LatencyP90Ns ||
		f.LatencyP90Ns > f.LatencyP99Ns || f.LatencyP99Ns > f.LatencyP999Ns || f.LatencyMaxNs == 0 ||
		bucketIndex(f.LatencyMaxNs) != bucketIndex(f.LatencyP999Ns) && f.LatencyMaxNs < f.LatencyP999Ns {
		t.Errorf("echo %v: figures %+v", p, f)
	}
}

func TestEchoClientsInASecondProcess(t *testing.T) {
	p := params{"connections": 40, "messages": 50, "bytes": 200, "rate": 0}
	withFileLimit(t, 2*40+fdReserve-1) // both ends do not fit, one end does
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	checkEcho(t, p, runEcho(p), true)
}

func TestIdleConnectionsSmall(t *testing.T) {
	for _, n := range []int64{1, 300} {
		checkIdle(t, n, runIdleConnections(params{"connections": n}))
	}
}

// checkIdle: the clients are always in a second process (as in the C++ workload).
func checkIdle(t *testing.T, n int64, out outcome) {
	t.Helper()
	if !out.ChecksumOK || out.Reason != "" {
		t.Fatalf("idle-connections %d: checksum %v reason %q", n, out.ChecksumOK, out.Reason)
	}
	if out.TasksCreated != n || out.Ops != n || out.ConnectionsReached == nil || *out.ConnectionsReached != n {
		t.Errorf("idle-connections %d: tasks_created %d ops %d reached %v", n, out.TasksCreated, out.Ops, out.ConnectionsReached)
	}
	if out.ClientProcess == nil || *out.ClientProcess != 1 {
		t.Errorf("idle-connections %d: client_process %v, want 1", n, out.ClientProcess)
	}
	if out.Idle == nil {
		t.Fatalf("idle-connections %d: no figures", n)
	}
	// In a test process earlier goroutines' descriptors and stacks are reused (see README), so only the
	// upper bound holds here; TestBuiltProgramIdleConnections checks a fresh process.
	if out.Idle.RSSBytesPerConnection > 64*1024 {
		t.Errorf("idle-connections %d: rss_bytes_per_connection %v", n, out.Idle.RSSBytesPerConnection)
	}
}

func TestNetLimits(t *testing.T) {
	_, hi, err := ephemeralPorts()
	if err != nil {
		t.Skip(err)
	}
	lo, _, _ := ephemeralPorts()
	tooMany := hi - lo + 2
	if tooMany <= 100_000 {
		why := refuseEcho(params{"connections": tooMany, "messages": 1, "bytes": 1, "rate": 0})
		if !strings.Contains(why, "ip_local_port_range") {
			t.Errorf("%d connections: %q, want the port range named", tooMany, why)
		}
		if out := runIdleConnections(params{"connections": tooMany}); !strings.Contains(out.Limit, "ip_local_port_range") {
			t.Errorf("idle %d connections: limit %q", tooMany, out.Limit)
		}
	}
	withFileLimit(t, 100) // 50 + 64 descriptors do not fit even in two processes
	for _, why := range []string{
		refuseEcho(params{"connections": 50, "messages": 1, "bytes": 1, "rate": 0}),
		refuseIdleConnections(params{"connections": 50}),
		runEcho(params{"connections": 50, "messages": 1, "bytes": 1, "rate": 0}).Limit,
	} {
		if !strings.Contains(why, "RLIMIT_NOFILE") {
			t.Errorf("limit %q, want RLIMIT_NOFILE named", why)
		}
	}
	if split, limit, err := netPlan(30); !split || limit != "" || err != nil {
		t.Errorf("30 connections under 100 descriptors: split %v limit %q err %v, want a second process", split, limit, err)
	}
	fileLimitForTests = 0
	if soft, hard, err := raiseFileLimit(); err != nil || soft != hard {
		t.Errorf("RLIMIT_NOFILE soft %d hard %d err %v, want the soft limit raised to the hard one", soft, hard, err)
	}
}

func TestEchoRecordHasItsCounters(t *testing.T) {
	code, doc := runInProcess(t, "--workload", "echo", "--param", "connections=2", "--param", "messages=10", "--workers", "1")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	r := doc["benchmarks"].([]any)[0].(map[string]any)
	for _, k := range []string{"round_trips_per_second", "latency_p50_ns", "latency_p90_ns", "latency_p99_ns",
		"latency_p999_ns", "latency_max_ns", "connections_reached"} {
		if v, ok := r[k].(float64); !ok || v <= 0 {
			t.Errorf("echo record: %s = %v", k, r[k])
		}
	}
	if r["name"] != "echo/go/connections:2/messages:10/bytes:64/rate:0/workers:1" || r["tasks_created"] != 4.0 || r["ops"] != 20.0 {
		t.Errorf("echo record: name %v tasks_created %v ops %v", r["name"], r["tasks_created"], r["ops"])
	}
	if _, ok := r["rss_bytes_per_task"]; ok || r["client_process"] != 0.0 {
		t.Errorf("echo record: memory-per-task's fields, or client_process %v (want 0)", r["client_process"])
	}
	code, doc = runInProcess(t, "--workload", "idle-connections", "--param", "connections=20", "--workers", "1")
	r = doc["benchmarks"].([]any)[0].(map[string]any)
	for _, k := range []string{"rss_bytes_per_connection", "vm_bytes_per_connection", "kernel_bytes_per_connection",
		"kernel_slab_bytes_per_connection", "connections_reached", "client_process"} {
		if _, ok := r[k].(float64); !ok || code != 0 {
			t.Errorf("idle-connections record (exit %d): %s = %v", code, k, r[k])
		}
	}
}

func TestScheduledOffsets(t *testing.T) {
	// 4 connections at 1000 round trips/s: each client sends every 4 ms, client c first at c ms.
	e := echoParams{connections: 4, rate: 1000}
	for _, c := range []struct{ conn, k, want int64 }{{0, 0, 0}, {1, 0, 1_000_000}, {3, 0, 3_000_000}, {1, 2, 9_000_000}} {
		if got := e.scheduledOffset(c.conn, c.k); got != time.Duration(c.want) {
			t.Errorf("offset(%d, %d) = %v, want %dns", c.conn, c.k, got, c.want)
		}
	}
	// 3 connections at 7 round trips/s: interval = trunc(3e9/7) = 428571428 ns; phase of client 2 =
	// 428571428*2/3 = 285714285 ns (the C++ workload's integer arithmetic).
	e = echoParams{connections: 3, rate: 7}
	if got := e.scheduledOffset(2, 5); got != 285_714_285+5*428_571_428 {
		t.Errorf("offset = %d", got)
	}
	if (echoParams{connections: 100, rate: 1_000_000_000}).interval() != 100 || (echoParams{connections: 5}).interval() != 0 {
		t.Error("interval of 100 connections at 1e9/s is not 100 ns, or the closed loop has one")
	}
}

// faultyServer accepts connections and hands each to serve; it returns the address.
func faultyServer(t *testing.T, serve func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

func runClientsAgainst(addr string, e echoParams) echoClientResult {
	return launchEchoClients(addr, e).wait()
}

func TestEchoFaultsFailWithAReason(t *testing.T) {
	e := echoParams{connections: 2, messages: 5, bytes: 64}
	cases := []struct {
		name, want string
		serve      func(net.Conn)
	}{
		{"a peer that closes mid-message", "read 10 of 64 bytes", func(c net.Conn) {
			buf := make([]byte, 64)
			io.ReadFull(c, buf)
			c.Write(buf[:10])
			c.Close()
		}},
		{"a lost byte", "byte 63 came back", func(c net.Conn) {
			buf := make([]byte, 64)
			io.ReadFull(c, buf)
			buf[63]++
			c.Write(buf)
			c.Close()
		}},
		{"a reset", "client ", func(c net.Conn) {
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}},
	}
	for _, c := range cases {
		done := make(chan echoClientResult, 1)
		go func() { done <- runClientsAgainst(faultyServer(t, c.serve), e) }()
		select {
		case res := <-done:
			if !strings.Contains(res.Reason, c.want) || res.Reached != 0 {
				t.Errorf("%s: reason %q reached %d, want %q", c.name, res.Reason, res.Reached, c.want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the clients hung", c.name)
		}
	}
	// A refused connection: nothing listens on the port any more.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if res := runClientsAgainst(addr, e); !strings.Contains(res.Reason, "connect") {
		t.Errorf("refused: reason %q", res.Reason)
	}
}

func TestBuiltProgramIdleConnections(t *testing.T) {
	r := runBuilt(t, 2, "--workload", "idle-connections", "--param", "connections=2000", "--workers", "2")
	if r.Status != "ok" || r.IdleFigures == nil || r.ConnectionsReached == nil || *r.ConnectionsReached != 2000 {
		t.Fatalf("record %+v", r)
	}
	// A fresh process: a 2 KiB stack per goroutine at least, far less than 64 KiB (a wrong unit).
	if r.RSSBytesPerConnection < 2048 || r.RSSBytesPerConnection > 64*1024 {
		t.Errorf("rss_bytes_per_connection %v, want 2 KiB..64 KiB", r.RSSBytesPerConnection)
	}
}

func TestPerConnectionGrowth(t *testing.T) {
	if perConnection(10, 4, 3) != 2 || perConnection(4, 10, 3) != 0 || perConnection(7, 7, 1) != 0 || perConnection(9, 1, 0) != 0 {
		t.Error("perConnection: want the growth over n, 0 when it shrank or n is 0")
	}
}
