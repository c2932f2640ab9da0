package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/textclf/textclf"
)

// hfClientDir holds the npm client test: package.json, package-lock.json
// and script.mjs; `npm ci` there installs the client.
var hfClientDir = filepath.Join("testdata", "hfclient")

// requireNode returns the path of node, or skips the test when node or the
// installed npm client is missing — fails instead when
// TEXTCLF_REQUIRE_NODE=1 (as in CI).
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("TEXTCLF_REQUIRE_NODE") == "1" {
			t.Fatal(msg + " (TEXTCLF_REQUIRE_NODE=1 makes this a failure)")
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("the Hugging Face npm client test needs node: %v", err)
	}
	if _, err := os.Stat(filepath.Join(hfClientDir, "node_modules", "@huggingface", "inference", "package.json")); err != nil {
		missing("the Hugging Face npm client test needs the client installed: run `npm ci` in serve/%s", hfClientDir)
	}
	return node
}

// TestHuggingFaceJSClient runs the npm client @huggingface/inference's
// textClassification, pointed at a server of the tiny BERT on 127.0.0.1,
// and checks its results are the classifier's scores, cut at top_k.
func TestHuggingFaceJSClient(t *testing.T) {
	node := requireNode(t)
	clf := loadTiny(t, tinyBERT, textclf.Options{})
	s := newTestServer(t, clf.Model, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	type call struct {
		Inputs     string         `json:"inputs"`
		Parameters map[string]any `json:"parameters,omitempty"`
	}
	calls := []call{
		{Inputs: "the movie was great"},
		{Inputs: "an awful, boring film!", Parameters: map[string]any{"top_k": 1}},
		{Inputs: "is it good? yes it is", Parameters: map[string]any{"function_to_apply": "sigmoid"}},
		{Inputs: "the movie was great", Parameters: map[string]any{"function_to_apply": "none", "top_k": 2}},
		{Inputs: "the movie was great", Parameters: map[string]any{"top_k": 0}},
	}
	arg, _ := json.Marshal(calls)
	cctx, stop := context.WithTimeout(ctx, 2*time.Minute)
	defer stop()
	cmd := exec.CommandContext(cctx, node, "script.mjs", "http://"+ln.Addr().String(), string(arg))
	cmd.Dir = hfClientDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node script.mjs: %v\n%s", err, stderr.String())
	}
	var results []json.RawMessage
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(calls) {
		t.Fatalf("client output %s: %v; want %d results", out, err, len(calls))
	}

	for i, c := range calls[:4] {
		fn, _ := c.Parameters["function_to_apply"].(string)
		preds, err := clf.ClassifyInputs(context.Background(), []textclf.Input{{Text: c.Inputs}},
			textclf.ClassifyOptions{Function: textclf.Function(fn)})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]prediction, len(preds[0].Scores))
		for j, ls := range preds[0].Scores {
			want[j] = prediction{Score: ls.Score, Label: ls.Label}
		}
		if k, ok := c.Parameters["top_k"].(int); ok {
			want = want[:k]
		}
		var got []prediction
		if err := json.Unmarshal(results[i], &got); err != nil {
			t.Fatalf("call %+v: the client gave %s", c, results[i])
		}
		samePredictions(t, got, want, 1e-5)
	}
	var failed struct{ Error string }
	if json.Unmarshal(results[4], &failed) != nil || failed.Error != "Failed to perform inference: parameters.top_k must be at least 1, got 0" {
		t.Fatalf("top_k 0: the client gave %s", results[4])
	}
}
