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

	"github.com/spf13/pflag"
	"github.com/textclf/textclf/classic"
)

// startServe runs `textclf serve` on a free loopback port until the
// returned stop is called; stop returns the command's error.
func startServe(t *testing.T, args ...string) (url string, stop func() error) {
	t.Helper()
	addr := freeAddr(t)
	return startServeAt(t, addr, append([]string{"--addr", addr}, args...)...)
}

// freeAddr is a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServeAt runs `textclf serve args...`, which listens on addr, as
// startServe does.
func startServeAt(t *testing.T, addr string, args ...string) (url string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	var logs bytes.Buffer
	// No drain: the health checks above keep a connection open.
	root.SetArgs(append([]string{"serve", "--drain-delay", "0"}, args...))
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

// getInfo reads the server's GET /info.
func getInfo(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url + "/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatalf("/info: %v", err)
	}
	return info
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
	info := getInfo(t, url)
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
		{[]string{"serve", "--model", tinyBERT, "--model-id", "other"}, `--model-id "other" and --model "` + tinyBERT + `" differ`},
		{[]string{"serve", "--model", tinyBERT, "--addr", "127.0.0.1:9000", "--port", "9001"}, "--port 9001 and --addr 127.0.0.1:9000 differ"},
		{[]string{"serve", "--model", tinyBERT, "--addr", "127.0.0.1:9000", "--hostname", "localhost"}, `--hostname "localhost" and --addr 127.0.0.1:9000 differ`},
		{[]string{"serve", "--model", tinyBERT, "--port", "0"}, "--port must be 1 to 65535, got 0"},
		{[]string{"serve", "--model", tinyBERT, "--json-output", "--log-format", "text"}, "--json-output=true and --log-format text differ"},
		{[]string{"serve", "--model", tinyBERT, "--json-output=false", "--log-format", "json"}, "--json-output=false and --log-format json differ"},
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

// TEI's flag names set textclf's flags; a flag given under both names with
// the same value is fine.
func TestServeTEIAliases(t *testing.T) {
	for _, c := range []struct {
		args                   []string
		model, addr, logFormat string
	}{
		{nil, "", ":8080", "json"},
		{[]string{"--model-id", "m"}, "m", ":8080", "json"},
		{[]string{"--model-id", "m", "--model", "m"}, "m", ":8080", "json"},
		{[]string{"--port", "3000"}, "", ":3000", "json"},
		{[]string{"-p", "3000"}, "", ":3000", "json"},
		{[]string{"--hostname", "0.0.0.0"}, "", "0.0.0.0:8080", "json"},
		{[]string{"--hostname", "::1", "--port", "3000"}, "", "[::1]:3000", "json"},
		{[]string{"--hostname", "127.0.0.1", "--port", "9000", "--addr", "127.0.0.1:9000"}, "", "127.0.0.1:9000", "json"},
		{[]string{"--addr", "localhost:9000", "--port", "9000"}, "", "localhost:9000", "json"},
		{[]string{"--json-output"}, "", ":8080", "json"},
		{[]string{"--json-output=false"}, "", ":8080", "text"},
		{[]string{"--json-output", "--log-format", "json"}, "", ":8080", "json"},
	} {
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		var f serveFlags
		f.register(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if err := f.applyTEIAliases(fs); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if f.model != c.model || f.addr != c.addr || f.logFormat != c.logFormat {
			t.Errorf("%v: model %q, addr %q, log format %q; want %q, %q, %q", c.args, f.model, f.addr, f.logFormat, c.model, c.addr, c.logFormat)
		}
	}
	// The server runs under TEI's names alone.
	host, port, _ := net.SplitHostPort(freeAddr(t))
	url, stop := startServeAt(t, net.JoinHostPort(host, port), "--model-id", tinyBERT, "--hostname", host, "--port", port, "--json-output")
	info := getInfo(t, url)
	if info["model_id"] != tinyBERT {
		t.Fatalf("info %v", info)
	}
	if err := stop(); err != nil { // stop checks the logs are JSON
		t.Fatal(err)
	}
}

// TestServeServedModelName checks that the v2 routes name the model by
// --served-model-name, by default the base name of --model.
func TestServeServedModelName(t *testing.T) {
	for _, c := range []struct {
		args []string
		name string
	}{
		{[]string{"--model", tinyBERT + "/"}, "tiny-bert"},
		{[]string{"--model", tinyBERT, "--served-model-name", "sentiment"}, "sentiment"},
	} {
		url, stop := startServe(t, c.args...)
		for path, want := range map[string]int{"/v2/models/" + c.name + "/ready": 200, "/v2/models/other/ready": 404} {
			resp, err := http.Get(url + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%v: GET %s: %d, want %d", c.args, path, resp.StatusCode, want)
			}
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
}
