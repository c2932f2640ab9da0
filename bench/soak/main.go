// Command serve-soak checks that `textclf serve` holds its memory when
// clients send the largest bodies it accepts: it builds textclf, serves a
// random MiniLM-shaped BERT (bert-base-uncased's tokenizer) in a child
// process on a loopback port, and has N clients post bodies of about 2 MB
// (just under --payload-limit) back to back for a fixed time — /predict with
// "truncate": true, /predict without (413 once tokenized), and /tokenize
// (413 beyond --max-batch-tokens) in turn. It samples the server's resident
// memory (/proc/PID/status, Linux) every 100 ms and prints the peak, the
// answers by status and the latencies. Run from the repository root:
//
//	go run ./bench/soak [-duration 30s] [-clients 16]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/textclf/textclf/bench/internal/fixture"
)

func main() {
	duration := flag.Duration("duration", 30*time.Second, "how long the clients send")
	clients := flag.Int("clients", 16, "concurrent clients")
	bodyBytes := flag.Int("body", 1_990_000, "bytes of each request body (--payload-limit is 2,000,000)")
	limitMB := flag.Int("limit-mb", 1024, "peak resident memory of the server that fails the run")
	flag.Parse()
	if err := run(*duration, *clients, *bodyBytes, *limitMB); err != nil {
		fmt.Fprintln(os.Stderr, "serve-soak:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, clients, bodyBytes, limitMB int) error {
	dir, err := os.MkdirTemp("", "serve-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "textclf")
	build := exec.Command("go", "build", "-o", bin, "./cmd/textclf")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	modelDir := filepath.Join(dir, "model")
	if err := fixture.SaveMiniLM(modelDir, "testdata/tokenizer/bert-base-uncased/tokenizer.json"); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	srv := exec.Command(bin, "serve", "--model", modelDir, "--addr", addr, "--max-input-length", "128", "--log-level", "warn", "--drain-delay", "0")
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Process.Kill()
	url := "http://" + addr
	if err := waitHealthy(url, 60*time.Second); err != nil {
		return fmt.Errorf("%w\n%s", err, logs.String())
	}
	idle, _ := rss(srv.Process.Pid)

	text, err := bodyText(bodyBytes - 40)
	if err != nil {
		return err
	}
	bodies := [][2]string{
		{"/predict", `{"inputs": ` + text + `, "truncate": true}`},
		{"/predict", `{"inputs": ` + text + `}`},
		{"/tokenize", `{"inputs": ` + text + `}`},
	}
	for _, b := range bodies {
		if len(b[1]) > 2_000_000 {
			return fmt.Errorf("a body of %d bytes exceeds the payload limit", len(b[1]))
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var peak int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := rss(srv.Process.Pid); err == nil && v > peak {
				peak = v
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var mu sync.Mutex
	statuses := map[string]int{}
	var latencies []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 2 * time.Minute}
			for i := c; ctx.Err() == nil; i++ {
				b := bodies[i%len(bodies)]
				t0 := time.Now()
				resp, err := client.Post(url+b[0], "application/json", strings.NewReader(b[1]))
				key := ""
				if err != nil {
					key = b[0] + " error: " + err.Error()
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					key = b[0] + " " + strconv.Itoa(resp.StatusCode)
				}
				mu.Lock()
				statuses[key]++
				if err == nil {
					latencies = append(latencies, time.Since(t0))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	<-sampled
	hwm, _ := hwm(srv.Process.Pid)
	slices.Sort(latencies)
	keys := make([]string, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := map[string]any{
		"clients": clients, "body_bytes": bodyBytes, "seconds": elapsed.Seconds(), "answers": statuses,
		"requests_per_s": float64(len(latencies)) / elapsed.Seconds(),
		"p50_ms":         fixture.Quantile(latencies, 0.5).Milliseconds(), "p99_ms": fixture.Quantile(latencies, 0.99).Milliseconds(),
		"rss_idle_mb": idle >> 20, "rss_peak_sampled_mb": peak >> 20, "vm_hwm_mb": hwm >> 20,
	}
	j, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(j))
	for _, k := range keys {
		if strings.Contains(k, "error") {
			return fmt.Errorf("requests failed without an answer: %s", k)
		}
	}
	if hwm>>20 > int64(limitMB) {
		return fmt.Errorf("the server's peak resident memory %d MB exceeds %d MB", hwm>>20, limitMB)
	}
	return nil
}

// bodyText is a JSON string of about n bytes of English text (the corpus
// repeated).
func bodyText(n int) (string, error) {
	lines, err := fixture.ReadTexts("testdata/tokenizer/corpus-small.txt")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := 0; ; i++ {
		l := lines[i%len(lines)] + " "
		q, _ := json.Marshal(b.String() + l)
		if len(q) > n {
			break
		}
		b.WriteString(l)
	}
	q, err := json.Marshal(b.String())
	return string(q), err
}

func waitHealthy(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("server at %s not healthy within %v", url, within)
}

// rss and hwm read VmRSS and VmHWM (bytes) of a process.
func rss(pid int) (int64, error) { return procStatus(pid, "VmRSS:") }
func hwm(pid int) (int64, error) { return procStatus(pid, "VmHWM:") }

func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
