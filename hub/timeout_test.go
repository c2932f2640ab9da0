package hub

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// stallingServer answers HEAD and GET of one non-LFS file as the hub does,
// but stalls (sends nothing more until the test ends) where told to: on
// HEAD, or on the first stalls GETs: the first after sending stallAfter
// bytes, the next ones at once.
type stallingServer struct {
	srv        *httptest.Server
	content    []byte
	stallHEAD  bool
	stallAfter int
	stalls     int

	mu     sync.Mutex
	gets   int
	ranges []string
	done   chan struct{}
}

func newStallingServer(t *testing.T, content []byte) *stallingServer {
	s := &stallingServer{content: content, done: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() { close(s.done); s.srv.Close() })
	return s
}

func (s *stallingServer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Repo-Commit", commit)
	w.Header().Set("ETag", `"`+gitSHA1(s.content)+`"`)
	if r.Method == http.MethodHead {
		if s.stallHEAD {
			<-s.done
			return
		}
		w.Header().Set("Content-Length", itoa(len(s.content)))
		return
	}
	s.mu.Lock()
	s.gets++
	stall := s.gets <= s.stalls
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	from := 0
	if rg := r.Header.Get("Range"); rg != "" {
		from, _ = parseInt(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		w.Header().Set("Content-Range", "bytes "+itoa(from)+"-"+itoa(len(s.content)-1)+"/"+itoa(len(s.content)))
		w.Header().Set("Content-Length", itoa(len(s.content)-from))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.Header().Set("Content-Length", itoa(len(s.content)))
	}
	body := s.content[from:]
	if stall {
		if s.gets == 1 {
			w.Write(body[:s.stallAfter])
		}
		w.(http.Flusher).Flush()
		<-s.done
		return
	}
	w.Write(body)
}

func parseInt(s string) (int, error) {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// A server that stalls on HEAD fails the download within
// HF_HUB_ETAG_TIMEOUT (the cache is then used when it holds the file); one
// that stalls mid-file makes the download resume, and fail within
// HF_HUB_DOWNLOAD_TIMEOUT × retries when it stalls every time.
func TestStalledServerTimesOut(t *testing.T) {
	content := []byte(strings.Repeat(`{"hidden_size": 32}`, 100))
	opts := func(s *stallingServer, cache string) Options {
		return Options{Endpoint: s.srv.URL, CacheDir: cache, EtagTimeout: 200 * time.Millisecond,
			DownloadTimeout: 200 * time.Millisecond, Retries: 2, RetryWait: 10 * time.Millisecond}
	}
	ctx := context.Background()

	s := newStallingServer(t, content)
	s.stallHEAD = true
	start := time.Now()
	_, err := New(opts(s, t.TempDir())).Download(ctx, "acme/tiny", "main", "config.json")
	if took := time.Since(start); err == nil || !strings.Contains(err.Error(), "no answer for 200ms (HF_HUB_ETAG_TIMEOUT)") || took > 2*time.Second {
		t.Fatalf("stalled HEAD: %v after %v", err, took)
	}

	// Mid-file: the first GET stalls after 100 bytes, the resumed one completes.
	s = newStallingServer(t, content)
	s.stallAfter, s.stalls = 100, 1
	p, err := New(opts(s, t.TempDir())).Download(ctx, "acme/tiny", "main", "config.json")
	if err != nil {
		t.Fatalf("a download resumed after a stall: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(content) || strings.Join(s.ranges, ",") != ",bytes=100-" {
		t.Fatalf("resumed download: ranges %q", s.ranges)
	}

	// Stalling every time, with no data after the first 30 bytes: fails after
	// the retries, the data kept for later.
	s = newStallingServer(t, content)
	s.stallAfter, s.stalls = 30, 100
	cache := t.TempDir()
	start = time.Now()
	_, err = New(opts(s, cache)).Download(ctx, "acme/tiny", "main", "config.json")
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "no answer for 200ms (HF_HUB_DOWNLOAD_TIMEOUT)") || !strings.Contains(err.Error(), "partial data kept") {
		t.Fatalf("stalling every time: %v", err)
	}
	if took > 3*time.Second || s.gets != 3 {
		t.Fatalf("stalling every time: %d GETs in %v, want 3 (2 retries) in about 0.6 s", s.gets, took)
	}
	inc, _ := filepath.Glob(filepath.Join(cache, "models--acme--tiny", "blobs", "*.incomplete"))
	if len(inc) != 1 {
		t.Fatalf("incomplete files %q", inc)
	}
	if st, _ := os.Stat(inc[0]); st.Size() != 30 {
		t.Errorf("kept %d bytes, want 30", st.Size())
	}
}

// The token goes only to the endpoint's exact origin: not to the same host
// on another port, whether the hub names it in a HEAD redirect or the GET is
// redirected there.
func TestTokenOnlyToTheEndpointsOrigin(t *testing.T) {
	contents := map[string][]byte{"a.json": []byte(`{"hidden_size": 32}`), "b.json": []byte(`{"hidden_size": 64}`)}
	var mu sync.Mutex
	authSeen := map[string]string{}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		authSeen[r.Method+" "+r.URL.Path] = r.Header.Get("Authorization")
		mu.Unlock()
		w.Write(contents[filepath.Base(r.URL.Path)])
	}))
	defer other.Close()
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer hf_secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		content := contents[filepath.Base(r.URL.Path)]
		w.Header().Set("X-Repo-Commit", commit)
		w.Header().Set("ETag", `"`+gitSHA1(content)+`"`)
		switch {
		case strings.HasSuffix(r.URL.Path, "/a.json") && r.Method == http.MethodHead:
			// Served here, but the GET is redirected to the other port.
			w.Header().Set("Content-Length", itoa(len(content)))
		case strings.HasSuffix(r.URL.Path, "/a.json"):
			http.Redirect(w, r, other.URL+"/get/a.json", http.StatusFound)
		case strings.HasSuffix(r.URL.Path, "/b.json"):
			// The HEAD names the other port as the download location.
			w.Header().Set("X-Linked-Size", itoa(len(content)))
			w.Header().Set("Location", other.URL+"/head/b.json")
			w.WriteHeader(http.StatusFound)
		}
	}))
	defer hub.Close()
	if !strings.HasPrefix(other.URL, "http://127.0.0.1:") || !strings.HasPrefix(hub.URL, "http://127.0.0.1:") {
		t.Fatalf("servers at %s and %s: want one host, two ports", hub.URL, other.URL)
	}
	c := New(Options{Endpoint: hub.URL, Token: "hf_secret", CacheDir: t.TempDir()})
	for _, f := range []string{"a.json", "b.json"} {
		if _, err := c.Download(context.Background(), "acme/tiny", "main", f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if len(authSeen) != 2 {
		t.Fatalf("the other port saw %v", authSeen)
	}
	for req, auth := range authSeen {
		if auth != "" {
			t.Errorf("%s on another port got Authorization %q", req, auth)
		}
	}
}

// A file not in LFS is checked against its git-sha1 ETag, also when its
// download resumes an incomplete one: a corrupt file is discarded, not
// cached.
func TestGitSHA1Checked(t *testing.T) {
	h := shardedRepo(t)
	cache := t.TempDir()
	c := New(Options{Endpoint: h.hub.URL, Token: h.token, CacheDir: cache})
	content := h.files["config.json"]
	blobs := filepath.Join(cache, "models--textclf--tiny-bert", "blobs")
	os.MkdirAll(blobs, 0o755)
	// An incomplete download whose bytes are wrong.
	bad := append([]byte("XX"), content[2:10]...)
	inc := filepath.Join(blobs, gitSHA1(content)+".incomplete")
	os.WriteFile(inc, bad, 0o644)
	_, err := c.Download(context.Background(), "textclf/tiny-bert", "main", "config.json")
	if err == nil || !strings.Contains(err.Error(), "git-sha1") || !strings.Contains(err.Error(), "discarded") {
		t.Fatalf("resumed corrupt download: %v", err)
	}
	if left, _ := os.ReadDir(blobs); len(left) != 0 {
		t.Fatalf("left in blobs: %v", left)
	}
	// The next try downloads it whole and right.
	p, err := c.Download(context.Background(), "textclf/tiny-bert", "main", "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(content) {
		t.Fatal("content differs")
	}
	h.corrupt = true
	if _, err := New(Options{Endpoint: h.hub.URL, Token: h.token, CacheDir: t.TempDir()}).Download(context.Background(), "textclf/tiny-bert", "main", "vocab.txt"); err == nil || !strings.Contains(err.Error(), "git-sha1") {
		t.Fatalf("corrupt download: %v", err)
	}
}

// Repository ids follow huggingface_hub's validate_repo_id: "--" and ".."
// are refused (models--A--B would hold both x--y/z and x/y--z).
func TestRepoIDs(t *testing.T) {
	for id, ok := range map[string]bool{
		"bert-base-uncased": true, "google-bert/bert-base-uncased": true, "org/name.v2": true, "_org/n_": true,
		"x--y/z": false, "x/y--z": false, "a..b": false, "a/b.git": false, "-a/b": false, "a-/b": false, "a/b-": false,
		"a/b.": false, ".a": false, "a/b/c": false, "": false, "a/" + strings.Repeat("n", 97): false, strings.Repeat("o", 100) + "/n": true,
	} {
		if IsRepoID(id) != ok {
			t.Errorf("IsRepoID(%q) = %v, want %v", id, !ok, ok)
		}
	}
	c := New(Options{Endpoint: "http://127.0.0.1:1", CacheDir: t.TempDir()})
	if _, err := c.Download(context.Background(), "x--y/z", "main", "config.json"); err == nil || !strings.Contains(err.Error(), "invalid model id") {
		t.Errorf("x--y/z: %v", err)
	}
}
