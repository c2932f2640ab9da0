package train

import (
	"math"
	"math/rand/v2"

	"github.com/textclf/textclf/model"
)

// masker masks the tokens of a padded batch as transformers'
// DataCollatorForLanguageModeling (torch_mask_tokens) does, or with
// wholeWord as DataCollatorForWholeWordMask does.
type masker struct {
	prob      float64 // mlm_probability (0.15)
	maskID    int     // [MASK] / <mask>
	vocab     int     // random replacements are drawn from [0, vocab)
	wholeWord bool
}

// maskFlags is what masking needs to know of the tokens of a sequence besides their ids.
type maskFlags struct {
	special []bool // never masked ([CLS], [SEP], padding: the special tokens mask)
	cont    []bool // continues the previous token's word (WordPiece ##, a Chinese word's later characters)
}

// mask replaces tokens of b (in place) and returns the labels [B*T]: the
// original id where a token was chosen, model.IgnoreIndex elsewhere.
//
// Without wholeWord each token that is neither special nor padding is
// chosen with probability prob (torch.bernoulli of the probability matrix,
// special tokens and padding at 0). With wholeWord, per sequence,
// num_to_predict = max(1, round(len·prob)) tokens are covered by whole words
// taken in random order, a word being skipped when it would overshoot
// (_whole_word_mask; len counts the sequence's tokens, special ones too, not
// the padding). Each chosen token then becomes [MASK] with probability 0.8,
// else a random id with probability 0.5, else stays as it was.
func (mk *masker) mask(b *model.Batch, flags []maskFlags, rng *rand.Rand) []int {
	labels := make([]int, b.B*b.T)
	for i := range labels {
		labels[i] = model.IgnoreIndex
	}
	for s := 0; s < b.B; s++ {
		f := flags[s]
		row := b.InputIDs[s*b.T : (s+1)*b.T]
		n := len(f.special)
		if mk.wholeWord {
			mk.chooseWords(labels[s*b.T:], row, f, n, rng)
		} else {
			for t := 0; t < n; t++ {
				if !f.special[t] && b.AttentionMask[s*b.T+t] == 1 && rng.Float64() < mk.prob {
					labels[s*b.T+t] = row[t]
				}
			}
		}
	}
	for i, y := range labels {
		if y == model.IgnoreIndex {
			continue
		}
		switch {
		case rng.Float64() < 0.8:
			b.InputIDs[i] = mk.maskID
		case rng.Float64() < 0.5:
			b.InputIDs[i] = rng.IntN(mk.vocab)
		}
	}
	return labels
}

// chooseWords labels the tokens of whole words of one sequence of n
// tokens: DataCollatorForWholeWordMask._whole_word_mask.
func (mk *masker) chooseWords(labels, row []int, f maskFlags, n int, rng *rand.Rand) {
	var words [][]int
	for t := 0; t < n; t++ {
		if f.special[t] {
			continue
		}
		if f.cont[t] && len(words) > 0 && words[len(words)-1][len(words[len(words)-1])-1] == t-1 {
			words[len(words)-1] = append(words[len(words)-1], t)
			continue
		}
		words = append(words, []int{t})
	}
	rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	target := max(1, int(math.RoundToEven(float64(n)*mk.prob)))
	covered := 0
	for _, w := range words {
		if covered >= target {
			break
		}
		if covered+len(w) > target {
			continue
		}
		for _, t := range w {
			labels[t] = row[t]
		}
		covered += len(w)
	}
}
