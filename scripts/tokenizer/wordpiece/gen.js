// Golden files for textclf's WordPiece trainer (tokenizer/wptrain.go), made by
// HF tokenizers (npm tokenizers@0.23.2, the Rust library's Node binding).
//
//   cd scripts/tokenizer/wordpiece && npm install --no-package-lock
//   node gen.js train  [SHARED]   # corpora + HF vocabularies -> tokenizer/testdata/wptrain/
//   node gen.js verify            # Go-written tokenizer.json loaded by HF -> hf-encodings.json
//                                 # (also checks HF re-saves it as the same JSON)
//
// SHARED is the team's shared folder (default ../../../../shared).
//
// What the binding allows, and what follows from it:
// - Tokenizer.train(files) is the only trainer entry point: it trains with
//   the model's default trainer, WordPieceTrainer::builder().build() (vocab
//   size 30000, min_frequency 0, no special tokens, no alphabet limit,
//   prefix "##"). The normalizer and pre-tokenizer are the tokenizer's own,
//   so those options (lowercase, strip_accents, handle_chinese_chars) are
//   set here through tokenizer.json. The corpora are small, so 30000 is
//   never reached: each vocabulary is the trainer's full merge sequence,
//   and the Go test derives smaller vocabulary sizes and special tokens from
//   it by the rules of bpe/trainer.rs (see tokenizer/wptrain_test.go).
// - HF's result is not reproducible from run to run: the "##c" tokens get
//   their ids in the iteration order of a randomly seeded hash map of words
//   (BpeTrainer::tokenize_words), and ties between pairs of equal count are
//   broken by those ids. So every configuration is trained RUNS times; each
//   run is a golden vocabulary of its own, and the Go test replays the run's
//   "##c" order (readable in the vocabulary: the ids right after the
//   alphabet) and must then produce that run's vocabulary exactly.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const tk = require('tokenizers');

const REPO = path.join(__dirname, '..', '..', '..');
const OUT = path.join(REPO, 'tokenizer', 'testdata', 'wptrain');
const RUNS = 3;

function lines(p) {
  return fs.readFileSync(p, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
}

// Corpora: fixed slices of the shared datasets (no randomness).
function corpora(shared) {
  const ds = path.join(shared, 'datasets');
  const sst = lines(path.join(ds, 'sst2/train.tsv')).slice(1).map((l) => l.split('\t')[1]);
  const waimai = lines(path.join(ds, 'waimai/waimai_10k.csv')).slice(1).map((l) => l.slice(l.indexOf(',') + 1));
  const thuc = lines(path.join(ds, 'thucnews/dev.txt')).map((l) => l.split('\t')[0]);
  const every = (a, stride, n) => a.filter((_, i) => i % stride === 0).slice(0, n);
  // waimai is sorted by label: take from both halves.
  const zh = [...every(waimai, 40, 100), ...every(waimai.slice(6000), 40, 100)];
  // A few lines with accents, mixed case, control characters and odd spaces.
  const extra = ['Café Déjà-vu naïve ÉCOLE über Straße', 'tab\there\u00a0nbsp\u3000ideographic', 'ctrl\u0001chars\u200bzero width',
    '中文English混合 mixed 文本', 'ＦＵＬＬ　ｗｉｄｔｈ ＡＢＣ', '##hash ## ###', 'emoji 😀😀 👍 ok'];
  return {
    en: [...every(sst, 97, 250), ...extra],
    zh: [...zh, ...extra],
    mixed: [...every(sst, 211, 120), ...every(thuc, 53, 120), ...extra],
  };
}

// Configurations: corpus + BertNormalizer options.
const CONFIGS = [
  { name: 'en-uncased', corpus: 'en', normalizer: { clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true } },
  { name: 'en-cased', corpus: 'en', normalizer: { clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false } },
  { name: 'zh', corpus: 'zh', normalizer: { clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true } },
  { name: 'mixed-nocjk-accents', corpus: 'mixed', normalizer: { clean_text: true, handle_chinese_chars: false, strip_accents: false, lowercase: true } },
];

function emptyTokenizer(normalizer) {
  return tk.Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [],
    normalizer: Object.assign({ type: 'BertNormalizer' }, normalizer),
    pre_tokenizer: { type: 'BertPreTokenizer' }, post_processor: null, decoder: null,
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: {} },
  }));
}

function vocabList(t) {
  const v = t.getVocab(true);
  const out = [];
  for (const [tok, id] of Object.entries(v)) {
    if (out[id] !== undefined) throw new Error(`duplicate id ${id}`);
    out[id] = tok;
  }
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) throw new Error(`missing id ${i}`);
  return out;
}

function train(shared) {
  fs.mkdirSync(OUT, { recursive: true });
  const cs = corpora(shared);
  for (const [name, text] of Object.entries(cs)) {
    fs.writeFileSync(path.join(OUT, `corpus-${name}.txt`), text.join('\n') + '\n');
  }
  for (const cfg of CONFIGS) {
    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const t = emptyTokenizer(cfg.normalizer);
      t.train([path.join(OUT, `corpus-${cfg.corpus}.txt`)]);
      runs.push(vocabList(t));
    }
    const distinct = new Set(runs.map((r) => r.join('\n'))).size;
    fs.writeFileSync(path.join(OUT, `hf-${cfg.name}.json`), JSON.stringify({
      reference: 'tokenizers@0.23.2 Tokenizer.train, default WordPieceTrainer (vocab_size 30000, min_frequency 0, no special tokens)',
      corpus: `corpus-${cfg.corpus}.txt`, normalizer: cfg.normalizer, runs,
    }) + '\n');
    console.log(`${cfg.name}: ${runs.map((r) => r.length).join(', ')} tokens; ${distinct} distinct vocabularies in ${RUNS} runs`);
  }
}

// Texts encoded by both HF (here) and Go (tokenizer/wptrain_test.go) with
// the tokenizer.json files Go's trainer wrote.
const SAMPLES = [
  'a great film', 'The movie was NOT good, sadly.', 'Café Déjà-vu naïve', '很快，好吃，味道足，量大',
  '中文English混合 mixed 文本', 'unknownwordzzqx ☃', '', '   ', 'emoji 😀 [MASK] [CLS] here',
  'ＦＵＬＬ　ｗｉｄｔｈ', 'hash ## #tag', 'straße ÉCOLE',
];

// The Go outputs verify checks: name -> textclf tokenizer train arguments.
const GO_RUNS = {
  'go-en': ['--corpus', 'corpus-en.txt', '--vocab-size', '600'],
  'go-mixed': ['--corpus', 'corpus-mixed.txt', '--corpus', 'corpus-zh.txt', '--vocab-size', '1500', '--min-frequency', '3', '--lowercase=false'],
};

function verify() {
  const result = { reference: 'tokenizers@0.23.2 Tokenizer.fromFile + encode', samples: SAMPLES, outputs: {} };
  for (const [name, args] of Object.entries(GO_RUNS)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wptrain-'));
    const full = args.map((a) => (a.startsWith('corpus-') ? path.join(OUT, a) : a));
    execFileSync('go', ['run', './cmd/textclf', 'tokenizer', 'train', ...full, '--output', dir], { cwd: REPO, stdio: 'inherit' });
    const json = fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8');
    const t = tk.Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    const vocabTxt = fs.readFileSync(path.join(dir, 'vocab.txt'), 'utf8').split('\n').slice(0, -1);
    const hfVocab = vocabList(t);
    if (vocabTxt.join('\n') !== hfVocab.join('\n')) throw new Error(`${name}: vocab.txt differs from the vocabulary HF loads`);
    // HF must hold the file as written: saving it again gives the same JSON
    // (keys in any order).
    t.save(path.join(dir, 'resaved.json'));
    const canon = (x) => JSON.stringify(x, (k, v) => (v && typeof v === 'object' && !Array.isArray(v)
      ? Object.keys(v).sort().reduce((o, key) => { o[key] = v[key]; return o; }, {}) : v));
    if (canon(JSON.parse(json)) !== canon(JSON.parse(fs.readFileSync(path.join(dir, 'resaved.json'), 'utf8')))) {
      throw new Error(`${name}: HF saves the tokenizer.json it loaded differently`);
    }
    const enc = [];
    for (const s of SAMPLES) {
      const single = t.encode(s);
      enc.push(single);
    }
    const pair = t.encode(SAMPLES[0], SAMPLES[1]);
    result.outputs[name] = { args, tokenizer_json: json, vocab_size: t.getVocabSize(true), encodings: enc, pair };
  }
  return result;
}

async function main() {
  const mode = process.argv[2];
  if (mode === 'train') {
    train(process.argv[3] || path.join(REPO, '..', 'shared'));
  } else if (mode === 'verify') {
    const r = verify();
    for (const o of Object.values(r.outputs)) {
      const encs = await Promise.all(o.encodings);
      o.encodings = encs.map((e) => ({ ids: e.getIds(), tokens: e.getTokens(), type_ids: e.getTypeIds() }));
      const p = await o.pair;
      o.pair = { ids: p.getIds(), tokens: p.getTokens(), type_ids: p.getTypeIds() };
      o.decoded = await Promise.all(encs.map((e) => tk.Tokenizer.fromString(o.tokenizer_json).decode(e.getIds(), true)));
    }
    fs.writeFileSync(path.join(OUT, 'hf-encodings.json'), JSON.stringify(r, null, 1) + '\n');
    console.log(`wrote hf-encodings.json (${Object.keys(r.outputs).length} tokenizers, ${SAMPLES.length} samples each)`);
  } else {
    console.error('usage: node gen.js train [SHARED] | node gen.js verify');
    process.exit(2);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
