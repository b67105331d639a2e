// echo.go — echo: `connections` loopback TCP connections, a goroutine per connection on each side. The
// server accepts exactly `connections` and echoes whatever it reads (16 KiB at a time, as the C++ workload)
// until EOF; each client connects, then sends `messages` messages of `bytes` bytes (byte i of message m of
// client c is (c*31 + m*7 + i) & 0xFF), reads each back in full, checks every byte and records the round
// trip's latency in its own histogram (histogram.go); the histograms are merged at the end.
// `rate` > 0 makes the clients open-loop, with the C++ workload's arithmetic: interval = connections/rate s
// truncated to whole ns, client c's k-th send is due at start + interval*c/connections + k*interval, and its
// latency counts from that due time (wrk2's correction for coordinated omission). op = one round trip.
//
// `start` is taken just before the client goroutines are started, so the clients' connects are inside the
// measured time and the open-loop schedule (as in workloads/echo.h); round_trips_per_second is ops over
// start .. last client done. When one process cannot hold both ends (net_limits.go), the clients run in a
// second process of this program with the same GOMAXPROCS, and the figures come from its clock.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// EchoFigures are echo's counters.
type EchoFigures struct {
	RoundTripsPerSecond float64 `json:"round_trips_per_second"`
	LatencyP50Ns        uint64  `json:"latency_p50_ns"`
	LatencyP90Ns        uint64  `json:"latency_p90_ns"`
	LatencyP99Ns        uint64  `json:"latency_p99_ns"`
	LatencyP999Ns       uint64  `json:"latency_p999_ns"`
	LatencyMaxNs        uint64  `json:"latency_max_ns"`
}

type echoParams struct {
	connections, messages, bytes, rate int64
}

func echoParamsOf(p params) echoParams {
	return echoParams{connections: p["connections"], messages: p["messages"], bytes: p["bytes"], rate: p["rate"]}
}

// interval is the time between two sends of one client in the open loop (0 in the closed loop):
// connections/rate seconds, truncated to whole ns as the C++ workload does.
func (e echoParams) interval() time.Duration {
	if e.rate == 0 {
		return 0
	}
	return time.Duration(1e9 * float64(e.connections) / float64(e.rate))
}

// opTimeout bounds each socket wait: netOpTimeout beyond the open loop's interval, which a server
// legitimately waits between two messages.
func (e echoParams) opTimeout() time.Duration { return netOpTimeout + e.interval() }

// scheduledOffset is when client conn's k-th send is due after the start in the open loop:
// interval*conn/connections (the client's phase) + k*interval, in whole ns.
func (e echoParams) scheduledOffset(conn, k int64) time.Duration {
	interval := e.interval()
	return interval*time.Duration(conn)/time.Duration(e.connections) + time.Duration(k)*interval
}

// echoServerBuffer is each server goroutine's read buffer, as in the C++ workload.
const echoServerBuffer = 16 * 1024

// echoBytesPerConnection is the least memory a connection costs: the client's two buffers of `bytes` (its
// message and the echo), the server's buffer and two goroutine stacks.
func echoBytesPerConnection(p params) int64 {
	return 2*p["bytes"] + echoServerBuffer + 2*minGoroutineStackBytes
}

func refuseEcho(p params) string { return refuseNet(p["connections"], echoBytesPerConnection(p)) }

// fillMessage writes message m of client conn into buf.
func fillMessage(buf []byte, conn, m int64) {
	base := byte((conn*31 + m*7) & 0xFF)
	for i := range buf {
		buf[i] = base + byte(i)
	}
}

// deadlineKeeper refreshes a connection's deadline at most once a second, to now + timeout: every socket op
// then has at least timeout - 1 s left, without a timer update per op.
type deadlineKeeper struct {
	conn    net.Conn
	timeout time.Duration
	setAt   time.Time
}

func (d *deadlineKeeper) refresh(now time.Time) error {
	if !d.setAt.IsZero() && now.Sub(d.setAt) < time.Second {
		return nil
	}
	d.setAt = now
	return d.conn.SetDeadline(now.Add(d.timeout))
}

// echoServer accepts exactly `connections` connections and echoes on each in its own goroutine.
type echoServer struct {
	*loopbackListener
	handlers sync.WaitGroup
}

func startEchoServer(e echoParams) (*echoServer, error) {
	l, err := listenLoopback()
	if err != nil {
		return nil, err
	}
	s := &echoServer{loopbackListener: l}
	s.acceptEach(e.connections, func(conn net.Conn, n int64) {
		s.handlers.Add(1)
		go s.handle(conn, n, e)
	}, func(int64) {})
	return s, nil
}

// handle echoes everything it reads until EOF, then closes.
func (s *echoServer) handle(conn net.Conn, n int64, e echoParams) {
	defer s.handlers.Done()
	defer conn.Close()
	buf := make([]byte, echoServerBuffer)
	dl := deadlineKeeper{conn: conn, timeout: e.opTimeout()}
	for {
		if err := dl.refresh(time.Now()); err != nil {
			s.failure.set("server connection %d: deadline: %v", n, err)
			return
		}
		got, err := conn.Read(buf)
		if got > 0 {
			if _, werr := conn.Write(buf[:got]); werr != nil {
				s.failure.set("server connection %d: write: %v", n, werr)
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			s.failure.set("server connection %d: read: %v", n, err)
			return
		}
	}
}

// stop closes the listener and waits for every goroutine.
func (s *echoServer) stop() {
	s.loopbackListener.stop()
	s.handlers.Wait()
}

// echoClients are the client goroutines: each connects and runs its messages.
type echoClients struct {
	e         echoParams
	addr      string
	done      sync.WaitGroup
	startTime time.Time // taken before the first client starts
	hists     []histogram
	reached   atomic.Int64
	failure   firstFailure
}

func launchEchoClients(addr string, e echoParams) *echoClients {
	c := &echoClients{e: e, addr: addr, hists: make([]histogram, e.connections)}
	c.done.Add(int(e.connections))
	c.startTime = time.Now()
	for i := int64(0); i < e.connections; i++ {
		go c.client(i)
	}
	return c
}

// echoClientResult is what the clients did, in one process or sent over from the client process.
type echoClientResult struct {
	Hist      histogramJSON `json:"histogram"`
	Reached   int64         `json:"connections_reached"`
	Reason    string        `json:"reason"`
	ElapsedNs int64         `json:"elapsed_ns"`
}

// wait waits for every client and merges their histograms.
func (c *echoClients) wait() echoClientResult {
	c.done.Wait()
	elapsed := time.Since(c.startTime)
	var merged histogram
	for i := range c.hists {
		merged.merge(&c.hists[i])
	}
	return echoClientResult{Hist: merged.toJSON(), Reached: c.reached.Load(), Reason: c.failure.get(),
		ElapsedNs: elapsed.Nanoseconds()}
}

func (c *echoClients) client(conn int64) {
	defer c.done.Done()
	e := c.e
	d := net.Dialer{Timeout: netOpTimeout}
	nc, err := d.Dial("tcp", c.addr)
	if err != nil {
		c.failure.set("client %d: connect: %v", conn, err)
		return
	}
	defer nc.Close()
	out, in := make([]byte, e.bytes), make([]byte, e.bytes)
	dl := deadlineKeeper{conn: nc, timeout: e.opTimeout()}
	var h histogram
	for m := int64(0); m < e.messages; m++ {
		fillMessage(out, conn, m)
		var sent, now time.Time
		if e.rate > 0 {
			sent = c.startTime.Add(e.scheduledOffset(conn, m))
			if wait := time.Until(sent); wait > 0 {
				time.Sleep(wait)
			}
			now = time.Now()
		} else {
			sent = time.Now()
			now = sent
		}
		if err := dl.refresh(now); err != nil {
			c.failure.set("client %d message %d: deadline: %v", conn, m, err)
			return
		}
		if _, err := nc.Write(out); err != nil {
			c.failure.set("client %d message %d: write: %v", conn, m, err)
			return
		}
		if got, err := io.ReadFull(nc, in); err != nil {
			c.failure.set("client %d message %d: read %d of %d bytes: %v", conn, m, got, e.bytes, err)
			return
		}
		latency := time.Since(sent)
		if !bytes.Equal(in, out) {
			i := 0
			for in[i] == out[i] {
				i++
			}
			c.failure.set("client %d message %d: byte %d came back as %d, sent %d", conn, m, i, in[i], out[i])
			return
		}
		h.record(uint64(latency.Nanoseconds()))
	}
	c.hists[conn] = h
	c.reached.Add(1)
}

func runEcho(p params) outcome {
	e := echoParamsOf(p)
	out := outcome{TasksCreated: 2 * e.connections, Ops: e.connections * e.messages}
	split, ok := planRun(e.connections, &out)
	if !ok {
		return out
	}
	srv, err := startEchoServer(e)
	if err != nil {
		out.Reason = err.Error()
		return out
	}
	var res echoClientResult
	var processErr error
	if split {
		res, processErr = echoInClientProcess(srv.addr(), p)
	} else {
		res = launchEchoClients(srv.addr(), e).wait()
	}
	srv.stop()

	hist, histErr := histogramFromJSON(res.Hist)
	seconds := float64(res.ElapsedNs) / 1e9
	fig := &EchoFigures{
		LatencyP50Ns: hist.percentile(500), LatencyP90Ns: hist.percentile(900),
		LatencyP99Ns: hist.percentile(990), LatencyP999Ns: hist.percentile(999), LatencyMaxNs: hist.max,
	}
	if seconds > 0 {
		fig.RoundTripsPerSecond = float64(out.Ops) / seconds
	}
	clientProcess := 0
	if split {
		clientProcess = 1
	}
	out.ClientProcess = &clientProcess
	out.Echo, out.ConnectionsReached = fig, &res.Reached
	switch {
	case processErr != nil:
		out.Reason = processErr.Error()
	case res.Reason != "":
		out.Reason = res.Reason
	case srv.failure.get() != "":
		out.Reason = srv.failure.get()
	case histErr != nil:
		out.Reason = histErr.Error()
	case res.Reached != e.connections || srv.accepted.Load() != e.connections:
		out.Reason = fmt.Sprintf("%d of %d clients finished, %d connections accepted", res.Reached, e.connections, srv.accepted.Load())
	case hist.total != uint64(out.Ops):
		out.Reason = fmt.Sprintf("%d round trips recorded, want %d", hist.total, out.Ops)
	default:
		out.ChecksumOK = true
	}
	return out
}

// echoInClientProcess runs the clients in a second process and reads back its one-line JSON result.
func echoInClientProcess(addr string, p params) (echoClientResult, error) {
	cp, err := startClientProcess("echo", p, addr)
	if err != nil {
		return echoClientResult{}, err
	}
	var res echoClientResult
	line, err := cp.readLine()
	if err == nil {
		if jerr := json.Unmarshal([]byte(line), &res); jerr != nil {
			err = fmt.Errorf("client process: result %q: %w", line, jerr)
		}
	}
	if errFinish := cp.finish(); err == nil {
		err = errFinish
	}
	return res, err
}

// echoClientProcess is the client process's side of echoInClientProcess.
func echoClientProcess(addr string, p params, out io.Writer) error {
	line, err := json.Marshal(launchEchoClients(addr, echoParamsOf(p)).wait())
	if err != nil {
		return err
	}
	_, err = out.Write(append(line, '\n'))
	return err
}
