/**
 * Token counts with a real tokenizer: cl100k_base, from the ranks that ship in js-tiktoken (so counting
 * needs no network). Used to show what the gateway saves against loading the whole catalog, in the HTTP
 * metrics (counted off the request path, http/tokenTally.ts) and over whole catalogs (benchmarks), so
 * it only counts and never builds token arrays.
 *
 * The split (the cl100k pattern) and the byte-pair merge are js-tiktoken's own, step for step, and give
 * the same count as `encode(text).length`; what differs is the bookkeeping. js-tiktoken keeps every rank
 * twice (a map keyed by comma-joined byte lists plus one Uint8Array per token for decoding: about 35 MB
 * of heap, and 100 MB of transient allocation to build) and encodes each piece into a fresh byte array
 * and string. Here a rank is keyed by the piece's bytes as a one-byte string, which for ASCII is the
 * piece itself, so the common piece costs one map lookup and no allocation. Texts that contain a special
 * token go to js-tiktoken itself, which rejects them as before.
 */
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';

/** The shape of a js-tiktoken ranks module. */
interface Ranks {
  pat_str: string;
  special_tokens: Record<string, number>;
  /** Lines of `<prefix> <first rank> <base64 token> <base64 token> …`, ranks counting up. */
  bpe_ranks: string;
}

/** Pieces that needed merging, remembered up to this many: catalogs repeat the same words endlessly. */
const MERGED_CACHE_LIMIT = 10_000;

const NON_ASCII = /[\u0080-\uffff]/;

/** Counts tokens of one encoding; build it once (the ranks take ~100 ms to read). */
class TokenCounter {
  readonly #ranks = new Map<string, number>();
  readonly #pattern: RegExp;
  readonly #special: string[];
  readonly #merged = new Map<string, number>();
  readonly #source: Ranks;
  #reference: Tiktoken | undefined;

  constructor(source: Ranks) {
    this.#source = source;
    this.#pattern = new RegExp(source.pat_str, 'ug');
    this.#special = Object.keys(source.special_tokens);
    for (const line of source.bpe_ranks.split('\n')) {
      if (line.length === 0) continue;
      const fields = line.split(' ');
      const first = Number.parseInt(fields[1]!, 10);
      for (let i = 2; i < fields.length; i++) {
        this.#ranks.set(Buffer.from(fields[i]!, 'base64').toString('latin1'), first + i - 2);
      }
    }
  }

  count(text: string): number {
    if (text.includes('<|') && this.#special.some((token) => text.includes(token))) {
      // Special tokens are disallowed by default; js-tiktoken throws the error callers already know.
      this.#reference ??= new Tiktoken(this.#source);
      return this.#reference.encode(text).length;
    }
    const pattern = this.#pattern;
    pattern.lastIndex = 0;
    let tokens = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      // The pattern never matches empty text; were it to, step past it as matchAll does.
      if (match[0].length === 0) pattern.lastIndex += 1;
      else tokens += this.#pieceTokens(match[0]);
    }
    return tokens;
  }

  #pieceTokens(piece: string): number {
    const bytes = NON_ASCII.test(piece) ? Buffer.from(piece, 'utf8').toString('latin1') : piece;
    if (bytes.length === 1 || this.#ranks.has(bytes)) return 1;
    let tokens = this.#merged.get(bytes);
    if (tokens === undefined) {
      tokens = mergedTokens(bytes, this.#ranks);
      if (this.#merged.size < MERGED_CACHE_LIMIT) this.#merged.set(bytes, tokens);
    }
    return tokens;
  }
}

/**
 * js-tiktoken's `bytePairEncode(piece).length`: repeatedly join the adjacent pair with the lowest rank
 * (the first one on ties) until no pair has a rank, then count the parts that have one. `bytes` holds
 * one byte per character; `starts` holds where each part begins.
 */
function mergedTokens(bytes: string, ranks: ReadonlyMap<string, number>): number {
  const starts = Array.from({ length: bytes.length }, (_, i) => i);
  const endOf = (part: number) => (part < starts.length ? starts[part]! : bytes.length);
  while (starts.length > 1) {
    let best = -1;
    let bestRank = 0;
    for (let i = 0; i < starts.length - 1; i++) {
      const rank = ranks.get(bytes.slice(starts[i], endOf(i + 2)));
      if (rank !== undefined && (best < 0 || rank < bestRank)) {
        best = i;
        bestRank = rank;
      }
    }
    if (best < 0) break;
    starts.splice(best + 1, 1);
  }
  let tokens = 0;
  for (let i = 0; i < starts.length; i++) if (ranks.has(bytes.slice(starts[i], endOf(i + 1)))) tokens += 1;
  return tokens;
}

let counter: TokenCounter | undefined;

/** cl100k tokens of `text`. */
export function countTokens(text: string): number {
  counter ??= new TokenCounter(cl100k);
  return counter.count(text);
}

/** cl100k tokens of `value` serialised as JSON. */
export function countJsonTokens(value: unknown): number {
  return countTokens(JSON.stringify(value));
}
