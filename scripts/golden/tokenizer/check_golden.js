#!/usr/bin/env node
// check_golden.js checks the generated golden files for internal consistency (not against the reference:
// they are the reference's output): one line per input line, equal field lengths, offsets inside the text
// (in code points), padding and truncation lengths as the case asks, pad tokens only where the mask is 0.
//
// Usage: node check_golden.js <testdata/tokenizer dir>
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { readLines, readPairs } = require('./lib');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node check_golden.js <testdata/tokenizer dir>');
  process.exit(2);
}
const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
const up = (n, m) => (!m || n % m === 0 ? n : n + m - (n % m));
const cps = (s) => (s === null ? 0 : Array.from(s).length);
let lines = 0;
let errors = 0;
const fail = (c, i, msg) => {
  throw new Error(`${c.golden}:${i + 1}: ${msg}`);
};
for (const c of cases) {
  const file = path.join(dir, c.inputs);
  const inputs = c.inputs.endsWith('.tsv') ? readPairs(file) : readLines(file).map((l) => [l, null]);
  const golden = zlib.gunzipSync(fs.readFileSync(path.join(dir, c.golden))).toString('utf8').slice(0, -1).split('\n').map((l) => JSON.parse(l));
  if (golden.length !== inputs.length) fail(c, golden.length, `${golden.length} lines for ${inputs.length} inputs`);
  const p = c.padding || {};
  const fixed = p.strategy && p.strategy.fixed;
  const lens = [];
  golden.forEach((r, i) => {
    lines++;
    if (r.error) {
      errors++;
      return;
    }
    const [a, b] = inputs[i];
    for (const e of [r, ...r.overflowing]) {
      const n = e.ids.length;
      for (const k of ['type_ids', 'tokens', 'offsets', 'attention_mask', 'special_tokens_mask', 'word_ids']) {
        if (e[k].length !== n) fail(c, i, `${k} has ${e[k].length} entries for ${n} ids`);
      }
      if (c.truncation && n > up(Math.max(c.truncation.max_length, fixed || 0), p.pad_to_multiple_of)) fail(c, i, `${n} tokens`);
      const max = Math.max(cps(a), cps(b));
      for (const [s, t] of e.offsets) if (!(s >= 0 && s <= t && t <= max)) fail(c, i, `offset [${s},${t}] outside the text`);
      e.attention_mask.forEach((m, k) => {
        if (m === 0 && (!c.padding || e.tokens[k] !== p.pad_token || e.ids[k] !== p.pad_id)) fail(c, i, `masked token ${e.tokens[k]}`);
      });
      if (typeof e.decoded !== 'string' || typeof e.decoded_with_special !== 'string') fail(c, i, 'no decoded text');
    }
    if (fixed && r.ids.length < fixed) fail(c, i, `${r.ids.length} tokens, padding to ${fixed}`);
    if (p.pad_to_multiple_of && r.ids.length % p.pad_to_multiple_of) fail(c, i, `${r.ids.length} not a multiple of ${p.pad_to_multiple_of}`);
    lens.push(r.ids.length);
  });
  if (c.batch && p.strategy === 'batch_longest' && new Set(lens).size > 1) fail(c, 0, 'batch not padded to one length');
}
console.log(`check_golden: ${cases.length} cases, ${lines} lines (${errors} error lines) consistent`);
