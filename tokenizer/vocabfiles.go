package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ReadWordPieceVocab reads a BERT vocab.txt: one token per line, its id the
// line number from 0. As HF tokenizers' WordPiece::read_file, lines end at
// "\n" or "\r\n", trailing whitespace is trimmed from each token, an empty
// line is the token "" and a repeated token keeps its last line's id. (Python's
// slow BertTokenizer strips only the newline; the two differ only for tokens
// ending in whitespace, which BERT vocabularies do not have.)
func ReadWordPieceVocab(path string) (map[string]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read wordpiece vocab: %w", err)
	}
	vocab := make(map[string]int)
	for i, line := range splitVocabLines(data) {
		if !utf8.Valid(line) {
			return nil, fmt.Errorf("read wordpiece vocab %s: line %d: invalid UTF-8", path, i+1)
		}
		vocab[strings.TrimRightFunc(string(line), unicode.IsSpace)] = i
	}
	return vocab, nil
}

// splitVocabLines splits data into lines as Rust's BufRead::lines: at "\n", with
// a "\r" before it removed, and no empty line after a final "\n".
func splitVocabLines(data []byte) [][]byte {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
			line = bytes.TrimSuffix(line, []byte("\r"))
		}
		lines = append(lines, line)
	}
	return lines
}

// ReadBPEFiles reads a GPT-2 style vocab.json ({"token": id}) and merges.txt
// (one "a b" merge per line, highest priority first; lines starting with
// "#version" are skipped, as are blank lines).
func ReadBPEFiles(vocabPath, mergesPath string) (map[string]int, [][2]string, error) {
	data, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, nil, fmt.Errorf("read bpe vocab: %w", err)
	}
	var raw map[string]json.Number
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("read bpe vocab %s: %w", vocabPath, err)
	}
	if raw == nil {
		return nil, nil, fmt.Errorf("read bpe vocab %s: not a JSON object of token ids", vocabPath)
	}
	vocab := make(map[string]int, len(raw))
	for tok, n := range raw {
		id, err := n.Int64()
		if err != nil || id < 0 || id > math.MaxInt32 {
			return nil, nil, fmt.Errorf("read bpe vocab %s: token %q has invalid id %s", vocabPath, tok, n)
		}
		vocab[tok] = int(id)
	}
	f, err := os.Open(mergesPath)
	if err != nil {
		return nil, nil, fmt.Errorf("read bpe merges: %w", err)
	}
	defer f.Close()
	var merges [][2]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.HasPrefix(line, "#version") || line == "" {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, nil, fmt.Errorf("read bpe merges %s: line %d: invalid UTF-8", mergesPath, n)
		}
		parts := strings.Split(line, " ")
		if len(parts) != 2 {
			return nil, nil, fmt.Errorf("read bpe merges %s: line %d: %q is not two tokens separated by one space", mergesPath, n, line)
		}
		merges = append(merges, [2]string{parts[0], parts[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read bpe merges %s: %w", mergesPath, err)
	}
	return vocab, merges, nil
}
