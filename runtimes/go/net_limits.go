// net_limits.go — what the network workloads (echo, idle-connections) share: the per-op socket deadline, the
// file-descriptor and ephemeral-port limits checked before a case runs, and the second process that runs
// the client side when one process cannot hold both ends of every connection.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// netOpTimeout bounds every socket wait (accept, dial, read, write) beyond the time the workload itself
// schedules: a fault fails the run, never hangs it. SPINDLE_SOCKET_TIMEOUT_S (whole seconds > 0) sets it,
// as for the C++ workloads (the sweep runner can derive it from the case timeout); default 60 s.
var netOpTimeout = socketTimeout()

func socketTimeout() time.Duration {
	if s, err := strconv.ParseInt(os.Getenv("SPINDLE_SOCKET_TIMEOUT_S"), 10, 64); err == nil && s > 0 && s < 1<<32 {
		return time.Duration(s) * time.Second
	}
	return 60 * time.Second
}

// fdReserve is the descriptors a process keeps for everything but connections (stdio, the listener, the
// runtime's epoll instance and pipes, /proc reads).
const fdReserve = 64

// clientProcessEnv, when set, makes spindle-go run only the client side of a network workload against the
// server at its value (host:port); the rest of the command line is the parent's case. See clientProcess.
const clientProcessEnv = "SPINDLE_GO_NET_CLIENT"

var (
	fileLimitOnce sync.Once
	fileLimitSoft uint64
	fileLimitHard uint64
	fileLimitErr  error
)

// raiseFileLimit raises RLIMIT_NOFILE's soft limit to the hard one (once per process) and returns both.
func raiseFileLimit() (soft, hard uint64, err error) {
	fileLimitOnce.Do(func() {
		var rl syscall.Rlimit
		if fileLimitErr = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); fileLimitErr != nil {
			return
		}
		if rl.Cur < rl.Max {
			raised := rl
			raised.Cur = rl.Max
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
				rl = raised
			}
		}
		fileLimitSoft, fileLimitHard = rl.Cur, rl.Max
	})
	return fileLimitSoft, fileLimitHard, fileLimitErr
}

// fileLimitForTests, when nonzero, replaces the soft limit in netPlan (tests force the two-process plan).
var fileLimitForTests uint64

const portRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// ephemeralPorts is the size of the kernel's ephemeral port range.
func ephemeralPorts() (lo, hi int64, err error) {
	data, err := os.ReadFile(portRangeFile)
	if err != nil {
		return 0, 0, err
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("parsing %s: %q", portRangeFile, data)
	}
	lo, errLo := strconv.ParseInt(fields[0], 10, 64)
	hi, errHi := strconv.ParseInt(fields[1], 10, 64)
	if errLo != nil || errHi != nil || hi < lo {
		return 0, 0, fmt.Errorf("parsing %s: %q", portRangeFile, data)
	}
	return lo, hi, nil
}

// netPlan decides, before anything runs, where the client side of `connections` loopback connections
// lives: in this process (split false) when both ends fit under RLIMIT_NOFILE (2·connections + fdReserve
// descriptors), in a second process when only one end does. A case that cannot fit either way, or needs
// more ephemeral ports than the kernel's range, returns the limit's reason. Errors reading the limits are
// returned as err (the run fails with them).
func netPlan(connections int64) (split bool, limit string, err error) {
	lo, hi, err := ephemeralPorts()
	if err != nil {
		return false, "", err
	}
	if ports := hi - lo + 1; connections > ports {
		return false, fmt.Sprintf("%d connections need %d ephemeral ports, %s gives %d (%d-%d)",
			connections, connections, portRangeFile, ports, lo, hi), nil
	}
	soft, hard, err := raiseFileLimit()
	if err != nil {
		return false, "", fmt.Errorf("getrlimit(RLIMIT_NOFILE): %w", err)
	}
	if fileLimitForTests != 0 {
		soft = fileLimitForTests
	}
	switch {
	case uint64(2*connections+fdReserve) <= soft:
		return false, "", nil
	case uint64(connections+fdReserve) <= soft:
		return true, "", nil
	default:
		return false, fmt.Sprintf("%d connections need %d file descriptors in each of two processes (client and server side, %d reserved), over RLIMIT_NOFILE %d (hard limit %d)",
			connections, connections+fdReserve, fdReserve, soft, hard), nil
	}
}

// planRun is netPlan at the start of a run: an error or a limit goes into out, and ok is false.
func planRun(connections int64, out *outcome) (split, ok bool) {
	split, limit, err := netPlan(connections)
	switch {
	case err != nil:
		out.Reason = err.Error()
	case limit != "":
		out.Limit = limit
	default:
		return split, true
	}
	return false, false
}

// refuseNet is the Refuse hook of the network workloads: the fd and port limits of netPlan, and the memory
// the case needs at least (bytesPerConnection each), checked against MemAvailable.
func refuseNet(connections, bytesPerConnection int64) string {
	if _, limit, err := netPlan(connections); limit != "" || err != nil {
		return limit // an error fails the run itself, with its reason
	}
	m, err := readMeminfo()
	if err != nil {
		return ""
	}
	if need := connections * bytesPerConnection; need > m.availableBytes {
		return fmt.Sprintf("%d connections need at least %d bytes (%d each: buffers and goroutine stacks), MemAvailable is %d bytes",
			connections, need, bytesPerConnection, m.availableBytes)
	}
	return ""
}

// firstFailure keeps the first of many concurrent failure reasons.
type firstFailure struct {
	mu     sync.Mutex
	reason string
}

func (f *firstFailure) set(format string, args ...any) {
	f.mu.Lock()
	if f.reason == "" {
		f.reason = fmt.Sprintf(format, args...)
	}
	f.mu.Unlock()
}

func (f *firstFailure) get() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reason
}

// loopbackListener is a server's listener on 127.0.0.1 (port 0: the kernel picks one) and its accept
// goroutine, which accepts exactly the connections the workload expects; its failure is the server's.
type loopbackListener struct {
	ln       *net.TCPListener
	accepted atomic.Int64
	acceptWG sync.WaitGroup
	closing  atomic.Bool
	failure  firstFailure
}

func listenLoopback() (*loopbackListener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	return &loopbackListener{ln: ln.(*net.TCPListener)}, nil
}

func (l *loopbackListener) addr() string { return l.ln.Addr().String() }
func (l *loopbackListener) port() int    { return l.ln.Addr().(*net.TCPAddr).Port }

// acceptEach starts the accept goroutine: it accepts n connections, each within the socket timeout, and
// calls start(conn, i) for each (start starts the connection's goroutine). At the first error (a failure
// unless stop closed the listener) it stops and calls gaveUp with how many never came.
func (l *loopbackListener) acceptEach(n int64, start func(conn net.Conn, i int64), gaveUp func(missing int64)) {
	l.acceptWG.Add(1)
	go func() {
		defer l.acceptWG.Done()
		for i := int64(0); i < n; i++ {
			err := l.ln.SetDeadline(time.Now().Add(netOpTimeout))
			var conn net.Conn
			if err == nil {
				conn, err = l.ln.Accept()
			}
			if err != nil {
				if !l.closing.Load() {
					l.failure.set("server: accept %d of %d: %v", i+1, n, err)
				}
				gaveUp(n - i)
				return
			}
			l.accepted.Add(1)
			start(conn, i)
		}
	}()
}

// stop closes the listener (an accept still waiting is then not a failure) and waits for the accept
// goroutine.
func (l *loopbackListener) stop() {
	l.closing.Store(true)
	l.ln.Close()
	l.acceptWG.Wait()
}

// clientProcess is the second process that runs a network workload's client side: this same program,
// re-executed with clientProcessEnv set to the server's address and the parent's case on its command line
// (so it runs with the same GOMAXPROCS). It talks in lines on stdin/stdout: echo's child writes one line,
// its JSON result; idle-connections' writes "ready" once it holds every connection, the parent answers
// "close", and it writes "closed". Its stderr is kept for the failure reason. If the parent dies, the
// child's stdin reaches EOF (idle) or its sockets fail (echo) and it exits.
type clientProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *tailBuffer
}

func startClientProcess(workload string, p params, addr string) (*clientProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	args := []string{"--workload", workload, "--workers", strconv.Itoa(runtime.GOMAXPROCS(0))}
	names := make([]string, 0, len(p))
	for name := range p {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "--param", fmt.Sprintf("%s=%d", name, p[name]))
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), clientProcessEnv+"="+addr)
	cp := &clientProcess{cmd: cmd, stderr: &tailBuffer{}}
	cmd.Stderr = cp.stderr
	if cp.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cp.stdout = bufio.NewReaderSize(out, 1<<16)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the client process %s: %w", exe, err)
	}
	return cp, nil
}

// readLine returns the child's next line without its newline; EOF or an error names the child's stderr.
func (cp *clientProcess) readLine() (string, error) {
	line, err := cp.stdout.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("client process: no answer (%v); its stderr: %s", err, cp.stderr.String())
	}
	return strings.TrimSuffix(line, "\n"), nil
}

func (cp *clientProcess) send(line string) error {
	_, err := io.WriteString(cp.stdin, line+"\n")
	return err
}

// finish closes the child's stdin and waits for it; a non-zero exit is an error with its stderr.
func (cp *clientProcess) finish() error {
	cp.stdin.Close()
	if err := cp.cmd.Wait(); err != nil {
		return fmt.Errorf("client process: %v; its stderr: %s", err, cp.stderr.String())
	}
	return nil
}

// tailBuffer keeps the last 2 KiB written to it.
type tailBuffer struct {
	mu   sync.Mutex
	data []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data = append(b.data, p...)
	if len(b.data) > 2048 {
		b.data = append([]byte(nil), b.data[len(b.data)-2048:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(string(b.data))
	if s == "" {
		return "(empty)"
	}
	return strings.ReplaceAll(s, "\n", " | ")
}

// runClientProcess is the whole program in client mode: it parses the parent's case, takes its GOMAXPROCS
// and runs the workload's client side against addr, talking to the parent on stdin/stdout. Exit 0 when
// the protocol completed (a failed check travels in the result), 1 otherwise.
func runClientProcess(addr string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "spindle-go client: %s\n", err)
		return 2
	}
	runtime.GOMAXPROCS(c.workers)
	if _, _, err := raiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "spindle-go client: getrlimit(RLIMIT_NOFILE): %s\n", err)
		return 1
	}
	in := bufio.NewReader(stdin)
	switch c.workload.Name {
	case "echo":
		err = echoClientProcess(addr, c.params, stdout)
	case "idle-connections":
		err = idleClientProcess(addr, c.params, in, stdout)
	default:
		err = fmt.Errorf("%s has no client process", c.workload.Name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "spindle-go client: %s\n", err)
		return 1
	}
	return 0
}

// readCommand reads the parent's next command line.
func readCommand(in *bufio.Reader) (string, error) {
	line, err := in.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("the parent closed the pipe (%v)", err)
	}
	return strings.TrimSuffix(line, "\n"), nil
}
