// Command serve-bench measures `textclf serve` under load: throughput and
// p50/p99 latency of POST /predict with 1, 8 and 64 concurrent clients,
// with dynamic batching on (--max-batch-requests 64) and off (1).
//
// It builds a random MiniLM-shaped BERT (6 layers, hidden 384) with the
// bert-base-uncased tokenizer in a temporary directory, serves it on a
// loopback port in this process (the same serve.Server that `textclf serve`
// runs), and drives it with closed-loop HTTP clients for a fixed time per
// cell. Run from the repository root:
//
//	go run ./bench/serve [-duration 8s] [-clients 1,8,64]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/textclf/textclf"
	"github.com/textclf/textclf/bench/internal/fixture"
	"github.com/textclf/textclf/serve"
)

func main() {
	duration := flag.Duration("duration", 8*time.Second, "measured time per cell (after a 1 s warm-up)")
	clientsFlag := flag.String("clients", "1,8,64", "concurrent client counts")
	tokenizerPath := flag.String("tokenizer", "testdata/tokenizer/bert-base-uncased/tokenizer.json", "tokenizer.json to serve with")
	corpus := flag.String("corpus", "testdata/tokenizer/corpus-small.txt", "texts to send, one per line")
	flag.Parse()
	if err := run(*duration, *clientsFlag, *tokenizerPath, *corpus); err != nil {
		fmt.Fprintln(os.Stderr, "serve-bench:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, clientsFlag, tokenizerPath, corpus string) error {
	var clients []int
	for _, s := range strings.Split(clientsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-clients: bad count %q", s)
		}
		clients = append(clients, n)
	}
	texts, err := fixture.ReadTexts(corpus)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "serve-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := fixture.SaveMiniLM(dir, tokenizerPath); err != nil {
		return err
	}
	clf, err := textclf.Open(context.Background(), dir, textclf.Options{MaxLength: 128, BatchSize: 64})
	if err != nil {
		return err
	}
	fmt.Printf("model: random MiniLM-shaped BERT (6 layers, hidden 384), %d texts from %s, max length 128\n",
		len(texts), corpus)
	fmt.Printf("machine: %s/%s, GOMAXPROCS %d, %s; %s per cell after 1 s warm-up\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.Version(), duration)
	fmt.Println("| batching | clients | requests/s | p50 ms | p99 ms | mean batch | errors |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	// A discarded first cell warms the machine and the process up; then on
	// and off alternate, so that drifting load on a shared machine hits both.
	if _, err := measure(clf, true, clients[len(clients)-1], texts, 2*time.Second); err != nil {
		return err
	}
	for _, n := range clients {
		for _, batching := range []bool{true, false} {
			r, err := measure(clf, batching, n, texts, duration)
			if err != nil {
				return err
			}
			mode := "off (1)"
			if batching {
				mode = "on (64)"
			}
			fmt.Printf("| %s | %d | %.1f | %.1f | %.1f | %.2f | %d |\n", mode, n, r.throughput,
				ms(r.p50), ms(r.p99), r.meanBatch, r.errors)
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type result struct {
	throughput float64
	p50, p99   time.Duration
	meanBatch  float64
	errors     int
}

// measure serves clf with batching on or off and runs n closed-loop
// clients, each sending one text per request.
func measure(clf *textclf.Classifier, batching bool, n int, texts []string, duration time.Duration) (result, error) {
	maxReqs := 1
	if batching {
		maxReqs = 64
	}
	srv, err := serve.New(clf.Model, serve.Config{
		MaxBatchRequests: maxReqs, MaxConcurrentRequests: 1024,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return result{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()
	url := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n + 1, MaxConnsPerHost: n + 1}}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		errors    int
	)
	bodies := make([][]byte, len(texts))
	for i, t := range texts {
		bodies[i], _ = json.Marshal(map[string]any{"inputs": t, "truncate": true})
	}
	phase := func(d time.Duration, record bool) time.Duration {
		start := time.Now()
		end := start.Add(d)
		var wg sync.WaitGroup
		for c := 0; c < n; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var local []time.Duration
				bad := 0
				for i := c; time.Now().Before(end); i += n {
					t0 := time.Now()
					resp, err := client.Post(url+"/predict", "application/json", bytes.NewReader(bodies[i%len(bodies)]))
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
					}
					if err != nil {
						bad++
						continue
					}
					local = append(local, time.Since(t0))
				}
				if record {
					mu.Lock()
					latencies = append(latencies, local...)
					errors += bad
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	phase(time.Second, false)
	before, err := batchStats(url)
	if err != nil {
		return result{}, err
	}
	elapsed := phase(duration, true)
	after, err := batchStats(url)
	if err != nil {
		return result{}, err
	}
	if len(latencies) == 0 {
		return result{}, fmt.Errorf("no successful request with %d clients", n)
	}
	slices.Sort(latencies)
	r := result{throughput: float64(len(latencies)) / elapsed.Seconds(),
		p50: fixture.Quantile(latencies, 0.5), p99: fixture.Quantile(latencies, 0.99), errors: errors}
	if c := after[1] - before[1]; c > 0 {
		r.meanBatch = (after[0] - before[0]) / c
	}
	return r, nil
}

// batchStats reads te_batch_next_size's sum and count from /metrics.
func batchStats(url string) ([2]float64, error) {
	var out [2]float64
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "te_batch_next_size_sum":
			out[0], _ = strconv.ParseFloat(val, 64)
		case "te_batch_next_size_count":
			out[1], _ = strconv.ParseFloat(val, 64)
		}
	}
	return out, sc.Err()
}
