package data

import (
	"fmt"
	"sort"
	"strconv"
)

// LabelMap maps label names to dense ids 0..N-1.
type LabelMap struct {
	// Names are the label names by id.
	Names []string
	index map[string]int
}

// NewLabelMap returns a map over the given names, in that order.
func NewLabelMap(names []string) (*LabelMap, error) {
	m := &LabelMap{Names: append([]string(nil), names...), index: make(map[string]int, len(names))}
	for i, n := range names {
		if _, dup := m.index[n]; dup {
			return nil, fmt.Errorf("label %q appears twice", n)
		}
		m.index[n] = i
	}
	return m, nil
}

// BuildLabelMap collects the labels of the datasets. When a data set was
// read with label names (Options.LabelNames) the map is those names in
// their order; otherwise, when every label is an integer they are ordered
// numerically, else by name, so the same data always gives the same ids.
func BuildLabelMap(sets ...*Dataset) *LabelMap {
	for _, ds := range sets {
		if len(ds.LabelNames) > 0 {
			if m, err := NewLabelMap(ds.LabelNames); err == nil {
				return m
			}
		}
	}
	seen := map[string]bool{}
	var names []string
	for _, ds := range sets {
		for _, ex := range ds.Examples {
			for _, l := range ex.Labels {
				if !seen[l] {
					seen[l] = true
					names = append(names, l)
				}
			}
		}
	}
	allInt := true
	nums := map[string]int64{}
	for _, n := range names {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			allInt = false
			break
		}
		nums[n] = v
	}
	if allInt {
		sort.Slice(names, func(i, j int) bool { return nums[names[i]] < nums[names[j]] })
	} else {
		sort.Strings(names)
	}
	m, _ := NewLabelMap(names) // names are distinct
	return m
}

// Len is the number of labels.
func (m *LabelMap) Len() int { return len(m.Names) }

// ID returns the id of a label name.
func (m *LabelMap) ID(name string) (int, bool) {
	id, ok := m.index[name]
	return id, ok
}

// IDs maps an example's labels to ids; an unknown label is an error naming
// the file and line.
func (m *LabelMap) IDs(ds *Dataset, ex Example) ([]int, error) {
	ids := make([]int, len(ex.Labels))
	for i, l := range ex.Labels {
		id, ok := m.index[l]
		if !ok {
			return nil, fmt.Errorf("%s:%d: unknown label %q (known: %d labels)", ds.Path, ex.Line, l, len(m.Names))
		}
		ids[i] = id
	}
	return ids, nil
}
