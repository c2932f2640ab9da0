package classic

import (
	"errors"

	"github.com/textclf/textclf/data"
)

// NNConfig holds the TextCNN/BiLSTM hyper-parameters.
type NNConfig struct {
	Dim, MinCount, Filters, Hidden, MaxLen int
	Widths                                 []int
	Pool                                   string
	Dropout                                float64
	Freeze                                 bool
}

// Param is a named parameter with its gradient.
type Param struct {
	Name  string
	Shape []int
	W, G  []float32
}

// NNModel is a TextCNN or BiLSTM classifier.
type NNModel struct {
	Config NNConfig
	Words  []string
}

func (m *NNModel) params() []*Param               { return nil }
func (m *NNModel) Scores(toks []string) []float32 { return nil }
func newNNModel(cfg NNConfig, arch string, words []string, k int, seed uint64) (*NNModel, error) {
	return nil, errors.New("not implemented")
}
func trainNN(cfg TrainConfig, c *Classifier, p *Prepared, lm *data.LabelMap) (*NNModel, error) {
	return nil, errors.New("not implemented")
}

// DefaultNNConfig returns the TextCNN/BiLSTM defaults.
func DefaultNNConfig() NNConfig { return NNConfig{Dim: 100} }
