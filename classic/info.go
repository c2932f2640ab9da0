package classic

import (
	"encoding/binary"
	"os"
)

// Vocabulary is the model's word list: a word's id is its index (fastText:
// most frequent first; TextCNN/BiLSTM: UNK first).
func (c *Classifier) Vocabulary() []string {
	switch {
	case c.ft != nil:
		return c.ft.Words
	case c.nn != nil:
		return c.nn.Words
	}
	return nil
}

// Dim is the size of the word embeddings.
func (c *Classifier) Dim() int {
	switch {
	case c.ft != nil:
		return c.ft.Config.Dim
	case c.nn != nil:
		return c.nn.Config.Dim
	}
	return 0
}

// NumParameters is the number of weights of the model.
func (c *Classifier) NumParameters() int64 {
	var n int
	switch {
	case c.ft != nil:
		n = (c.ft.inRows() + c.ft.outRows()) * c.ft.Config.Dim
	case c.nn != nil:
		for _, p := range c.nn.params() {
			n += len(p.W)
		}
	}
	return int64(n)
}

// IsFastTextBin reports whether path is a model file saved by fastText
// itself (it starts with fastText's magic number).
func IsFastTextBin(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic int32
	return binary.Read(f, binary.LittleEndian, &magic) == nil && magic == fastTextMagic
}
