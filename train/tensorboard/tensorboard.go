// Package tensorboard writes TensorBoard event files of scalars (the
// losses, learning rates and evaluations of a training run) and reads
// them back.
//
// An event file is a TFRecord stream: each record is its length (uint64,
// little endian), the masked CRC-32C of those 8 bytes, the data and the
// masked CRC-32C of the data. Each record holds a tensorflow.Event
// protocol buffer (event.proto: wall_time 1, step 2, file_version 3,
// summary 5); a summary holds values (summary.proto: value 1) of a tag (1)
// and a simple_value (2). The few fields are encoded with protowire.
package tensorboard

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// FileVersion is the file_version of the first event of a file.
const FileVersion = "brain.Event:2"

// Scalar is one named value of an event.
type Scalar struct {
	Tag   string
	Value float64 // stored as float32, as simple_value is
}

// Event is one record of an event file.
type Event struct {
	WallTime    float64 // seconds since the Unix epoch
	Step        int64
	FileVersion string // set in the first event only
	Scalars     []Scalar
}

// Writer appends events to one event file.
type Writer struct {
	f    *os.File
	w    *bufio.Writer
	path string
}

var fileCount atomic.Int64

// Create makes dir and a new event file in it, named as TensorBoard's
// writers name theirs (events.out.tfevents.<seconds>.<host>.<pid>.<n>),
// and writes its file-version event.
func Create(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	now := time.Now()
	name := fmt.Sprintf("events.out.tfevents.%010d.%s.%d.%d", now.Unix(), host, os.Getpid(), fileCount.Add(1))
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	w := &Writer{f: f, w: bufio.NewWriter(f), path: path}
	if err := w.write(Event{WallTime: seconds(now), FileVersion: FileVersion}); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Path is the event file's path.
func (w *Writer) Path() string { return w.path }

// WriteScalars appends one event with the scalars at a step and flushes it,
// so that a running TensorBoard sees it.
func (w *Writer) WriteScalars(step int64, t time.Time, scalars []Scalar) error {
	return w.write(Event{WallTime: seconds(t), Step: step, Scalars: scalars})
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (w *Writer) write(e Event) error {
	data := marshalEvent(e)
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(head[8:], maskedCRC(head[:8]))
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], maskedCRC(data))
	for _, b := range [][]byte{head[:], data, tail[:]} {
		if _, err := w.w.Write(b); err != nil {
			return fmt.Errorf("tensorboard: %s: %w", w.path, err)
		}
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("tensorboard: %s: %w", w.path, err)
	}
	return nil
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's masked CRC-32C: rotated right by 15 bits plus a
// constant, so that a CRC of data holding CRCs stays well distributed.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// Field numbers of event.proto and summary.proto.
const (
	eventWallTime    protowire.Number = 1
	eventStep        protowire.Number = 2
	eventFileVersion protowire.Number = 3
	eventSummary     protowire.Number = 5
	summaryValue     protowire.Number = 1
	valueTag         protowire.Number = 1
	valueSimple      protowire.Number = 2
)

func marshalEvent(e Event) []byte {
	var b []byte
	b = protowire.AppendTag(b, eventWallTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(e.WallTime))
	if e.Step != 0 {
		b = protowire.AppendTag(b, eventStep, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(e.Step))
	}
	if e.FileVersion != "" {
		b = protowire.AppendTag(b, eventFileVersion, protowire.BytesType)
		b = protowire.AppendString(b, e.FileVersion)
	}
	if len(e.Scalars) > 0 {
		var summary []byte
		for _, s := range e.Scalars {
			var v []byte
			v = protowire.AppendTag(v, valueTag, protowire.BytesType)
			v = protowire.AppendString(v, s.Tag)
			v = protowire.AppendTag(v, valueSimple, protowire.Fixed32Type)
			v = protowire.AppendFixed32(v, math.Float32bits(float32(s.Value)))
			summary = protowire.AppendTag(summary, summaryValue, protowire.BytesType)
			summary = protowire.AppendBytes(summary, v)
		}
		b = protowire.AppendTag(b, eventSummary, protowire.BytesType)
		b = protowire.AppendBytes(b, summary)
	}
	return b
}

// ReadFile reads the events of an event file, checking every record's
// CRCs; fields other than those Event holds are skipped.
func ReadFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var events []Event
	for offset := int64(0); ; {
		var head [12]byte
		if _, err := io.ReadFull(r, head[:]); err == io.EOF {
			return events, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: record at byte %d: %w", path, offset, err)
		}
		n := binary.LittleEndian.Uint64(head[:8])
		if binary.LittleEndian.Uint32(head[8:]) != maskedCRC(head[:8]) {
			return nil, fmt.Errorf("%s: record at byte %d: length CRC mismatch", path, offset)
		}
		if n > 1<<30 {
			return nil, fmt.Errorf("%s: record at byte %d: length %d is implausible", path, offset, n)
		}
		data := make([]byte, n+4)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("%s: record at byte %d: %w", path, offset, err)
		}
		if binary.LittleEndian.Uint32(data[n:]) != maskedCRC(data[:n]) {
			return nil, fmt.Errorf("%s: record at byte %d: data CRC mismatch", path, offset)
		}
		e, err := unmarshalEvent(data[:n])
		if err != nil {
			return nil, fmt.Errorf("%s: record at byte %d: %w", path, offset, err)
		}
		events = append(events, e)
		offset += 16 + int64(n)
	}
}

// fields calls fn for each field of a protocol buffer message with the
// field's number, type and bytes (varint value in v, others in b).
func fields(msg []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		var v uint64
		var b []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(msg)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(msg)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(msg)
		case protowire.BytesType:
			b, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		if err := fn(num, typ, v, b); err != nil {
			return err
		}
	}
	return nil
}

var errWireType = errors.New("unexpected wire type")

func unmarshalEvent(msg []byte) (Event, error) {
	var e Event
	err := fields(msg, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch {
		case num == eventWallTime && typ == protowire.Fixed64Type:
			e.WallTime = math.Float64frombits(v)
		case num == eventStep && typ == protowire.VarintType:
			e.Step = int64(v)
		case num == eventFileVersion && typ == protowire.BytesType:
			e.FileVersion = string(b)
		case num == eventSummary && typ == protowire.BytesType:
			return fields(b, func(num protowire.Number, typ protowire.Type, _ uint64, b []byte) error {
				if num != summaryValue {
					return nil
				}
				if typ != protowire.BytesType {
					return errWireType
				}
				var s Scalar
				err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
					switch {
					case num == valueTag && typ == protowire.BytesType:
						s.Tag = string(b)
					case num == valueSimple && typ == protowire.Fixed32Type:
						s.Value = float64(math.Float32frombits(uint32(v)))
					}
					return nil
				})
				e.Scalars = append(e.Scalars, s)
				return err
			})
		}
		return nil
	})
	return e, err
}
