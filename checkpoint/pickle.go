package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
)

// This file is a restricted unpickler for the data.pkl of torch's zip format.
// It implements the pickle opcodes torch.save emits (protocols 2 to 5) and
// resolves only the globals that a state dict needs. It never runs code: any
// other global, and any opcode it does not know, is an error.

// pyTuple is a Python tuple; lists are []any.
type pyTuple []any

// pyGlobal is a resolved, allowed global (for example "torch._utils._rebuild_tensor_v2").
type pyGlobal string

// pyDict is a Python dict (an OrderedDict in state dicts); keys keep insertion order.
type pyDict struct {
	keys []any
	vals map[any]any
}

func newDict() *pyDict { return &pyDict{vals: map[any]any{}} }

func (d *pyDict) set(k, v any) error {
	switch k.(type) {
	case string, int64, bool, nil, float64:
	default:
		return fmt.Errorf("unsupported dict key of type %T", k)
	}
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
	return nil
}

// storageRef is a persistent id ('storage', type, key, location, numel).
type storageRef struct {
	dtype string // safetensors spelling: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL
	key   string
	numel int64
}

// torchTensor is a tensor rebuilt by _rebuild_tensor_v2: a strided view of a storage.
type torchTensor struct {
	storage storageRef
	offset  int64
	shape   []int
	stride  []int64
}

var storageDTypes = map[string]string{
	"torch.FloatStorage":    "F32",
	"torch.HalfStorage":     "F16",
	"torch.BFloat16Storage": "BF16",
	"torch.DoubleStorage":   "F64",
	"torch.LongStorage":     "I64",
	"torch.IntStorage":      "I32",
	"torch.ShortStorage":    "I16",
	"torch.CharStorage":     "I8",
	"torch.ByteStorage":     "U8",
	"torch.BoolStorage":     "BOOL",
}

var allowedGlobals = map[string]bool{
	"collections.OrderedDict":         true,
	"torch._utils._rebuild_tensor_v2": true,
	"torch._utils._rebuild_parameter": true,
}

const (
	maxPickleStack = 1 << 20
	maxBroadcast   = 1 << 22 // elements views may materialise beyond twice their storages
)

type unpickler struct {
	data  []byte
	pos   int
	stack []any
	marks []int
	memo  map[uint32]any
}

var errMark = errors.New("mark")

// unpickle decodes a restricted pickle and returns the top-level object.
func unpickle(data []byte) (any, error) {
	u := &unpickler{data: data, memo: map[uint32]any{}}
	v, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("unpickle at byte %d: %w", u.pos, err)
	}
	return v, nil
}

func (u *unpickler) read(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, fmt.Errorf("truncated: need %d bytes, have %d", n, len(u.data)-u.pos)
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) readLine() (string, error) {
	for i := u.pos; i < len(u.data); i++ {
		if u.data[i] == '\n' {
			s := string(u.data[u.pos:i])
			u.pos = i + 1
			return s, nil
		}
	}
	return "", errors.New("truncated: unterminated line")
}

func (u *unpickler) push(v any) error {
	if len(u.stack) >= maxPickleStack {
		return errors.New("stack too deep")
	}
	u.stack = append(u.stack, v)
	return nil
}

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return nil, errors.New("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return nil, errors.New("stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops everything above the last mark.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("no mark on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) memoize(idx uint32) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	if len(u.memo) >= maxPickleStack {
		return errors.New("memo too large")
	}
	u.memo[idx] = v
	return nil
}

func (u *unpickler) get(idx uint32) error {
	v, ok := u.memo[idx]
	if !ok {
		return fmt.Errorf("memo key %d not found", idx)
	}
	return u.push(v)
}

func (u *unpickler) run() (any, error) {
	le := binary.LittleEndian
	for {
		ops, err := u.read(1)
		if err != nil {
			return nil, err
		}
		op := ops[0]
		switch op {
		case 0x80: // PROTO
			if _, err := u.read(1); err != nil {
				return nil, err
			}
		case 0x95: // FRAME
			if _, err := u.read(8); err != nil {
				return nil, err
			}
		case '.': // STOP
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		case '(': // MARK
			if len(u.marks) >= maxPickleStack {
				return nil, errors.New("too many marks")
			}
			u.marks = append(u.marks, len(u.stack))
		case '0': // POP
			if _, err := u.pop(); err != nil {
				return nil, err
			}
		case '1': // POP_MARK
			if _, err := u.popMark(); err != nil {
				return nil, err
			}
		case '2': // DUP
			v, err := u.top()
			if err != nil {
				return nil, err
			}
			err = u.push(v)
			if err != nil {
				return nil, err
			}
		case 'N':
			err = u.push(nil)
		case 0x88:
			err = u.push(true)
		case 0x89:
			err = u.push(false)
		case 'J': // BININT
			b, err := u.read(4)
			if err != nil {
				return nil, err
			}
			if err := u.push(int64(int32(le.Uint32(b)))); err != nil {
				return nil, err
			}
		case 'K': // BININT1
			b, err := u.read(1)
			if err != nil {
				return nil, err
			}
			if err := u.push(int64(b[0])); err != nil {
				return nil, err
			}
		case 'M': // BININT2
			b, err := u.read(2)
			if err != nil {
				return nil, err
			}
			if err := u.push(int64(le.Uint16(b))); err != nil {
				return nil, err
			}
		case 0x8a: // LONG1
			nb, err := u.read(1)
			if err != nil {
				return nil, err
			}
			b, err := u.read(int(nb[0]))
			if err != nil {
				return nil, err
			}
			v, err := decodeLong(b)
			if err != nil {
				return nil, err
			}
			if err := u.push(v); err != nil {
				return nil, err
			}
		case 'G': // BINFLOAT (big-endian)
			b, err := u.read(8)
			if err != nil {
				return nil, err
			}
			if err := u.push(math.Float64frombits(binary.BigEndian.Uint64(b))); err != nil {
				return nil, err
			}
		case 'X', 0x8c, 0x8d, 'T', 'U', 'B', 'C', 0x8e: // strings and bytes
			var n uint64
			switch op {
			case 'X', 'T', 'B':
				b, err := u.read(4)
				if err != nil {
					return nil, err
				}
				n = uint64(le.Uint32(b))
			case 0x8c, 'U', 'C':
				b, err := u.read(1)
				if err != nil {
					return nil, err
				}
				n = uint64(b[0])
			default:
				b, err := u.read(8)
				if err != nil {
					return nil, err
				}
				n = le.Uint64(b)
			}
			if n > uint64(len(u.data)-u.pos) {
				return nil, fmt.Errorf("truncated: string of %d bytes", n)
			}
			b, _ := u.read(int(n))
			if err := u.push(string(b)); err != nil {
				return nil, err
			}
		case ')':
			err = u.push(pyTuple{})
		case ']':
			err = u.push([]any{})
		case '}':
			err = u.push(newDict())
		case 't': // TUPLE
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if err := u.push(pyTuple(items)); err != nil {
				return nil, err
			}
		case 0x85, 0x86, 0x87: // TUPLE1..3
			n := int(op - 0x84)
			if len(u.stack) < n || (len(u.marks) > 0 && len(u.stack)-n < u.marks[len(u.marks)-1]) {
				return nil, errors.New("stack underflow")
			}
			t := append(pyTuple(nil), u.stack[len(u.stack)-n:]...)
			u.stack = u.stack[:len(u.stack)-n]
			err = u.push(t)
		case 'l': // LIST
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if err := u.push(items); err != nil {
				return nil, err
			}
		case 'd': // DICT
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			d := newDict()
			if err := setItems(d, items); err != nil {
				return nil, err
			}
			if err := u.push(d); err != nil {
				return nil, err
			}
		case 'a': // APPEND
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			if err := u.appendTo([]any{v}); err != nil {
				return nil, err
			}
		case 'e': // APPENDS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if err := u.appendTo(items); err != nil {
				return nil, err
			}
		case 's': // SETITEM
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			k, err := u.pop()
			if err != nil {
				return nil, err
			}
			d, err := u.topDict()
			if err != nil {
				return nil, err
			}
			if err := d.set(k, v); err != nil {
				return nil, err
			}
		case 'u': // SETITEMS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			d, err := u.topDict()
			if err != nil {
				return nil, err
			}
			if err := setItems(d, items); err != nil {
				return nil, err
			}
		case 'q': // BINPUT
			b, err := u.read(1)
			if err != nil {
				return nil, err
			}
			if err := u.memoize(uint32(b[0])); err != nil {
				return nil, err
			}
		case 'r': // LONG_BINPUT
			b, err := u.read(4)
			if err != nil {
				return nil, err
			}
			if err := u.memoize(le.Uint32(b)); err != nil {
				return nil, err
			}
		case 0x94: // MEMOIZE
			if err := u.memoize(uint32(len(u.memo))); err != nil {
				return nil, err
			}
		case 'h': // BINGET
			b, err := u.read(1)
			if err != nil {
				return nil, err
			}
			if err := u.get(uint32(b[0])); err != nil {
				return nil, err
			}
		case 'j': // LONG_BINGET
			b, err := u.read(4)
			if err != nil {
				return nil, err
			}
			if err := u.get(le.Uint32(b)); err != nil {
				return nil, err
			}
		case 'c': // GLOBAL "module\nname\n"
			mod, err := u.readLine()
			if err != nil {
				return nil, err
			}
			name, err := u.readLine()
			if err != nil {
				return nil, err
			}
			g, err := resolveGlobal(mod, name)
			if err != nil {
				return nil, err
			}
			if err := u.push(g); err != nil {
				return nil, err
			}
		case 0x93: // STACK_GLOBAL
			nameV, err := u.pop()
			if err != nil {
				return nil, err
			}
			modV, err := u.pop()
			if err != nil {
				return nil, err
			}
			mod, ok1 := modV.(string)
			name, ok2 := nameV.(string)
			if !ok1 || !ok2 {
				return nil, errors.New("STACK_GLOBAL needs two strings")
			}
			g, err := resolveGlobal(mod, name)
			if err != nil {
				return nil, err
			}
			if err := u.push(g); err != nil {
				return nil, err
			}
		case 'Q': // BINPERSID
			pid, err := u.pop()
			if err != nil {
				return nil, err
			}
			s, err := persistentLoad(pid)
			if err != nil {
				return nil, err
			}
			if err := u.push(s); err != nil {
				return nil, err
			}
		case 'R': // REDUCE
			args, err := u.pop()
			if err != nil {
				return nil, err
			}
			fn, err := u.pop()
			if err != nil {
				return nil, err
			}
			v, err := reduce(fn, args)
			if err != nil {
				return nil, err
			}
			if err := u.push(v); err != nil {
				return nil, err
			}
		case 'b': // BUILD: only a dict's attribute state (OrderedDict._metadata) is accepted, and ignored.
			state, err := u.pop()
			if err != nil {
				return nil, err
			}
			obj, err := u.top()
			if err != nil {
				return nil, err
			}
			if _, ok := obj.(*pyDict); !ok {
				return nil, fmt.Errorf("BUILD on %T is not allowed", obj)
			}
			if _, ok := state.(*pyDict); !ok && state != nil {
				return nil, fmt.Errorf("BUILD with state of type %T is not allowed", state)
			}
		default:
			return nil, fmt.Errorf("opcode 0x%02x is not allowed", op)
		}
		if err != nil {
			return nil, err
		}
	}
}

func (u *unpickler) topDict() (*pyDict, error) {
	v, err := u.top()
	if err != nil {
		return nil, err
	}
	d, ok := v.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("SETITEM on %T", v)
	}
	return d, nil
}

func (u *unpickler) appendTo(items []any) error {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return errors.New("stack underflow")
	}
	l, ok := u.stack[len(u.stack)-1].([]any)
	if !ok {
		return fmt.Errorf("APPEND on %T", u.stack[len(u.stack)-1])
	}
	u.stack[len(u.stack)-1] = append(l, items...)
	return nil
}

func setItems(d *pyDict, items []any) error {
	if len(items)%2 != 0 {
		return errors.New("odd number of items for a dict")
	}
	for i := 0; i < len(items); i += 2 {
		if err := d.set(items[i], items[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func decodeLong(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) > 8 {
		// Two's complement little-endian of arbitrary length: accept only values that fit.
		x := new(big.Int)
		be := make([]byte, len(b))
		for i := range b {
			be[len(b)-1-i] = b[i]
		}
		x.SetBytes(be)
		if b[len(b)-1]&0x80 != 0 {
			x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		if !x.IsInt64() {
			return 0, errors.New("integer too large")
		}
		return x.Int64(), nil
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if b[len(b)-1]&0x80 != 0 && len(b) < 8 {
		v |= ^uint64(0) << (8 * len(b))
	}
	return int64(v), nil
}

func resolveGlobal(mod, name string) (pyGlobal, error) {
	full := mod + "." + name
	if allowedGlobals[full] {
		return pyGlobal(full), nil
	}
	if _, ok := storageDTypes[full]; ok {
		return pyGlobal(full), nil
	}
	return "", fmt.Errorf("global %s is not allowed in a state dict (loading never runs code)", full)
}

func persistentLoad(pid any) (any, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) != 5 || t[0] != "storage" {
		return nil, fmt.Errorf("unsupported persistent id %v", pid)
	}
	g, ok := t[1].(pyGlobal)
	dtype := storageDTypes[string(g)]
	if !ok || dtype == "" {
		return nil, fmt.Errorf("unsupported storage type %v", t[1])
	}
	key, ok := t[2].(string)
	if !ok {
		return nil, fmt.Errorf("storage key %v is not a string", t[2])
	}
	numel, ok := t[4].(int64)
	if !ok || numel < 0 {
		return nil, fmt.Errorf("storage size %v is not a non-negative integer", t[4])
	}
	return storageRef{dtype: dtype, key: key, numel: numel}, nil
}

func reduce(fn, args any) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, fmt.Errorf("REDUCE on %T", fn)
	}
	a, ok := args.(pyTuple)
	if !ok {
		return nil, fmt.Errorf("REDUCE arguments of type %T", args)
	}
	switch g {
	case "collections.OrderedDict":
		if len(a) != 0 {
			return nil, errors.New("OrderedDict with arguments is not supported")
		}
		return newDict(), nil
	case "torch._utils._rebuild_parameter":
		if len(a) < 1 {
			return nil, errors.New("_rebuild_parameter needs arguments")
		}
		t, ok := a[0].(*torchTensor)
		if !ok {
			return nil, fmt.Errorf("_rebuild_parameter of %T", a[0])
		}
		return t, nil
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor(a)
	}
	return nil, fmt.Errorf("calling %s is not allowed", g)
}

// rebuildTensor checks the arguments of _rebuild_tensor_v2(storage,
// storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
func rebuildTensor(a pyTuple) (*torchTensor, error) {
	if len(a) < 4 {
		return nil, errors.New("_rebuild_tensor_v2 needs at least 4 arguments")
	}
	s, ok := a[0].(storageRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: storage is %T", a[0])
	}
	off, ok := a[1].(int64)
	if !ok || off < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: bad storage offset %v", a[1])
	}
	size, ok1 := a[2].(pyTuple)
	stride, ok2 := a[3].(pyTuple)
	if !ok1 || !ok2 || len(size) != len(stride) {
		return nil, errors.New("_rebuild_tensor_v2: size and stride must be tuples of equal length")
	}
	t := &torchTensor{storage: s, offset: off, shape: make([]int, len(size)), stride: make([]int64, len(size))}
	numel := int64(1)
	maxIndex := off
	for i := range size {
		d, ok1 := size[i].(int64)
		st, ok2 := stride[i].(int64)
		if !ok1 || !ok2 || d < 0 || st < 0 || d > math.MaxInt32 || st > math.MaxInt64/(d+1) {
			return nil, fmt.Errorf("_rebuild_tensor_v2: bad size %v / stride %v", size, stride)
		}
		t.shape[i], t.stride[i] = int(d), st
		if d == 0 {
			numel = 0
		} else if numel != 0 {
			if numel > math.MaxInt64/d {
				return nil, fmt.Errorf("_rebuild_tensor_v2: size %v too large", size)
			}
			numel *= d
		}
		if d > 0 {
			if (d-1)*st > math.MaxInt64-maxIndex {
				return nil, fmt.Errorf("_rebuild_tensor_v2: stride %v too large", stride)
			}
			maxIndex += (d - 1) * st
		}
	}
	if numel > 0 && maxIndex >= s.numel {
		return nil, fmt.Errorf("_rebuild_tensor_v2: view (offset %d, size %v, stride %v) exceeds storage %s of %d elements", off, size, stride, s.key, s.numel)
	}
	if numel > s.numel && numel > maxBroadcast {
		return nil, fmt.Errorf("_rebuild_tensor_v2: broadcast view of %d elements over a storage of %d", numel, s.numel)
	}
	return t, nil
}
