package explain

import (
	"math"

	"github.com/textclf/textclf/tokenizer"
)

// Explanation is the attribution of one prediction to the tokens of its
// text: what `textclf explain --format jsonl` writes, Classifier.Explain
// returns and the server's POST /explain answers.
type Explanation struct {
	// Text is the explained text.
	Text string `json:"text"`
	// Label is the explained label (the target): the predicted one unless
	// another was asked for.
	Label string `json:"label"`
	// Probability is the explained output at the text: the softmax
	// probability of Label (its sigmoid for multi-label and one-label
	// models, the raw output for regression, the model's probability for a
	// classic model).
	Probability float32 `json:"probability"`
	// BaselineProbability is the explained output at the baseline (special
	// tokens only, or no words for occlusion).
	BaselineProbability float32 `json:"baseline_probability"`
	// Predicted is the model's best label and Scores every label's score,
	// best first, as predict gives them.
	Predicted string       `json:"predicted"`
	Scores    []LabelScore `json:"scores"`
	// Method is GaussLegendre, RiemannTrapezoid or Occlusion; Steps the
	// number of points of the path integral (0 for occlusion).
	Method string `json:"method"`
	Steps  int    `json:"steps,omitempty"`
	// Tokens are the tokens the model read (special tokens included),
	// Offsets their [start, end) in code points of Text ([0, 0] for
	// special tokens; [-1, -1] for a classic model's word not found in
	// the text as written, e.g. after segmentation rewrote it), Special
	// marks the special tokens.
	Tokens  []string `json:"tokens"`
	Offsets [][2]int `json:"offsets"`
	Special []bool   `json:"special"`
	// Attributions are the raw per-token attributions: for integrated
	// gradients Captum's attribution on the embeddings output summed over
	// the hidden dimension; for occlusion the drop of the explained output
	// when the token is left out.
	Attributions []float32 `json:"attributions"`
	// Normalized are Attributions divided by their L2 norm, as the Captum
	// BERT tutorial and transformers-interpret show them.
	Normalized []float32 `json:"normalized"`
	// Delta is Σ Attributions − (Probability − BaselineProbability): the
	// completeness error of integrated gradients (Captum's convergence
	// delta), and for occlusion how far the model is from additive.
	Delta float32 `json:"delta"`
	// Words are the words of the text with the sum of the attributions of
	// their tokens (word pieces merged).
	Words []Word `json:"words"`
}

// LabelScore is a label with its score.
type LabelScore struct {
	Label string  `json:"label"`
	Score float32 `json:"score"`
}

// Word is one word of an explained text.
type Word struct {
	// Word is the text of the word, Start and End its [start, end) in code
	// points of the text (-1 when not found, see Explanation.Offsets).
	Word  string `json:"word"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	// Score is the sum of the attributions of the word's tokens.
	Score float32 `json:"score"`
	// First and Last are the indexes of the word's first and last token.
	First int `json:"first_token"`
	Last  int `json:"last_token"`
}

// Normalize returns attributions divided by their L2 norm (zeros when all
// are zero).
func Normalize(attributions []float32) []float32 {
	sum := 0.0
	for _, v := range attributions {
		sum += float64(v) * float64(v)
	}
	out := make([]float32, len(attributions))
	if sum == 0 {
		return out
	}
	norm := math.Sqrt(sum)
	for i, v := range attributions {
		out[i] = float32(float64(v) / norm)
	}
	return out
}

// Fill sets the token fields, Normalized, Delta and Words of e from the
// encoding of e.Text that was explained and its attributions.
func (e *Explanation) Fill(enc tokenizer.Encoding, attributions []float32) {
	n := enc.Len()
	e.Tokens = make([]string, n)
	e.Offsets = make([][2]int, n)
	e.Special = make([]bool, n)
	copy(e.Tokens, enc.Tokens)
	copy(e.Offsets, enc.Offsets)
	for i := range e.Special {
		e.Special[i] = i < len(enc.SpecialTokensMask) && enc.SpecialTokensMask[i] == 1
		if e.Special[i] {
			e.Offsets[i] = [2]int{}
		}
	}
	e.Attributions = attributions
	e.Normalized = Normalize(attributions)
	sum := 0.0
	for _, v := range attributions {
		sum += float64(v)
	}
	e.Delta = float32(sum - (float64(e.Probability) - float64(e.BaselineProbability)))
	e.Words = words(e.Text, enc, e.Special, attributions)
}

// words merges the tokens of each word: a run of consecutive tokens that
// are not special and share a word id (each token alone when the encoding
// has no word ids).
func words(text string, enc tokenizer.Encoding, special []bool, attributions []float32) []Word {
	runes := []rune(text)
	var out []Word
	for i := 0; i < enc.Len(); i++ {
		if special[i] {
			continue
		}
		j := i
		if i < len(enc.WordIDs) && enc.WordIDs[i] >= 0 {
			for j+1 < enc.Len() && !special[j+1] && j+1 < len(enc.WordIDs) && enc.WordIDs[j+1] == enc.WordIDs[i] {
				j++
			}
		}
		w := Word{First: i, Last: j, Start: -1, End: -1}
		for k := i; k <= j; k++ {
			w.Score += attributions[k]
		}
		if i < len(enc.Offsets) && j < len(enc.Offsets) {
			w.Start, w.End = enc.Offsets[i][0], enc.Offsets[j][1]
		}
		if w.Start >= 0 && w.Start <= w.End && w.End <= len(runes) {
			w.Word = string(runes[w.Start:w.End])
		} else {
			w.Start, w.End = -1, -1
			w.Word = enc.Tokens[i]
		}
		out = append(out, w)
		i = j
	}
	return out
}
