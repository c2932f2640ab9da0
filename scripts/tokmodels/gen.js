// Generates the golden files of tokenizer/testdata/models/ by running the
// models and decoders of HF tokenizers (npm tokenizers@0.23.2, the Rust
// library) on small vocabularies, hand-written and pseudo-random.
//
//   cd scripts/tokmodels && npm install --no-package-lock && node gen.js [SHARED]
//
// SHARED is the team's shared folder (default ../../../shared); from its SST-2
// data and bert-base-uncased tokenizer the script also builds "realistic"
// models (a Unigram and a byte-level BPE trained here, a trimmed BERT
// WordPiece) and runs them on the words of SST-2's dev sentences.
//
// Each models file holds cases {name, model (the tokenizer.json "model"
// object), inputs: [{text, ids, tokens, offsets} | {text, error}]}; offsets
// are code point offsets, as the Node binding returns them.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

const OUT = path.join(__dirname, '..', '..', 'tokenizer', 'testdata', 'models');

function tokenizer(model, decoder) {
  return Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [],
    normalizer: null, pre_tokenizer: null, post_processor: null,
    decoder: decoder || null, model,
  }));
}

async function runModel(name, model, texts) {
  const tok = tokenizer(model);
  const inputs = [];
  for (const text of texts) {
    try {
      const e = await tok.encode(text);
      inputs.push({ text, ids: e.getIds(), tokens: e.getTokens(), offsets: e.getOffsets() });
    } catch (err) {
      inputs.push({ text, error: String(err.message || err) });
    }
  }
  return { name, model, inputs };
}

// mulberry32: a small seeded PRNG, so the files are reproducible.
function rng(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (r, a) => a[Math.floor(r() * a.length)];
function randWord(r, alphabet, maxLen) {
  const n = 1 + Math.floor(r() * maxLen);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(r, alphabet);
  return s;
}
function vocabOf(list) { const v = {}; list.forEach((t, i) => { v[t] = i; }); return v; }
function byteTokens(filter) {
  const out = [];
  for (let b = 0; b < 256; b++) if (!filter || filter(b)) out.push('<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>');
  return out;
}

// ---------- WordPiece ----------
async function wordpiece() {
  const cases = [];
  const vocab = vocabOf(['[UNK]', 'un', '##aff', '##able', 'aff', 'able', '##a', 'a', 'b', '##b',
    'é', '##é', '中', '##文', '😀', '##😀', 'unaffable', '##', '##x', 'ab', '##ab', '##abl']);
  const texts = ['unaffable', 'unaffablea', 'affable', 'ab', 'aab', 'ba', 'abab', 'ééé', 'é😀😀', '中文',
    '文', 'x', 'ax', '##x', '##', '###', 'a'.repeat(100), 'a'.repeat(101), 'é'.repeat(100), 'é'.repeat(101),
    'ablé', 'unaffablex', ''];
  cases.push(await runModel('wordpiece-basic', { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab }, texts));
  cases.push(await runModel('wordpiece-maxchars-4', { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 4, vocab }, ['abab', 'ababa', 'éééé', 'ééééé', 'a']));
  cases.push(await runModel('wordpiece-no-type', { unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab }, ['unaffable', 'ax']));
  cases.push(await runModel('wordpiece-no-unk-in-vocab', { type: 'WordPiece', unk_token: '<unk>', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab }, ['ab', 'ax']));
  cases.push(await runModel('wordpiece-prefix-@@', { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '@@', max_input_chars_per_word: 100,
    vocab: vocabOf(['[UNK]', 'a', '@@a', '@@bc', 'b', '@@', '@@@@a']) }, ['aa', 'abc', 'abcbc', 'a@@a', '@@a', '@@@@a', 'ab']));
  for (let seed = 1; seed <= 6; seed++) {
    const r = rng(seed * 7919);
    const alphabet = ['a', 'b', 'c', 'd', 'é', '中'];
    const list = ['[UNK]'];
    const seen = new Set(list);
    const add = (t) => { if (!seen.has(t)) { seen.add(t); list.push(t); } };
    for (const c of alphabet.slice(0, 5)) { add(c); if (r() < 0.8) add('##' + c); }
    for (let i = 0; i < 60; i++) { const w = randWord(r, alphabet, 5); add(r() < 0.5 ? '##' + w : w); }
    const texts = [];
    for (let i = 0; i < 120; i++) texts.push(randWord(r, alphabet, 14));
    cases.push(await runModel('wordpiece-random-' + seed, { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 12, vocab: vocabOf(list) }, texts));
  }
  return cases;
}

// ---------- BPE ----------
function randomBPE(r, { alphabet, nMerges, prefix = '', suffix = '' }) {
  const list = [];
  const seen = new Set();
  const add = (t) => { if (!seen.has(t)) { seen.add(t); list.push(t); } };
  for (const c of alphabet) {
    add(c);
    if (prefix) add(prefix + c);
    if (suffix) { add(c + suffix); if (prefix) add(prefix + c + suffix); }
  }
  const merges = [];
  const pairs = new Set();
  for (let i = 0; i < nMerges * 4 && merges.length < nMerges; i++) {
    // Favour short tokens so that merges chain.
    const short = list.filter((t) => t.length <= 3 + prefix.length + suffix.length);
    const a = pick(r, r() < 0.7 ? short : list);
    const b = pick(r, r() < 0.7 ? short : list);
    if (suffix && a.endsWith(suffix)) continue;
    if (prefix && !b.startsWith(prefix)) continue;
    const key = a + ' ' + b;
    if (a.includes(' ') || b.includes(' ')) continue;
    if (pairs.has(key) && r() < 0.9) continue; // rarely, a repeated merge
    pairs.add(key);
    add(a + b.slice(prefix.length));
    merges.push([a, b]);
  }
  return { list, merges };
}

async function bpe() {
  const cases = [];
  // Hand-made: ranks decide, leftmost first among equal pairs.
  const vocab = vocabOf(['<unk>', 'a', 'b', 'c', 'ab', 'bc', 'abc', 'aa', 'aaa', 'aaaa', 'é', 'éé', 'cab']);
  const merges = [['b', 'c'], ['a', 'b'], ['a', 'bc'], ['a', 'a'], ['aa', 'a'], ['aa', 'aa'], ['é', 'é'], ['c', 'ab']];
  const texts = ['abc', 'ab', 'aaa', 'aaaa', 'aaaaa', 'aaaaaaa', 'abcabc', 'cabc', 'ééé', 'xax', 'xxa', 'axxb', 'x', 'éxé', '😀a', ''];
  const base = { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges };
  cases.push(await runModel('bpe-basic', base, texts));
  cases.push(await runModel('bpe-fuse-unk', { ...base, fuse_unk: true }, texts));
  cases.push(await runModel('bpe-no-unk', { ...base, unk_token: null }, texts));
  cases.push(await runModel('bpe-unk-missing', { ...base, unk_token: '[UNK]' }, ['ab', 'ax']));
  cases.push(await runModel('bpe-string-merges', { ...base, merges: merges.map((m) => m.join(' ')) }, texts));
  const noType = { ...base, merges: merges.map((m) => m.join(' ')) };
  delete noType.type;
  cases.push(await runModel('bpe-no-type', noType, ['abc', 'aaaa']));
  cases.push(await runModel('bpe-ignore-merges', { ...base, ignore_merges: true, vocab: { ...vocab, 'aaaaa': 13, 'ca': 14 } }, ['aaaaa', 'aaaa', 'ca', 'cab', 'abc']));
  // Byte fallback: all bytes, or some missing so that unk is used.
  const bfList = ['<unk>', 'a', 'b', 'ab', ...byteTokens()];
  const bf = { ...base, vocab: vocabOf(bfList), merges: [['a', 'b']], byte_fallback: true };
  const bfTexts = ['ab', 'abz', 'zab', 'azxyb', 'é', 'aéb', '中ab', '😀', 'zz'];
  cases.push(await runModel('bpe-byte-fallback', bf, bfTexts));
  cases.push(await runModel('bpe-byte-fallback-fuse', { ...bf, fuse_unk: true }, bfTexts));
  cases.push(await runModel('bpe-byte-fallback-partial', { ...base, vocab: vocabOf(['<unk>', 'a', 'b', 'ab', ...byteTokens((b) => b < 0xE0)]), merges: [['a', 'b']], byte_fallback: true, fuse_unk: true }, bfTexts));
  // Byte fallback with a prefix: HF falls back on the bytes of the prefixed
  // string and counts each as one byte of the word.
  cases.push(await runModel('bpe-byte-fallback-prefix', { ...bf, continuing_subword_prefix: '##', vocab: vocabOf([...bfList, '##b', 'a##b']), merges: [['a', '##b']] },
    ['ab', 'az', 'zab', 'aé', 'éa']));
  // Prefix and suffix.
  const ps = vocabOf(['<unk>', 'a', 'b', '##a', '##b', 'a</w>', 'b</w>', '##a</w>', '##b</w>', 'ab', 'ab</w>', '##ab</w>', '##ab', 'aba</w>']);
  const psMerges = [['a', '##b'], ['##a', '##b</w>'], ['ab', '##a</w>'], ['a', '##b</w>'], ['##a', '##b']];
  cases.push(await runModel('bpe-prefix-suffix', { ...base, continuing_subword_prefix: '##', end_of_word_suffix: '</w>', vocab: ps, merges: psMerges },
    ['a', 'ab', 'aba', 'abab', 'ba', 'bab', 'ababab', 'axb', 'xa']));
  // Random vocabularies and merges.
  for (let seed = 1; seed <= 8; seed++) {
    const r = rng(seed * 104729);
    const alphabet = ['a', 'b', 'c', 'd', 'é', '中'];
    const { list, merges } = randomBPE(r, { alphabet, nMerges: 80 });
    list.unshift('<unk>');
    const texts = [];
    for (let i = 0; i < 150; i++) texts.push(randWord(r, [...alphabet, ...alphabet, 'z'], 20));
    cases.push(await runModel('bpe-random-' + seed, { ...base, fuse_unk: seed % 2 === 0, vocab: vocabOf(list), merges }, texts));
  }
  for (let seed = 1; seed <= 3; seed++) {
    const r = rng(seed * 15485863);
    const alphabet = ['a', 'b', 'c', 'é'];
    const { list, merges } = randomBPE(r, { alphabet, nMerges: 60, prefix: '##', suffix: '</w>' });
    list.unshift('<unk>');
    const texts = [];
    for (let i = 0; i < 100; i++) texts.push(randWord(r, [...alphabet, ...alphabet, 'z'], 14));
    cases.push(await runModel('bpe-random-affixes-' + seed, { ...base, continuing_subword_prefix: '##', end_of_word_suffix: '</w>', vocab: vocabOf(list), merges }, texts));
  }
  return cases;
}

// ---------- Unigram ----------
async function unigram() {
  const cases = [];
  const vocab = [['<unk>', 0], ['a', -1], ['b', -2], ['ab', -2.5], ['abc', -4], ['c', -3], ['bc', -2], ['é', -1], ['éé', -3], ['中', -2]];
  const texts = ['ab', 'abc', 'abcab', 'xab', 'xyab', 'axyb', 'éééé', 'x', 'xx', '<unk>', 'a<unk>b', '😀', '中x中', ''];
  cases.push(await runModel('unigram-basic', { type: 'Unigram', unk_id: 0, vocab }, texts));
  cases.push(await runModel('unigram-no-unk', { type: 'Unigram', unk_id: null, vocab }, ['ab', 'abc', 'x', 'axb']));
  cases.push(await runModel('unigram-no-type', { unk_id: 0, vocab }, ['abc', 'xab']));
  cases.push(await runModel('unigram-unk-not-first', { type: 'Unigram', unk_id: 3, vocab: [['a', -1], ['b', -1], ['ab', -1.5], ['<unk>', -0.5]] }, ['ab', 'axb', 'xxab', 'aab']));
  // Ties: equal totals resolve as HF's strict ">" comparison in scan order.
  cases.push(await runModel('unigram-ties', { type: 'Unigram', unk_id: 0, vocab: [['<unk>', -5], ['a', -1], ['b', -1], ['ab', -2], ['aa', -2], ['ba', -2], ['aba', -3], ['bab', -3]] },
    ['ab', 'aa', 'aba', 'abab', 'babab', 'aaaa', 'abba', 'bbb']));
  const bfVocab = [['<unk>', 0], ['a', -1], ['b', -2], ['ab', -1.5], ...byteTokens().map((t) => [t, -10])];
  const bfTexts = ['ab', 'abz', 'é', 'aéb', '中ab', '😀', 'zz', 'xyzab'];
  cases.push(await runModel('unigram-byte-fallback', { type: 'Unigram', unk_id: 0, byte_fallback: true, vocab: bfVocab }, bfTexts));
  cases.push(await runModel('unigram-byte-fallback-partial', { type: 'Unigram', unk_id: 0, byte_fallback: true,
    vocab: [['<unk>', 0], ['a', -1], ['b', -2], ...byteTokens((b) => b < 0xE0).map((t) => [t, -10])] }, bfTexts));
  for (let seed = 1; seed <= 8; seed++) {
    const r = rng(seed * 32452843);
    const alphabet = ['a', 'b', 'c', 'd', 'é', '中'];
    const seen = new Set(['<unk>']);
    const v = [['<unk>', 0]];
    const intScores = seed % 2 === 1; // integer scores make many ties
    for (const c of alphabet.slice(0, 5)) { seen.add(c); v.push([c, intScores ? -3 - Math.floor(r() * 3) : -3 - r() * 3]); }
    for (let i = 0; i < 80; i++) {
      const w = randWord(r, alphabet, 5);
      if (seen.has(w)) continue;
      seen.add(w);
      v.push([w, intScores ? -1 - Math.floor(r() * 8) : -1 - r() * 8]);
    }
    const texts = [];
    for (let i = 0; i < 150; i++) texts.push(randWord(r, [...alphabet, 'z'], 20));
    cases.push(await runModel('unigram-random-' + seed, { type: 'Unigram', unk_id: 0, vocab: v }, texts));
  }
  return cases;
}

// ---------- Decoders ----------
async function decoders() {
  const dummy = { type: 'BPE', vocab: {}, merges: [] };
  const specs = [
    [{ type: 'WordPiece', prefix: '##', cleanup: true }, [
      ['hello', '##world', 'how', 'are', 'you', '?'], ['i', 'do', 'not', 'know', '.'], ['it', "'", 's', 'can', "'", 't', ',', 'we', "'", 're'],
      ['##a', '##b', 'c'], ['a', ' .', 'b'], []]],
    [{ type: 'WordPiece', prefix: '##', cleanup: false }, [['hello', '##world', 'how', '?', "'", 's']]],
    [{ type: 'WordPiece', prefix: '@@', cleanup: true }, [['a', '@@b', '##c', '.']]],
    [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, [
      ['Hello', 'Ġworld', 'Ċ'], ['Ã©', 'Ġæ', 'Ĺ', '¥'], ['Ã', 'Ġa'], ['ðŁĺ', 'Ģ'], ['ðŁ', 'a', 'ðŁĺ'], ['é', 'Ġb', '中'], ['í', '¿', '¿'], ['ð', 'Ł', 'Ł', 'ð']]],
    [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }, [['▁Hey', '▁friend', '!'], ['▁a▁b', '▁c'], ['a', '▁', '▁'], []]],
    [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true }, [['▁Hey', '▁friend', '!']]],
    [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false }, [['▁Hey', '▁friend', '!']]],
    [{ type: 'Metaspace', replacement: '▁', add_prefix_space: true }, [['▁Hey', '▁friend']]],
    [{ type: 'Metaspace', replacement: '▁', add_prefix_space: false, prepend_scheme: 'never' }, [['▁Hey', '▁friend']]],
    [{ type: 'Metaspace', replacement: '_', prepend_scheme: 'always' }, [['_Hey', '_friend', '▁x']]],
    [{ type: 'BPEDecoder', suffix: '</w>' }, [['hel', 'lo</w>', 'wor', 'ld</w>'], ['a</w>b</w>', 'c</w>'], []]],
    [{ type: 'BPEDecoder', suffix: '' }, [['ab', 'c']]],
    [{ type: 'ByteFallback' }, [['<0x61>', '<0xC3>', '<0xA9>', 'x', '<0xE4>', '<0xB8>'], ['<0xE4>', '<0xB8>', '<0xAD>'], ['<0xff>', '<0x6>', '<0x+A>', '<0x0A>'], ['<0xC3>', 'y', '<0xA9>']]],
    [{ type: 'Fuse' }, [['a', ' b', 'c']]],
    [{ type: 'Strip', content: ' ', start: 1, stop: 0 }, [[' a', '  b', 'c ', ' ']]],
    [{ type: 'Strip', content: '▁', start: 2, stop: 2 }, [['▁▁▁a▁▁▁', '▁a', 'a▁', 'b']]],
    [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, [['▁Hey', '▁▁friend']]],
    [{ type: 'Replace', pattern: { Regex: '\\s+' }, content: '_' }, [['a  b', ' c\t']]],
    [{ type: 'CTC', pad_token: '<pad>', word_delimiter_token: '|', cleanup: true }, [
      ['<pad>', 'h', 'e', 'e', 'l', 'l', '<pad>', 'l', 'o', '|', 'w', 'o', 'r', 'l', 'd', '|', '.'], ['a', 'a', '|', '|', 'b']]],
    [{ type: 'CTC', pad_token: '<pad>', word_delimiter_token: '|', cleanup: false }, [['<pad>', 'h', 'h', '|', 'i']]],
    [{ type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
      [['▁Hey', '<0xC3>', '<0xA9>', '▁there'], ['<0xE4>', '▁a']]],
  ];
  const out = [];
  for (const [decoder, lists] of specs) {
    const tok = tokenizer(dummy, decoder);
    const dec = tok.getDecoder();
    for (const tokens of lists) out.push({ decoder, tokens, text: dec.decode(tokens) });
  }
  return out;
}

// ---------- Realistic models ----------
async function realistic(shared) {
  const t = require('tokenizers');
  const os = require('os');
  const tsv = (f) => fs.readFileSync(path.join(shared, 'datasets', 'sst2', f), 'utf8').split('\n').slice(1)
    .map((l) => l.split('\t')[1]).filter(Boolean);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokmodels-'));
  const trainFile = path.join(tmp, 'train.txt');
  fs.writeFileSync(trainFile, tsv('train.tsv').join('\n') + '\n');
  const dev = tsv('dev.tsv').slice(0, 250);
  const trained = (model, pre) => {
    const tok = new t.Tokenizer(model);
    tok.setPreTokenizer(pre);
    tok.train([trainFile]);
    const f = path.join(tmp, 'tok.json');
    tok.save(f);
    return JSON.parse(fs.readFileSync(f, 'utf8')).model;
  };
  const words = (pre, sentences) => {
    const seen = new Set();
    for (const s of sentences) for (const [w] of pre.preTokenizeString(s)) seen.add(w);
    return [...seen];
  };
  const cases = [];
  // Unigram trained on SST-2 (SentencePiece style), trimmed to its first pieces.
  const ms = t.metaspacePreTokenizer();
  const uni = trained(t.Unigram.empty(), ms);
  uni.vocab = uni.vocab.slice(0, 2500);
  uni.vocab.push(['<unk>', 0]); // the trainer sets none: add one so unknown characters fuse
  uni.unk_id = 2500;
  cases.push(await runModel('realistic-unigram-sst2', uni, words(ms, dev)));
  // Byte-level BPE trained on SST-2, cut to its first 3000 merges.
  const bl = t.byteLevelPreTokenizer();
  const bpeModel = trained(t.BPE.empty(), bl);
  bpeModel.merges = bpeModel.merges.slice(0, 3000);
  const keep = new Set(Object.keys(bpeModel.vocab).filter((k) => [...k].length === 1));
  for (const m of bpeModel.merges) { const [a, b] = Array.isArray(m) ? m : m.split(' '); keep.add(a); keep.add(b); keep.add(a + b); }
  bpeModel.vocab = Object.fromEntries(Object.entries(bpeModel.vocab).filter(([k]) => keep.has(k)));
  cases.push(await runModel('realistic-bpe-bytelevel-sst2', bpeModel, words(bl, dev)));
  // bert-base-uncased WordPiece, ids below 6000 (specials, characters and the
  // most frequent words and pieces).
  const bert = JSON.parse(fs.readFileSync(path.join(shared, 'tokenizers', 'bert-base-uncased', 'tokenizer.json'), 'utf8')).model;
  bert.vocab = Object.fromEntries(Object.entries(bert.vocab).filter(([, id]) => id < 6000));
  cases.push(await runModel('realistic-wordpiece-bert', bert, words(t.bertPreTokenizer(), dev.map((s) => s.toLowerCase()))));
  fs.rmSync(tmp, { recursive: true, force: true });
  return cases;
}

(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  // One case per line: compact, yet diffs stay readable.
  const write = (name, v) => fs.writeFileSync(path.join(OUT, name), '[\n' + v.map((c) => JSON.stringify(c)).join(',\n') + '\n]\n');
  write('wordpiece.json', await wordpiece());
  write('bpe.json', await bpe());
  write('unigram.json', await unigram());
  write('decoders.json', await decoders());
  const shared = process.argv[2] || path.join(__dirname, '..', '..', '..', 'shared');
  write('realistic.json', await realistic(shared));
  console.log('wrote', OUT);
})().catch((e) => { console.error(e); process.exit(1); });
