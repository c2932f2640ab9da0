package data

import (
	"fmt"
	"testing"
)

func TestInferenceBatches(t *testing.T) {
	lengths := []int{10, 3, 4, 30, 3, 11, 12, 4}
	// Sorted: 3 3 4 4 | 10 11 12 | 30. Adding 10 to {3,3,4,4} would pad
	// 5×10 = 50 > 1.25 × 24; adding 30 to {10,11,12}: 4×30 > 1.25 × 63.
	if got, want := fmt.Sprint(InferenceBatches(lengths, 64)), fmt.Sprint([][]int{{1, 4, 2, 7}, {0, 5, 6}, {3}}); got != want {
		t.Fatalf("batches %v, want %v", got, want)
	}
	// At most 3 examples a batch.
	if got, want := fmt.Sprint(InferenceBatches(lengths, 3)), fmt.Sprint([][]int{{1, 4, 2}, {7}, {0, 5, 6}, {3}}); got != want {
		t.Fatalf("batches of 3: %v, want %v", got, want)
	}
	if got := InferenceBatches(nil, 4); len(got) != 0 {
		t.Fatalf("no examples: %v", got)
	}
}
