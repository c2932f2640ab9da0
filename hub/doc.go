// Package hub downloads models from the Hugging Face hub into the HF cache
// layout shared with Python, honouring HF_ENDPOINT, HF_TOKEN and offline mode.
package hub
