package classic

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/privacy"
)

// Architectures of classic models.
const (
	ArchFastText = "fasttext"
	ArchTextCNN  = "textcnn"
	ArchBiLSTM   = "bilstm"
)

// Files of a saved classic model directory.
const (
	ConfigFile  = "config.json"
	VocabFile   = "vocab.txt"
	WeightsFile = "model.safetensors"
	// FastTextFile holds a quantized fastText-style model, in fastText's
	// .ftz format, in place of VocabFile and WeightsFile.
	FastTextFile = "model.ftz"
)

// Config is a saved model's config.json.
type Config struct {
	// Arch is "fasttext", "textcnn" or "bilstm".
	Arch string `json:"arch"`
	// Labels are the class names by id.
	Labels []string `json:"labels"`
	// MultiLabel says the model predicts label sets.
	MultiLabel bool `json:"multi_label"`
	// Threshold is the score from which a label is predicted (multi-label).
	Threshold float64 `json:"threshold"`
	// Segmenter is the word segmentation the model was trained with.
	Segmenter Segmenter `json:"segmenter"`
	// FastText holds the fastText-style hyper-parameters.
	FastText *FastTextConfig `json:"fasttext,omitempty"`
	// LabelCounts are the training label counts (fastText hs tree).
	LabelCounts []int64 `json:"label_counts,omitempty"`
	// NN holds the TextCNN/BiLSTM hyper-parameters.
	NN *NNConfig `json:"nn,omitempty"`
	// Privacy, for a model trained with DP-SGD (TrainConfig.DP), is its
	// plan and the ε its training spent.
	Privacy *PrivacyRecord `json:"differential_privacy,omitempty"`
}

// PrivacyRecord is what DP-SGD training did: its plan and the ε spent.
type PrivacyRecord struct {
	*privacy.Plan
	Epsilon float64 `json:"epsilon"`
}

// Classifier is a trained classic model with its segmentation.
type Classifier struct {
	// Config describes the model.
	Config Config
	ft     *FastText
	nn     *NNModel
}

// Tokens segments text (and the optional pair text) as the model expects.
func (c *Classifier) Tokens(text, pair string) ([]string, error) {
	toks, err := c.Config.Segmenter.Segment(text)
	if err != nil || pair == "" {
		return toks, err
	}
	p, err := c.Config.Segmenter.Segment(pair)
	return append(toks, p...), err
}

// Scores returns one score per label: probabilities for single-label
// models, independent sigmoids for multi-label ones.
func (c *Classifier) Scores(text, pair string) ([]float32, error) {
	toks, err := c.Tokens(text, pair)
	if err != nil {
		return nil, err
	}
	return c.ScoresTokens(toks), nil
}

// ScoresTokens is Scores on already segmented text.
func (c *Classifier) ScoresTokens(toks []string) []float32 {
	if c.ft != nil {
		return c.ft.Scores(toks)
	}
	return c.nn.Scores(toks)
}

// Save writes the model into dir (created if missing): config.json,
// vocab.txt and model.safetensors, each through a temporary file.
func (c *Classifier) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var words []string
	var params []*nn.Param
	switch {
	case c.ft != nil && c.ft.Quantized():
		if err := c.WriteFastText(filepath.Join(dir, FastTextFile)); err != nil {
			return err
		}
		cfg := c.ft.Config
		c.Config.FastText = &cfg
		c.Config.LabelCounts = c.ft.LabelCounts
		return c.writeConfig(dir)
	case c.ft != nil:
		words, params = c.ft.Words, c.ft.params()
		cfg := c.ft.Config
		c.Config.FastText = &cfg
		c.Config.LabelCounts = c.ft.LabelCounts
	case c.nn != nil:
		words, params = c.nn.Words, c.nn.params()
		cfg := c.nn.Config
		c.Config.NN = &cfg
	default:
		return errors.New("save: empty classifier")
	}
	for _, w := range words {
		if w == "" || strings.ContainsAny(w, "\n\r") {
			return fmt.Errorf("save: vocabulary word %q cannot be written one per line", w)
		}
	}
	if err := writeWeights(filepath.Join(dir, WeightsFile), params); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, VocabFile), func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for _, s := range words {
			bw.WriteString(s)
			bw.WriteByte('\n')
		}
		return bw.Flush()
	}); err != nil {
		return err
	}
	return c.writeConfig(dir)
}

// writeConfig writes dir/config.json.
func (c *Classifier) writeConfig(dir string) error {
	return writeFileAtomic(filepath.Join(dir, ConfigFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(c.Config)
	})
}

// ReadConfig reads dir/config.json.
func ReadConfig(dir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ConfigFile), err)
	}
	return &c, nil
}

// IsClassic reports whether a config.json's arch names a classic model.
func IsClassic(arch string) bool {
	return arch == ArchFastText || arch == ArchTextCNN || arch == ArchBiLSTM
}

// Load reads a model saved by Save.
func Load(dir string) (*Classifier, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	cpath := filepath.Join(dir, ConfigFile)
	if err := cfg.Segmenter.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", cpath, err)
	}
	if len(cfg.Labels) == 0 {
		return nil, fmt.Errorf("%s: no labels", cpath)
	}
	if ftz := filepath.Join(dir, FastTextFile); cfg.Arch == ArchFastText && fileExists(ftz) {
		// A quantized model: its words and weights are in the .ftz file.
		q, err := ReadFastTextBin(ftz)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(q.Config.Labels, cfg.Labels) {
			return nil, fmt.Errorf("%s: labels %q differ from those of %s (%q)", cpath, cfg.Labels, ftz, q.Config.Labels)
		}
		q.Config.Segmenter, q.Config.MultiLabel, q.Config.Threshold = cfg.Segmenter, cfg.MultiLabel, cfg.Threshold
		return q, nil
	}
	vb, err := os.ReadFile(filepath.Join(dir, VocabFile))
	if err != nil {
		return nil, err
	}
	words := strings.Split(strings.TrimSuffix(string(vb), "\n"), "\n")
	if len(vb) == 0 {
		words = nil
	}
	wpath := filepath.Join(dir, WeightsFile)
	c := &Classifier{Config: *cfg}
	switch cfg.Arch {
	case ArchFastText:
		if cfg.FastText == nil {
			return nil, fmt.Errorf("%s: no \"fasttext\" section", cpath)
		}
		fc := *cfg.FastText
		if err := fc.Check(); err != nil {
			return nil, fmt.Errorf("%s: %w", cpath, err)
		}
		m := &FastText{Config: fc, Words: words, LabelNames: cfg.Labels, LabelCounts: cfg.LabelCounts}
		if len(m.LabelCounts) != len(cfg.Labels) {
			m.LabelCounts = make([]int64, len(cfg.Labels))
		}
		m.In = &nn.Param{Name: "input", Shape: []int{len(words) + fc.Bucket, fc.Dim}}
		m.Out = &nn.Param{Name: "output", Shape: []int{m.outRows(), fc.Dim}}
		if err := readWeights(wpath, m.params()); err != nil {
			return nil, err
		}
		if err := m.init(); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		c.ft = m
	case ArchTextCNN, ArchBiLSTM:
		if cfg.NN == nil {
			return nil, fmt.Errorf("%s: no \"nn\" section", cpath)
		}
		m, err := nnShapes(*cfg.NN, cfg.Arch, words, len(cfg.Labels))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cpath, err)
		}
		if err := readWeights(wpath, m.params()); err != nil {
			return nil, err
		}
		c.nn = m
	default:
		return nil, fmt.Errorf("%s: arch %q is not a classic model (fasttext, textcnn, bilstm)", cpath, cfg.Arch)
	}
	return c, nil
}

// TrainConfig is everything a classic training run needs.
type TrainConfig struct {
	// Arch is "fasttext", "textcnn" or "bilstm".
	Arch string
	// Segmenter splits texts into tokens.
	Segmenter Segmenter
	// FastText holds the fastText-style hyper-parameters.
	FastText FastTextConfig
	// NN holds the TextCNN/BiLSTM hyper-parameters.
	NN NNConfig
	// Train holds epochs, learning rate, threads and seed.
	Train TrainOptions
	// Threshold is the multi-label decision threshold (default 0.5).
	Threshold float64
	// Vectors is an optional word-vector file (any format ReadWordVectors
	// reads) initialising the word embeddings: TextCNN/BiLSTM's, and the
	// fastText-style model's input rows as fastText's -pretrainedVectors
	// does (its words join the vocabulary; the dimension must match).
	Vectors string
	// VectorsWords gives the first VectorsWords words of Vectors (the most
	// frequent ones, in GloVe's, word2vec's and fastText's files) a row of
	// the TextCNN/BiLSTM embedding table even when training never sees
	// them, so that such words keep their pretrained vectors at prediction
	// time instead of falling to UNK; -1 takes every word. 0 (the default)
	// keeps the vocabulary to the training words. (A fastText-style model
	// takes all the words of Vectors, as fastText's -pretrainedVectors.)
	VectorsWords int
	// BatchSize is the TextCNN/BiLSTM mini-batch size.
	BatchSize int
	// NoShuffle keeps file order in consecutive batches.
	NoShuffle bool
	// Valid, when set, is evaluated after each epoch (TextCNN/BiLSTM).
	Valid *data.Dataset
	// EpochEnd, when not nil, is called after each TextCNN/BiLSTM epoch
	// (1, 2, …) with the model as trained so far; an error it returns stops
	// training and Train returns it. A fastText-style model has no epoch
	// boundaries (its threads share one learning-rate schedule) and never
	// calls it.
	EpochEnd func(epoch int, c *Classifier) error
	// DP, when not nil, trains TextCNN/BiLSTM with differential privacy:
	// DP-SGD with Opacus' semantics (package privacy), Poisson batches of
	// expected size BatchSize, each example's gradient clipped, noise on
	// every parameter (the embedding table too, unless frozen).
	DP *privacy.Config
}

// Prepared holds segmented texts and label ids of a dataset.
type Prepared struct {
	// Docs are the token lists.
	Docs [][]string
	// Labels are the label ids of each doc.
	Labels [][]int
}

// Prepare segments a dataset and maps its labels.
func Prepare(ds *data.Dataset, labels *data.LabelMap, seg Segmenter) (*Prepared, error) {
	p := &Prepared{Docs: make([][]string, len(ds.Examples)), Labels: make([][]int, len(ds.Examples))}
	for i, ex := range ds.Examples {
		toks, err := seg.Segment(ex.Text)
		if err != nil {
			return nil, err
		}
		if ex.TextPair != "" {
			pt, err := seg.Segment(ex.TextPair)
			if err != nil {
				return nil, err
			}
			toks = append(toks, pt...)
		}
		p.Docs[i] = toks
		if labels != nil {
			if p.Labels[i], err = labels.IDs(ds, ex); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// Train trains a classic model on a dataset.
func Train(ds *data.Dataset, cfg TrainConfig) (*Classifier, error) {
	if err := cfg.Segmenter.Check(); err != nil {
		return nil, err
	}
	if cfg.Segmenter.Mode == "" {
		cfg.Segmenter.Mode = SegmentWords
	}
	lm := data.BuildLabelMap(ds)
	if lm.Len() < 1 {
		return nil, fmt.Errorf("%s: no labels", ds.Path)
	}
	prep, err := Prepare(ds, lm, cfg.Segmenter)
	if err != nil {
		return nil, err
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = 0.5
	}
	c := &Classifier{Config: Config{Arch: cfg.Arch, Labels: lm.Names, MultiLabel: ds.MultiLabel, Threshold: cfg.Threshold, Segmenter: cfg.Segmenter}}
	switch cfg.Arch {
	case ArchFastText:
		if cfg.DP != nil {
			return nil, errors.New("DP-SGD trains textcnn and bilstm models (and transformers), not fasttext")
		}
		ftc := cfg.FastText
		if ds.MultiLabel && ftc.Loss == LossSoftmax {
			ftc.Loss = LossOVA
		}
		var vecs *Vectors
		if cfg.Vectors != "" {
			if vecs, err = ReadWordVectors(cfg.Vectors); err != nil {
				return nil, err
			}
		}
		m, err := newFastText(ftc, lm.Names, prep.Docs, prep.Labels, cfg.Train.Seed, vecs)
		if err != nil {
			return nil, err
		}
		opt := cfg.Train
		if cfg.Valid != nil && opt.OnEpoch != nil {
			// Each epoch's record carries the scores on the validation data.
			valid, err := Prepare(cfg.Valid, lm, cfg.Segmenter)
			if err != nil {
				return nil, err
			}
			onEpoch := opt.OnEpoch
			opt.OnEpoch = func(e EpochLog) {
				e.Eval = evalScores(m.Scores, ds.MultiLabel, cfg.Threshold, valid)
				onEpoch(e)
			}
		}
		if err := m.Train(prep.Docs, prep.Labels, opt); err != nil {
			return nil, err
		}
		c.ft = m
	case ArchTextCNN, ArchBiLSTM:
		m, err := trainNN(cfg, c, prep, lm)
		if err != nil {
			return nil, err
		}
		c.nn = m
	default:
		return nil, fmt.Errorf("unknown classic arch %q (want fasttext, textcnn or bilstm)", cfg.Arch)
	}
	return c, nil
}

// fileExists reports whether path names a regular file.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
