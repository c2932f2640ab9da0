package hub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/textclf/textclf/checkpoint"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

// fakeHub serves one model repository the way the hub does: the model info
// API, /resolve/ with X-Repo-Commit and ETag headers, and LFS files through a
// redirect to a separate CDN server (which must never see the token).
type fakeHub struct {
	t       *testing.T
	repo    string
	files   map[string][]byte
	lfs     map[string]bool
	token   string
	corrupt bool

	hub, cdn *httptest.Server

	mu          sync.Mutex
	gets        map[string]int // successful content GETs per file
	served      int64          // content bytes sent
	ranges      []string
	cdnAuthSeen bool
}

func sha256hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// gitSHA1 is the id git gives a blob: the hub's ETag of a file not in LFS.
func gitSHA1(b []byte) string {
	s := sha1.Sum(append([]byte("blob "+itoa(len(b))+"\x00"), b...))
	return hex.EncodeToString(s[:])
}

func newFakeHub(t *testing.T, repo string, files map[string][]byte, lfs ...string) *fakeHub {
	h := &fakeHub{t: t, repo: repo, files: files, lfs: map[string]bool{}, gets: map[string]int{}}
	for _, f := range lfs {
		h.lfs[f] = true
	}
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	h.hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	t.Cleanup(func() { h.hub.Close(); h.cdn.Close() })
	return h
}

func (h *fakeHub) serveContent(w http.ResponseWriter, r *http.Request, name string, b []byte) {
	if h.corrupt {
		b = append([]byte(nil), b...)
		b[len(b)/2] ^= 1
	}
	h.mu.Lock()
	if r.Method == http.MethodGet {
		h.gets[name]++
		if rg := r.Header.Get("Range"); rg != "" {
			h.ranges = append(h.ranges, name+" "+rg)
		}
	}
	h.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w}
	http.ServeContent(cw, r, "", time.Time{}, bytes.NewReader(b))
	h.mu.Lock()
	h.served += cw.n
	h.mu.Unlock()
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		h.mu.Lock()
		h.cdnAuthSeen = true
		h.mu.Unlock()
	}
	sum := strings.TrimPrefix(r.URL.Path, "/blob/")
	for name, b := range h.files {
		if h.lfs[name] && sha256hex(b) == sum {
			h.serveContent(w, r, name, b)
			return
		}
	}
	http.NotFound(w, r)
}

func (h *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	if h.token != "" && r.Header.Get("Authorization") != "Bearer "+h.token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, "/api/models/"+h.repo+"/revision/"); ok {
		if rest != "main" && rest != commit {
			w.Header().Set("X-Error-Code", "RevisionNotFound")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		info := map[string]any{"sha": commit}
		var sib []map[string]string
		for name := range h.files {
			sib = append(sib, map[string]string{"rfilename": name})
		}
		info["siblings"] = sib
		json.NewEncoder(w).Encode(info)
		return
	}
	if rest, ok := strings.CutPrefix(p, "/old-org/old-name/"); ok {
		http.Redirect(w, r, "/"+h.repo+"/"+rest, http.StatusMovedPermanently)
		return
	}
	rest, ok := strings.CutPrefix(p, "/"+h.repo+"/resolve/")
	rev, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || (rev != "main" && rev != commit) {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	b, ok := h.files[name]
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", commit)
	if h.lfs[name] {
		sum := sha256hex(b)
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", itoa(len(b)))
		w.Header().Set("ETag", `"`+gitSHA1(b)+`"`)
		w.Header().Set("Location", h.cdn.URL+"/blob/"+sum)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+gitSHA1(b)+`"`)
	h.serveContent(w, r, name, b)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func readGolden(t *testing.T, dir string) map[string][]byte {
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "expected.json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

const shard1 = "model-00001-of-00002.safetensors"
const shard2 = "model-00002-of-00002.safetensors"

func shardedRepo(t *testing.T) *fakeHub {
	files := readGolden(t, "../testdata/checkpoint/bert_sharded")
	files["vocab.txt"] = []byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\n")
	files["README.md"] = []byte("# tiny\n")
	files["pytorch_model.bin"] = []byte("not to be downloaded: safetensors are preferred")
	h := newFakeHub(t, "textclf/tiny-bert", files, shard1, shard2, "pytorch_model.bin")
	h.token = "hf_secret"
	return h
}

func TestDownloadModelIntoHFCache(t *testing.T) {
	h := shardedRepo(t)
	cache := t.TempDir()
	var mu sync.Mutex
	progress := map[string][2]int64{}
	c := New(Options{Endpoint: h.hub.URL, Token: h.token, CacheDir: cache, Progress: func(f string, done, total int64) {
		mu.Lock()
		progress[f] = [2]int64{done, total}
		mu.Unlock()
	}})
	dir, err := c.DownloadModel(context.Background(), "textclf/tiny-bert", "main")
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(cache, "models--textclf--tiny-bert")
	if dir != filepath.Join(repo, "snapshots", commit) {
		t.Errorf("dir = %s", dir)
	}
	if ref, _ := os.ReadFile(filepath.Join(repo, "refs", "main")); string(ref) != commit {
		t.Errorf("refs/main = %q", ref)
	}
	// Snapshot entries are relative symlinks into blobs/, named by etag (sha256 for LFS).
	for name, b := range h.files {
		p := filepath.Join(dir, name)
		if name == "README.md" || name == "pytorch_model.bin" {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s downloaded but not needed", name)
			}
			continue
		}
		target, err := os.Readlink(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		etag := gitSHA1(b)
		if h.lfs[name] {
			etag = sha256hex(b)
		}
		if target != filepath.Join("..", "..", "blobs", etag) {
			t.Errorf("%s → %s", name, target)
		}
		got, _ := os.ReadFile(p)
		if !bytes.Equal(got, b) {
			t.Errorf("%s: content differs", name)
		}
	}
	if p := progress[shard1]; p[0] != p[1] || p[1] != int64(len(h.files[shard1])) {
		t.Errorf("progress for %s: %v", shard1, p)
	}
	if h.cdnAuthSeen {
		t.Error("the token was sent to the CDN host")
	}
	// The snapshot is a checkpoint directory.
	w, err := checkpoint.LoadWeights(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Format != "safetensors (sharded)" || len(w.Tensors) != 41 {
		t.Errorf("loaded %s with %d tensors", w.Format, len(w.Tensors))
	}

	// A second download finds everything in the cache: no content is fetched again.
	before := h.served
	if dir2, err := c.DownloadModel(context.Background(), "textclf/tiny-bert", "main"); err != nil || dir2 != dir {
		t.Fatalf("second download: %s, %v", dir2, err)
	}
	if h.served != before {
		t.Errorf("%d bytes fetched again", h.served-before)
	}

	// Offline, with the hub gone, the cache still serves the model.
	h.hub.Close()
	off := New(Options{Endpoint: h.hub.URL, CacheDir: cache, Offline: true})
	if dir3, err := off.DownloadModel(context.Background(), "textclf/tiny-bert", "main"); err != nil || dir3 != dir {
		t.Fatalf("offline: %s, %v", dir3, err)
	}
	if _, err := off.DownloadModel(context.Background(), "textclf/other", "main"); !errors.Is(err, ErrOffline) ||
		!strings.Contains(err.Error(), "not in the cache "+cache+"; unset HF_HUB_OFFLINE") {
		t.Errorf("offline, uncached: %v", err)
	}
	if _, err := off.Download(context.Background(), "textclf/other", "main", "config.json"); !errors.Is(err, ErrOffline) ||
		!strings.Contains(err.Error(), "textclf/other@main: config.json: offline mode") || !strings.Contains(err.Error(), cache) {
		t.Errorf("offline, uncached file: %v", err)
	}
	// Online but unreachable: a cached file is still returned.
	if p, err := New(Options{Endpoint: h.hub.URL, CacheDir: cache}).Download(context.Background(), "textclf/tiny-bert", "main", "config.json"); err != nil || !strings.HasPrefix(p, dir) {
		t.Errorf("unreachable hub: %s, %v", p, err)
	}
}

func TestResumeIncompleteDownload(t *testing.T) {
	h := shardedRepo(t)
	cache := t.TempDir()
	content := h.files[shard1]
	blobs := filepath.Join(cache, "models--textclf--tiny-bert", "blobs")
	os.MkdirAll(blobs, 0o755)
	const have = 1000
	os.WriteFile(filepath.Join(blobs, sha256hex(content)+".incomplete"), content[:have], 0o644)
	c := New(Options{Endpoint: h.hub.URL, Token: h.token, CacheDir: cache})
	p, err := c.Download(context.Background(), "textclf/tiny-bert", "main", shard1)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, content) {
		t.Fatal("resumed file differs")
	}
	if !slices.Equal(h.ranges, []string{shard1 + " bytes=1000-"}) {
		t.Errorf("ranges %v", h.ranges)
	}
	if h.served != int64(len(content)-have) {
		t.Errorf("served %d bytes, want %d", h.served, len(content)-have)
	}
	if _, err := os.Stat(filepath.Join(blobs, sha256hex(content)+".incomplete")); err == nil {
		t.Error(".incomplete left behind")
	}
}

func TestSHA256Mismatch(t *testing.T) {
	h := shardedRepo(t)
	h.corrupt = true
	cache := t.TempDir()
	c := New(Options{Endpoint: h.hub.URL, Token: h.token, CacheDir: cache})
	_, err := c.Download(context.Background(), "textclf/tiny-bert", "main", shard2)
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("err = %v", err)
	}
	blobs, _ := os.ReadDir(filepath.Join(cache, "models--textclf--tiny-bert", "blobs"))
	if len(blobs) != 0 {
		t.Errorf("blobs left after a bad download: %v", blobs)
	}
	if _, err := os.Lstat(filepath.Join(cache, "models--textclf--tiny-bert", "snapshots", commit, shard2)); err == nil {
		t.Error("snapshot pointer to a bad blob")
	}
}

func TestErrors(t *testing.T) {
	h := shardedRepo(t)
	cache := t.TempDir()
	ctx := context.Background()
	_, err := New(Options{Endpoint: h.hub.URL, CacheDir: cache}).Download(ctx, "textclf/tiny-bert", "main", "config.json")
	if err == nil || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Errorf("no token: %v", err)
	}
	c := New(Options{Endpoint: h.hub.URL, Token: h.token, CacheDir: cache})
	if _, err := c.Download(ctx, "textclf/tiny-bert", "main", "nope.json"); err == nil || !strings.Contains(err.Error(), "file not found") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := c.Download(ctx, "textclf/tiny-bert", "v9", "config.json"); err == nil || !strings.Contains(err.Error(), "revision not found") {
		t.Errorf("missing revision: %v", err)
	}
	if _, err := c.Download(ctx, "textclf/tiny-bert", "main", "../../etc/passwd"); err == nil || !strings.Contains(err.Error(), "invalid file name") {
		t.Errorf("traversal: %v", err)
	}
	if _, err := c.Download(ctx, "../x", "main", "config.json"); err == nil || !strings.Contains(err.Error(), "invalid model id") {
		t.Errorf("bad id: %v", err)
	}
	// A renamed repository redirects on the same host: followed.
	h.repo = "textclf/tiny-bert"
	if p, err := c.Download(ctx, "old-org/old-name", "main", "vocab.txt"); err != nil {
		t.Errorf("renamed repo: %v", err)
	} else if b, _ := os.ReadFile(p); string(b) != string(h.files["vocab.txt"]) {
		t.Errorf("renamed repo content %q", b)
	}
}

func TestFromEnv(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HF_HOME", home)
	t.Setenv("HF_ENDPOINT", "https://mirror.example/")
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_TOKEN_PATH", "")
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HUB_OFFLINE", "yes")
	os.WriteFile(filepath.Join(home, "token"), []byte("hf_fromfile\n"), 0o600)
	o := FromEnv()
	if o.Endpoint != "https://mirror.example" || o.CacheDir != filepath.Join(home, "hub") || o.Token != "hf_fromfile" || !o.Offline {
		t.Errorf("%+v", o)
	}
	t.Setenv("HF_HUB_CACHE", "/c")
	t.Setenv("HF_TOKEN", "hf_env")
	t.Setenv("HF_HUB_OFFLINE", "0")
	t.Setenv("HF_ENDPOINT", "")
	o = FromEnv()
	if o.CacheDir != "/c" || o.Token != "hf_env" || o.Offline || o.Endpoint != DefaultEndpoint {
		t.Errorf("%+v", o)
	}
	t.Setenv("HF_HOME", "")
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if o = FromEnv(); o.CacheDir != "/xdg/huggingface/hub" {
		t.Errorf("xdg: %s", o.CacheDir)
	}
	// Timeouts in seconds, as huggingface_hub reads them; 10 s by default.
	t.Setenv("HF_HUB_ETAG_TIMEOUT", "2.5")
	t.Setenv("HF_HUB_DOWNLOAD_TIMEOUT", "30")
	if o = FromEnv(); o.EtagTimeout != 2500*time.Millisecond || o.DownloadTimeout != 30*time.Second {
		t.Errorf("timeouts %v %v", o.EtagTimeout, o.DownloadTimeout)
	}
	t.Setenv("HF_HUB_ETAG_TIMEOUT", "")
	t.Setenv("HF_HUB_DOWNLOAD_TIMEOUT", "soon")
	if c := New(FromEnv()); c.opts.EtagTimeout != 10*time.Second || c.opts.DownloadTimeout != 10*time.Second || c.opts.Retries != 5 {
		t.Errorf("defaults %+v", c.opts)
	}
}

func TestResolveModel(t *testing.T) {
	d := t.TempDir()
	dir, fromHub, err := ResolveModel(context.Background(), d, "", Options{Offline: true, CacheDir: t.TempDir()})
	if err != nil || dir != d || fromHub {
		t.Errorf("local dir: %s %v %v", dir, fromHub, err)
	}
	if _, _, err := ResolveModel(context.Background(), "./missing/dir", "", Options{Offline: true}); err == nil || !strings.Contains(err.Error(), "no such directory") {
		t.Errorf("missing dir: %v", err)
	}
	if _, _, err := ResolveModel(context.Background(), "org/model", "", Options{Offline: true, CacheDir: t.TempDir()}); !errors.Is(err, ErrOffline) {
		t.Errorf("hub id offline: %v", err)
	}
}

func TestModelFiles(t *testing.T) {
	want, w, err := ModelFiles([]string{"config.json", "pytorch_model.bin", "model.safetensors", "tokenizer.json", "README.md"})
	if err != nil || w != "model.safetensors" || !slices.Equal(want, []string{"config.json", "tokenizer.json", "model.safetensors"}) {
		t.Errorf("%v %s %v", want, w, err)
	}
	if _, w, _ := ModelFiles([]string{"config.json", "pytorch_model.bin.index.json"}); w != "pytorch_model.bin.index.json" {
		t.Errorf("bin index: %s", w)
	}
	if _, _, err := ModelFiles([]string{"config.json"}); err == nil {
		t.Error("no weights accepted")
	}
}

// Concurrent downloads of one blob (as from several processes) are serialised
// by the lock file: the content is fetched once and every caller gets the file.
func TestConcurrentDownloadsShareOneFetch(t *testing.T) {
	h := shardedRepo(t)
	cache := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := New(Options{Endpoint: h.hub.URL, Token: h.token, CacheDir: cache})
			p, err := c.Download(context.Background(), "textclf/tiny-bert", "main", shard1)
			if err == nil {
				if b, _ := os.ReadFile(p); !bytes.Equal(b, h.files[shard1]) {
					err = errors.New("content differs")
				}
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if h.gets[shard1] != 1 {
		t.Errorf("blob fetched %d times", h.gets[shard1])
	}
	if _, err := os.Stat(filepath.Join(cache, ".locks", "models--textclf--tiny-bert", sha256hex(h.files[shard1])+".lock")); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

// closedLoopbackURL returns the URL of a loopback port that nothing listens
// on: connecting to it is refused at once, without any network.
func closedLoopbackURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// noSuchHost is an HTTP client whose every connection fails as the lookup of
// a name without DNS does, the failure of a machine without network.
var noSuchHost = &http.Client{Transport: &http.Transport{
	DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	},
}}

// TestUnreachableHub checks that a hub that cannot be reached gives an error
// naming the request that failed and its cause, saying that the hub could not
// be reached and the cache does not hold the model, and pointing at
// HF_ENDPOINT and HF_HUB_OFFLINE.
func TestUnreachableHub(t *testing.T) {
	ctx := context.Background()
	refused := closedLoopbackURL(t)
	for _, tc := range []struct {
		name, endpoint string
		client         *http.Client
		cause          string
		call           func(c *Client) error
		url            string // the request that fails, after the endpoint
	}{
		{"list, refused", refused, nil, "connection refused",
			func(c *Client) error { _, err := c.DownloadModel(ctx, "acme/tiny", "main"); return err },
			"/api/models/acme/tiny/revision/main"},
		{"list, no such host", "https://hub.example", noSuchHost, "lookup hub.example: no such host",
			func(c *Client) error { _, err := c.DownloadModel(ctx, "acme/tiny", "main"); return err },
			"/api/models/acme/tiny/revision/main"},
		{"file, refused", refused, nil, "connection refused",
			func(c *Client) error { _, err := c.Download(ctx, "acme/tiny", "v1", "config.json"); return err },
			"/acme/tiny/resolve/v1/config.json"},
		{"file, no such host", "https://hub.example", noSuchHost, "lookup hub.example: no such host",
			func(c *Client) error { _, err := c.Download(ctx, "acme/tiny", "v1", "config.json"); return err },
			"/acme/tiny/resolve/v1/config.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			err := tc.call(New(Options{Endpoint: tc.endpoint, CacheDir: cache, HTTPClient: tc.client}))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, want := range []string{
				"could not reach the hub at " + tc.endpoint,
				tc.endpoint + tc.url,
				tc.cause,
				"the cache " + cache + " does not hold it",
				"HF_ENDPOINT", "HF_HUB_OFFLINE=1",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if strings.Count(msg, tc.url) != 1 {
				t.Errorf("error %q names the URL more than once", msg)
			}
			if tc.client == nil && !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("error %q does not wrap ECONNREFUSED", msg)
			}
		})
	}
}

// TestUnreachableDownloadHost checks the error when the hub answers but the
// host it redirects a download to cannot be reached.
func TestUnreachableDownloadHost(t *testing.T) {
	h := shardedRepo(t)
	h.cdn.Close()
	c := New(Options{Endpoint: h.hub.URL, Token: h.token, CacheDir: t.TempDir()})
	_, err := c.Download(context.Background(), "textclf/tiny-bert", "main", shard1)
	if err == nil {
		t.Fatal("no error")
	}
	cdn := strings.TrimPrefix(h.cdn.URL, "http://")
	for _, want := range []string{
		"download " + shard1, "could not reach " + cdn + ", where the hub at " + h.hub.URL + " sent the download",
		"GET " + h.cdn.URL + "/blob/" + sha256hex(h.files[shard1]), "connection refused", "HF_ENDPOINT",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestCancelledIsNotUnreachable checks that a request the caller cancelled
// is reported as cancelled, without advice about the network.
func TestCancelledIsNotUnreachable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(Options{Endpoint: closedLoopbackURL(t), CacheDir: t.TempDir()}).DownloadModel(ctx, "acme/tiny", "main")
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "HF_ENDPOINT") {
		t.Errorf("cancelled: %v", err)
	}
}
