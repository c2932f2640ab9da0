package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// tokenizerFiles are the tokenizer and preprocessing files a model directory may carry.
var tokenizerFiles = []string{
	"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
	"vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model", "spiece.model",
}

// weightChoices lists the weight files from_pretrained looks for, in order of preference.
var weightChoices = []string{
	"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json",
}

// ModelFiles picks from a repository listing what textclf needs to load a
// model: config.json, the tokenizer files present, and one set of weights —
// safetensors when the repository has them, else pytorch_model.bin.
func ModelFiles(files []string) (want []string, weights string, err error) {
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
	}
	if !have["config.json"] {
		return nil, "", fmt.Errorf("the repository has no config.json")
	}
	want = append(want, "config.json")
	for _, f := range tokenizerFiles {
		if have[f] {
			want = append(want, f)
		}
	}
	for _, f := range weightChoices {
		if have[f] {
			return append(want, f), f, nil
		}
	}
	return nil, "", fmt.Errorf("the repository has no model.safetensors or pytorch_model.bin (nor a sharded index)")
}

// DownloadModel downloads what a model needs (config.json, tokenizer files,
// weights, with the shards a sharded index names) at one commit of a revision,
// and returns the snapshot directory, which checkpoint.LoadWeights can read.
func (c *Client) DownloadModel(ctx context.Context, repoID, revision string) (string, error) {
	commit, files, err := c.ListFiles(ctx, repoID, revision)
	if err != nil {
		return "", err
	}
	want, weights, err := ModelFiles(files)
	if err != nil {
		return "", fmt.Errorf("hub: %s@%s: %w", repoID, revision, err)
	}
	var dir string
	for _, f := range want {
		p, err := c.Download(ctx, repoID, commit, f)
		if err != nil {
			return "", err
		}
		if f == "config.json" {
			dir = filepath.Dir(p)
		}
		if strings.HasSuffix(weights, ".index.json") && f == weights {
			shards, err := shardFiles(p)
			if err != nil {
				return "", fmt.Errorf("hub: %s: %w", repoID, err)
			}
			for _, s := range shards {
				if _, err := c.Download(ctx, repoID, commit, s); err != nil {
					return "", err
				}
			}
		}
	}
	return dir, nil
}

func shardFiles(indexPath string) ([]string, error) {
	b, err := os.ReadFile(indexPath)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(indexPath), err)
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range idx.WeightMap {
		if err := checkFilename(f); err != nil || strings.Contains(f, "/") {
			return nil, fmt.Errorf("%s: bad shard name %q", filepath.Base(indexPath), f)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ResolveModel turns a --model argument into a local directory: an existing
// directory is used as it is; otherwise the argument must be a hub model id
// ("org/name"), which is downloaded (or found in the cache) at revision.
func ResolveModel(ctx context.Context, arg, revision string, o Options) (dir string, fromHub bool, err error) {
	if st, err := os.Stat(arg); err == nil {
		if !st.IsDir() {
			return "", false, fmt.Errorf("%s is a file; --model takes a model directory or a hub id", arg)
		}
		return arg, false, nil
	}
	if !IsRepoID(arg) || strings.HasPrefix(arg, ".") {
		return "", false, fmt.Errorf("%s: no such directory, and not a hub model id", arg)
	}
	dir, err = New(o).DownloadModel(ctx, arg, revision)
	if err != nil {
		return "", false, fmt.Errorf("%s is not a local directory; as a hub model id: %w", arg, err)
	}
	return dir, true, nil
}
