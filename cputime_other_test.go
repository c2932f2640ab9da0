//go:build !unix

package textclf

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
