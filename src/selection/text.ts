/**
 * Text to terms for the lexical ranker. Identifiers are split on camelCase, snake_case, kebab-case and
 * dots so `read_text_file`, `readTextFile` and `read-text-file` all yield read/text/file; stopwords go;
 * a light suffix stemmer folds plurals and -ing/-ed forms so "files" meets "file" and "reading" "read".
 */

const STOPWORDS = new Set(
  (
    'a an and are as at be but by can could do does for from get has have how i if in into is it its me my ' +
    'of on or our please should so some that the their them then there these this those to us use using want ' +
    'was we what when where which while who will with would you your via any all each let lets need needs not no'
  ).split(' '),
);

/** Splits text and identifiers into lowercase words (no stemming, stopwords kept). */
export function splitWords(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
}

/**
 * Words whose final "s" is not a plural, so folding it would merge them with another word: "news"
 * must not become "new" (a request for the news would meet every tool that starts a new session).
 */
const KEEP_S = new Set('news series species always perhaps whereas canvas atlas bias lens chaos ios macos christmas'.split(' '));

/**
 * Folds common English inflections; leaves short words alone so "is" or "bus" survive. Plurals go
 * first, then -ing/-ed (both, as Porter's steps 1a and 1b do, so "meetings", "meeting" and "meet" meet),
 * and -ing/-ed only go when a vowel is left, so "string" and "thing" stay whole. A final "e" is dropped
 * last, so create/created/creating all fold to "creat" and write/writing to "writ".
 */
export function stem(word: string): string {
  if (word.length <= 3 || /^\d+$/.test(word) || KEEP_S.has(word)) return word;
  return dropE(stripVerbSuffix(stripPlural(word)));
}

function dropE(word: string): string {
  return word.length > 3 && word.endsWith('e') && !word.endsWith('ee') ? word.slice(0, -1) : word;
}

function stripPlural(word: string): string {
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.endsWith('ches') || word.endsWith('shes') || word.endsWith('xes')) return word.slice(0, -2);
  if (word.endsWith('ss') || word.endsWith('us') || word.endsWith('is')) return word;
  if (word.endsWith('s')) return word.slice(0, -1);
  return word;
}

function stripVerbSuffix(word: string): string {
  // "speed", "feed", "proceed": -eed is part of the word far more often than a past tense.
  if (word.endsWith('eed')) return word;
  // copied → copy, applied → apply: the same word as the plural "copies" → "copy".
  if (word.endsWith('ied') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('ing') && word.length > 5 && VOWEL.test(word.slice(0, -3))) return undouble(word.slice(0, -3));
  if (word.endsWith('ed') && word.length > 4 && VOWEL.test(word.slice(0, -2))) return undouble(word.slice(0, -2));
  return word;
}

const VOWEL = /[aeiouy]/;

function undouble(word: string): string {
  return /([b-df-hj-np-tv-z])\1$/.test(word) && !/(ll|ss|zz)$/.test(word) ? word.slice(0, -1) : word;
}

/**
 * "APIs", "SKUs", "IDs": a plural acronym, which camelCase splitting would cut into "AP" + "Is" (or
 * "SK" + "Us"), is its singular.
 */
const ACRONYM_PLURAL = /([A-Z]{2,})s(?![a-z])/g;

/** word → its term, or null for a stopword. Catalogs repeat words endlessly; each is analysed once. */
const termOf = new Map<string, string | null>();
const TERM_CACHE_LIMIT = 200_000;

/** Terms for indexing or querying: split, stopwords dropped, stemmed. */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const word of splitWords(text.replace(ACRONYM_PLURAL, '$1 '))) {
    let term = termOf.get(word);
    if (term === undefined) {
      term = STOPWORDS.has(word) ? null : stem(word);
      if (termOf.size < TERM_CACHE_LIMIT) termOf.set(word, term);
    }
    if (term !== null) out.push(term);
  }
  return out;
}
