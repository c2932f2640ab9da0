package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/textclf/textclf"
	"github.com/textclf/textclf/serve"
)

// serveFlags are the options of `textclf serve`.
type serveFlags struct {
	model, addr, logFormat, logLevel, servedModelName    string
	maxBatchTokens, maxBatchRequests, maxClientBatchSize int
	maxConcurrent, maxInputLength, threads               int
	tokenizationWorkers                                  int
	dtype                                                string
	autoTruncate                                         bool
	payloadLimit                                         int64
	readTimeout, writeTimeout, shutdownTimeout           time.Duration
	drainDelay                                           time.Duration

	// TEI's names (text-embeddings-inference's router flags), applied by
	// applyTEIAliases.
	modelID, hostname string
	port              int
	jsonOutput        bool
}

// defaultServeAddr is --addr's default: all interfaces, port 8080 (TEI's
// --hostname and --port default to 0.0.0.0 and 3000).
const defaultServeAddr = ":8080"

func (f *serveFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "model: transformer directory or hub id, classic model directory, fastText .bin file, or builtin:NAME (textclf models lists them)")
	fs.StringVar(&f.addr, "addr", defaultServeAddr, "listen address")
	fs.StringVar(&f.servedModelName, "served-model-name", "", "the model's name in the Open Inference Protocol routes /v2/models/{name}/... (default: --model's base name)")
	fs.IntVar(&f.maxBatchTokens, "max-batch-tokens", 16384, "most padded tokens (inputs × longest) in a batch")
	fs.IntVar(&f.maxBatchRequests, "max-batch-requests", 64, "most inputs in a batch (1: no batching)")
	fs.IntVar(&f.maxClientBatchSize, "max-client-batch-size", 32, "most inputs in one request")
	fs.IntVar(&f.maxConcurrent, "max-concurrent-requests", 512, "most inputs queued or running at once; beyond, 429")
	fs.IntVar(&f.maxInputLength, "max-input-length", 0, "most tokens per input (default: the model's limit; classic: none)")
	fs.BoolVar(&f.autoTruncate, "auto-truncate", false, "truncate long inputs when a request does not say \"truncate\"")
	fs.Int64Var(&f.payloadLimit, "payload-limit", 2_000_000, "most bytes in a request body")
	fs.DurationVar(&f.readTimeout, "read-timeout", 30*time.Second, "HTTP read timeout")
	fs.DurationVar(&f.writeTimeout, "write-timeout", 120*time.Second, "HTTP write timeout")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "longest wait for in-flight requests on shutdown")
	fs.DurationVar(&f.drainDelay, "drain-delay", 5*time.Second, "on shutdown, keep serving this long with /health at 503 and Connection: close (ends early once no connection is open; 0: none)")
	fs.IntVar(&f.tokenizationWorkers, "tokenization-workers", 0, "most inputs tokenized at once (default: the number of cores, as TEI)")
	fs.IntVar(&f.threads, "threads", 0, "compute threads (default: all cores)")
	registerDtype(fs, &f.dtype)
	fs.StringVar(&f.logFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug (logs every request), info, warn or error")
	fs.StringVar(&f.modelID, "model-id", "", "TEI's name for --model")
	fs.StringVar(&f.hostname, "hostname", "", "TEI's name for --addr's host (with --port; default: all interfaces)")
	fs.IntVarP(&f.port, "port", "p", 0, "TEI's name for --addr's port (with --hostname; default 8080, not TEI's 3000)")
	fs.BoolVar(&f.jsonOutput, "json-output", false, "TEI's name for --log-format json (false: text)")
}

// applyTEIAliases sets --model, --addr and --log-format from TEI's names
// given on the command line. A flag given under both names must have the
// same value.
func (f *serveFlags) applyTEIAliases(fs *pflag.FlagSet) error {
	if fs.Changed("model-id") {
		if fs.Changed("model") && f.model != f.modelID {
			return fmt.Errorf("--model-id %q and --model %q differ: --model-id is TEI's name for --model, give one", f.modelID, f.model)
		}
		f.model = f.modelID
	}
	if fs.Changed("port") || fs.Changed("hostname") {
		host, port, err := net.SplitHostPort(f.addr)
		if err != nil {
			return fmt.Errorf("--addr: %w", err)
		}
		if fs.Changed("port") {
			if f.port < 1 || f.port > 65535 {
				return fmt.Errorf("--port must be 1 to 65535, got %d", f.port)
			}
			if fs.Changed("addr") && port != strconv.Itoa(f.port) {
				return fmt.Errorf("--port %d and --addr %s differ: give --addr, or --hostname and --port", f.port, f.addr)
			}
			port = strconv.Itoa(f.port)
		}
		if fs.Changed("hostname") {
			if fs.Changed("addr") && host != f.hostname {
				return fmt.Errorf("--hostname %q and --addr %s differ: give --addr, or --hostname and --port", f.hostname, f.addr)
			}
			host = f.hostname
		}
		f.addr = net.JoinHostPort(host, port)
	}
	if fs.Changed("json-output") {
		format := "text"
		if f.jsonOutput {
			format = "json"
		}
		if fs.Changed("log-format") && f.logFormat != format {
			return fmt.Errorf("--json-output=%t and --log-format %s differ: --json-output is TEI's name for --log-format json", f.jsonOutput, f.logFormat)
		}
		f.logFormat = format
	}
	return nil
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --model DIR|HUB_ID|builtin:NAME [--addr :8080]",
		Short: "Serve a classifier over HTTP with dynamic batching (TEI-compatible API)",
		Long: `Serves a transformer (directory or hub id), a classic model directory or a built-in model
(builtin:NAME, see textclf models) with the API of
Hugging Face's text-embeddings-inference: POST /predict, POST /tokenize, GET /info, GET /health,
GET /metrics (Prometheus), and the Open Inference Protocol (KServe v2, Triton clients): GET /v2/health/live,
/v2/health/ready, /v2/models/{name}, /v2/models/{name}/ready, POST /v2/models/{name}/infer with a
BYTES input "text" [n], answering label (BYTES [n]), score (FP32 [n]) and scores (FP32 [n, labels]);
{name} is --served-model-name. POST / also answers the Hugging Face Inference clients (huggingface_hub's
InferenceClient, @huggingface/inference) given the server's URL. POST /explain attributes a
prediction to its tokens (as textclf explain), GET / is a web page that classifies and explains a
text, GET /openapi.json describes the API and GET /docs renders it. Concurrent requests are queued and
gathered into batches of at most --max-batch-requests inputs and --max-batch-tokens padded tokens
(inputs × longest), one forward pass per batch; --max-batch-requests 1 turns batching off.
SIGINT/SIGTERM drain the server (--drain-delay: /health answers 503, responses close their
connections) and stop it after the requests in flight are answered; a second signal stops it at
once. TEI's flag names work too:
--model-id for --model, --hostname and --port for --addr (default still :8080), --json-output for
--log-format json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.applyTEIAliases(cmd.Flags()); err != nil {
				return err
			}
			if f.model == "" {
				return fmt.Errorf("--model is required (or TEI's --model-id)")
			}
			level := slog.LevelInfo
			if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			hopts := &slog.HandlerOptions{Level: level}
			var h slog.Handler
			switch f.logFormat {
			case "json":
				h = slog.NewJSONHandler(cmd.ErrOrStderr(), hopts)
			case "text":
				h = slog.NewTextHandler(cmd.ErrOrStderr(), hopts)
			default:
				return fmt.Errorf("--log-format must be json or text, got %q", f.logFormat)
			}
			log := slog.New(h)
			ctx, stop := signal.NotifyContext(commandContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				stop() // a second signal ends the program at once
			}()
			start := time.Now()
			clf, err := textclf.Open(ctx, f.model, textclf.Options{MaxLength: f.maxInputLength, Threads: f.threads, Dtype: f.dtype})
			if err != nil {
				return err
			}
			for _, w := range clf.Warnings {
				log.Warn(w)
			}
			info := clf.Info()
			log.Info("model loaded", "model", f.model, "kind", info.Kind, "labels", len(info.Labels),
				"max_input_length", info.MaxLength, "seconds", time.Since(start).Seconds())
			srv, err := serve.New(clf.Model, serve.Config{
				ModelID: f.model, ServedModelName: f.servedModelName, MaxBatchTokens: f.maxBatchTokens, MaxBatchRequests: f.maxBatchRequests,
				MaxClientBatchSize: f.maxClientBatchSize, MaxConcurrentRequests: f.maxConcurrent,
				AutoTruncate: f.autoTruncate, PayloadLimit: f.payloadLimit, ReadTimeout: f.readTimeout,
				WriteTimeout: f.writeTimeout, ShutdownTimeout: f.shutdownTimeout, Logger: log,
				DrainDelay: drainDelay(f.drainDelay), TokenizationWorkers: f.tokenizationWorkers,
			})
			if err != nil {
				return err
			}
			return srv.ListenAndServe(ctx, f.addr)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// drainDelay is --drain-delay as serve.Config takes it: 0 means none.
func drainDelay(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
