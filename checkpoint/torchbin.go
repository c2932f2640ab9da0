package checkpoint

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"path"
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
	ts, _, err := openTorchFile(filename, false)
	return ts, err
}

// openTorchFile maps filename and decodes it. With zeroCopy, contiguous F32
// tensors alias the mapping and the caller must call unmap when done with them;
// otherwise the mapping is released before returning and unmap is nil.
func openTorchFile(filename string, zeroCopy bool) (ts []*Tensor, unmap func() error, err error) {
	data, release, err := safetensors.MapFile(filename)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil || !zeroCopy {
			release()
			unmap = nil
		}
	}()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a torch zip checkpoint (the legacy pre-1.6 format is not supported): %w", filename, err)
	}
	ts, err = readTorchZip(zr, data, zeroCopy)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filename, err)
	}
	return ts, release, nil
}

// readTorchZip decodes the state dict in an opened torch zip archive whose
// bytes are archive. Uncompressed storages (torch writes them so) are sliced
// from archive; with zeroCopy, contiguous F32 tensors alias it.
func readTorchZip(zr *zip.Reader, archive []byte, zeroCopy bool) ([]*Tensor, error) {
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
	storages := map[string][]byte{}
	views := map[string]*Tensor{}
	// Materialised elements may exceed the storages' (broadcast views, several
	// views of one storage) only within a budget, so a lying pickle cannot force
	// a huge allocation.
	budget := int64(maxBroadcast)
	out := make([]*Tensor, 0, len(sd.keys))
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
		esize := safetensors.DType(s.dtype).Size()
		data, ok := storages[s.key]
		if !ok {
			f := files[prefix+"data/"+s.key]
			if f == nil {
				return nil, fmt.Errorf("tensor %q: storage %s missing from the zip", name, s.key)
			}
			need := uint64(s.numel) * uint64(esize)
			if f.UncompressedSize64 < need {
				return nil, fmt.Errorf("tensor %q: storage %s has %d bytes, needs %d", name, s.key, f.UncompressedSize64, need)
			}
			data, err = storageBytes(f, archive, need)
			if err != nil {
				return nil, fmt.Errorf("tensor %q: %w", name, err)
			}
			storages[s.key] = data
			budget += 2 * s.numel
		}
		key := viewKey(tt)
		if shared, ok := views[key]; ok {
			// A tied weight (same storage, same view) shares its values, as in torch.
			out = append(out, &Tensor{Name: name, DType: shared.DType, Shape: shared.Shape, Data: shared.Data})
			continue
		}
		n := int64(1)
		for _, d := range tt.shape {
			n *= int64(d)
		}
		budget -= n
		if budget < 0 {
			return nil, fmt.Errorf("tensor %q: the views of the state dict need far more memory than its storages hold", name)
		}
		if uint64(len(data)) < uint64(s.numel)*uint64(esize) {
			return nil, fmt.Errorf("tensor %q: storage %s is referenced with different sizes", name, s.key)
		}
		t, err := tt.materialize(name, data, esize, zeroCopy)
		if err != nil {
			return nil, err
		}
		views[key] = t
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// storageBytes returns the first n bytes of a storage entry: a slice of the
// archive for stored (uncompressed) entries, else a decompressed copy.
func storageBytes(f *zip.File, archive []byte, n uint64) ([]byte, error) {
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
// larger than the archive can hold.
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
