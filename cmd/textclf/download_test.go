package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/textclf/textclf"
)

// TestDownloadFromFakeHub downloads a model from an httptest hub through
// HF_ENDPOINT and HF_HUB_CACHE, with progress bars on stderr.
func TestDownloadFromFakeHub(t *testing.T) {
	const commit = "fedcba9876543210fedcba9876543210fedcba98"
	files := map[string][]byte{}
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(golden, "distilbert_f32", f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer hf_test" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/api/models/acme/tiny/revision/main" {
			json.NewEncoder(w).Encode(map[string]any{"sha": commit, "siblings": []map[string]string{
				{"rfilename": "config.json"}, {"rfilename": "model.safetensors"}, {"rfilename": ".gitattributes"}}})
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/acme/tiny/resolve/"+commit+"/")
		b, found := files[name]
		if !ok || !found {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		sum := sha256.Sum256(b)
		w.Header().Set("X-Repo-Commit", commit)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	defer srv.Close()
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_TOKEN", "hf_test")
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_HUB_OFFLINE", "")

	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs([]string{"download", "acme/tiny"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(cache, "models--acme--tiny", "snapshots", commit)
	if strings.TrimSpace(out.String()) != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
	if !strings.Contains(errb.String(), "model.safetensors") || !strings.Contains(errb.String(), "100%") {
		t.Errorf("no progress bar on stderr: %q", errb.String())
	}
	// info on the hub id now reads the downloaded snapshot.
	o, err := run(t, "info", "--model", "acme/tiny", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep textclf.Description
	json.Unmarshal([]byte(o), &rep)
	if rep.Source != want || rep.ModelType != "distilbert" || rep.Parameters != 1786 {
		t.Errorf("%+v", rep)
	}
}

// TestHubUnreachable runs the commands that resolve a hub id against a hub
// that cannot be reached (a closed loopback port, so no network is used): the
// error names the URL that failed, says the hub could not be reached, and
// points at HF_ENDPOINT and HF_HUB_OFFLINE.
func TestHubUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close()
	t.Setenv("HF_ENDPOINT", endpoint)
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv("HF_HUB_OFFLINE", "")
	for _, args := range [][]string{
		{"download", "-q", "acme/tiny"},
		{"info", "--model", "acme/tiny"},
		{"predict", "--model", "acme/tiny", "a text"},
	} {
		_, err := run(t, args...)
		if err == nil {
			t.Errorf("textclf %v: no error", args)
			continue
		}
		for _, want := range []string{
			"could not reach the hub at " + endpoint,
			endpoint + "/api/models/acme/tiny/revision/main",
			"connection refused", "HF_ENDPOINT", "HF_HUB_OFFLINE=1",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("textclf %v: error %q lacks %q", args, err, want)
			}
		}
	}
}

// textclf download from a hub that accepts connections and never answers
// fails within HF_HUB_ETAG_TIMEOUT, naming it.
func TestDownloadFromStalledHub(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stop }))
	defer srv.Close()
	defer close(stop)
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv("HF_HUB_OFFLINE", "")
	t.Setenv("HF_HUB_ETAG_TIMEOUT", "0.3")
	start := time.Now()
	_, err := run(t, "download", "-q", "acme/tiny")
	if took := time.Since(start); err == nil || !strings.Contains(err.Error(), "no answer for 300ms (HF_HUB_ETAG_TIMEOUT)") || took > 3*time.Second {
		t.Fatalf("stalled hub: %v after %v", err, took)
	}
}
