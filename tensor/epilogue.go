package tensor

import "fmt"

// Activation names an element-wise function a GEMM epilogue can apply.
type Activation uint8

// The activations of an Epilogue.
const (
	NoActivation Activation = iota
	ActGELU                 // exact GELU, as GELU
	ActGELUTanh             // tanh approximation, as GELUTanh
	ActReLU                 // max(x, 0)
)

// Epilogue is the work a product does on each block of C as soon as the
// block is final, while it is still in cache, instead of separate passes
// over C afterwards: C[i][j] += Bias[j] + Residual[i][j] (each when set),
// then, when Act is set, ActOut[i][j] = Act(C[i][j]). Residual and ActOut
// have C's shape and stride; ActOut may be C itself (the activation in
// place). Neither may overlap A or B.
type Epilogue struct {
	Bias     []float32 // length n, or nil
	Residual []float32 // a residual connection added to C, or nil
	Act      Activation
	ActOut   []float32 // required when Act is set
}

// check panics unless e fits a product whose C is m×n with stride ldc.
func (e *Epilogue) check(m, n, ldc int) {
	if e == nil {
		return
	}
	if e.Bias != nil && len(e.Bias) < n {
		panic(fmt.Sprintf("tensor: epilogue bias has %d values for %d columns", len(e.Bias), n))
	}
	if e.Act > ActReLU {
		panic(fmt.Sprintf("tensor: unknown epilogue activation %d", e.Act))
	}
	if e.Residual != nil {
		checkMat("residual", e.Residual, m, n, ldc)
	}
	if e.Act != NoActivation {
		checkMat("actOut", e.ActOut, m, n, ldc)
	}
}

// apply finishes the mc×nc block of C at row i0, column j0 (c is C, ldc its
// stride).
func (e *Epilogue) apply(asm bool, c []float32, ldc, i0, j0, mc, nc int) {
	if e == nil {
		return
	}
	for i := i0; i < i0+mc; i++ {
		row := c[i*ldc+j0 : i*ldc+j0+nc]
		if e.Bias != nil {
			addTo(asm, row, e.Bias[j0:j0+nc])
		}
		if e.Residual != nil {
			addTo(asm, row, e.Residual[i*ldc+j0:i*ldc+j0+nc])
		}
		if e.Act == NoActivation {
			continue
		}
		out := e.ActOut[i*ldc+j0 : i*ldc+j0+nc]
		switch e.Act {
		case ActGELU:
			geluChunk(asm, out, row)
		case ActGELUTanh:
			geluTanhChunk(asm, out, row)
		case ActReLU:
			for j, v := range row {
				out[j] = max(v, 0)
			}
		}
	}
}

// addTo sets y[i] += x[i] on the calling goroutine.
func addTo(asm bool, y, x []float32) {
	if asm {
		axpyAsm(1, x, y) // 1·x + y rounds as x + y does
		return
	}
	axpyGo(1, x, y)
}
