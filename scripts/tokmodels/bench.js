// Times HF tokenizers' models (npm tokenizers@0.23.2) on the same words and
// models as the Go benchmarks BenchmarkBPE/WordPiece/Unigram, for comparison:
//
//   cd scripts/tokmodels && npm install --no-package-lock && node bench.js [SHARED]
//
// Each model runs in a tokenizer whose only other step is a WhitespaceSplit
// pre-tokenizer, on all words joined by spaces, so HF's time per word
// includes that split and building the Encoding (an upper bound on its model
// time). "warm" repeats the text with HF's word cache filled, "cold" is the
// first pass of a fresh tokenizer (every word merged). Rayon threads are
// limited to one, like the single-goroutine Go benchmark.
'use strict';
process.env.RAYON_NUM_THREADS = '1';
process.env.TOKENIZERS_PARALLELISM = 'false';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

const shared = process.argv[2] || path.join(__dirname, '..', '..', '..', 'shared');
const realistic = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'tokenizer', 'testdata', 'models', 'realistic.json'), 'utf8'));
const caseOf = (name) => realistic.find((c) => c.name === name);
const wordsOf = (c) => c.inputs.filter((i) => !i.error).map((i) => i.text);

function make(model) {
  return Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null, decoder: null, model,
  }));
}

async function bench(name, model, words) {
  const text = words.join(' ');
  // Cold: first pass on fresh tokenizers.
  let cold = 0;
  const coldRuns = 5;
  for (let i = 0; i < coldRuns; i++) {
    const tok = make(model);
    const t0 = process.hrtime.bigint();
    await tok.encode(text);
    cold += Number(process.hrtime.bigint() - t0);
  }
  const tok = make(model);
  await tok.encode(text);
  let n = 0;
  const t0 = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - t0) < 2e9) { await tok.encode(text); n++; }
  const warm = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${name}\t${words.length} words\twarm ${(warm / words.length).toFixed(1)} ns/word\tcold ${(cold / coldRuns / words.length).toFixed(1)} ns/word`);
}

(async () => {
  const bpe = caseOf('realistic-bpe-bytelevel-sst2');
  await bench('BPE sst2-3k', bpe.model, wordsOf(bpe));
  try {
    const vocab = JSON.parse(fs.readFileSync(path.join(shared, 'tokenizers', 'gpt2', 'encoder.json'), 'utf8'));
    const merges = fs.readFileSync(path.join(shared, 'tokenizers', 'gpt2', 'vocab.bpe'), 'utf8').split('\n').slice(1).filter(Boolean);
    await bench('BPE gpt2', { type: 'BPE', vocab, merges }, wordsOf(bpe));
  } catch (e) { console.log('BPE gpt2: skipped:', e.message); }
  const wp = caseOf('realistic-wordpiece-bert');
  await bench('WordPiece bert-6k', wp.model, wordsOf(wp));
  try {
    const bert = JSON.parse(fs.readFileSync(path.join(shared, 'tokenizers', 'bert-base-uncased', 'tokenizer.json'), 'utf8')).model;
    await bench('WordPiece bert-base-uncased', bert, wordsOf(wp));
  } catch (e) { console.log('WordPiece bert-base-uncased: skipped:', e.message); }
  const uni = caseOf('realistic-unigram-sst2');
  await bench('Unigram sst2-2.5k', uni.model, wordsOf(uni));
})();
