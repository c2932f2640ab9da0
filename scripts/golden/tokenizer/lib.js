'use strict';
// Shared helpers of the golden generators.
const fs = require('fs');

// readLines returns the lines of a corpus file: split on '\n' only, the final '\n' ends the last line.
function readLines(file) {
  const s = fs.readFileSync(file, 'utf8');
  if (!s.endsWith('\n')) throw new Error(`${file}: must end with a newline`);
  return s.slice(0, -1).split('\n');
}

// readPairs returns [text, pair] for every line of a pairs file, split at the first tab.
function readPairs(file) {
  return readLines(file).map((l, i) => {
    const k = l.indexOf('\t');
    if (k < 0) throw new Error(`${file}:${i + 1}: no tab`);
    return [l.slice(0, k), l.slice(k + 1)];
  });
}

// canon turns an Encoding into the plain fields of a golden line (without overflowing and decoding).
function canon(e) {
  return {
    ids: e.getIds(),
    type_ids: e.getTypeIds(),
    tokens: e.getTokens(),
    offsets: e.getOffsets(),
    attention_mask: e.getAttentionMask(),
    special_tokens_mask: e.getSpecialTokensMask(),
    word_ids: e.getWordIds().map((w) => (w === undefined ? null : w)),
  };
}

module.exports = { readLines, readPairs, canon };
