package hub

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultEndpoint is the Hugging Face hub, used when HF_ENDPOINT is not set.
const DefaultEndpoint = "https://huggingface.co"

// Options configure a Client. FromEnv fills them as huggingface_hub does.
type Options struct {
	// Endpoint is the hub (or mirror) base URL: $HF_ENDPOINT, else DefaultEndpoint.
	Endpoint string
	// Token is sent as "Authorization: Bearer …" to the endpoint: $HF_TOKEN, else
	// the token file ($HF_TOKEN_PATH, else $HF_HOME/token).
	Token string
	// CacheDir is the hub cache shared with Python: $HF_HUB_CACHE, else
	// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
	CacheDir string
	// Offline serves files from the cache only ($HF_HUB_OFFLINE=1).
	Offline bool
	// HTTPClient performs the requests (http.DefaultClient when nil). Its
	// redirects are followed, but the token goes only to the endpoint's
	// exact origin (scheme, host and port), as huggingface_hub sends it.
	HTTPClient *http.Client
	// EtagTimeout bounds a file's metadata request (HEAD): connecting,
	// waiting for the response headers and each wait for data
	// ($HF_HUB_ETAG_TIMEOUT seconds; default 10 s, as huggingface_hub).
	EtagTimeout time.Duration
	// DownloadTimeout bounds the same waits of a download
	// ($HF_HUB_DOWNLOAD_TIMEOUT seconds; default 10 s): a server that stalls
	// mid-file fails the attempt, which resumes.
	DownloadTimeout time.Duration
	// Retries is how many times a download that breaks off or stalls resumes
	// (counted since the last data received), and a request answered 408,
	// 429 or 5xx is repeated (default 5, as huggingface_hub; negative: none).
	Retries int
	// RetryWait is the wait before the first retry (default 1 s), doubled
	// for each next one up to 8 s.
	RetryWait time.Duration
	// Progress, when set, is called as a file downloads with the bytes done
	// (including bytes resumed from an earlier attempt) and the total size.
	Progress func(file string, done, total int64)
}

// FromEnv returns Options from the environment variables huggingface_hub reads.
func FromEnv() Options {
	home := os.Getenv("HF_HOME")
	if home == "" {
		xdg := os.Getenv("XDG_CACHE_HOME")
		if xdg == "" {
			if h, err := os.UserHomeDir(); err == nil {
				xdg = filepath.Join(h, ".cache")
			}
		}
		home = filepath.Join(xdg, "huggingface")
	}
	o := Options{
		Endpoint:        strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/"),
		Token:           os.Getenv("HF_TOKEN"),
		CacheDir:        os.Getenv("HF_HUB_CACHE"),
		Offline:         truthy(os.Getenv("HF_HUB_OFFLINE")),
		EtagTimeout:     seconds(os.Getenv("HF_HUB_ETAG_TIMEOUT")),
		DownloadTimeout: seconds(os.Getenv("HF_HUB_DOWNLOAD_TIMEOUT")),
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(home, "hub")
	}
	if o.Token == "" {
		p := os.Getenv("HF_TOKEN_PATH")
		if p == "" {
			p = filepath.Join(home, "token")
		}
		if b, err := os.ReadFile(p); err == nil {
			o.Token = strings.TrimSpace(string(b))
		}
	}
	return o
}

// seconds reads a timeout in seconds ("10", "2.5"); 0 (the default) when
// unset or not a positive number.
func seconds(v string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 || f > 1e6 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func truthy(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}
