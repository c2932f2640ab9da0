// hf_train.js trains HF tokenizers' WordPiece (the Node binding's default
// WordPieceTrainer: vocab_size 30000, min_frequency 0, no alphabet limit,
// no special tokens) with a lower-casing BertNormalizer and BertPreTokenizer
// on CORPUS, prints the seconds Tokenizer.train took, and with OUT writes the
// vocabulary (one token a line, in id order).
//
//   NODE_PATH=scripts/tokenizer/wordpiece/node_modules node bench/wptrain/hf_train.js CORPUS [OUT]
'use strict';
const fs = require('fs');
const tk = require('tokenizers');

const [corpus, out] = process.argv.slice(2);
const t = tk.Tokenizer.fromString(JSON.stringify({
  version: '1.0', truncation: null, padding: null, added_tokens: [],
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' }, post_processor: null, decoder: null,
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: {} },
}));
const t0 = process.hrtime.bigint();
t.train([corpus]);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const v = t.getVocab(true);
const inv = [];
for (const [tok, id] of Object.entries(v)) inv[id] = tok;
if (out) fs.writeFileSync(out, inv.join('\n') + '\n');
console.log(`hf-train ${secs.toFixed(3)} s, ${inv.length} tokens, RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS || 'default'}`);
