// Package train fine-tunes models: AdamW, learning-rate schedules, the
// training loop, checkpoints and resume, early stopping and K-fold runs.
package train
