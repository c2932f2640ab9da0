package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/textclf/textclf/classic"
)

// startServe runs `textclf serve` on a free loopback port until the
// returned stop is called; stop returns the command's error.
func startServe(t *testing.T, args ...string) (url string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	var logs bytes.Buffer
	root.SetArgs(append([]string{"serve", "--addr", addr}, args...))
	root.SetOut(io.Discard)
	root.SetErr(&logs)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	url = "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v; logs:\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve not healthy; logs:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return url, func() error {
		cancel()
		err := <-done
		if !strings.Contains(logs.String(), `"msg":"stopped"`) {
			t.Errorf("no shutdown in the logs:\n%s", logs.String())
		}
		return err
	}
}

type servedPrediction struct {
	Score float32 `json:"score"`
	Label string  `json:"label"`
}

func postJSON(t *testing.T, url string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(rb, out); err != nil {
			t.Fatalf("%s: %v", rb, err)
		}
	}
	return resp.StatusCode
}

// TestServeMatchesPredict runs `textclf serve` and `textclf predict --all`
// on the same texts and compares their scores.
func TestServeMatchesPredict(t *testing.T) {
	texts := []string{"great movie", "an awful film", "i loved it, really", "boring"}
	stdout, err := runCLI(t, "", append([]string{"predict", "--model", tinyBERT, "--all"}, texts...)...)
	if err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, "--model", tinyBERT, "--max-batch-requests", "8")
	var batch [][]string
	for _, x := range texts {
		batch = append(batch, []string{x})
	}
	var got [][]servedPrediction
	if code := postJSON(t, url+"/predict", map[string]any{"inputs": batch}, &got); code != 200 {
		t.Fatalf("predict: status %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(texts) || len(got) != len(texts) {
		t.Fatalf("%d predict lines, %d served answers for %d texts", len(lines), len(got), len(texts))
	}
	for i, line := range lines {
		var p struct {
			Scores []servedPrediction `json:"scores"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Scores) != len(got[i]) {
			t.Fatalf("%q: %d scores served, predict gave %d", texts[i], len(got[i]), len(p.Scores))
		}
		for j := range p.Scores {
			d := p.Scores[j].Score - got[i][j].Score
			if p.Scores[j].Label != got[i][j].Label || d > 1e-5 || d < -1e-5 {
				t.Fatalf("%q: served %v, predict %v", texts[i], got[i], p.Scores)
			}
		}
	}
	var info map[string]any
	resp, err := http.Get(url + "/info")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if info["model_id"] != tinyBERT || info["max_batch_requests"] != 8.0 || info["max_input_length"] != 40.0 {
		t.Fatalf("info %v", info)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func TestServeClassic(t *testing.T) {
	dir := t.TempDir()
	train := writeSentiment(t, dir, 20)
	model := filepath.Join(dir, "model")
	if _, err := runCLI(t, "", "train", "--arch", "fasttext", "--train", train, "--output", model, "--threads", "1", "--dim", "8"); err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, "--model", model)
	var got []servedPrediction
	if code := postJSON(t, url+"/predict", map[string]any{"inputs": "great movie"}, &got); code != 200 {
		t.Fatalf("status %d", code)
	}
	c, err := classic.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	scores, _ := c.Scores("great movie", "")
	for _, p := range got {
		for j, l := range c.Config.Labels {
			if l == p.Label && scores[j] != p.Score {
				t.Fatalf("served %v, model scores %v for %v", got, scores, c.Config.Labels)
			}
		}
	}
	if len(got) != 2 || got[0].Score < got[1].Score {
		t.Fatalf("served %v", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestServeFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--model is required"},
		{[]string{"serve", "--model", tinyBERT, "--log-format", "xml"}, "--log-format"},
		{[]string{"serve", "--model", tinyBERT, "--max-batch-tokens", "10"}, "max batch tokens 10"},
		{[]string{"serve", "--model", tinyBERT, "--max-input-length", "100"}, "exceeds the model's 40 positions"},
	} {
		_, err := runCLI(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}
