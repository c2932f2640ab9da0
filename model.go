package textclf

import (
	"context"
	"fmt"

	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tensor"
	"github.com/textclf/textclf/tokenizer"
)

// Input is one input of a classifier: a text, or a pair of texts for
// sentence-pair models.
type Input = tokenizer.Input

// Encoding is an input as a model reads it: token ids and type ids for a
// transformer, the words (Tokens) with their vocabulary ids for a classic
// model. Len is its length in tokens.
type Encoding = tokenizer.Encoding

// Model is a text classification model of any family: a transformer
// (BERT, RoBERTa, XLM-R, DistilBERT) with its tokenizer, or a classic model
// (fastText-style, TextCNN, BiLSTM) with its segmentation. Open returns one
// inside a Classifier, which adds batching, score functions, long texts and
// evaluation on top of these three methods. Implementations are safe for
// concurrent use.
type Model interface {
	// Info describes the model: family, labels, problem type, limits.
	Info() ModelInfo
	// Encode tokenizes one input as the model reads it.
	Encode(in Input, opt EncodeOptions) (Encoding, error)
	// Logits runs the model on encoded inputs and returns the raw outputs
	// of each, in order: logits for a transformer, the scores themselves
	// for a classic model (ModelInfo.Function is then None). The result
	// does not depend on how inputs are grouped into calls.
	Logits(ctx context.Context, batch []Encoding) ([][]float32, error)
}

// EncodeOptions say how Model.Encode tokenizes an input.
type EncodeOptions struct {
	// Truncate cuts an input longer than the model's MaxLength to
	// MaxLength tokens; otherwise the input is returned whole (and may be
	// longer than the model reads).
	Truncate bool
	// TruncateLeft cuts tokens from the start of the input instead of its
	// end.
	TruncateLeft bool
	// Windows, with Truncate, returns the tokens cut off as further windows
	// of MaxLength tokens in Encoding.Overflowing, consecutive windows
	// sharing Stride tokens. A model without a length limit returns one
	// window.
	Windows bool
	Stride  int
	// NoSpecialTokens leaves out the special tokens ([CLS], [SEP], <s>…).
	NoSpecialTokens bool
	// StopAfter, when positive and Truncate is false, lets the
	// tokenization stop once more than StopAfter tokens are certain: an
	// input longer than that comes back cut to StopAfter+1 tokens (enough
	// to tell that it is too long), a shorter one whole.
	StopAfter int
	// Context, when not nil, cancels the tokenization: a transformer's
	// tokenizer stops between regular expression matches once it is done
	// (serve passes the request's). A model whose tokenization is cheap
	// may ignore it.
	Context context.Context
}

// ModelInfo describes a model.
type ModelInfo struct {
	// Kind is the family: the transformer's model_type ("bert", "roberta",
	// "xlm-roberta", "distilbert") or the classic arch ("fasttext",
	// "textcnn", "bilstm").
	Kind string `json:"kind"`
	// Architecture is the transformers class ("BertForSequenceClassification")
	// or the classic arch.
	Architecture string `json:"architecture"`
	// Labels are the label names by label id.
	Labels []string `json:"labels"`
	// ProblemType is single_label_classification, multi_label_classification
	// or regression.
	ProblemType string `json:"problem_type"`
	// MaxLength is the most tokens of an input the model reads (special
	// tokens included); 0 means no limit.
	MaxLength int `json:"max_length"`
	// Function turns the outputs of Logits into scores by default: the
	// text-classification pipeline's choice for a transformer (sigmoid for
	// multi-label and one-label models, else softmax), None for a classic
	// model, whose outputs are already probabilities.
	Function Function `json:"function"`
	// Threshold is the score from which a label of a multi-label model is
	// predicted.
	Threshold float64 `json:"threshold"`
	// Sizes of the network (0 where the family has none).
	HiddenSize   int   `json:"hidden_size"`
	Layers       int   `json:"layers"`
	Heads        int   `json:"heads"`
	VocabSize    int   `json:"vocab_size"`
	MaxPositions int   `json:"max_positions"`
	Parameters   int64 `json:"parameters"`
	// Source is the local file or directory the model was read from.
	Source string `json:"source"`
}

// MultiLabel reports whether the model predicts label sets.
func (i ModelInfo) MultiLabel() bool { return i.ProblemType == MultiLabel }

// The problem types, as transformers names them.
const (
	SingleLabel = model.SingleLabel
	MultiLabel  = model.MultiLabel
	Regression  = model.Regression
)

// Function is what turns a model's outputs into scores.
type Function string

// The functions of transformers' text-classification pipeline.
const (
	Softmax Function = "softmax"
	Sigmoid Function = "sigmoid"
	None    Function = "none"
)

// ParseFunction reads a function name; "" is def.
func ParseFunction(s string, def Function) (Function, error) {
	switch Function(s) {
	case "":
		return def, nil
	case Softmax, Sigmoid, None:
		return Function(s), nil
	}
	return "", fmt.Errorf("function must be softmax, sigmoid or none, got %q", s)
}

// ApplyFunction turns outputs into scores with fn, in a new slice.
func ApplyFunction(outputs []float32, fn Function) []float32 {
	scores := make([]float32, len(outputs))
	switch fn {
	case Softmax:
		tensor.Softmax(scores, outputs, 1, len(outputs))
	case Sigmoid:
		tensor.Sigmoid(scores, outputs)
	default:
		copy(scores, outputs)
	}
	return scores
}
