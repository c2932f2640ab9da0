#!/usr/bin/env node
// build_variants.js writes testdata/tokenizer/variants/<name>.json for every variant of variant_cases.js.
//
// Bases (all small, built here from files already in testdata/tokenizer or trained with the Node binding):
//   blbpe    byte-level BPE: GPT-2's first 1000 merges (ids 0..1255; GPT-2 gives merge i the id 256+i, so the
//            cut is a consistent BPE), ByteLevel pre-tokenizer (no prefix space) and decoder, nothing else
//   wp       WordPiece: bert-base-uncased's ids < 4000 without the [unusedN] entries, renumbered, with the
//            bert-base-uncased pipeline (BertNormalizer, BertPreTokenizer, [CLS]/[SEP] template, WordPiece decoder)
//   unigram  testdata/tokenizer/unigram/tokenizer.json (train_unigram.js)
//   cbpe     char-level BPE trained here (Tokenizer.train with the default BpeTrainer, Metaspace pre-tokenizer)
//            on 4000 SST-2 + 300 THUCNews + 500 SMS lines, cut to its first 1500 merges, laid out like Llama:
//            <unk>=0 <s>=1 </s>=2 <0x00>..<0xFF>=3..258, then the trained pieces; Llama's pipeline
//            (Prepend("▁") + Replace(" ", "▁") normalizer, no pre-tokenizer, BPE with byte_fallback and
//            fuse_unk, template "<s> $A" / "<s> $A <s>:1 $B:1", decoder Replace/ByteFallback/Fuse/Strip)
//
// Usage: node build_variants.js <datasets dir> <testdata/tokenizer dir>
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const tk = require('tokenizers');
const { variantDefs, BL_DECODER, addedTok } = require('./variant_cases');

const [datasets, out] = process.argv.slice(2);
if (!datasets || !out) {
  console.error('usage: node build_variants.js <datasets dir> <out dir>');
  process.exit(2);
}

const emptyJSON = () => ({
  version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null,
  post_processor: null, decoder: null, model: null,
});

function blbpe() {
  const K = 1000;
  const vocab = JSON.parse(fs.readFileSync(path.join(out, 'gpt2/vocab.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(out, 'gpt2/merges.txt'), 'utf8').split('\n').slice(1, K + 1).map((l) => l.split(' '));
  const small = {};
  for (const [t, id] of Object.entries(vocab)) if (id < 256 + K) small[t] = id;
  merges.forEach(([a, b], i) => {
    if (small[a + b] !== 256 + i) throw new Error(`gpt2 merge ${i} ${a} ${b} does not give id ${256 + i}`);
  });
  const j = emptyJSON();
  j.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  j.decoder = BL_DECODER;
  j.model = {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: small, merges,
  };
  return j;
}

function wp() {
  const src = JSON.parse(fs.readFileSync(path.join(out, 'bert-base-uncased/tokenizer.json'), 'utf8'));
  const entries = Object.entries(src.model.vocab).filter(([t, id]) => id < 4000 && !/^\[unused\d+\]$/.test(t)).sort((a, b) => a[1] - b[1]);
  const vocab = {};
  entries.forEach(([t], i) => { vocab[t] = i; });
  const j = emptyJSON();
  j.added_tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => addedTok(vocab[t], t, { special: true }));
  j.normalizer = src.normalizer;
  j.pre_tokenizer = src.pre_tokenizer;
  j.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
    },
  };
  j.decoder = src.decoder;
  j.model = { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab };
  return j;
}

function unigram() {
  return JSON.parse(fs.readFileSync(path.join(out, 'unigram/tokenizer.json'), 'utf8'));
}

function cbpe() {
  const K = 1500;
  const lines = (p) => fs.readFileSync(p, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
  const text = [
    ...lines(path.join(datasets, 'sst2/train.tsv')).slice(1, 4001).map((l) => l.split('\t')[1]),
    ...lines(path.join(datasets, 'thucnews/dev.txt')).slice(0, 300).map((l) => l.split('\t')[0]),
    ...lines(path.join(datasets, 'sms_spam/SMSSpamCollection')).slice(1, 501).map((l) => l.split('\t').slice(1).join(' ')),
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbpe-'));
  const file = path.join(dir, 'train.txt');
  fs.writeFileSync(file, text.join('\n') + '\n');
  const tok = new tk.Tokenizer(tk.BPE.empty());
  // Metaspace splits words (and drops the '\n' the trainer reads with each line, being whitespace).
  tok.setPreTokenizer(tk.metaspacePreTokenizer('▁', 'always', true));
  tok.train([file]);
  tok.save(file + '.json', false);
  const trained = JSON.parse(fs.readFileSync(file + '.json', 'utf8')).model;
  fs.rmSync(dir, { recursive: true });
  const merges = trained.merges.slice(0, K);
  const alphabet = Object.keys(trained.vocab).length - trained.merges.length;
  const keep = Object.entries(trained.vocab).filter(([, id]) => id < alphabet + K).sort((a, b) => a[1] - b[1]);
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>'] = 3 + b;
  let next = 259;
  for (const [t] of keep) {
    if (t in vocab) throw new Error(`cbpe: trained piece ${t} collides with a reserved piece`);
    vocab[t] = next++;
  }
  for (const m of merges) {
    const [a, b] = Array.isArray(m) ? m : m.split(' ');
    if (!(a in vocab) || !(b in vocab) || !(a + b in vocab)) throw new Error(`cbpe: merge ${a} ${b} outside the cut vocabulary`);
  }
  const j = emptyJSON();
  j.added_tokens = ['<unk>', '<s>', '</s>'].map((t, i) => addedTok(i, t, { special: true }));
  j.normalizer = { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] };
  j.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
  };
  j.decoder = {
    type: 'Sequence',
    decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
      { type: 'ByteFallback' },
      { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 },
    ],
  };
  j.model = {
    type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges,
  };
  console.log(`cbpe: ${Object.keys(vocab).length} pieces (${alphabet} trained characters, ${K} merges)`);
  return j;
}

// Helpers handed to the edits.
function modelId(j, t) {
  const v = j.model.vocab;
  if (Array.isArray(v)) {
    const k = v.findIndex(([p]) => p === t);
    return k < 0 ? undefined : k;
  }
  return v[t];
}
function maxId(j) {
  const v = j.model.vocab;
  let m = Array.isArray(v) ? v.length - 1 : Math.max(...Object.values(v));
  for (const a of j.added_tokens) m = Math.max(m, a.id);
  return m;
}
const helpers = {
  id(j, t) {
    const a = j.added_tokens.find((x) => x.content === t);
    if (a) return a.id;
    const id = modelId(j, t);
    if (id === undefined) throw new Error(`no token ${t}`);
    return id;
  },
  // addTokens adds (or re-flags) added tokens; a token already in the model vocabulary keeps its id, as
  // Tokenizer.add_tokens does.
  addTokens(j, list) {
    for (const [content, flags] of list) {
      const old = j.added_tokens.find((x) => x.content === content);
      if (old) {
        Object.assign(old, { single_word: false, lstrip: false, rstrip: false, normalized: false, special: false }, flags);
        continue;
      }
      let id = modelId(j, content);
      if (id === undefined) id = maxId(j) + 1;
      j.added_tokens.push(addedTok(id, content, flags));
    }
    j.added_tokens.sort((a, b) => a.id - b.id);
  },
};

const builders = { blbpe, wp, unigram, cbpe };
const bases = {};
fs.mkdirSync(path.join(out, 'variants'), { recursive: true });
for (const d of variantDefs) {
  if (!bases[d.base]) bases[d.base] = JSON.stringify(builders[d.base]());
  const j = JSON.parse(bases[d.base]);
  d.edit(j, helpers);
  // The reference must accept the file; what it serializes back is what is committed.
  const tok = tk.Tokenizer.fromString(JSON.stringify(j));
  const dst = path.join(out, 'variants', d.name + '.json');
  tok.save(dst + '.tmp', false);
  fs.renameSync(dst + '.tmp', dst);
}
console.log(`variants: ${variantDefs.length} tokenizer files`);
