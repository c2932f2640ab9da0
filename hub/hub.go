package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/textclf/textclf/internal/atomicfile"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Client downloads files from the hub into the HF cache layout:
//
//	CacheDir/models--ORG--NAME/blobs/ETAG            file contents
//	CacheDir/models--ORG--NAME/refs/REVISION         the commit a branch or tag points to
//	CacheDir/models--ORG--NAME/snapshots/COMMIT/FILE symlink to ../../blobs/ETAG
//
// so Python's huggingface_hub and textclf share downloads.
type Client struct {
	opts Options
}

// New returns a client; zero fields of o take their defaults.
func New(o Options) *Client {
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.EtagTimeout <= 0 {
		o.EtagTimeout = DefaultTimeout
	}
	if o.DownloadTimeout <= 0 {
		o.DownloadTimeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = 5
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.RetryWait <= 0 {
		o.RetryWait = time.Second
	}
	return &Client{opts: o}
}

// DefaultTimeout is huggingface_hub's default for HF_HUB_ETAG_TIMEOUT and
// HF_HUB_DOWNLOAD_TIMEOUT.
const DefaultTimeout = 10 * time.Second

// ErrOffline is returned when a file is needed that the cache does not hold
// and the client may not use the network.
var ErrOffline = errors.New("offline mode (HF_HUB_OFFLINE) and not in the cache")

var (
	repoIDRe   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)?$`)
	commitRe   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256Re   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	safeETagRe = regexp.MustCompile(`^[0-9A-Za-z_\-]+$`)
)

// IsRepoID reports whether s is a valid hub model id ("org/name" or
// "name"), by huggingface_hub's validate_repo_id: letters, digits, "-",
// "_" and "."; each part starting and ending with a letter, digit or "_";
// a name of at most 96 characters; no "--" or ".." (the cache folder
// models--ORG--NAME would make "a--b/c" and "a/b--c" one), no ".git" at
// the end.
func IsRepoID(s string) bool {
	if !repoIDRe.MatchString(s) || strings.Contains(s, "..") || strings.Contains(s, "--") || strings.HasSuffix(s, ".git") {
		return false
	}
	for _, part := range strings.Split(s, "/") {
		last := part[len(part)-1]
		if last == '-' || last == '.' {
			return false
		}
	}
	return len(s[strings.LastIndex(s, "/")+1:]) <= 96
}

// RepoDir returns the cache folder of a model repository.
func (c *Client) RepoDir(repoID string) string {
	return filepath.Join(c.opts.CacheDir, "models--"+strings.ReplaceAll(repoID, "/", "--"))
}

func checkFilename(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || path.Clean(name) != name || strings.HasPrefix(name, "..") {
		return fmt.Errorf("invalid file name %q", name)
	}
	return nil
}

func checkRevision(rev string) error {
	if rev == "" || strings.Contains(rev, "..") || strings.ContainsAny(rev, `\`) || strings.HasPrefix(rev, "/") {
		return fmt.Errorf("invalid revision %q", rev)
	}
	return nil
}

// cachedCommit resolves a revision to a commit from the cache alone.
func (c *Client) cachedCommit(repoID, revision string) (string, bool) {
	if commitRe.MatchString(revision) {
		return revision, true
	}
	b, err := os.ReadFile(filepath.Join(c.RepoDir(repoID), "refs", filepath.FromSlash(revision)))
	if err != nil {
		return "", false
	}
	commit := strings.TrimSpace(string(b))
	return commit, commitRe.MatchString(commit)
}

func (c *Client) cachedFile(repoID, revision, filename string) (string, bool) {
	commit, ok := c.cachedCommit(repoID, revision)
	if !ok {
		return "", false
	}
	p := filepath.Join(c.RepoDir(repoID), "snapshots", commit, filepath.FromSlash(filename))
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

// Download returns the local path of one file of a model repository at a
// revision (branch, tag or commit), downloading it into the cache if needed, as
// hf_hub_download does. The returned path is inside snapshots/COMMIT/.
func (c *Client) Download(ctx context.Context, repoID, revision, filename string) (string, error) {
	if revision == "" {
		revision = "main"
	}
	if !IsRepoID(repoID) {
		return "", fmt.Errorf("hub: invalid model id %q", repoID)
	}
	if err := checkFilename(filename); err != nil {
		return "", fmt.Errorf("hub: %s: %w", repoID, err)
	}
	if err := checkRevision(revision); err != nil {
		return "", fmt.Errorf("hub: %s: %w", repoID, err)
	}
	if commitRe.MatchString(revision) {
		if p, ok := c.cachedFile(repoID, revision, filename); ok {
			return p, nil
		}
	}
	if c.opts.Offline {
		if p, ok := c.cachedFile(repoID, revision, filename); ok {
			return p, nil
		}
		return "", c.offlineError(repoID + "@" + revision + ": " + filename)
	}
	meta, err := c.head(ctx, repoID, revision, filename)
	if err != nil {
		var ne *netError
		if errors.As(err, &ne) {
			// No connection: fall back to the cache, as huggingface_hub does.
			if p, ok := c.cachedFile(repoID, revision, filename); ok {
				return p, nil
			}
			ne.cacheDir = c.opts.CacheDir
		}
		return "", err
	}
	repo := c.RepoDir(repoID)
	if revision != meta.commit {
		if err := writeFileAtomic(filepath.Join(repo, "refs", filepath.FromSlash(revision)), []byte(meta.commit)); err != nil {
			return "", fmt.Errorf("hub: %w", err)
		}
	}
	pointer := filepath.Join(repo, "snapshots", meta.commit, filepath.FromSlash(filename))
	blob := filepath.Join(repo, "blobs", meta.etag)
	if _, err := os.Stat(pointer); err == nil {
		return pointer, nil
	}
	if _, err := os.Stat(blob); err != nil {
		// The lock huggingface_hub takes: one writer per blob across processes.
		lock := filepath.Join(c.opts.CacheDir, ".locks", filepath.Base(repo), meta.etag+".lock")
		unlock, err := lockFile(lock)
		if err != nil {
			return "", fmt.Errorf("hub: lock %s: %w", lock, err)
		}
		defer unlock()
		if _, err := os.Stat(blob); err != nil { // another process may have finished it
			if err := c.fetch(ctx, meta, blob, filename); err != nil {
				return "", err
			}
		}
	}
	if err := link(blob, pointer); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	return pointer, nil
}

type fileMeta struct {
	commit, etag string
	size         int64
	url          string // where to GET the content
	sameHost     bool   // whether url has the endpoint's origin (the token may be sent)
}

// offlineError says that what is asked for is not in the cache and the client
// may not use the network, naming the cache searched.
func (c *Client) offlineError(what string) error {
	return fmt.Errorf("hub: %s: %w %s; unset HF_HUB_OFFLINE to download it", what, ErrOffline, c.opts.CacheDir)
}

// netError is a request that got no response at all (no route, connection
// refused, a name that does not resolve, TLS, timeout). Its message says which
// request failed, that the hub (or the server it redirected to) could not be
// reached, and what the user can do: a mirror through HF_ENDPOINT, or the cache
// alone through HF_HUB_OFFLINE=1.
type netError struct {
	what     string // the repository, revision and file asked for
	method   string
	url      string
	server   string // "the hub at ENDPOINT", or the host the hub redirected a download to
	cacheDir string // set when the cache was searched and does not hold what is asked for
	err      error  // the transport's error
}

func (e *netError) Error() string {
	cause := e.err
	var ue *url.Error
	if errors.As(e.err, &ue) {
		cause = ue.Err // url.Error repeats the method and URL
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hub: %s: could not reach %s (%s %s: %v)", e.what, e.server, e.method, e.url, cause)
	if e.cacheDir != "" {
		fmt.Fprintf(&b, ", and the cache %s does not hold it", e.cacheDir)
	}
	b.WriteString("; check the network connection, or set HF_ENDPOINT to a hub mirror you can reach," +
		" or set HF_HUB_OFFLINE=1 to work from the cache alone (HF_HUB_CACHE, HF_HOME)")
	return b.String()
}

func (e *netError) Unwrap() error { return e.err }

// requestError turns the error of a request that got no response into a
// netError, unless the caller's context ended it (cancelled or past its
// deadline), which is no fault of the network.
func (c *Client) requestError(ctx context.Context, req *http.Request, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("hub: %s: %w", what, err)
	}
	server := "the hub at " + c.opts.Endpoint
	if endpoint, perr := url.Parse(c.opts.Endpoint); perr != nil || endpoint.Host != req.URL.Host {
		server = req.URL.Host + ", where the hub at " + c.opts.Endpoint + " sent the download"
	}
	return &netError{what: what, method: req.Method, url: req.URL.String(), server: server, err: err}
}

func (c *Client) resolveURL(repoID, revision, filename string) string {
	return c.opts.Endpoint + "/" + repoID + "/resolve/" + url.PathEscape(revision) + "/" + escapePath(filename)
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func (c *Client) newRequest(ctx context.Context, method, u string, auth bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "textclf")
	if auth && c.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	return req, nil
}

// head resolves a file's commit, etag, size and download location with
// HEAD {endpoint}/{repo}/resolve/{revision}/{file}, following only redirects
// that stay on the endpoint (renamed repositories); a redirect elsewhere (the
// LFS CDN) becomes the download URL.
func (c *Client) head(ctx context.Context, repoID, revision, filename string) (*fileMeta, error) {
	u := c.resolveURL(repoID, revision, filename)
	endpoint, err := url.Parse(c.opts.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("hub: endpoint %q: %w", c.opts.Endpoint, err)
	}
	client := *c.opts.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	what := fmt.Sprintf("%s@%s: %s", repoID, revision, filename)
	retries := 0
	for hops := 0; hops < 10; hops++ {
		target, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
		req, err := c.newRequest(ctx, http.MethodHead, u, sameOrigin(target, endpoint))
		if err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := timedDo(&client, req, c.opts.EtagTimeout, "HF_HUB_ETAG_TIMEOUT")
		if err != nil {
			// No retry: without an answer the cache is used, as huggingface_hub does.
			return nil, c.requestError(ctx, req, what, err)
		}
		resp.Body.Close()
		if retryable(resp.StatusCode) && retries < c.opts.Retries && c.backoff(ctx, retries) {
			retries++
			hops--
			continue
		}
		if err := statusError(resp, what); err != nil {
			return nil, err
		}
		m := &fileMeta{
			commit: resp.Header.Get("X-Repo-Commit"),
			etag:   normalizeETag(firstNonEmpty(resp.Header.Get("X-Linked-Etag"), resp.Header.Get("ETag"))),
		}
		size := firstNonEmpty(resp.Header.Get("X-Linked-Size"), resp.Header.Get("Content-Length"))
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
			if err != nil || resp.Header.Get("Location") == "" {
				return nil, fmt.Errorf("hub: %s: redirect without a valid Location", what)
			}
			if sameOrigin(loc, endpoint) && m.commit == "" {
				u = loc.String() // renamed repository: follow
				continue
			}
			m.url, m.sameHost = loc.String(), sameOrigin(loc, endpoint)
		} else {
			m.url, m.sameHost = u, true
		}
		if !commitRe.MatchString(m.commit) {
			return nil, fmt.Errorf("hub: %s: response has no valid X-Repo-Commit header (is HF_ENDPOINT a hub?)", what)
		}
		if m.etag == "" || !safeETagRe.MatchString(m.etag) {
			return nil, fmt.Errorf("hub: %s: response has no usable ETag", what)
		}
		if m.size, err = strconv.ParseInt(size, 10, 64); err != nil || m.size < 0 {
			return nil, fmt.Errorf("hub: %s: response has no valid size", what)
		}
		return m, nil
	}
	return nil, fmt.Errorf("hub: %s: too many redirects", what)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func normalizeETag(e string) string {
	e = strings.TrimPrefix(e, "W/")
	return strings.Trim(e, `"`)
}

func statusError(resp *http.Response, what string) error {
	switch {
	case resp.StatusCode < 400:
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("hub: %s: repository not found, or private/gated and HF_TOKEN is missing or invalid (401)", what)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("hub: %s: access denied; a gated model needs its terms accepted (403)", what)
	case resp.StatusCode == http.StatusNotFound:
		switch resp.Header.Get("X-Error-Code") {
		case "RevisionNotFound":
			return fmt.Errorf("hub: %s: revision not found (404)", what)
		case "EntryNotFound":
			return fmt.Errorf("hub: %s: file not found in the repository (404)", what)
		}
		return fmt.Errorf("hub: %s: not found (404)", what)
	}
	return fmt.Errorf("hub: %s: HTTP %s", what, resp.Status)
}

// fetch downloads the blob, resuming BLOB.incomplete with a Range request,
// and checks it against its etag before renaming it into place: the sha256
// of an LFS file, the git-sha1 of another (the git blob id), as
// huggingface_hub verifies a cache. As huggingface_hub's http_get, a
// download that breaks off or stalls mid-file (no data for
// DownloadTimeout) resumes, up to Retries times without progress, and a 408
// or 429 answer is retried, after a backoff; no answer at all is an error.
func (c *Client) fetch(ctx context.Context, m *fileMeta, blob, filename string) error {
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	inc := blob + ".incomplete"
	f, err := os.OpenFile(inc, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if have > m.size {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("hub: %w", err)
		}
		have, _ = f.Seek(0, io.SeekStart)
	}
	client := withOriginAuth(c.opts.HTTPClient)
	for failures := 0; have < m.size; {
		got, err := c.fetchFrom(ctx, client, f, m, have, filename)
		if got < 0 { // the server ignored the Range: the file started over
			have = -got
		} else {
			have += got
		}
		if got != 0 {
			failures = 0
		}
		if err == nil && have >= m.size {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("hub: download %s: %w", filename, ctx.Err())
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return err
		}
		if err == nil {
			err = fmt.Errorf("hub: download %s: the server sent %d of %d bytes (partial data kept for resuming)", filename, have, m.size)
		}
		if failures >= c.opts.Retries || !c.backoff(ctx, failures) {
			return err
		}
		failures++
	}
	if have != m.size {
		return fmt.Errorf("hub: download %s: got %d bytes, expected %d", filename, have, m.size)
	}
	if err := verifyBlob(f, m.etag, m.size); err != nil {
		f.Close()
		os.Remove(inc)
		return fmt.Errorf("hub: download %s: %w", filename, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if err := os.Rename(inc, blob); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}

// fatalError is a download failure that a retry cannot mend (an HTTP error
// status other than 408, 429 and 5xx, a local file error).
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// fetchFrom requests the file from byte have on and appends what arrives to
// f. It returns the bytes appended, or minus the bytes written when the
// server ignored the Range and f was started over.
func (c *Client) fetchFrom(ctx context.Context, client *http.Client, f *os.File, m *fileMeta, have int64, filename string) (int64, error) {
	req, err := c.newRequest(ctx, http.MethodGet, m.url, m.sameHost)
	if err != nil {
		return 0, &fatalError{fmt.Errorf("hub: %w", err)}
	}
	req.Header.Set("Accept-Encoding", "identity")
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := timedDo(client, req, c.opts.DownloadTimeout, "HF_HUB_DOWNLOAD_TIMEOUT")
	if err != nil {
		// No answer at all: not retried, as huggingface_hub does not.
		return 0, &fatalError{c.requestError(ctx, req, "download "+filename, err)}
	}
	defer resp.Body.Close()
	if err := statusError(resp, filename); err != nil {
		if resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests {
			return 0, err
		}
		return 0, &fatalError{err}
	}
	restarted := false
	if have > 0 && resp.StatusCode != http.StatusPartialContent {
		// The server ignored the Range: start over.
		if err := f.Truncate(0); err != nil {
			return 0, &fatalError{fmt.Errorf("hub: %w", err)}
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, &fatalError{fmt.Errorf("hub: %w", err)}
		}
		have, restarted = 0, true
	}
	var w io.Writer = f
	if c.opts.Progress != nil {
		w = &progressWriter{w: f, file: filename, done: have, total: m.size, fn: c.opts.Progress}
		c.opts.Progress(filename, have, m.size)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, m.size-have+1))
	if restarted {
		n = -n
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return n, &fatalError{fmt.Errorf("hub: download %s: %w", filename, err)}
		}
		return n, fmt.Errorf("hub: download %s: %w (partial data kept for resuming)", filename, err)
	}
	return n, nil
}

// verifyBlob checks a downloaded file against its etag: a sha256 (LFS
// files) or a git-sha1, the id git gives the blob (other files); an etag of
// another form (a mirror's) is not checked.
func verifyBlob(f *os.File, etag string, size int64) error {
	var h hash.Hash
	switch {
	case sha256Re.MatchString(etag):
		h = sha256.New()
	case commitRe.MatchString(etag):
		h = sha1.New()
		fmt.Fprintf(h, "blob %d\x00", size)
	default:
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != etag {
		kind := "sha256"
		if len(etag) == 40 {
			kind = "git-sha1"
		}
		return fmt.Errorf("%s %s does not match the expected %s (the file is discarded)", kind, got, etag)
	}
	return nil
}

type progressWriter struct {
	w           io.Writer
	file        string
	done, total int64
	fn          func(string, int64, int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.fn(p.file, p.done, p.total)
	return n, err
}

// link makes pointer a relative symlink to blob (a copy where symlinks fail).
func link(blob, pointer string) error {
	if err := os.MkdirAll(filepath.Dir(pointer), 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(pointer), blob)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d-%d", pointer, os.Getpid(), rand.Uint64())
	if err := os.Symlink(rel, tmp); err != nil {
		b, rerr := os.ReadFile(blob)
		if rerr != nil {
			return rerr
		}
		return writeFileAtomic(pointer, b)
	}
	return os.Rename(tmp, pointer)
}

func writeFileAtomic(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteBytes(p, b)
}

// repoInfo is the part of GET {endpoint}/api/models/{repo}/revision/{rev} we use.
type repoInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
	} `json:"siblings"`
}

// ListFiles returns the commit a revision resolves to and the repository's
// file names at that commit. Offline, it lists the cached snapshot.
func (c *Client) ListFiles(ctx context.Context, repoID, revision string) (commit string, files []string, err error) {
	if revision == "" {
		revision = "main"
	}
	if !IsRepoID(repoID) {
		return "", nil, fmt.Errorf("hub: invalid model id %q", repoID)
	}
	if err := checkRevision(revision); err != nil {
		return "", nil, fmt.Errorf("hub: %s: %w", repoID, err)
	}
	if c.opts.Offline {
		return c.listCached(repoID, revision)
	}
	u := c.opts.Endpoint + "/api/models/" + repoID + "/revision/" + url.PathEscape(revision)
	client := withOriginAuth(c.opts.HTTPClient)
	var req *http.Request
	var resp *http.Response
	for retries := 0; ; retries++ {
		if req, err = c.newRequest(ctx, http.MethodGet, u, true); err != nil {
			return "", nil, fmt.Errorf("hub: %w", err)
		}
		resp, err = timedDo(client, req, c.opts.EtagTimeout, "HF_HUB_ETAG_TIMEOUT")
		if err != nil || !retryable(resp.StatusCode) || retries >= c.opts.Retries {
			break
		}
		resp.Body.Close()
		if !c.backoff(ctx, retries) {
			return "", nil, fmt.Errorf("hub: %s@%s: %w", repoID, revision, ctx.Err())
		}
	}
	if err != nil {
		err = c.requestError(ctx, req, repoID+"@"+revision, err)
		var ne *netError
		if errors.As(err, &ne) {
			// No connection: list the cached snapshot, as huggingface_hub does.
			if commit, files, cerr := c.listCached(repoID, revision); cerr == nil {
				return commit, files, nil
			}
			ne.cacheDir = c.opts.CacheDir
		}
		return "", nil, err
	}
	defer resp.Body.Close()
	if err := statusError(resp, repoID+"@"+revision); err != nil {
		return "", nil, err
	}
	var info repoInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&info); err != nil {
		return "", nil, fmt.Errorf("hub: %s: model info: %w", repoID, err)
	}
	if !commitRe.MatchString(info.SHA) {
		return "", nil, fmt.Errorf("hub: %s: model info has no commit sha", repoID)
	}
	for _, s := range info.Siblings {
		if checkFilename(s.RFilename) == nil {
			files = append(files, s.RFilename)
		}
	}
	sort.Strings(files)
	if revision != info.SHA {
		if err := writeFileAtomic(filepath.Join(c.RepoDir(repoID), "refs", filepath.FromSlash(revision)), []byte(info.SHA)); err != nil {
			return "", nil, fmt.Errorf("hub: %w", err)
		}
	}
	return info.SHA, files, nil
}

func (c *Client) listCached(repoID, revision string) (string, []string, error) {
	commit, ok := c.cachedCommit(repoID, revision)
	if !ok {
		return "", nil, c.offlineError(repoID + "@" + revision)
	}
	root := filepath.Join(c.RepoDir(repoID), "snapshots", commit)
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return "", nil, c.offlineError(repoID + "@" + revision)
	}
	sort.Strings(files)
	return commit, files, nil
}
