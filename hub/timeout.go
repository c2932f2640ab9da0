package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// errTimeout is the cause of a request the client ended because the server
// kept it waiting.
type errTimeout struct {
	wait time.Duration
	env  string // the environment variable that sets the wait
}

func (e *errTimeout) Error() string {
	return fmt.Sprintf("no answer for %v (%s)", e.wait, e.env)
}

// Timeout reports true: net/http's convention for timeouts.
func (e *errTimeout) Timeout() bool { return true }

// timedDo sends req with client, failing it when the server keeps it
// waiting longer than wait: to connect and send the response headers, then
// for each piece of the body (the body's Read fails after wait without
// data). env names the variable that sets wait, for the error.
func timedDo(client *http.Client, req *http.Request, wait time.Duration, env string) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	cause := &errTimeout{wait: wait, env: env}
	timer := time.AfterFunc(wait, func() { cancel(cause) })
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		timer.Stop()
		cancel(nil)
		if context.Cause(ctx) == cause {
			err = &url.Error{Op: req.Method, URL: req.URL.String(), Err: cause}
		}
		return nil, err
	}
	timer.Reset(wait)
	resp.Body = &idleBody{ReadCloser: resp.Body, ctx: ctx, cancel: cancel, timer: timer, wait: wait, cause: cause}
	return resp, nil
}

// idleBody is a response body whose reads fail once no data has come for
// wait (the timer then cancels the request).
type idleBody struct {
	io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	wait   time.Duration
	cause  *errTimeout
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.timer.Reset(b.wait)
	}
	if err != nil && err != io.EOF && context.Cause(b.ctx) == b.cause {
		err = b.cause
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// origin is a URL's scheme, host and port (the default port of the scheme
// when none is given), lowercased.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// sameOrigin reports whether two URLs have the same scheme, host and port:
// where a token may be sent.
func sameOrigin(a, b *url.URL) bool { return origin(a) == origin(b) }

// withOriginAuth is client with redirects that drop the Authorization
// header when they leave the origin of the first request (net/http keeps
// it for the same host on another port, or a subdomain).
func withOriginAuth(client *http.Client) *http.Client {
	c := *client
	check := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, via[0].URL) {
			req.Header.Del("Authorization")
		}
		if check != nil {
			return check(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// retryable reports whether an HTTP status is worth a retry: 408, 429 and
// 5xx, as huggingface_hub's backoff retries them.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// backoff waits before retry number n (0-based): RetryWait doubled n
// times, at most 8 s; false when ctx ends first.
func (c *Client) backoff(ctx context.Context, n int) bool {
	d := c.opts.RetryWait
	for i := 0; i < n && d < 8*time.Second; i++ {
		d *= 2
	}
	d = min(d, max(8*time.Second, c.opts.RetryWait))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
