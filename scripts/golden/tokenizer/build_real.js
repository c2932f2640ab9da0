#!/usr/bin/env node
// build_real.js copies the real tokenizer files into testdata/tokenizer and builds, with the HF tokenizers
// Node binding, the tokenizers that transformers' converters would produce from the slow files:
//
//   bert-base-uncased/tokenizer.json     copied
//   bert-base-chinese/tokenizer.json     copied
//   bert-base-chinese-vocab/             vocab.txt + tokenizer_config.json + config.json (slow BertTokenizer files);
//                                        checked here to give the same tokenizer as bert-base-chinese/tokenizer.json
//   gpt2/{vocab.json,merges.txt}         copied from encoder.json / vocab.bpe
//   gpt2/tokenizer.json                  what GPT2Converter builds from them
//   roberta-style/tokenizer.json         the same BPE with RobertaConverter's pipeline
//
// Usage: node build_real.js <shared tokenizers dir> <testdata/tokenizer dir>
'use strict';
const fs = require('fs');
const path = require('path');
const tk = require('tokenizers');
const { canon, readLines, readPairs } = require('./lib');

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node build_real.js <shared tokenizers dir> <out dir>');
  process.exit(2);
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
  fs.chmodSync(to, 0o644);
}

// writeJSON writes a tokenizer JSON the way the Rust serializer does (compact, stable key order is the
// serializer's own since we only round-trip through Tokenizer.fromString + save).
function saveTokenizer(tok, file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  tok.save(file, false);
}

async function sameEncodings(a, b, label) {
  const texts = readLines(path.join(out, 'corpus.txt'));
  const pairs = readPairs(path.join(out, 'pairs.tsv'));
  let n = 0;
  for (const t of texts) {
    for (const add of [true, false]) {
      const ea = canon(await a.encode(t, null, { addSpecialTokens: add }));
      const eb = canon(await b.encode(t, null, { addSpecialTokens: add }));
      if (JSON.stringify(ea) !== JSON.stringify(eb)) throw new Error(`${label}: differ on ${JSON.stringify(t)}`);
      n++;
    }
  }
  for (const [x, y] of pairs) {
    const ea = canon(await a.encode(x, y));
    const eb = canon(await b.encode(x, y));
    if (JSON.stringify(ea) !== JSON.stringify(eb)) throw new Error(`${label}: differ on pair ${JSON.stringify([x, y])}`);
    n++;
  }
  console.log(`${label}: ${n} encodings identical`);
}

async function main() {
  // 1. bert-base-uncased
  copy(path.join(src, 'bert-base-uncased/tokenizer.json'), path.join(out, 'bert-base-uncased/tokenizer.json'));

  // 2. bert-base-chinese, and its slow files.
  copy(path.join(src, 'bert-base-chinese/tokenizer.json'), path.join(out, 'bert-base-chinese/tokenizer.json'));
  for (const f of ['vocab.txt', 'tokenizer_config.json', 'config.json']) {
    copy(path.join(src, 'bert-base-chinese', f), path.join(out, 'bert-base-chinese-vocab', f));
  }
  // What transformers' BertConverter builds from vocab.txt + tokenizer_config.json: WordPiece with [UNK] and
  // "##", max 100 chars per word; BertNormalizer(clean_text, handle_chinese_chars=tokenize_chinese_chars=True,
  // strip_accents=None, lowercase=do_lower_case); BertPreTokenizer; TemplateProcessing [CLS] $A [SEP] / [CLS]
  // $A [SEP] $B:1 [SEP]:1; WordPiece decoder; the five special tokens as added special tokens.
  {
    const cfg = JSON.parse(fs.readFileSync(path.join(src, 'bert-base-chinese/tokenizer_config.json'), 'utf8'));
    const lower = cfg.do_lower_case === undefined ? true : cfg.do_lower_case;
    const vocabLines = fs.readFileSync(path.join(src, 'bert-base-chinese/vocab.txt'), 'utf8').split('\n');
    if (vocabLines[vocabLines.length - 1] === '') vocabLines.pop();
    const vocab = {};
    vocabLines.forEach((w, i) => {
      w = w.replace(/\r$/, '');
      if (!(w in vocab)) vocab[w] = i;
    });
    const tok = new tk.Tokenizer(tk.WordPiece.init(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }));
    tok.setNormalizer(tk.bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: lower }));
    tok.setPreTokenizer(tk.bertPreTokenizer());
    tok.setPostProcessor(tk.templateProcessing('[CLS]:0 $A:0 [SEP]:0', '[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1',
      [['[CLS]', vocab['[CLS]']], ['[SEP]', vocab['[SEP]']]]));
    tok.setDecoder(tk.wordPieceDecoder('##', true));
    tok.addAddedTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) =>
      new tk.AddedToken(t, true, { singleWord: false, leftStrip: false, rightStrip: false, normalized: false })));
    // Compare the JSON pipelines (strip_accents must come out null as in the hub file).
    const tmp = path.join(require('os').tmpdir(), 'bert-base-chinese-converted.json');
    tok.save(tmp, false);
    const mine = JSON.parse(fs.readFileSync(tmp, 'utf8'));
    const hub = JSON.parse(fs.readFileSync(path.join(src, 'bert-base-chinese/tokenizer.json'), 'utf8'));
    // The hub file's model has no "type" key (an older serialization; the Rust loader infers WordPiece from
    // the fields), so "type" is left out of the comparison.
    delete mine.model.type;
    for (const k of ['added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model']) {
      const a = JSON.stringify(sortKeys(mine[k]));
      const b = JSON.stringify(sortKeys(hub[k]));
      if (a !== b) {
        throw new Error(`bert-base-chinese: converted ${k} differs from tokenizer.json:\n${a.slice(0, 400)}\n${b.slice(0, 400)}`);
      }
    }
    console.log('bert-base-chinese: BertConverter-equivalent pipeline from vocab.txt equals tokenizer.json (all sections)');
    await sameEncodings(tok, tk.Tokenizer.fromFile(path.join(src, 'bert-base-chinese/tokenizer.json')), 'bert-base-chinese vocab.txt vs tokenizer.json');
  }

  // 3. gpt2: GPT2Converter.
  copy(path.join(src, 'gpt2/encoder.json'), path.join(out, 'gpt2/vocab.json'));
  copy(path.join(src, 'gpt2/vocab.bpe'), path.join(out, 'gpt2/merges.txt'));
  const vocabFile = path.join(out, 'gpt2/vocab.json');
  const mergesFile = path.join(out, 'gpt2/merges.txt');
  const bpeOpts = { continuingSubwordPrefix: '', endOfWordSuffix: '', fuseUnk: false };
  {
    const tok = new tk.Tokenizer(await tk.BPE.fromFile(vocabFile, mergesFile, bpeOpts));
    tok.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
    tok.setDecoder(byteLevelDecoder());
    tok.setPostProcessor(tk.byteLevelProcessing(false));
    tok.addAddedTokens([new tk.AddedToken('<|endoftext|>', true, { normalized: true })]);
    saveTokenizer(tok, path.join(out, 'gpt2/tokenizer.json'));
  }
  // 4. roberta-style: RobertaConverter on the same files.
  {
    const tok = new tk.Tokenizer(await tk.BPE.fromFile(vocabFile, mergesFile, bpeOpts));
    tok.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
    tok.setDecoder(byteLevelDecoder());
    tok.addAddedTokens([
      new tk.AddedToken('<s>', true, { normalized: true }),
      new tk.AddedToken('<pad>', true, { normalized: true }),
      new tk.AddedToken('</s>', true, { normalized: true }),
      new tk.AddedToken('<unk>', true, { normalized: true }),
      new tk.AddedToken('<mask>', true, { leftStrip: true, normalized: false }),
    ]);
    const s = tok.tokenToId('<s>');
    const e = tok.tokenToId('</s>');
    tok.setPostProcessor(tk.robertaProcessing(['</s>', e], ['<s>', s], true, false));
    saveTokenizer(tok, path.join(out, 'roberta-style/tokenizer.json'));
  }
  // Every saved file must load back and encode like the in-memory one did (checked by gen_golden too).
  for (const f of ['gpt2/tokenizer.json', 'roberta-style/tokenizer.json']) {
    tk.Tokenizer.fromFile(path.join(out, f));
  }
  console.log('wrote gpt2/tokenizer.json, roberta-style/tokenizer.json');
}

// The Node binding has no ByteLevel decoder constructor; the ByteLevel decoder is set through JSON.
function byteLevelDecoder() {
  const t = tk.Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: {}, merges: [] },
  }));
  return t.getDecoder();
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]);
    return o;
  }
  return v;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
