package textclfbeam

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn2x0[string, func(int, string)](&shardFn{})
	register.Emitter2[int, string]()
	register.Function1x2[int, int, bool](shardID)
	register.DoFn4x1[context.Context, int, func(*string) bool, func(*bool) bool, error](&writeShardFn{})
	register.Iter1[string]()
	register.Iter1[bool]()
}

// ShardName is the name of shard i of n: PREFIX-SSSSS-of-NNNNN plus
// suffix, as Beam's WriteToText names its shards.
func ShardName(prefix, suffix string, i, n int) string {
	return fmt.Sprintf("%s-%05d-of-%05d%s", prefix, i, n, suffix)
}

// WriteShards writes a PCollection<string> as lines into numShards files
// named by ShardName (every shard is written, empty or not), a line going
// to the shard its hash picks. Each file is written under a temporary name
// beside it and renamed when complete, where the filesystem can rename
// (local files can). The lines of a shard are in no particular order.
func WriteShards(s beam.Scope, prefix, suffix string, numShards int, lines beam.PCollection) {
	s = s.Scope("textclf.WriteShards")
	if numShards < 1 {
		panic(fmt.Sprintf("textclfbeam.WriteShards: %d shards; want at least 1", numShards))
	}
	filesystem.ValidateScheme(prefix)
	keyed := beam.ParDo(s, &shardFn{N: numShards}, lines)
	ids := make([]int, numShards)
	for i := range ids {
		ids[i] = i
	}
	// Every shard id meets the lines of its shard, so that shards with no
	// line are written too.
	all := beam.ParDo(s, shardID, beam.CreateList(s, ids))
	grouped := beam.CoGroupByKey(s, keyed, all)
	beam.ParDo0(s, &writeShardFn{Prefix: prefix, Suffix: suffix, N: numShards}, grouped)
}

// shardID keys a shard id by itself.
func shardID(i int) (int, bool) { return i, true }

// shardFn keys a line by its shard.
type shardFn struct {
	N int `json:"n"`
}

// ProcessElement keys line by the FNV-1a hash of its bytes, modulo N.
func (f *shardFn) ProcessElement(line string, emit func(int, string)) {
	h := fnv.New32a()
	h.Write([]byte(line))
	emit(int(h.Sum32()%uint32(f.N)), line)
}

// writeShardFn writes the lines of one shard.
type writeShardFn struct {
	Prefix string `json:"prefix"`
	Suffix string `json:"suffix"`
	N      int    `json:"n"`
}

// ProcessElement writes shard i to a temporary file and renames it.
func (f *writeShardFn) ProcessElement(ctx context.Context, i int, lines func(*string) bool, _ func(*bool) bool) error {
	name := ShardName(f.Prefix, f.Suffix, i, f.N)
	fsys, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fsys.Close()
	renamer, canRename := fsys.(filesystem.Renamer)
	target := name
	if canRename {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		target = name + ".tmp-" + hex.EncodeToString(rnd[:])
	}
	w, err := fsys.OpenWrite(ctx, target)
	if err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	buf := bufio.NewWriterSize(w, 1<<20)
	var line string
	for lines(&line) {
		buf.WriteString(line)
		if err := buf.WriteByte('\n'); err != nil {
			w.Close()
			return fmt.Errorf("write %s: %w", target, err)
		}
	}
	if err := buf.Flush(); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	if canRename {
		if err := renamer.Rename(ctx, target, name); err != nil {
			return fmt.Errorf("rename %s to %s: %w", target, name, err)
		}
	}
	return nil
}
