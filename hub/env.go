package hub

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
	// HTTPClient performs the requests (http.DefaultClient when nil). Redirects
	// are handled by the client itself.
	HTTPClient *http.Client
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
		Endpoint: strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/"),
		Token:    os.Getenv("HF_TOKEN"),
		CacheDir: os.Getenv("HF_HUB_CACHE"),
		Offline:  truthy(os.Getenv("HF_HUB_OFFLINE")),
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

func truthy(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}
