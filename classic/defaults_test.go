package classic

import "testing"

func TestDefaultTrainConfig(t *testing.T) {
	ft, err := DefaultTrainConfig(ArchFastText)
	if err != nil {
		t.Fatal(err)
	}
	if ft.Train.LR != 0.1 || ft.Train.Epochs != 5 || ft.FastText.Dim != 100 || ft.FastText.Loss != LossSoftmax || ft.Threshold != 0.5 || ft.Train.Threads < 1 {
		t.Errorf("fasttext defaults %+v", ft)
	}
	for _, arch := range []string{ArchTextCNN, ArchBiLSTM} {
		c, err := DefaultTrainConfig(arch)
		if err != nil {
			t.Fatal(err)
		}
		if c.Train.LR != 1e-3 || c.Train.Epochs != 10 || c.BatchSize != 32 || c.NN.Dropout != 0.5 || c.NN.MaxLen != 256 || c.Arch != arch {
			t.Errorf("%s defaults %+v", arch, c)
		}
	}
	if _, err := DefaultTrainConfig("svm"); err == nil {
		t.Error("unknown arch accepted")
	}
}
