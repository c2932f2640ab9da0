package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/textclf/textclf"
)

// Config configures a Server. Zero values take TEI's defaults.
type Config struct {
	// ModelID is the model's name in /info (the --model argument).
	ModelID string
	// ServedModelName is the model's name in the Open Inference Protocol
	// routes, /v2/models/{name}/… (default: ModelID's base name).
	ServedModelName string
	// MaxBatchTokens bounds a batch's padded size: inputs × longest input
	// (default 16384). It must be at least the model's max input length.
	MaxBatchTokens int
	// MaxBatchRequests bounds the inputs of a batch (default 64); 1 turns
	// dynamic batching off.
	MaxBatchRequests int
	// MaxClientBatchSize bounds the inputs of one request (default 32).
	MaxClientBatchSize int
	// MaxConcurrentRequests bounds the inputs admitted at once, queued or
	// running (default 512); beyond it requests get 429.
	MaxConcurrentRequests int
	// AutoTruncate truncates inputs longer than the max input length when a
	// request does not say "truncate".
	AutoTruncate bool
	// PayloadLimit bounds request bodies in bytes (default 2,000,000).
	PayloadLimit int64
	// ReadTimeout and WriteTimeout are the http.Server's (default 30 s and
	// 120 s); ShutdownTimeout bounds the wait for in-flight requests on
	// shutdown (default 30 s). The tokenization of a request stops at its
	// WriteTimeout, or when its client goes away.
	ReadTimeout, WriteTimeout, ShutdownTimeout time.Duration
	// DrainDelay is how long, once Serve's context is done, the server keeps
	// answering with GET /health at 503 and "Connection: close" on every
	// response, so that load balancers take it out of rotation and
	// keep-alive clients reconnect elsewhere before the listener closes
	// (default 5 s; negative: none). It ends early once no client
	// connection has been open for 100 ms.
	DrainDelay time.Duration
	// TokenizationWorkers bounds the inputs tokenized at once (default:
	// GOMAXPROCS, as TEI's --tokenization-workers); the others wait. The
	// text tokenized at once is also bounded, by PayloadLimit bytes, since
	// tokenizing takes some 75 times the memory of the text: an input as
	// large as a whole body is tokenized alone.
	TokenizationWorkers int
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) defaults() {
	setInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setInt(&c.MaxBatchTokens, 16384)
	setInt(&c.MaxBatchRequests, 64)
	setInt(&c.MaxClientBatchSize, 32)
	setInt(&c.MaxConcurrentRequests, 512)
	if c.PayloadLimit <= 0 {
		c.PayloadLimit = 2_000_000
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur(&c.ReadTimeout, 30*time.Second)
	setDur(&c.WriteTimeout, 120*time.Second)
	setDur(&c.ShutdownTimeout, 30*time.Second)
	if c.DrainDelay == 0 {
		c.DrainDelay = 5 * time.Second
	}
	setInt(&c.TokenizationWorkers, runtime.GOMAXPROCS(0))
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Server is the HTTP classification server: TEI's /predict, /tokenize,
// /info, /health and /metrics, the Hugging Face Inference API's
// text-classification request at the root, and the Open Inference
// Protocol's /v2 routes, over a dynamic batcher; /explain (token
// attributions), the web page at GET /, /openapi.json and /docs.
type Server struct {
	cfg       Config
	model     textclf.Model
	clf       *textclf.Classifier
	modelInfo textclf.ModelInfo
	m         *metrics
	b         *batcher
	inflight  atomic.Int64
	handler   http.Handler
	// explaining holds a token while an explanation runs (one at a time).
	explaining chan struct{}
	// tokenizing holds a token per input being tokenized (TokenizationWorkers),
	// textBudget one per tokenUnit bytes of text being tokenized (PayloadLimit
	// in all); turn lets one input at a time take its share of textBudget.
	tokenizing, textBudget, turn chan struct{}
	// draining is set while Serve drains (DrainDelay).
	draining atomic.Bool
}

// New starts a server's batcher for model (textclf.Open gives one). Its
// max input length is the model's MaxLength. Close stops it.
func New(model textclf.Model, cfg Config) (*Server, error) {
	cfg.defaults()
	info := model.Info()
	if len(info.Labels) == 0 {
		return nil, errors.New("serve: the model has no labels")
	}
	if max := info.MaxLength; max > cfg.MaxBatchTokens {
		return nil, fmt.Errorf("serve: max batch tokens %d must be at least the max input length %d", cfg.MaxBatchTokens, max)
	}
	s := &Server{cfg: cfg, model: model, modelInfo: info, m: newMetrics(), explaining: make(chan struct{}, 1),
		tokenizing: make(chan struct{}, cfg.TokenizationWorkers), textBudget: make(chan struct{}, max(1, cfg.PayloadLimit/tokenUnit)),
		turn: make(chan struct{}, 1)}
	s.clf = textclf.NewClassifier(model, textclf.Options{BatchSize: cfg.MaxBatchRequests})
	s.b = newBatcher(s.clf, cfg.MaxBatchTokens, cfg.MaxBatchRequests, cfg.MaxConcurrentRequests, s.m)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /predict", s.predict)
	mux.HandleFunc("POST /tokenize", s.tokenize)
	mux.HandleFunc("GET /info", s.info)
	mux.HandleFunc("GET /health", s.health)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	// The root serves the Hugging Face clients and TEI's (see root);
	// SageMaker's route is /predict, as in TEI.
	mux.HandleFunc("POST /{$}", s.root)
	mux.HandleFunc("POST /invocations", s.predict)
	mux.HandleFunc("GET /ping", s.health)
	// The web page, the API's description and its rendering; TEI's alias
	// GET / of /health is the page here (/health and /ping stay).
	mux.HandleFunc("POST /explain", s.explain)
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /openapi.json", s.openAPI)
	mux.HandleFunc("GET /docs", s.docs)
	s.registerV2(mux) // the Open Inference Protocol (v2.go)
	s.handler = s.logRequests(mux)
	return s, nil
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the batcher after answering the inputs already queued; later
// requests get 503.
func (s *Server) Close() { s.b.close() }

// ListenAndServe serves on addr until ctx is done, then shuts down
// gracefully: it stops accepting connections, finishes in-flight requests
// (up to ShutdownTimeout) and stops the batcher.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// drainQuiet is how long the drain waits with no connection open before it
// ends early.
const drainQuiet = 100 * time.Millisecond

// Serve is ListenAndServe on a listener. Once ctx is done it drains (see
// Config.DrainDelay), then shuts down as ListenAndServe says.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	log := s.cfg.Logger
	var conns atomic.Int64
	hs := &http.Server{
		Handler:           s.handler,
		ReadTimeout:       s.cfg.ReadTimeout,
		ReadHeaderTimeout: s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       2 * s.cfg.ReadTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				conns.Add(-1)
			}
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("ready", "addr", ln.Addr().String(), "model", s.cfg.ModelID)
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	if d := s.cfg.DrainDelay; d > 0 {
		// Still serving: /health says 503 and every response closes its
		// connection, until the delay passes or no connection is left.
		s.draining.Store(true)
		log.Info("draining: /health answers 503, responses close their connections", "seconds", d.Seconds())
		deadline := time.Now().Add(d)
		quiet := time.Duration(0) // how long no connection has been open
		for now := time.Now(); now.Before(deadline) && quiet < drainQuiet; now = time.Now() {
			time.Sleep(min(drainQuiet/5, time.Until(deadline)))
			if conns.Load() > 0 {
				quiet = 0
			} else {
				quiet += time.Since(now)
			}
		}
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.Close()
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	log.Info("stopped")
	return err
}

// Error types of TEI's ErrorResponse.
const (
	typeValidation = "validation"
	typeTokenizer  = "tokenizer"
	typeOverloaded = "overloaded"
	typeBackend    = "backend"
	typeEmpty      = "empty"
	typeUnhealthy  = "unhealthy"
)

// apiError is an error answer: TEI's {"error", "error_type"} with a status.
type apiError struct {
	status int
	kind   string
	msg    string
	metric string // te_request_failure's err label
}

func (e *apiError) Error() string { return e.msg }

// errOverloaded answers requests beyond MaxConcurrentRequests.
var errOverloaded = &apiError{http.StatusTooManyRequests, typeOverloaded, "Model is overloaded", typeOverloaded}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	s.m.failures.WithLabelValues(e.metric).Inc()
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "request failed", slog.String("path", r.URL.Path),
		slog.Int("status", e.status), slog.String("error_type", e.kind), slog.String("error", e.msg))
	writeJSON(w, e.status, map[string]string{"error": e.msg, "error_type": e.kind})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeBody reads a JSON body within the payload limit.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) *apiError {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= s.cfg.PayloadLimit {
		buf.Grow(int(n) + bytes.MinRead) // no copies while reading
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.PayloadLimit))
	body := buf.Bytes()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{http.StatusRequestEntityTooLarge, typeValidation,
				fmt.Sprintf("request body exceeds %d bytes", s.cfg.PayloadLimit), "payload"}
		}
		return &apiError{http.StatusBadRequest, typeValidation, "read body: " + err.Error(), "body"}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{http.StatusUnprocessableEntity, typeValidation, "malformed JSON body: " + err.Error(), typeValidation}
	}
	return nil
}

// acquire admits n inputs if there is room for all of them.
func (s *Server) acquire(n int) bool {
	for {
		cur := s.inflight.Load()
		if cur+int64(n) > int64(s.cfg.MaxConcurrentRequests) {
			return false
		}
		if s.inflight.CompareAndSwap(cur, cur+int64(n)) {
			return true
		}
	}
}

func (s *Server) release(n int) { s.inflight.Add(-int64(n)) }

// predict answers TEI's POST /predict.
func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if req := s.readPredictRequest(w, r); req != nil {
		s.predictTEI(w, r, req, start)
	}
}

// readPredictRequest decodes the body of /predict or /. When it fails it
// has answered the request, and returns nil.
func (s *Server) readPredictRequest(w http.ResponseWriter, r *http.Request) *predictRequest {
	var req predictRequest
	if e := s.decodeBody(w, r, &req); e != nil {
		s.m.requests.WithLabelValues("single").Inc()
		s.fail(w, r, e)
		return nil
	}
	return &req
}

// predictTEI answers a decoded /predict request: a list of labels with
// scores, best first, or a list of such lists for a batch.
func (s *Server) predictTEI(w http.ResponseWriter, r *http.Request, req *predictRequest, start time.Time) {
	inputs, batch, err := parsePredictInputs(req.Inputs)
	method := methodName(batch)
	s.m.requests.WithLabelValues(method).Inc()
	if err != nil {
		s.fail(w, r, &apiError{http.StatusUnprocessableEntity, typeValidation, err.Error(), typeValidation})
		return
	}
	opt, err := s.truncation(req.Truncate, req.TruncationDirection)
	if err != nil {
		s.fail(w, r, &apiError{http.StatusUnprocessableEntity, typeValidation, err.Error(), typeValidation})
		return
	}
	fn := s.modelInfo.Function
	if req.RawScores != nil && *req.RawScores {
		fn = textclf.None
	}
	res := s.classify(w, r, inputs, opt, fn, start)
	if res == nil {
		return
	}
	answers := make([][]prediction, len(res.ranked))
	for i, ranked := range res.ranked {
		answers[i] = make([]prediction, len(ranked))
		for j, ls := range ranked {
			answers[i][j] = prediction{Score: ls.Score, Label: ls.Label}
		}
	}
	s.succeed(w, method, res)
	if batch {
		writeJSON(w, http.StatusOK, answers)
	} else {
		writeJSON(w, http.StatusOK, answers[0])
	}
}

// truncation reads a request's truncate (default: the server's
// AutoTruncate) and truncation_direction ("Right", the default, or "Left").
func (s *Server) truncation(truncate *bool, direction *string) (textclf.EncodeOptions, error) {
	opt := textclf.EncodeOptions{Truncate: s.cfg.AutoTruncate}
	if truncate != nil {
		opt.Truncate = *truncate
	}
	if direction != nil {
		switch *direction {
		case "Right", "right":
		case "Left", "left":
			opt.TruncateLeft = true
		default:
			return opt, fmt.Errorf("truncation_direction must be \"Left\" or \"Right\", got %q", *direction)
		}
	}
	return opt, nil
}

// methodName is te_request_count's method label of a request.
func methodName(batch bool) string {
	if batch {
		return "batch"
	}
	return "single"
}

// classified are the answers to the inputs of one request, with what the
// request cost.
type classified struct {
	// ranked holds each input's labels with their scores, best first.
	ranked                              [][]textclf.LabelScore
	chars, tokens                       int
	tokenization, queue, inference, all time.Duration
}

// classify tokenizes the inputs of one request, runs them through the
// batcher and scores their outputs with fn. When it fails it has answered
// the request with the error, and returns nil.
func (s *Server) classify(w http.ResponseWriter, r *http.Request, inputs []textclf.Input, opt textclf.EncodeOptions,
	fn textclf.Function, start time.Time) *classified {
	if len(inputs) > s.cfg.MaxClientBatchSize {
		s.fail(w, r, &apiError{http.StatusRequestEntityTooLarge, typeValidation,
			fmt.Sprintf("batch size %d > maximum allowed batch size %d", len(inputs), s.cfg.MaxClientBatchSize), "batch_size"})
		return nil
	}
	if !s.acquire(len(inputs)) {
		s.fail(w, r, errOverloaded)
		return nil
	}
	defer s.release(len(inputs))

	// Tokenize, then queue every input; the batcher may put them in
	// different batches, beside other clients' inputs.
	res := &classified{}
	maxLen := s.modelInfo.MaxLength
	encs := make([]textclf.Encoding, len(inputs))
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WriteTimeout)
	defer cancel()
	opt.Context = ctx
	// An input too long to be read is refused: its length is counted up to
	// stopAfter tokens, not further.
	stopAfter := 8 * maxLen
	if !opt.Truncate {
		opt.StopAfter = stopAfter
	}
	for i, in := range inputs {
		enc, err := s.encode(ctx, in, opt)
		if err != nil {
			s.fail(w, r, tokenizeError(err))
			return nil
		}
		if maxLen > 0 && enc.Len() > maxLen {
			given := strconv.Itoa(enc.Len())
			if stopAfter > 0 && enc.Len() > stopAfter {
				given = "more than " + strconv.Itoa(stopAfter)
			}
			s.fail(w, r, &apiError{http.StatusRequestEntityTooLarge, typeValidation,
				fmt.Sprintf("`inputs` must have less than %d tokens. Given: %s", maxLen, given), typeValidation})
			return nil
		}
		s.m.inputLength.Observe(float64(enc.Len()))
		encs[i] = enc
		res.chars += len([]rune(in.Text))
		if in.Pair != nil {
			res.chars += len([]rune(*in.Pair))
		}
		res.tokens += enc.Len()
	}
	res.tokenization = time.Since(start)
	waits := make([]<-chan jobResult, len(encs))
	for i, enc := range encs {
		var err error
		if waits[i], err = s.b.submit(r.Context(), enc); err != nil {
			if errors.Is(err, errClosed) {
				s.fail(w, r, &apiError{http.StatusServiceUnavailable, typeUnhealthy, err.Error(), typeUnhealthy})
			} else {
				s.fail(w, r, errOverloaded)
			}
			return nil
		}
	}
	labels := s.modelInfo.Labels
	res.ranked = make([][]textclf.LabelScore, len(encs))
	var failed error
	for i, wait := range waits {
		out := <-wait // always answered, even when the client is gone
		res.queue += out.queue
		res.inference += out.inference
		if out.err != nil {
			failed = out.err
			continue
		}
		if len(out.out) != len(labels) {
			failed = fmt.Errorf("model gave %d scores for %d labels", len(out.out), len(labels))
			continue
		}
		ranked := make([]textclf.LabelScore, len(labels))
		for j, sc := range textclf.ApplyFunction(out.out, fn) {
			if math.IsNaN(float64(sc)) {
				failed = errors.New("score is NaN")
			}
			ranked[j] = textclf.LabelScore{Label: labels[j], Score: sc}
		}
		sort.SliceStable(ranked, func(a, b int) bool { return ranked[a].Score > ranked[b].Score })
		res.ranked[i] = ranked
	}
	if failed != nil {
		if r.Context().Err() == nil { // else the client is gone
			s.fail(w, r, &apiError{http.StatusFailedDependency, typeBackend, "inference failed: " + failed.Error(), "inference"})
		}
		return nil
	}
	n := time.Duration(len(encs))
	res.queue, res.inference = res.queue/n, res.inference/n
	res.all = time.Since(start)
	return res
}

// succeed records a request answered and sets TEI's timing headers; the
// caller writes the answer.
func (s *Server) succeed(w http.ResponseWriter, method string, res *classified) {
	s.m.tokenization.Observe(res.tokenization.Seconds())
	s.m.queue.Observe(res.queue.Seconds())
	s.m.inference.Observe(res.inference.Seconds())
	s.m.duration.Observe(res.all.Seconds())
	s.m.success.WithLabelValues(method).Inc()
	h := w.Header()
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	h.Set("x-compute-type", "cpu")
	h.Set("x-compute-time", ms(res.all))
	h.Set("x-compute-characters", strconv.Itoa(res.chars))
	h.Set("x-compute-tokens", strconv.Itoa(res.tokens))
	h.Set("x-total-time", ms(res.all))
	h.Set("x-tokenization-time", ms(res.tokenization))
	h.Set("x-queue-time", ms(res.queue))
	h.Set("x-inference-time", ms(res.inference))
}

func (s *Server) tokenize(w http.ResponseWriter, r *http.Request) {
	s.m.requests.WithLabelValues("tokenize").Inc()
	var req tokenizeRequest
	if e := s.decodeBody(w, r, &req); e != nil {
		s.fail(w, r, e)
		return
	}
	texts, batch, err := parseTokenizeInputs(req.Inputs)
	if err != nil {
		s.fail(w, r, &apiError{http.StatusUnprocessableEntity, typeValidation, err.Error(), typeValidation})
		return
	}
	if batch && len(texts) == 0 {
		s.fail(w, r, &apiError{http.StatusBadRequest, typeEmpty, "`inputs` cannot be empty", typeEmpty})
		return
	}
	if len(texts) > s.cfg.MaxClientBatchSize {
		s.fail(w, r, &apiError{http.StatusRequestEntityTooLarge, typeValidation,
			fmt.Sprintf("batch size %d > maximum allowed batch size %d", len(texts), s.cfg.MaxClientBatchSize), "batch_size"})
		return
	}
	special := true
	if req.AddSpecialTokens != nil {
		special = *req.AddSpecialTokens
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WriteTimeout)
	defer cancel()
	out := make([][]Token, len(texts))
	total := 0
	for i, t := range texts {
		e, err := s.encode(ctx, textclf.Input{Text: t}, textclf.EncodeOptions{NoSpecialTokens: !special, Context: ctx,
			StopAfter: max(s.cfg.MaxBatchTokens-total, 1)})
		if err != nil {
			s.fail(w, r, tokenizeError(err))
			return
		}
		// The answer takes some 70 bytes a token: bounded as a batch is.
		if total += e.Len(); total > s.cfg.MaxBatchTokens {
			s.fail(w, r, &apiError{http.StatusRequestEntityTooLarge, typeValidation,
				fmt.Sprintf("the inputs hold more than %d tokens (max batch tokens): tokenize them in smaller requests", s.cfg.MaxBatchTokens), typeValidation})
			return
		}
		out[i] = tokensOf(t, e)
	}
	s.m.success.WithLabelValues("tokenize").Inc()
	writeJSON(w, http.StatusOK, out)
}

// Info is the body of GET /info: TEI's Info fields, plus multi_label and
// model_kind.
type Info struct {
	ModelID               string    `json:"model_id"`
	ModelSHA              *string   `json:"model_sha"`
	ModelDType            string    `json:"model_dtype"`
	ModelType             ModelType `json:"model_type"`
	ModelKind             string    `json:"model_kind"`
	MultiLabel            bool      `json:"multi_label"`
	MaxConcurrentRequests int       `json:"max_concurrent_requests"`
	MaxInputLength        int       `json:"max_input_length"`
	MaxBatchTokens        int       `json:"max_batch_tokens"`
	MaxBatchRequests      *int      `json:"max_batch_requests"`
	MaxClientBatchSize    int       `json:"max_client_batch_size"`
	AutoTruncate          bool      `json:"auto_truncate"`
	TokenizationWorkers   int       `json:"tokenization_workers"`
	Version               string    `json:"version"`
	SHA                   *string   `json:"sha"`
	DockerLabel           *string   `json:"docker_label"`
}

// ModelType is TEI's model type: always a classifier here.
type ModelType struct {
	Classifier ClassifierModel `json:"classifier"`
}

// ClassifierModel holds a classifier's labels.
type ClassifierModel struct {
	ID2Label map[string]string `json:"id2label"`
	Label2ID map[string]int    `json:"label2id"`
}

// Info describes the served model and the server's limits.
func (s *Server) Info() Info {
	labels := s.modelInfo.Labels
	cm := ClassifierModel{ID2Label: map[string]string{}, Label2ID: map[string]int{}}
	for i, l := range labels {
		cm.ID2Label[strconv.Itoa(i)] = l
		cm.Label2ID[l] = i
	}
	mbr := s.cfg.MaxBatchRequests
	return Info{
		ModelID: s.cfg.ModelID, ModelDType: "float32", ModelType: ModelType{Classifier: cm},
		ModelKind: s.modelInfo.Kind, MultiLabel: multiLabel(s.modelInfo),
		MaxConcurrentRequests: s.cfg.MaxConcurrentRequests, MaxInputLength: s.modelInfo.MaxLength,
		MaxBatchTokens: s.cfg.MaxBatchTokens, MaxBatchRequests: &mbr, MaxClientBatchSize: s.cfg.MaxClientBatchSize,
		AutoTruncate: s.cfg.AutoTruncate, TokenizationWorkers: s.cfg.TokenizationWorkers, Version: textclf.Version,
	}
}

func (s *Server) info(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.Info()) }

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if !s.ready() {
		s.fail(w, r, &apiError{http.StatusServiceUnavailable, typeUnhealthy, "unhealthy: shutting down", typeUnhealthy})
		return
	}
	w.WriteHeader(http.StatusOK)
}

// tokenUnit is the unit of Server.textBudget, in bytes of text.
const tokenUnit = 64 << 10

// encode tokenizes one input once one of the TokenizationWorkers is free
// and the text tokenized at once leaves room for it, until ctx is done.
func (s *Server) encode(ctx context.Context, in textclf.Input, opt textclf.EncodeOptions) (textclf.Encoding, error) {
	n := len(in.Text)
	if in.Pair != nil {
		n += len(*in.Pair)
	}
	units := min(n/tokenUnit+1, cap(s.textBudget))
	// One input at a time takes its units, so that two large ones never
	// hold half of the budget each.
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return textclf.Encoding{}, ctx.Err()
	}
	taken := 0
	release := func() {
		for ; taken > 0; taken-- {
			<-s.textBudget
		}
	}
	for taken < units {
		select {
		case s.textBudget <- struct{}{}:
			taken++
		case <-ctx.Done():
			<-s.turn
			release()
			return textclf.Encoding{}, ctx.Err()
		}
	}
	<-s.turn
	defer release()
	select {
	case s.tokenizing <- struct{}{}:
	case <-ctx.Done():
		return textclf.Encoding{}, ctx.Err()
	}
	defer func() { <-s.tokenizing }()
	return s.model.Encode(in, opt)
}

// tokenizeError is the answer to a failed tokenization: 503 when the
// request ran out of time (or its client left), else TEI's 422 tokenizer.
func tokenizeError(err error) *apiError {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &apiError{http.StatusServiceUnavailable, typeTokenizer, "tokenization stopped: " + err.Error(), typeTokenizer}
	}
	return &apiError{http.StatusUnprocessableEntity, typeTokenizer, err.Error(), typeTokenizer}
}

// statusWriter remembers the status of a response for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if s.draining.Load() {
			// net/http closes the connection after this response.
			w.Header().Set("Connection", "close")
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelDebug, "request", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
	})
}
