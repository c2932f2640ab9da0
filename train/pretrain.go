package train

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// MLMConfig is what masked-language-model pretraining (Pretrain) adds to
// a Config. Zero fields take the defaults of transformers' run_mlm.py and
// DataCollatorForLanguageModeling.
type MLMConfig struct {
	// Corpus are the text files to pretrain on: one document per line, or
	// with BlankLineDocuments paragraphs (lines joined by a space) separated
	// by blank lines. Blank documents are skipped.
	Corpus []string
	// EvalCorpus are held-out text files, read as Corpus; without them
	// Config.ValidationSplit of the blocks is held out (default 0.05, as
	// run_mlm.py's validation_split_percentage 5; NoValidation for none).
	EvalCorpus []string
	// BlankLineDocuments reads documents separated by blank lines.
	BlankLineDocuments bool
	// MaskProb is the share of tokens chosen for the loss (default 0.15).
	MaskProb float64
	// WholeWordMask chooses whole words (WordPiece ## continuations joined
	// to their word) as DataCollatorForWholeWordMask does.
	WholeWordMask bool
	// ChineseWords, with WholeWordMask, joins the characters of a Chinese
	// word (the zh-words segmentation of package classic) as run_mlm_wwm.py
	// does with its reference ids.
	ChineseWords bool
}

// NoValidation is the Config.ValidationSplit of a pretraining run that
// holds nothing out.
const NoValidation = -1

// problemMLM is the State.ProblemType of a pretraining run.
const problemMLM = "masked_lm"

// mlmRun is the masked-LM state of a run.
type mlmRun struct {
	cfg    MLMConfig
	masker *masker
}

// Pretrain pretrains a masked language model (BertForMaskedLM,
// RobertaForMaskedLM) with the machinery of Train — AdamW, schedule,
// warmup, clipping, accumulation, checkpoints, resume, progress,
// metrics.jsonl — as transformers' run_mlm.py does: the corpus is
// tokenized with special tokens, concatenated and cut into blocks of
// MaxLength tokens (group_texts; the remainder is dropped unless the
// corpus is shorter than one block), and every batch is masked anew
// (dynamic masking; the masks of (seed, step) are the same when a run
// resumes). The evaluation blocks are masked once, with a fixed seed, and
// scored by their loss, accuracy and perplexity (exp of the loss). The
// model comes from cfg.ModelConfig (a preset or config.json, with
// cfg.Tokenizer) or cfg.Model (continued pretraining of a checkpoint,
// whose MLM head is used when it has one). The best model (lowest
// evaluation loss by default) is saved in cfg.Output with architectures
// [BertForMaskedLM]. Bad input — an empty corpus, a corpus with no token
// to mask, a tokenizer without a mask token or with more tokens than the
// checkpoint's vocabulary — is an error before anything is written.
func Pretrain(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.MLM == nil || len(cfg.MLM.Corpus) == 0 {
		return nil, fmt.Errorf("pretrain: no corpus")
	}
	mc := *cfg.MLM
	if mc.MaskProb == 0 {
		mc.MaskProb = 0.15
	}
	if cfg.Metric == "" {
		cfg.Metric = "loss"
	}
	if cfg.ValidationSplit == 0 && len(mc.EvalCorpus) == 0 {
		cfg.ValidationSplit = 0.05
	}
	split := cfg.ValidationSplit
	if split < 0 {
		split = 0
	}
	cfg.ValidationSplit = 0 // the blocks are split here, not the data set
	cfg.Train = mc.Corpus[0]
	cfg.Defaults()
	switch {
	case mc.MaskProb <= 0 || mc.MaskProb >= 1:
		return nil, fmt.Errorf("pretrain: mask probability %g is not in (0, 1)", mc.MaskProb)
	case split >= 1:
		return nil, fmt.Errorf("pretrain: validation split %g is not a fraction in [0, 1)", split)
	case cfg.ProblemType != "" || cfg.ClassWeights != "" || cfg.DP != nil:
		return nil, fmt.Errorf("pretrain: problem type, class weights and DP-SGD do not apply to masked-language-model pretraining")
	case cfg.Metric == "f1":
		return nil, fmt.Errorf("pretrain: the metric is loss or accuracy, not f1")
	case mc.ChineseWords && !mc.WholeWordMask:
		return nil, fmt.Errorf("pretrain: Chinese word segmentation goes with whole-word masking")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, start: time.Now(), problem: problemMLM, mlm: &mlmRun{cfg: mc}}
	if err := r.resolveResume(); err != nil {
		return nil, err
	}
	docs, err := readCorpus(mc.Corpus, mc.BlankLineDocuments)
	if err != nil {
		return nil, err
	}
	var evalDocs []string
	if len(mc.EvalCorpus) > 0 {
		if evalDocs, err = readCorpus(mc.EvalCorpus, mc.BlankLineDocuments); err != nil {
			return nil, err
		}
	}
	if err := r.loadTokenizerAndModel(); err != nil {
		return nil, err
	}
	r.tk.Padding, r.tk.Truncation = nil, nil
	blocks, err := r.blocks(docs, mc.Corpus)
	if err != nil {
		return nil, err
	}
	if evalDocs != nil {
		if r.eval, err = r.blocks(evalDocs, mc.EvalCorpus); err != nil {
			return nil, err
		}
	} else if split > 0 {
		n := int(math.Round(split * float64(len(blocks))))
		if n < 1 || n >= len(blocks) {
			return nil, fmt.Errorf("%s: cannot hold out %g of %d blocks of %d tokens (give a larger corpus, --eval, or --validation-split -1 for none)",
				strings.Join(mc.Corpus, ", "), split, len(blocks), r.cfg.MaxLength)
		}
		rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x5b1))
		perm := rng.Perm(len(blocks))
		for i, j := range perm {
			if i < n {
				r.eval = append(r.eval, blocks[j])
			} else {
				r.train = append(r.train, blocks[j])
			}
		}
		blocks = r.train
	}
	r.train = blocks
	if n := r.cfg.MaxTrainSamples; n > 0 && n < len(r.train) {
		r.train = r.train[:n]
	}
	if r.eval != nil {
		// The evaluation masks are drawn once: every evaluation scores the same tokens.
		rng := rand.New(rand.NewPCG(r.cfg.Seed, 0xe7a1))
		for i := range r.eval {
			b := model.PadBatch([][]int{r.eval[i].ids}, nil, r.m.PadID())
			r.eval[i].labels = r.mlm.masker.mask(b, []maskFlags{r.eval[i].flags}, rng)
			r.eval[i].ids = b.InputIDs
		}
	}
	return r.execute(ctx)
}

// loadMaskedLM makes the model of a pretraining run and its masker: a new
// one of ModelConfig, or the checkpoint of Model (or Resume).
func (r *run) loadMaskedLM() error {
	c := r.cfg
	maskID, ok := -1, false
	for _, t := range []string{"[MASK]", "<mask>"} {
		if maskID, ok = r.tk.TokenToID(t); ok {
			break
		}
	}
	if !ok {
		return fmt.Errorf("tokenizer %s: no mask token ([MASK] or <mask>): masked-language-model pretraining needs one", r.tkDir)
	}
	if c.ModelConfig != "" && c.Resume == "" {
		mc, err := modelConfigFor(c.ModelConfig, r.tk)
		if err != nil {
			return err
		}
		mc.Architectures = nil
		if r.m, err = model.NewMaskedLM(mc, c.Seed); err != nil {
			return fmt.Errorf("config %s: %w", c.ModelConfig, err)
		}
		r.warn(fmt.Sprintf("config %s: every weight is newly initialized (pretraining from scratch)", c.ModelConfig))
	} else {
		dir := c.Model
		if c.Resume != "" {
			dir = c.Resume
		}
		m, rep, err := model.LoadMaskedLM(dir, c.Seed)
		if err != nil {
			return err
		}
		if n := r.tk.VocabSize(); n > m.Config.VocabSize {
			return fmt.Errorf("tokenizer %s has %d tokens, more than the vocab_size %d of %s: the tokenizer does not belong to the checkpoint",
				r.tkDir, n, m.Config.VocabSize, dir)
		}
		r.m = m
		for _, w := range rep.Warnings {
			r.warn(w)
		}
	}
	if maskID >= r.m.Config.VocabSize {
		return fmt.Errorf("tokenizer %s: mask token id %d is outside the model's vocab_size %d", r.tkDir, maskID, r.m.Config.VocabSize)
	}
	r.mlm.masker = &masker{prob: r.mlm.cfg.MaskProb, maskID: maskID, vocab: min(r.tk.VocabSize(), r.m.Config.VocabSize), wholeWord: r.mlm.cfg.WholeWordMask}
	return nil
}

// readCorpus reads the documents of text files: one a line, or with
// blankLines paragraphs separated by blank lines.
func readCorpus(paths []string, blankLines bool) ([]string, error) {
	var docs []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<16), 1<<26)
		var para []string
		n0 := len(docs)
		flush := func() {
			if len(para) > 0 {
				docs = append(docs, strings.Join(para, " "))
				para = para[:0]
			}
		}
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimSpace(sc.Text())
			if text == "" {
				flush()
				continue
			}
			if !utf8.ValidString(text) {
				return nil, fmt.Errorf("%s:%d: not UTF-8 text", p, line)
			}
			para = append(para, text)
			if !blankLines {
				flush()
			}
		}
		flush()
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(docs) == n0 {
			return nil, fmt.Errorf("%s: no text (the corpus is empty or blank)", p)
		}
	}
	return docs, nil
}

// blocks tokenizes documents with their special tokens, concatenates them
// and cuts the stream into blocks of MaxLength tokens, as run_mlm.py's
// tokenize_function and group_texts: the remainder is dropped, unless the
// whole corpus is shorter than one block. Each token keeps whether it is
// special and whether it continues a word.
func (r *run) blocks(docs []string, paths []string) ([]example, error) {
	inputs := make([]tokenizer.Input, len(docs))
	for i, d := range docs {
		inputs[i] = tokenizer.Input{Text: d}
	}
	encs, err := r.tk.EncodeBatch(inputs, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(paths, ", "), err)
	}
	var seg classic.Segmenter
	if r.mlm.cfg.ChineseWords {
		seg = classic.Segmenter{Mode: classic.SegmentChineseWords}
	}
	// The special tokens mask of get_special_tokens_mask(already_has_special_tokens=True):
	// the special tokens the post-processor added, and any special token written in the text.
	specialIDs := map[int]bool{}
	for _, a := range r.tk.AddedTokens() {
		if a.Special {
			specialIDs[a.ID] = true
		}
	}
	var ids []int
	var special, cont []bool
	maskable := false
	for i, e := range encs {
		c := continuations(e)
		if r.mlm.cfg.ChineseWords {
			if err := chineseContinuations(c, e, docs[i], seg); err != nil {
				return nil, err
			}
		}
		for j, id := range e.IDs {
			sp := e.SpecialTokensMask[j] == 1 || specialIDs[id]
			ids, special, cont = append(ids, id), append(special, sp), append(cont, c[j])
			maskable = maskable || !sp
		}
	}
	if !maskable {
		return nil, fmt.Errorf("%s: nothing to mask: the corpus tokenizes to special tokens only", strings.Join(paths, ", "))
	}
	size := r.cfg.MaxLength
	total := len(ids) / size * size
	if total == 0 {
		total = len(ids)
	}
	var out []example
	for s := 0; s < total; s += size {
		e := min(s+size, total)
		ex := example{ids: ids[s:e:e], flags: maskFlags{special: special[s:e:e], cont: cont[s:e:e]}}
		ex.typeIDs = make([]int, e-s)
		out = append(out, ex)
	}
	return out, nil
}

// continuations marks the WordPiece continuations (tokens "##…") of an
// encoding.
func continuations(e tokenizer.Encoding) []bool {
	c := make([]bool, len(e.IDs))
	for j, t := range e.Tokens {
		c[j] = e.SpecialTokensMask[j] == 0 && strings.HasPrefix(t, "##")
	}
	return c
}

// chineseContinuations marks, as run_mlm_wwm.py's reference ids do, the
// tokens of Chinese characters that are not the first of their word (the
// words of the zh-words segmentation of text).
func chineseContinuations(c []bool, e tokenizer.Encoding, text string, seg classic.Segmenter) error {
	words, err := seg.Segment(text)
	if err != nil {
		return err
	}
	runes := []rune(text)
	// inWord[i]: the code point i is a Chinese character after the first of its word.
	inWord := make([]bool, len(runes)+1)
	pos := 0
	for _, w := range words {
		wr := []rune(w)
		// Find the word at or after pos (the segmenter drops spaces).
		for pos < len(runes) && !hasRunesAt(runes, pos, wr) {
			pos++
		}
		if pos >= len(runes) {
			break
		}
		for k := 1; k < len(wr); k++ {
			inWord[pos+k] = unicode.Is(unicode.Han, wr[k])
		}
		pos += len(wr)
	}
	for j, off := range e.Offsets {
		if e.SpecialTokensMask[j] == 0 && off[1]-off[0] == 1 && off[0] < len(inWord) && inWord[off[0]] {
			c[j] = true
		}
	}
	return nil
}

func hasRunesAt(runes []rune, pos int, w []rune) bool {
	if pos+len(w) > len(runes) {
		return false
	}
	for k, r := range w {
		if runes[pos+k] != r {
			return false
		}
	}
	return true
}

// mlmStep takes optimizer step s of the epoch on masked micro-batches: the
// masks of each micro-batch are drawn from (seed, global step, micro-batch).
func (r *run) mlmStep(batches [][]int, s int) (StepResult, error) {
	var mbs []*model.Batch
	var lbs []*model.Labels
	for k := s * r.cfg.GradAccum; k < min((s+1)*r.cfg.GradAccum, len(batches)); k++ {
		mb, _ := microBatch(r.train, batches[k], model.SingleLabel, r.m.PadID())
		flags := make([]maskFlags, len(batches[k]))
		for i, j := range batches[k] {
			flags[i] = r.train[j].flags
		}
		rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(r.state.GlobalStep)<<16|uint64(k-s*r.cfg.GradAccum)))
		labels := r.mlm.masker.mask(mb, flags, rng)
		mbs, lbs = append(mbs, mb), append(lbs, &model.Labels{Classes: labels})
	}
	return r.stepper.Step(mbs, lbs)
}

// mlmScores evaluates a masked language model on the evaluation blocks
// (masked once): the mean cross-entropy over the masked tokens ("loss"),
// the share predicted right ("accuracy", run_mlm.py's metric) and
// "perplexity", exp(loss).
func (r *run) mlmScores() (map[string]float64, error) {
	var correct, count int
	var nll float64
	lengths := make([]int, len(r.eval))
	for i, ex := range r.eval {
		lengths[i] = len(ex.ids)
	}
	for _, idx := range data.InferenceBatches(lengths, r.cfg.EvalBatchSize) {
		b, _ := microBatch(r.eval, idx, model.SingleLabel, r.m.PadID())
		labels := make([]int, b.B*b.T)
		var rows []int
		for i, j := range idx {
			for t := range labels[i*b.T : (i+1)*b.T] {
				labels[i*b.T+t] = model.IgnoreIndex
				if t < len(r.eval[j].labels) {
					labels[i*b.T+t] = r.eval[j].labels[t]
				}
				if labels[i*b.T+t] != model.IgnoreIndex {
					rows = append(rows, i*b.T+t)
				}
			}
		}
		if len(rows) == 0 {
			continue
		}
		logits, err := r.m.MaskedLMLogits(b, rows)
		if err != nil {
			return nil, err
		}
		c, l, n := model.MaskedLMAccuracy(logits, labels, r.m.Config.VocabSize)
		correct, nll, count = correct+c, nll+l, count+n
	}
	if count == 0 {
		return nil, fmt.Errorf("evaluation: no token of the %d evaluation blocks was masked", len(r.eval))
	}
	loss := nll / float64(count)
	return map[string]float64{"loss": loss, "accuracy": float64(correct) / float64(count), "perplexity": math.Exp(loss)}, nil
}
