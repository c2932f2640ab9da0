#!/usr/bin/env node
// gen_golden.js writes testdata/tokenizer/cases.json and testdata/tokenizer/golden/<name>.jsonl by running the
// HF tokenizers Node binding (the reference) on corpus.txt / pairs.tsv for every case of cases.js.
//
// Usage: node gen_golden.js <testdata/tokenizer dir> [case name ...]
// Each case runs in its own child process (`--one <name>`): the binding aborts the whole process on a Rust
// panic (for example a truncation stride that is too large), and a case that does so must not be written.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const zlib = require('zlib');
const { readLines, readPairs, canon } = require('./lib');
const { cases } = require('./cases');

async function runCase(dir, c) {
  const tk = require('tokenizers');
  const tok = tk.Tokenizer.fromFile(path.join(dir, c.reference || c.tokenizer));
  if (c.truncation) {
    const t = c.truncation;
    const strategy = { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' }[t.strategy];
    tok.setTruncation(t.max_length, { strategy, stride: t.stride, direction: t.direction });
  } else {
    tok.disableTruncation();
  }
  if (c.padding) {
    const p = c.padding;
    const o = { direction: p.direction, padId: p.pad_id, padTypeId: p.pad_type_id, padToken: p.pad_token };
    if (p.strategy !== 'batch_longest') o.maxLength = p.strategy.fixed;
    if (p.pad_to_multiple_of) o.padToMultipleOf = p.pad_to_multiple_of;
    tok.setPadding(o);
  } else {
    tok.disablePadding();
  }
  const file = path.join(dir, c.inputs);
  const inputs = c.inputs.endsWith('.tsv') ? readPairs(file) : readLines(file).map((l) => [l, null]);
  const opts = { addSpecialTokens: c.add_special_tokens };

  async function record(e) {
    const r = canon(e);
    r.decoded = await tok.decode(r.ids, true);
    r.decoded_with_special = await tok.decode(r.ids, false);
    return r;
  }
  async function full(e) {
    const r = await record(e);
    const ov = [];
    // Only the first level: for pairs the binding also nests overflowing inside overflowing (combinations
    // that the first level already holds); transformers reads only the first level too.
    for (const o of e.getOverflowing()) ov.push(await record(o));
    // Key order of the golden format.
    return {
      ids: r.ids, type_ids: r.type_ids, tokens: r.tokens, offsets: r.offsets, attention_mask: r.attention_mask,
      special_tokens_mask: r.special_tokens_mask, word_ids: r.word_ids, overflowing: ov,
      decoded: r.decoded, decoded_with_special: r.decoded_with_special,
    };
  }

  const out = [];
  if (!c.truncation) {
    if (c.batch) {
      if (c.inputs.endsWith('.tsv')) throw new Error('encodeBatch of the Node binding takes no pairs');
      const encs = await tok.encodeBatch(inputs.map(([a]) => a), opts);
      for (const e of encs) out.push(await full(e));
    } else {
      for (const [a, b] of inputs) {
        // An input the reference refuses gets a golden line {"error": message}.
        let e;
        try {
          e = await tok.encode(a, b, opts);
        } catch (err) {
          out.push({ error: String(err.message || err) });
          continue;
        }
        out.push(await full(e));
      }
    }
    return out;
  }

  // Truncation. Since 0.23.1, encode() with truncation stops tokenizing a sequence once max_length tokens
  // exist (huggingface/tokenizers#2091, fix pending in #2098): Encoding.overflowing misses the rest of the
  // text, word ids of left truncation count from the first kept word, and longest_first splits a pair by the
  // cut lengths instead of the real ones. The golden files hold the intended result instead (what encode()
  // did up to 0.22.2): each sequence is encoded without truncation by the same tokenizer minus its
  // post-processor, then Tokenizer.postProcess runs the reference's own truncation, post-processing and
  // padding on the two encodings. The lines whose main encoding differs from encode() of 0.23.2 are
  // counted and printed.
  const j = JSON.parse(fs.readFileSync(path.join(dir, c.reference || c.tokenizer), 'utf8'));
  j.post_processor = null;
  j.truncation = null;
  j.padding = null;
  const raw = tk.Tokenizer.fromString(JSON.stringify(j));
  const rawOpts = { addSpecialTokens: false };
  const mainKey = (r) => JSON.stringify(r.error ? r : canon(r));
  const viaPost = [];
  const viaEncode = [];
  for (const [a, b] of inputs) {
    const ea = await raw.encode(a, null, rawOpts);
    const eb = b === null ? null : await raw.encode(b, null, rawOpts);
    try {
      viaPost.push(tok.postProcess(ea, eb, c.add_special_tokens));
    } catch (err) {
      viaPost.push({ error: String(err.message || err) });
    }
    if (!c.batch) {
      try {
        viaEncode.push(await tok.encode(a, b, opts));
      } catch (err) {
        viaEncode.push({ error: String(err.message || err) });
      }
    }
  }
  if (c.batch) {
    if (c.inputs.endsWith('.tsv')) throw new Error('encodeBatch of the Node binding takes no pairs');
    viaEncode.push(...(await tok.encodeBatch(inputs.map(([a]) => a), opts)));
    // encodeBatch pads the whole batch (pad_encodings): to the longest main encoding, rounded up to
    // pad_to_multiple_of, overflowing parts included; done here with the reference's Encoding.pad.
    if (c.padding) {
      const p = c.padding;
      let n = p.strategy === 'batch_longest' ? Math.max(...viaPost.map((e) => e.getLength())) : p.strategy.fixed;
      if (p.pad_to_multiple_of && n % p.pad_to_multiple_of) n += p.pad_to_multiple_of - (n % p.pad_to_multiple_of);
      for (const e of viaPost) e.pad(n, { direction: p.direction, padId: p.pad_id, padTypeId: p.pad_type_id, padToken: p.pad_token });
    }
  }
  let differ = 0;
  let fits = 0;
  for (let i = 0; i < inputs.length; i++) {
    if (mainKey(viaPost[i]) !== mainKey(viaEncode[i])) {
      differ++;
      // A line that needs no truncation must come out the same both ways.
      if (!viaPost[i].error && viaPost[i].getOverflowing().length === 0) fits++;
    }
    out.push(viaPost[i].error ? viaPost[i] : await full(viaPost[i]));
  }
  if (fits) throw new Error(`${c.name}: ${fits} untruncated lines differ between postProcess and encode()`);
  process.stderr.write(`${c.name}: main encoding differs from encode() of 0.23.2 on ${differ} of ${inputs.length} lines\n`);
  return out;
}

function manifestEntry(c) {
  const m = {
    name: c.name, tokenizer: c.tokenizer, inputs: c.inputs, add_special_tokens: c.add_special_tokens,
    truncation: c.truncation || null, padding: c.padding || null, batch: !!c.batch, golden: c.golden,
  };
  if (c.note) m.note = c.note;
  return m;
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--one') {
    const [, dir, name] = args;
    const c = cases.find((x) => x.name === name);
    const lines = await runCase(dir, c);
    const dst = path.join(dir, c.golden);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    // gzip (deterministic: zlib writes no name and mtime 0) keeps the committed test data small.
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    fs.writeFileSync(dst + '.tmp', zlib.gzipSync(Buffer.from(text, 'utf8'), { level: 9 }));
    fs.renameSync(dst + '.tmp', dst);
    return;
  }
  const [dir, ...only] = args;
  if (!dir) {
    console.error('usage: node gen_golden.js <testdata/tokenizer dir> [case ...]');
    process.exit(2);
  }
  const names = new Set(cases.map((c) => c.name));
  if (names.size !== cases.length) throw new Error('duplicate case names');
  const failed = [];
  for (const c of cases) {
    if (only.length && !only.includes(c.name)) continue;
    if (c.golden_of) continue; // shares the golden file of another case
    const r = spawnSync(process.execPath, [__filename, '--one', dir, c.name], { encoding: 'utf8' });
    if (r.status === 0 && r.stderr) process.stdout.write(r.stderr);
    if (r.status !== 0) {
      failed.push(c.name);
      console.error(`FAILED ${c.name}: status ${r.status} signal ${r.signal}\n${(r.stderr || '').split('\n').slice(0, 4).join('\n')}`);
      continue;
    }
    const size = fs.statSync(path.join(dir, c.golden)).size;
    console.log(`${c.name}: ${c.golden} (${(size / 1024).toFixed(0)} KiB)`);
  }
  if (failed.length) {
    console.error('failed cases: ' + failed.join(', '));
    process.exit(1);
  }
  const manifest = cases.map(manifestEntry);
  const dst = path.join(dir, 'cases.json');
  fs.writeFileSync(dst + '.tmp', JSON.stringify(manifest, null, 1) + '\n');
  fs.renameSync(dst + '.tmp', dst);
  console.log(`cases.json: ${manifest.length} cases`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
