package checkpoint

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	"github.com/textclf/textclf/safetensors"
)

// ReadTorchFile reads a pytorch_model.bin in torch's zip format (torch.save
// since PyTorch 1.6) holding a state dict, and returns its tensors converted to
// float32. The pickle is decoded by a restricted unpickler that accepts only
// the globals a state dict uses, so loading never runs code. The legacy
// (pre-1.6, non-zip) format is rejected with an error. Tensors that are
// the same view of one storage (tied weights) share their Data, as in torch.
func ReadTorchFile(filename string) ([]*Tensor, error) {
	tf, err := openTorchFile(filename)
	if err != nil {
		return nil, err
	}
	defer tf.release()
	return tf.read(nil, false)
}

// maxPickleBytes bounds data.pkl: the pickle of a state dict takes some
// hundred bytes a tensor (BERT-large's is 60 kB), and decoding it takes a
// small multiple of its size.
const maxPickleBytes = 16 << 20

// torchFile is a pytorch_model.bin whose zip directory and state dict are
// decoded and checked, and whose storages are not read yet.
type torchFile struct {
	name    string
	archive []byte // the file's bytes (a mapping)
	release func() error
	state   *torchState
}

// openTorchFile maps filename and decodes its zip directory and pickle;
// release unmaps it.
func openTorchFile(filename string) (tf *torchFile, err error) {
	data, release, err := safetensors.MapFile(filename)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a torch zip checkpoint (the legacy pre-1.6 format is not supported): %w", filename, err)
	}
	st, err := parseTorchZip(zr, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	return &torchFile{name: filename, archive: data, release: release, state: st}, nil
}

// infos lists the tensors of the state dict, in its order.
func (tf *torchFile) infos() []TensorInfo {
	out := make([]TensorInfo, len(tf.state.entries))
	for i, e := range tf.state.entries {
		out[i] = TensorInfo{Name: e.name, DType: e.tt.storage.dtype, Shape: append([]int(nil), e.tt.shape...),
			File: filepath.Base(tf.name), SharedWith: e.sharedWith}
	}
	return out
}

// read materialises the tensors keep accepts (all when keep is nil); with
// zeroCopy, contiguous F32 tensors of stored entries alias the mapping,
// which must then outlive them.
func (tf *torchFile) read(keep func(name string) bool, zeroCopy bool) ([]*Tensor, error) {
	ts, err := tf.state.read(keep, zeroCopy)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tf.name, err)
	}
	return ts, nil
}

// torchState is the decoded state dict of a torch zip archive: its tensors
// (strided views of storages) in order, and the zip entries of the storages.
type torchState struct {
	archive  []byte
	entries  []torchEntry
	storages map[string]*zip.File
}

type torchEntry struct {
	name string
	tt   *torchTensor
	// sharedWith is the first entry with the same view of the same storage
	// (a tied weight), "" for that first one.
	sharedWith string
}

// readTorchZip decodes and reads every tensor of the state dict in an opened
// torch zip archive whose bytes are archive.
func readTorchZip(zr *zip.Reader, archive []byte, zeroCopy bool) ([]*Tensor, error) {
	st, err := parseTorchZip(zr, archive)
	if err != nil {
		return nil, err
	}
	return st.read(nil, zeroCopy)
}

// parseTorchZip decodes the pickle of the state dict and checks every
// storage it references against the zip directory — present, of one size,
// its entry large enough and its declared sizes possible — without reading
// or inflating any storage.
func parseTorchZip(zr *zip.Reader, archive []byte) (*torchState, error) {
	files := map[string]*zip.File{}
	var pkl *zip.File
	prefix := ""
	for _, f := range zr.File {
		files[f.Name] = f
		if path.Base(f.Name) == "data.pkl" && strings.Count(f.Name, "/") == 1 {
			if pkl != nil {
				return nil, fmt.Errorf("more than one data.pkl (%s, %s)", pkl.Name, f.Name)
			}
			pkl = f
			prefix = path.Dir(f.Name) + "/"
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("no <archive>/data.pkl in the zip: not a torch checkpoint")
	}
	if pkl.UncompressedSize64 > maxPickleBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a state dict's pickle can need", pkl.Name, pkl.UncompressedSize64, maxPickleBytes)
	}
	raw, err := readZipEntry(pkl, pkl.UncompressedSize64)
	if err != nil {
		return nil, err
	}
	obj, err := unpickle(raw)
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	sd, ok := obj.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("data.pkl holds a %T, not a state dict", obj)
	}
	st := &torchState{archive: archive, storages: map[string]*zip.File{}}
	numels := map[string]int64{}
	firstView := map[string]string{}
	for _, k := range sd.keys {
		name, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("state dict key %v is not a string", k)
		}
		tt, ok := sd.vals[k].(*torchTensor)
		if !ok {
			return nil, fmt.Errorf("state dict entry %q is a %T, not a tensor", name, sd.vals[k])
		}
		s := tt.storage
		if n, seen := numels[s.key]; seen {
			if n != s.numel {
				return nil, fmt.Errorf("tensor %q: storage %s is referenced with different sizes (%d and %d elements)", name, s.key, n, s.numel)
			}
		} else {
			f := files[prefix+"data/"+s.key]
			if f == nil {
				return nil, fmt.Errorf("tensor %q: storage %s missing from the zip", name, s.key)
			}
			need := uint64(s.numel) * uint64(safetensors.DType(s.dtype).Size())
			if err := checkStorageEntry(f, archive, need); err != nil {
				return nil, fmt.Errorf("tensor %q: storage %s: %w", name, s.key, err)
			}
			numels[s.key] = s.numel
			st.storages[s.key] = f
		}
		e := torchEntry{name: name, tt: tt}
		key := viewKey(tt)
		if first, ok := firstView[key]; ok {
			e.sharedWith = first
		} else {
			firstView[key] = name
		}
		st.entries = append(st.entries, e)
	}
	return st, nil
}

// checkStorageEntry checks, from the zip directory alone, that a storage
// entry holds need bytes: a stored entry within the file, a compressed one
// (torch writes none, a re-zipped file has them) declaring at least need
// bytes, no more than deflate can expand its compressed size to.
func checkStorageEntry(f *zip.File, archive []byte, need uint64) error {
	if f.UncompressedSize64 < need {
		return fmt.Errorf("entry has %d bytes, the storage needs %d", f.UncompressedSize64, need)
	}
	switch f.Method {
	case zip.Store:
		if f.UncompressedSize64 != f.CompressedSize64 {
			return fmt.Errorf("%s: inconsistent sizes in the zip directory", f.Name)
		}
		off, err := f.DataOffset()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if off < 0 || uint64(off)+need > uint64(len(archive)) {
			return fmt.Errorf("%s: entry extends past the end of the file", f.Name)
		}
	case zip.Deflate:
		if need > 1032*f.CompressedSize64 {
			// Deflate cannot expand more than ~1032:1: the declared size is a lie.
			return fmt.Errorf("%s: entry claims %d bytes from %d compressed", f.Name, need, f.CompressedSize64)
		}
	default:
		return fmt.Errorf("%s: zip compression method %d is not supported", f.Name, f.Method)
	}
	return nil
}

// read materialises the tensors keep accepts (all when keep is nil). Of
// each storage it reads only the bytes the accepted views touch: a slice of
// the archive for a stored entry, a prefix inflated to exactly that length
// for a compressed one.
func (st *torchState) read(keep func(name string) bool, zeroCopy bool) ([]*Tensor, error) {
	// The bytes of each storage that the accepted views reach.
	span := map[string]uint64{}
	var kept []torchEntry
	for _, e := range st.entries {
		if keep != nil && !keep(e.name) {
			continue
		}
		kept = append(kept, e)
		if end := e.tt.end(); end > span[e.tt.storage.key] {
			span[e.tt.storage.key] = end
		}
	}
	storages := map[string][]byte{}
	views := map[string]*Tensor{}
	// Materialised elements may exceed the storages' (broadcast views, several
	// views of one storage) only within a budget, so a lying pickle cannot force
	// a huge allocation.
	budget := int64(maxBroadcast)
	out := make([]*Tensor, 0, len(kept))
	for _, e := range kept {
		tt, s := e.tt, e.tt.storage
		esize := safetensors.DType(s.dtype).Size()
		data, ok := storages[s.key]
		if !ok {
			var err error
			if data, err = storageBytes(st.storages[s.key], st.archive, span[s.key]*uint64(esize)); err != nil {
				return nil, fmt.Errorf("tensor %q: %w", e.name, err)
			}
			storages[s.key] = data
			budget += 2 * int64(len(data)/esize)
		}
		key := viewKey(tt)
		if shared, ok := views[key]; ok {
			// A tied weight (same storage, same view) shares its values, as in torch.
			out = append(out, &Tensor{Name: e.name, DType: shared.DType, Shape: shared.Shape, Data: shared.Data})
			continue
		}
		n := int64(1)
		for _, d := range tt.shape {
			n *= int64(d)
		}
		budget -= n
		if budget < 0 {
			return nil, fmt.Errorf("tensor %q: the views of the state dict need far more memory than its storages hold", e.name)
		}
		t, err := tt.materialize(e.name, data, esize, zeroCopy)
		if err != nil {
			return nil, err
		}
		views[key] = t
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// end is the number of elements of its storage a view reaches: one past
// its last element (0 for an empty view).
func (tt *torchTensor) end() uint64 {
	last := tt.offset
	for i, d := range tt.shape {
		if d == 0 {
			return 0
		}
		last += int64(d-1) * tt.stride[i]
	}
	return uint64(last) + 1
}

// storageBytes returns the first n bytes of a storage entry (checked by
// checkStorageEntry): a slice of the archive for a stored entry, else
// exactly n bytes inflated from its start.
func storageBytes(f *zip.File, archive []byte, n uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if f.Method != zip.Store {
		return readZipEntry(f, n)
	}
	off, err := f.DataOffset()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if off < 0 || n > f.CompressedSize64 || uint64(off)+n > uint64(len(archive)) {
		return nil, fmt.Errorf("%s: entry extends past the end of the file", f.Name)
	}
	return archive[off : uint64(off)+n : uint64(off)+n], nil
}

// readZipEntry reads the first n bytes of f, refusing entries that claim to be
// larger than the archive can hold. It inflates no more than n bytes.
func readZipEntry(f *zip.File, n uint64) ([]byte, error) {
	if f.Method == zip.Store && f.UncompressedSize64 != f.CompressedSize64 {
		return nil, fmt.Errorf("%s: inconsistent sizes in the zip directory", f.Name)
	}
	if f.Method == zip.Store && n > f.CompressedSize64 {
		return nil, fmt.Errorf("%s: entry too short", f.Name)
	}
	if f.Method != zip.Store && n > 1032*f.CompressedSize64 {
		// Deflate cannot expand more than ~1032:1: the declared size is a lie.
		return nil, fmt.Errorf("%s: entry claims %d bytes from %d compressed", f.Name, n, f.CompressedSize64)
	}
	if n > 1<<40 {
		return nil, fmt.Errorf("%s: entry too large", f.Name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	// Grow as data actually arrives rather than trusting the declared size.
	buf, err := io.ReadAll(io.LimitReader(rc, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if uint64(len(buf)) != n {
		return nil, fmt.Errorf("%s: %d bytes, expected %d", f.Name, len(buf), n)
	}
	return buf, nil
}

// materialize builds the float32 tensor of a strided view of its storage.
// Contiguous F32 views alias the storage when zeroCopy is set.
func (tt *torchTensor) materialize(name string, storage []byte, esize int, zeroCopy bool) (*Tensor, error) {
	dt := safetensors.DType(tt.storage.dtype)
	numel := 1
	for _, d := range tt.shape {
		numel *= d
	}
	t := &Tensor{Name: name, DType: string(dt), Shape: append([]int(nil), tt.shape...)}
	if numel == 0 {
		t.Data = []float32{}
		return t, nil
	}
	// Convert the span of the storage the view touches (bounds checked by rebuildTensor).
	last := tt.offset
	contiguous := true
	expect := int64(1)
	for i := len(tt.shape) - 1; i >= 0; i-- {
		last += int64(tt.shape[i]-1) * tt.stride[i]
		if tt.shape[i] != 1 && tt.stride[i] != expect {
			contiguous = false
		}
		expect *= int64(tt.shape[i])
	}
	span := safetensors.Tensor{Name: name, DType: dt, Shape: []int{int(last - tt.offset + 1)},
		Data: storage[int(tt.offset)*esize : int(last+1)*esize]}
	vals, err := span.Float32()
	if err != nil {
		return nil, err
	}
	aliased := len(vals) > 0 && len(span.Data) > 0 && unsafe.Pointer(&vals[0]) == unsafe.Pointer(&span.Data[0])
	if contiguous {
		if aliased && !zeroCopy {
			t.Data = append([]float32(nil), vals[:numel]...)
		} else {
			t.Data = vals[:numel:numel]
		}
		return t, nil
	}
	t.Data = make([]float32, numel)
	idx := make([]int, len(tt.shape))
	for i := 0; i < numel; i++ {
		var off int64
		for d, k := range idx {
			off += int64(k) * tt.stride[d]
		}
		t.Data[i] = vals[off]
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < tt.shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return t, nil
}

func viewKey(tt *torchTensor) string {
	return fmt.Sprintf("%s/%s/%d/%v/%v", tt.storage.key, tt.storage.dtype, tt.offset, tt.shape, tt.stride)
}
