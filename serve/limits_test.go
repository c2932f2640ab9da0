package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/textclf/textclf"
	"github.com/textclf/textclf/internal/crafted"
)

// countingModel wraps a model and records how many inputs it tokenizes at
// once.
type countingModel struct {
	textclf.Model
	now, peak atomic.Int64
}

func (c *countingModel) Encode(in textclf.Input, opt textclf.EncodeOptions) (textclf.Encoding, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	return c.Model.Encode(in, opt)
}

// No more inputs are tokenized at once than TokenizationWorkers, however
// many clients send them.
func TestTokenizationWorkersBound(t *testing.T) {
	m := &countingModel{Model: newFake()}
	s := newTestServer(t, m, Config{TokenizationWorkers: 2})
	h := s.Handler()
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := do(t, h, "POST", "/predict", fmt.Sprintf(`{"inputs": [["text %d"], ["more %d"]]}`, i, i))
			if code != 200 {
				t.Errorf("status %d: %s", code, body)
			}
		}()
	}
	wg.Wait()
	if p := m.peak.Load(); p != 2 {
		t.Fatalf("%d inputs tokenized at once, want at most (and, with 24 inputs, exactly) 2", p)
	}
}

// Large inputs are tokenized one at a time: the text tokenized at once is
// bounded by PayloadLimit bytes, whatever TokenizationWorkers allows.
func TestTokenizationTextBudget(t *testing.T) {
	m := &countingModel{Model: newFake()}
	s := newTestServer(t, m, Config{TokenizationWorkers: 4, PayloadLimit: 400 << 10})
	h := s.Handler()
	big := strings.Repeat("word ", 50<<10) // 250 kB
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := do(t, h, "POST", "/tokenize", `{"inputs": "`+big+`", "add_special_tokens": false}`)
			if code != http.StatusRequestEntityTooLarge { // 51200 words, more than max batch tokens
				t.Errorf("status %d: %.200s", code, body)
			}
		}()
	}
	wg.Wait()
	if p := m.peak.Load(); p != 1 {
		t.Fatalf("%d inputs of 250 kB tokenized at once with a 400 kB budget, want 1", p)
	}
}

// A tokenizer whose pattern backtracks catastrophically on a text gets a
// 422 within the match timeout (not minutes), and the server stops using
// the CPU for it at once; /tokenize too.
func TestReDoSRequestEnds(t *testing.T) {
	cases, err := crafted.Write(t.TempDir(), tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	var dir string
	for _, c := range cases {
		if c.Name == "tokenizer-redos" {
			dir = c.Dir
		}
	}
	clf := loadTiny(t, dir, textclf.Options{})
	s := newTestServer(t, clf.Model, Config{})
	srv := httptestServer(t, s)
	for _, path := range []string{"/predict", "/tokenize"} {
		start := time.Now()
		resp, err := http.Post(srv+path, "application/json", strings.NewReader(`{"inputs": "`+crafted.ReDoSText+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		msg := errorBody(t, resp.StatusCode, body, http.StatusUnprocessableEntity, typeTokenizer)
		if !strings.Contains(msg, "took longer than 1s") {
			t.Fatalf("%s: error %q", path, msg)
		}
		if took > 3*time.Second {
			t.Errorf("%s: answered after %v", path, took)
		}
		// Nothing keeps computing: over 300 ms the process uses little CPU.
		before := cpuTime(t)
		time.Sleep(300 * time.Millisecond)
		if used := cpuTime(t) - before; used > 100*time.Millisecond {
			t.Errorf("%s: %v of CPU used in the 300 ms after the answer", path, used)
		}
	}
}

// httptestServer serves s on a loopback port until the test ends.
func httptestServer(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.Handler()}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// /tokenize answers at most MaxBatchTokens tokens.
func TestTokenizeResponseIsCapped(t *testing.T) {
	s := newTestServer(t, newFake(), Config{MaxBatchTokens: 20})
	h := s.Handler()
	code, body := do(t, h, "POST", "/tokenize", `{"inputs": "`+strings.Repeat("w ", 18)+`"}`)
	if code != 200 {
		t.Fatalf("20 tokens: %d %s", code, body)
	}
	code, body = do(t, h, "POST", "/tokenize", `{"inputs": ["`+strings.Repeat("w ", 10)+`", "`+strings.Repeat("w ", 10)+`"]}`)
	if msg := errorBody(t, code, body, http.StatusRequestEntityTooLarge, typeValidation); !strings.Contains(msg, "more than 20 tokens") {
		t.Fatalf("error %q", msg)
	}
}

// On shutdown the server drains: /health answers 503 while it still
// serves, and a client sending requests back to back over a keep-alive
// connection gets each one answered, the first answer of the drain with
// "Connection: close" (the client then goes elsewhere, as a load balancer
// that sees /health fail does); no request is cut off (EOF, reset). Once
// the server is gone, connections are refused.
func TestDrainClosesKeepAliveConnections(t *testing.T) {
	url, cancel, served := serveUntilCancelled(t, newFake(), Config{DrainDelay: 2 * time.Second})

	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	var ok, conns atomic.Int64
	client.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conns.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	res := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			if i == 20 {
				close(started)
			}
			resp, err := client.Post(url+"/predict", "application/json", strings.NewReader(`{"inputs": "keep alive"}`))
			if err != nil {
				res <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				res <- fmt.Errorf("status %d", resp.StatusCode)
				return
			}
			ok.Add(1)
			if resp.Close { // "Connection: close"
				res <- nil
				return
			}
		}
	}()
	<-started
	cancel() // as SIGTERM does
	if err := <-res; err != nil {
		t.Fatalf("a request failed while draining: %v", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the client opened %d connections, want 1 kept alive until the drain", n)
	}
	resp, err := http.Get(url + "/health")
	if err != nil {
		t.Fatalf("/health while draining: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !resp.Close {
		t.Fatalf("/health while draining: %d, Connection: close %v", resp.StatusCode, resp.Close)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	_, err = client.Post(url+"/predict", "application/json", strings.NewReader(`{"inputs": "late"}`))
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Fatalf("a request after the server stopped: %v, want a refused connection", err)
	}
}
