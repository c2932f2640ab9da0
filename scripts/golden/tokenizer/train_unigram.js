#!/usr/bin/env node
// train_unigram.js trains a Unigram tokenizer with the HF tokenizers Node binding on SST-2 + THUCNews + SMS
// text and gives it an XLM-R/ALBERT-like pipeline; writes testdata/tokenizer/unigram/tokenizer.json.
//
// The Node binding (0.23.2) exposes no trainer constructors: Tokenizer.train(files) uses the model's default
// trainer (UnigramTrainer defaults: vocab_size 8000, no special tokens, no unk, byte_fallback off). So the
// special tokens, unk id and byte-fallback pieces are added after training, the way sentencepiece lays out
// such a vocabulary: <s>=0 <pad>=1 </s>=2 <unk>=3, then the 256 byte pieces <0x00>..<0xFF>, then the
// trained pieces; <mask> is an added token after the model vocabulary (as XLM-R has it).
//
// Usage: node train_unigram.js [--retrain] <datasets dir> <testdata/tokenizer dir>
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const tk = require('tokenizers');

const args = process.argv.slice(2);
const retrain = args[0] === '--retrain';
if (retrain) args.shift();
const [datasets, out] = args;
if (!datasets || !out) {
  console.error('usage: node train_unigram.js [--retrain] <datasets dir> <out dir>');
  process.exit(2);
}
// Training is not bit-reproducible: the trainer appends the characters it must keep with made-up, decreasing
// scores in hash-map order, which changes from run to run. The committed file is therefore the artifact;
// it is only replaced when asked to.
if (!retrain && fs.existsSync(path.join(out, 'unigram/tokenizer.json'))) {
  console.log('unigram/tokenizer.json exists; keeping it (pass --retrain to train a new one)');
  process.exit(0);
}

function lines(p) {
  return fs.readFileSync(p, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
}

// Training text: the first 30000 SST-2 training sentences, all THUCNews dev headlines, all SMS texts.
const text = [
  ...lines(path.join(datasets, 'sst2/train.tsv')).slice(1, 30001).map((l) => l.split('\t')[1]),
  ...lines(path.join(datasets, 'thucnews/dev.txt')).map((l) => l.split('\t')[0]),
  ...lines(path.join(datasets, 'sms_spam/SMSSpamCollection')).slice(1).map((l) => l.split('\t').slice(1).join(' ')),
];
const trainFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'unigram-')), 'train.txt');
fs.writeFileSync(trainFile, text.join('\n') + '\n');

// Pipeline pieces that the binding cannot construct directly are built from JSON.
function part(kind, value) {
  const j = {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null,
    post_processor: null, decoder: null, model: { type: 'Unigram', unk_id: null, vocab: [], byte_fallback: false },
  };
  j[kind] = value;
  return tk.Tokenizer.fromString(JSON.stringify(j));
}
const finalNormalizer = {
  type: 'Sequence',
  normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }],
};
// The trainer reads lines with their '\n'; dropping it while training keeps '\n' out of the vocabulary.
const trainNormalizer = {
  type: 'Sequence',
  normalizers: [...finalNormalizer.normalizers, { type: 'Replace', pattern: { String: '\n' }, content: '' }],
};

const tok = new tk.Tokenizer(tk.Unigram.empty());
tok.setNormalizer(part('normalizer', trainNormalizer).getNormalizer());
tok.setPreTokenizer(tk.metaspacePreTokenizer('▁', 'always', true));
const t0 = Date.now();
tok.train([trainFile]);
console.log(`trained in ${((Date.now() - t0) / 1000).toFixed(1)}s on ${text.length} lines`);
const tmp = trainFile + '.json';
tok.save(tmp, false);
const j = JSON.parse(fs.readFileSync(tmp, 'utf8'));
fs.rmSync(path.dirname(trainFile), { recursive: true });

// The trainer's scores vary from run to run in the last digits (parallel float sums) and it returns pieces
// of equal score in hash-map order. Rounding the scores to 6 decimals (as precise as sentencepiece's float32
// scores) and sorting by score, then piece, makes the file reproducible.
const trained = j.model.vocab
  .map(([p, s]) => [p, Math.round(s * 1e6) / 1e6])
  .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const specials = ['<s>', '<pad>', '</s>', '<unk>'];
const bytes = [];
for (let b = 0; b < 256; b++) bytes.push('<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>');
const reserved = new Set([...specials, ...bytes]);
const vocab = [
  ...specials.map((s) => [s, 0.0]),
  ...bytes.map((s) => [s, 0.0]),
  ...trained.filter(([p]) => !reserved.has(p)),
];
const maskId = vocab.length;
const added = (id, content, extra) => Object.assign(
  { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }, extra || {});
const out2 = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [...specials.map((s, i) => added(i, s)), added(maskId, '<mask>', { lstrip: true })],
  normalizer: finalNormalizer,
  pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } },
      { SpecialToken: { id: '</s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '</s>', type_id: 1 } },
    ],
    special_tokens: {
      '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
      '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
    },
  },
  // Byte pieces are turned back into bytes first, then the Metaspace decoder restores the spaces.
  decoder: {
    type: 'Sequence',
    decoders: [{ type: 'ByteFallback' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }],
  },
  model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: true },
};
// Round-trip through the binding so the committed file is exactly what the Rust serializer writes.
const final = tk.Tokenizer.fromString(JSON.stringify(out2));
fs.mkdirSync(path.join(out, 'unigram'), { recursive: true });
final.save(path.join(out, 'unigram/tokenizer.json'), false);
console.log(`unigram/tokenizer.json: ${vocab.length} model pieces (+<mask> = ${maskId}), ${trained.length} trained`);
