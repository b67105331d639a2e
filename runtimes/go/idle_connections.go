// idle_connections.go — idle-connections: `connections` loopback TCP connections held open, a server
// goroutine per accepted connection parked in Read; measured like memory-per-task: the growth of this
// process's RSS and VM size (/proc/self/statm) from before the first goroutine to "all parked", per
// connection, beside the kernel's growth per connection: its TCP buffer memory (the `mem` pages of
// /proc/net/sockstat's TCP line; about zero for idle sockets with empty buffers) and its slab (/proc/meminfo
// `Slab:`: the sockets, files and epoll items of both ends), both machine-wide and so noisy. A growth below
// zero (noise) is reported as 0, as the C++ workload does. Then the clients close and every server goroutine
// must see EOF and exit.
//
// As in workloads/idle_connections.h the client side is always a second process (this program re-executed,
// net_limits.go) holding plain socket descriptors (socket(2) and connect(2), no net.Conn, no goroutine), so
// this process holds only the server side and its RSS counts only that: the goroutine, its net.Conn and the
// runtime's poll descriptor. op = one idle connection.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// IdleFigures are idle-connections' counters.
type IdleFigures struct {
	RSSBytesPerConnection        float64 `json:"rss_bytes_per_connection"`
	VMBytesPerConnection         float64 `json:"vm_bytes_per_connection"`
	KernelBytesPerConnection     float64 `json:"kernel_bytes_per_connection"`
	KernelSlabBytesPerConnection float64 `json:"kernel_slab_bytes_per_connection"`
}

// idleSnapshot is what idle-connections reads before and while the connections are parked.
type idleSnapshot struct {
	memory                    memorySnapshot
	kernelTCPBytes, slabBytes int64
}

func readIdleSnapshot() (idleSnapshot, error) {
	memory, errMem := readMemory()
	pages, errSock := readSockstatTCPPages()
	info, errInfo := readMeminfo()
	if err := errors.Join(errMem, errSock, errInfo); err != nil {
		return idleSnapshot{}, err
	}
	return idleSnapshot{memory: memory, kernelTCPBytes: pages * int64(os.Getpagesize()), slabBytes: info.slabBytes}, nil
}

// perConnection is the growth from before to after over n connections, 0 when it did not grow.
func perConnection(after, before, n int64) float64 {
	if after <= before || n <= 0 {
		return 0
	}
	return float64(after-before) / float64(n)
}

func refuseIdleConnections(p params) string {
	return refuseNet(p["connections"], minGoroutineStackBytes)
}

// idleServer accepts exactly `connections` connections; each goroutine says it is parked, then reads.
type idleServer struct {
	*loopbackListener
	parkedCount atomic.Int64
	exitedCount atomic.Int64
	parked      sync.WaitGroup // one per connection: Done when its goroutine parks, or when it never will
	exited      sync.WaitGroup // one per connection: Done when its goroutine exits, or when it never will
}

func (s *idleServer) handle(conn net.Conn, n int64) {
	defer s.exited.Done()
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now().Add(netOpTimeout)); err != nil {
		s.failure.set("server connection %d: deadline: %v", n, err)
		s.parked.Done()
		return
	}
	s.parkedCount.Add(1)
	s.parked.Done()
	var b [1]byte
	got, err := conn.Read(b[:])
	switch {
	case got != 0:
		s.failure.set("server connection %d: read %d bytes from an idle client", n, got)
	case err != io.EOF:
		s.failure.set("server connection %d: read: %v, want EOF", n, err)
	default:
		s.exitedCount.Add(1)
	}
}

func runIdleConnections(p params) outcome {
	connections := p["connections"]
	out := outcome{}
	if _, ok := planRun(connections, &out); !ok { // the clients are in a second process even when both ends fit
		return out
	}
	l, err := listenLoopback()
	if err != nil {
		out.Reason = err.Error()
		return out
	}
	s := &idleServer{loopbackListener: l}
	before, err := readIdleSnapshot()
	if err != nil {
		l.stop()
		out.Reason = err.Error()
		return out
	}

	s.parked.Add(int(connections))
	s.exited.Add(int(connections))
	s.acceptEach(connections, func(conn net.Conn, n int64) { go s.handle(conn, n) }, func(missing int64) {
		s.parked.Add(int(-missing)) // connections never accepted never park nor exit
		s.exited.Add(int(-missing))
	})
	closeClients, clientErr := idleInClientProcess(s.port(), p)
	if clientErr != nil {
		s.stop() // the accept goroutine gives up on the connections that never came
	}
	s.parked.Wait()
	during, errDuring := readIdleSnapshot()
	reached := s.parkedCount.Load()
	if err := closeClients(); err != nil && clientErr == nil {
		clientErr = err
	}
	s.exited.Wait()
	s.stop()

	spawned := s.accepted.Load()
	clientProcess := 1
	out.TasksCreated, out.Ops, out.ConnectionsReached, out.ClientProcess = spawned, spawned, &reached, &clientProcess
	if errDuring == nil {
		out.Idle = &IdleFigures{
			RSSBytesPerConnection:        perConnection(during.memory.rssBytes, before.memory.rssBytes, spawned),
			VMBytesPerConnection:         perConnection(during.memory.vmBytes, before.memory.vmBytes, spawned),
			KernelBytesPerConnection:     perConnection(during.kernelTCPBytes, before.kernelTCPBytes, spawned),
			KernelSlabBytesPerConnection: perConnection(during.slabBytes, before.slabBytes, spawned),
		}
	}
	switch {
	case clientErr != nil:
		out.Reason = clientErr.Error()
	case s.failure.get() != "":
		out.Reason = s.failure.get()
	case errDuring != nil:
		out.Reason = errDuring.Error()
	case reached != connections || s.exitedCount.Load() != connections:
		out.Reason = fmt.Sprintf("%d of %d server goroutines parked and %d saw EOF and exited", reached, connections, s.exitedCount.Load())
	default:
		out.ChecksumOK = true
	}
	return out
}

// dialRawConnections opens n blocking loopback sockets to port with socket(2) and connect(2): descriptors
// only, nothing in the Go heap per connection. Every connect has a 60 s send timeout (SO_SNDTIMEO); an
// interrupted connect is resumed. On an error every socket opened so far is closed.
func dialRawConnections(port int, n int64) ([]int, error) {
	fds := make([]int, 0, n)
	tv := syscall.NsecToTimeval(netOpTimeout.Nanoseconds())
	addr := &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	for i := int64(0); i < n; i++ {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("client %d: socket: %w", i, err)
		}
		fds = append(fds, fd)
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv); err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("client %d: setsockopt(SO_SNDTIMEO): %w", i, err)
		}
		for {
			err = syscall.Connect(fd, addr)
			if err == syscall.EINTR {
				continue // the connect goes on in the kernel; calling again waits for it
			}
			if err == syscall.EISCONN {
				err = nil
			}
			break
		}
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("client %d: connect to 127.0.0.1:%d: %w", i, port, err)
		}
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

// readSockstatTCPPages is the `mem` field of the TCP line of /proc/net/sockstat: pages of socket buffer
// memory of all TCP sockets on the machine.
func readSockstatTCPPages() (int64, error) {
	data, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line) // "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1"
		if len(fields) == 0 || fields[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(fields); i += 2 {
			if fields[i] == "mem" {
				v, err := strconv.ParseInt(fields[i+1], 10, 64)
				if err != nil {
					return 0, fmt.Errorf("parsing /proc/net/sockstat %q: %w", line, err)
				}
				return v, nil
			}
		}
	}
	return 0, fmt.Errorf("/proc/net/sockstat has no TCP mem field")
}

// idleInClientProcess opens the client side in a second process and waits until it holds every
// connection; the returned function makes it close them all and waits for it to exit.
func idleInClientProcess(port int, p params) (closeClients func() error, err error) {
	cp, err := startClientProcess("idle-connections", p, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return func() error { return nil }, err
	}
	finish := func() error {
		if err := cp.send("close"); err != nil {
			cp.finish()
			return fmt.Errorf("client process: %w", err)
		}
		line, err := cp.readLine()
		if errFinish := cp.finish(); err == nil {
			err = errFinish
		}
		if err == nil && line != "closed" {
			err = fmt.Errorf("client process: said %q, want \"closed\"", line)
		}
		return err
	}
	line, err := cp.readLine()
	if err == nil && line != "ready" {
		err = fmt.Errorf("client process: said %q, want \"ready\"", line)
	}
	if err != nil {
		cp.finish()
		return func() error { return nil }, err
	}
	return finish, nil
}

// idleClientProcess is the client process's side: open every connection, say "ready", wait for
// "close", close them all, say "closed".
func idleClientProcess(addr string, p params, in *bufio.Reader, out io.Writer) error {
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return err
	}
	fds, err := dialRawConnections(tcp.Port, p["connections"])
	if err != nil {
		return err
	}
	defer func() { closeAll(fds) }()
	if _, err := io.WriteString(out, "ready\n"); err != nil {
		return err
	}
	cmd, err := readCommand(in)
	if err != nil {
		return err
	}
	if cmd != "close" {
		return fmt.Errorf("the parent said %q, want \"close\"", cmd)
	}
	closeAll(fds)
	fds = nil
	_, err = io.WriteString(out, "closed\n")
	return err
}
