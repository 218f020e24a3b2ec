/**
 * The patterns of tool poisoning, one rule per published attack class. A rule looks at one string of a
 * definition (a description, a parameter name, an enum value, a default) and returns the offending
 * spans. Rules aim at text addressed to a model — instructions, concealment, requests to read secrets
 * or to call other tools — not at what a tool does: a filesystem tool that reads files is not a
 * finding, a description telling the model to read `~/.ssh/id_rsa` is.
 */

/** The kinds of finding; each names a class of published attack. */
export type RuleId =
  | 'instruction-override'
  | 'concealment'
  | 'instruction-tag'
  | 'secret-access'
  | 'tool-hijack'
  | 'preference-manipulation'
  | 'hidden-unicode'
  | 'control-characters'
  | 'encoded-payload'
  | 'unexpected-url';

/** Where a string sits in a definition, which decides the rules that apply to it. */
export type FieldKind = 'description' | 'name' | 'value';

/** One offending span of one string. */
export interface RuleHit {
  rule: RuleId;
  /** Where in the string (UTF-16 offset). */
  index: number;
  /** The offending text as it appears (hidden characters are escaped by the caller). */
  span: string;
}

interface TextRule {
  rule: RuleId;
  pattern: RegExp;
}

/** Words that address the model or the agent rather than describe the tool. */
const ADDRESSEE = String.raw`(?:you|the (?:ai|assistant|model|llm|agent)|assistant|claude|gpt|chatgpt)`;

/**
 * Text rules over descriptions, long values, names that spell sentences and text hidden in tag
 * characters. Each pattern is written against phrasings of the published examples (Invariant Labs'
 * tool poisoning and shadowing, Trail of Bits' line jumping, CyberArk's full-schema poisoning, MCP
 * preference manipulation) with the wording around them varied; `bench scan` measures what they cost
 * on real catalogs and what they miss on paraphrases written afterwards (docs/security.md).
 */
const TEXT_RULES: readonly TextRule[] = [
  {
    rule: 'instruction-override',
    pattern: new RegExp(
      [
        String.raw`\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|every\s+)*(?:previous|prior|above|earlier|preceding|other|system|safety|existing|original)\s+(?:instructions?|prompts?|rules|directions|guidelines|messages|context)`,
        String.raw`\b(?:ignore|disregard|forget)\s+(?:all|everything)\s+(?:you\s+were\s+told|above|before)`,
        String.raw`\byou\s+are\s+now\s+(?:a|an|in)\b`,
        String.raw`\bnew\s+(?:system\s+)?instructions\s*:`,
        // A heading that opens a block for the model ("NOTE TO THE AI:"); "instructions for the assistant"
        // as what a parameter holds is not one, hence the colon.
        String.raw`\b(?:note|message|instructions?)\s+(?:to|for)\s+(?:the\s+)?(?:ai|assistant|model|llm|agent)s?(?:\s+(?:models?|agents?|assistants?))?\s*\**:`,
        String.raw`\b(?:reveal|print|output|repeat|leak)\s+(?:your|the)\s+system\s+prompt`,
        String.raw`\bsystem\s+override\b|\b(?:previous|prior|earlier|above)\s+(?:guidance|instructions|rules|directions)\s+(?:no\s+longer|does\s+not|do\s+not|don't)\s+apply`,
      ].join('|'),
      'gi',
    ),
  },
  {
    rule: 'concealment',
    pattern: new RegExp(
      [
        String.raw`\b(?:do\s+not|don't|never|must\s+not|should\s+not)\s+(?:tell|inform|mention|reveal|show|notify|alert|disclose|explain)\b[^.\n]{0,40}\b(?:the\s+)?user`,
        String.raw`\bwithout\s+(?:telling|informing|notifying|alerting|asking|mentioning\s+(?:it|this)\s+to)\s+the\s+user`,
        String.raw`\bno\s+need\s+to\s+(?:bring\s+(?:this|it)\s+up|mention|tell|inform)|\bkeep\s+(?:this|the\s+following|it)\s+between\b`,
        String.raw`\bthe\s+user\s+(?:must|should|need|may)\s+(?:not|never)\s+(?:know|see|notice|be\s+(?:told|informed|aware))`,
        String.raw`\b(?:hide|conceal|keep)\s+(?:this|it|these|that)\s+(?:\w+\s+){0,2}(?:from\s+the\s+user|secret|hidden)`,
        String.raw`\b(?:silently|secretly|covertly)\s+(?:send|pass|include|add|call|read|forward|upload|copy)`,
      ].join('|'),
      'gi',
    ),
  },
  {
    rule: 'instruction-tag',
    pattern:
      /<\s*\/?\s*(?:important|system|instructions?|hidden|secret|admin|critical|assistant|prompt|sys|directive|override)\s*>|\[\/?(?:INST|SYSTEM)\]|<\|(?:im_start|im_end|system|endoftext)\|>|<!--/gi,
  },
  {
    rule: 'secret-access',
    pattern: new RegExp(
      [
        // Files no tool description has a reason to point a model at.
        String.raw`~?/?\.ssh\b(?:/(?:id_\w+|authorized_keys|known_hosts|config))?|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\.gnupg\b|\bprivate[\s_-]+key\s+files?\b`,
        String.raw`\b(?:open|read|cat|load|copy)\s+(?:the\s+)?(?:file\s+)?(?:named\s+|called\s+)?\.env\b`,
        String.raw`\.aws/credentials|/etc/(?:passwd|shadow|sudoers)\b|\.(?:npmrc|netrc|pgpass|git-credentials|bash_history|zsh_history)\b`,
        String.raw`\.kube/config|\.docker/config\.json|\bmcp\.json\b|claude_desktop_config\.json|\.cursor/`,
        // "read/send … secrets": a verb of taking with a secret as its object, addressed to the model.
        String.raw`\b(?:read|send|pass|include|attach|upload|forward|leak|exfiltrate|copy|append|provide)\s+(?:the\s+|all\s+|any\s+|your\s+|its\s+)*(?:contents?\s+of\s+)?(?:(?:the|all|any|your)\s+)?(?:private\s+keys?|ssh\s+keys?|environment\s+variables|env\s+vars|\.env\b|credentials\s+files?|system\s+prompt|session\s+cookies)`,
        // What the user said is only sent somewhere by a tool that was told to; "include chat history" is a setting.
        String.raw`\b(?:put|send|pass|copy|append|forward)\s+(?:the\s+)?(?:last|previous|prior|earlier|recent)\s+(?:\w+\s+)?(?:user\s+)?(?:messages|conversation)`,
        String.raw`\b(?:send|pass|forward|upload|leak|exfiltrate|copy)\s+(?:the\s+|all\s+|any\s+|your\s+|its\s+|full\s+|entire\s+)*(?:conversation|chat)\s+history|\b(?:send|pass|forward|upload|leak|exfiltrate|include)\s+(?:the\s+|all\s+|full\s+|entire\s+)*(?:previous|prior|earlier|last)\s+messages`,
        String.raw`\b(?:read|cat|open|load)\b[^.\n]{0,60}\band\s+(?:then\s+)?(?:pass|send|put|include|append|provide)\s+(?:it|its\s+contents?|the\s+contents?|them)\s+(?:as|in|into|via)\b`,
      ].join('|'),
      'gi',
    ),
  },
  {
    rule: 'tool-hijack',
    pattern: new RegExp(
      [
        String.raw`\bbefore\s+(?:using|calling|invoking|running|executing)\s+(?:this|any|other|the)\s+(?:\w+\s+)?(?:tools?|functions?|commands?)\b[^.\n]{0,30}\b(?:you|must|always|first|read|call|pass)`,
        String.raw`\b(?:when(?:ever)?|if)\s+${ADDRESSEE}\s+(?:use|call|invoke|run|execute)s?\s+(?:the\s+|any\s+|another\s+)?[\w.\x60'"-]+\s+(?:tool|function)\b[^.\n]{0,40}\b(?:must|always|also|instead)`,
        String.raw`\b(?:when(?:ever)?|if)\s+the\s+[\w.\x60'"-]+\s+tool\s+is\s+(?:used|called|available|present|invoked)`,
        String.raw`\binstead\s+of\s+(?:using|calling)\s+(?:the\s+)?[\w.\x60'"-]+(?:\s+tool)?\s*,?\s+(?:always\s+)?(?:use|call)\b`,
        String.raw`\b(?:all|every)\s+(?:emails?|messages?|payments?|transfers?)\s+(?:must|should)\s+(?:be\s+)?(?:sent|forwarded|copied|routed|bcc)`,
        String.raw`\b${ADDRESSEE}\s+(?:must|should|shall|are\s+required\s+to)\s+(?:first\s+|always\s+|also\s+)?(?:call|invoke|use|run|execute)\s+(?:the\s+)?[\w.\x60'"-]+\s+(?:tool|function)\s+(?:first|before)`,
        String.raw`\bprefix\s+(?:every|each|all|any)\s+(?:shell\s+)?commands?\s+with\b`,
        String.raw`\b(?:every\s+time|each\s+time|whenever)\s+(?:the\s+|an?\s+|any\s+)?[\w.\x60'"-]+\s+(?:tool\s+)?(?:runs|is\s+(?:used|called|run|invoked)|is\s+being\s+\w+\s+with\s+any\s+tool)`,
        String.raw`\badd\s+\S+@\S+\s+(?:to|as|in)\s+(?:the\s+)?b?cc\b|\b(?:bcc|cc)\s+(?:every|all|each)\b`,
      ].join('|'),
      'gi',
    ),
  },
  {
    // A description that argues for its own selection over every other tool (MCP preference
    // manipulation); "always use this tool when…" is how honest tools say when they apply, so it is not.
    rule: 'preference-manipulation',
    pattern: new RegExp(
      [
        String.raw`\bprefer\s+this\s+tool\s+(?:over|to|above)\b`,
        String.raw`\b(?:always|must)\s+(?:prefer|choose|select|pick)\s+this\s+tool`,
        String.raw`\b(?:the\s+)?(?:best|only|most\s+(?:reliable|trusted|accurate|powerful))\s+tool\s+for\s+(?:every|any|all)\b`,
        String.raw`\b(?:do\s+not|don't|never)\s+(?:use|call|choose|select)\s+(?:any\s+)?other\s+tools?`,
        String.raw`\b(?:ignore|avoid|instead\s+of)\s+(?:all\s+|any\s+)?(?:the\s+)?other\s+tools`,
        String.raw`\b(?:better|superior)\s+(?:\w+\s+)?than\s+any\s+(?:other|alternative)`,
        String.raw`\bshould\s+be\s+(?:picked|chosen|used|selected|preferred)\s+for\s+(?:all|every|any)\b`,
        String.raw`\b(?:for|on)\s+(?:every|each|any)\s+(?:request|task|query|question|message)\b[^.
]{0,40}\b(?:use|call|choose)\s+this\s+tool`,
      ].join('|'),
      'gi',
    ),
  },
];

/**
 * Characters that change what a reader sees without being seen: zero-width, bidi controls, fillers,
 * and the tag and variation-selector blocks (U+E0000–U+E01EF, as surrogate pairs).
 */
const HIDDEN =
  // eslint-disable-next-line no-misleading-character-class -- the combining marks are listed on purpose: they are what hides
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]|\uDB40[\uDC00-\uDDEF]/g;
/** One character of {@link HIDDEN}, for looking at neighbours (no `g` flag: `test` keeps no state). */
// eslint-disable-next-line no-misleading-character-class -- as in HIDDEN: the combining marks are listed on purpose
const HIDDEN_ONE = new RegExp(`^(?:${HIDDEN.source})$`);
/** C0/C1 controls other than tab and line breaks, which is where ANSI escapes hide. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this rule looks for
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** A run that could be base64 or hex. */
const BASE64_RUN = /[A-Za-z0-9+/_-]{24,}={0,2}/g;
const HEX_RUN = /\b(?:[0-9a-fA-F]{2}){16,}\b/g;
/** Longer than any identifier or digest a description has a reason to hold. */
const BLOB_CHARS = 200;
const URL = /\b(?:https?|ftp|wss?):\/\/[^\s<>"'`)\]]+/gi;
/** Hosts made for receiving data from anyone (exfiltration endpoints in published attacks). */
const COLLECTOR_HOST =
  /(?:ngrok(?:-free)?\.(?:io|app|dev)|webhook\.site|requestbin|pipedream\.net|burpcollaborator|interact\.sh|oast\.|beeceptor|hookbin|\b(?:\d{1,3}\.){3}\d{1,3}\b)/i;

/** Parameter names that ask for a secret by their spelling (full-schema poisoning puts the request there). */
const SECRET_NAME =
  /id_(?:rsa|dsa|ecdsa|ed25519)|ssh_?(?:key|id|private)|dot_?ssh|mcp_?json|aws_?credentials|etc_?passwd|(?:send|share|leak|upload|give)_?(?:me_?|us_?)?(?:your|all|the)_?(?:api_?keys?|secrets?|passwords?|credentials?|tokens?)/i;

/**
 * The matches of a global pattern, after a `test` that rejects most strings without building an
 * iterator: a catalog's 150,000 short strings mostly match nothing, and the iterators cost more than
 * the matching.
 */
function matches(text: string, pattern: RegExp): IterableIterator<RegExpExecArray> | readonly never[] {
  pattern.lastIndex = 0;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return found ? text.matchAll(pattern) : [];
}

/** Runs every text rule over `text`. */
function textHits(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const { rule, pattern } of TEXT_RULES) {
    for (const match of matches(text, pattern)) hits.push({ rule, index: match.index, span: match[0] });
  }
  return hits;
}

/** Hidden characters, grouped into runs so a smuggled message is one finding. */
function hiddenHits(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const match of matches(text, HIDDEN)) {
    // A zero-width joiner between two emoji is how emoji are spelled, not a hiding place.
    if (match[0] === '\u200D' && isEmojiJoin(text, match.index)) continue;
    if (isScriptJoiner(text, match.index, match[0])) continue;
    const last = hits.at(-1);
    if (last && last.index + last.span.length === match.index) last.span += match[0];
    else hits.push({ rule: 'hidden-unicode', index: match.index, span: match[0] });
  }
  for (const match of matches(text, CONTROL)) hits.push({ rule: 'control-characters', index: match.index, span: match[0] });
  return hits;
}

/**
 * One joiner or direction mark between two letters of a script that needs it (ZWNJ in Persian and
 * Indic words, RLM/LRM beside Hebrew or Arabic) is spelling; smuggling needs runs or Latin text.
 */
function isScriptJoiner(text: string, index: number, char: string): boolean {
  if (!['\u200C', '\u200D', '\u200E', '\u200F'].includes(char)) return false;
  const before = text[index - 1] ?? '';
  const after = text[index + 1] ?? '';
  const letter = (c: string) => /[\p{L}\p{M}]/u.test(c) && c.charCodeAt(0) > 0x024f;
  const isolated = !HIDDEN_ONE.test(before) && !HIDDEN_ONE.test(after);
  return isolated && (letter(before) || letter(after)) && (letter(before) || /[\s\p{P}]|^$/u.test(before));
}

function isEmojiJoin(text: string, index: number): boolean {
  const before = text.codePointAt(Math.max(0, index - 2)) ?? 0;
  const after = text.codePointAt(index + 1) ?? 0;
  const emoji = (code: number) => code >= 0x1f000 || (code >= 0x2600 && code <= 0x27bf);
  return emoji(before) || emoji(after) || text.charCodeAt(index - 1) === 0xfe0f;
}

/**
 * Encoded payloads: a base64 or hex run that decodes to words (an instruction smuggled past a reader)
 * is a finding whatever its length; any run longer than {@link BLOB_CHARS} is one as well. Short
 * random runs (ids, digests, keys in examples) are not.
 */
function encodedHits(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  const seen = new Set<number>();
  for (const match of matches(text, HEX_RUN)) {
    seen.add(match.index);
    const decoded = Buffer.from(match[0], 'hex').toString('latin1');
    if (match[0].length > BLOB_CHARS || isWords(decoded))
      hits.push({ rule: 'encoded-payload', index: match.index, span: match[0] });
  }
  for (const match of matches(text, BASE64_RUN)) {
    if (seen.has(match.index) || !/[0-9+/=]/.test(match[0]) || !/[a-z]/.test(match[0]) || !/[A-Z]/.test(match[0])) continue;
    const decoded = Buffer.from(match[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1');
    if (match[0].length > BLOB_CHARS || isWords(decoded))
      hits.push({ rule: 'encoded-payload', index: match.index, span: match[0] });
  }
  return hits;
}

/** True when decoded bytes read as text: printable, with spaces between letter runs. */
function isWords(decoded: string): boolean {
  if (decoded.length < 12) return false;
  const printable = decoded.replace(/[^\x20-\x7E\n]/g, '').length / decoded.length;
  const words = decoded.match(/[A-Za-z]{2,}/g)?.length ?? 0;
  return printable > 0.95 && /\s/.test(decoded) && words >= 3;
}

/**
 * URLs where a definition has no reason to hold one: a collector host or an IP address anywhere, and
 * in a parameter's values (default, enum, examples) any URL unless the parameter is itself a URL.
 */
function urlHits(text: string, { kind, urlParameter }: { kind: FieldKind; urlParameter: boolean }): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const match of matches(text, URL)) {
    const host = /^[a-z]+:\/\/([^/?#]+)/i.exec(match[0])?.[1] ?? '';
    const collector = COLLECTOR_HOST.test(host) && !/^(?:127\.|0\.0\.0\.0|localhost)/.test(host);
    if (collector || (kind === 'value' && !urlParameter))
      hits.push({ rule: 'unexpected-url', index: match.index, span: match[0] });
  }
  return hits;
}

/**
 * Every rule that applies to one string of a definition. Names and values get the Unicode, control and
 * URL rules (instructions live in prose); descriptions get all of them, and text spelled in invisible
 * tag characters is read out and scanned as well.
 */
export function scanText(text: string, { kind, urlParameter = false }: { kind: FieldKind; urlParameter?: boolean }): RuleHit[] {
  const hits = [...hiddenHits(text), ...urlHits(text, { kind, urlParameter })];
  if (kind === 'name') {
    const secret = SECRET_NAME.exec(text);
    if (secret) hits.push({ rule: 'secret-access', index: secret.index, span: text });
    // A name long enough to be a sentence is read as one (full-schema poisoning spells orders in names).
    const words = text.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_\-.]+/g, ' ');
    // Secrets in names are SECRET_NAME's: "includeSystemPrompt" is a setting, not a request.
    if (words.split(' ').length >= 4) {
      for (const hit of textHits(words)) if (hit.rule !== 'secret-access') hits.push({ ...hit, span: text });
    }
    return hits;
  }
  // Text rules read what a model reads: hidden characters removed, so they cannot split a phrase.
  const hidden = hits.some((hit) => hit.rule === 'hidden-unicode');
  const visible = hidden ? text.replace(HIDDEN, '') : text;
  hits.push(...textHits(visible), ...encodedHits(text));
  // Tag characters are surrogate pairs led by U+DB40; without one there is nothing to read out.
  const tags = text.includes('\uDB40') ? tagText(text) : '';
  if (tags) hits.push(...textHits(tags).map((hit) => ({ ...hit, span: `${hit.span} (in tag characters)` })));
  return hits;
}

/** The ASCII text spelled in Unicode tag characters (U+E0020–U+E007E), which renders as nothing. */
function tagText(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0xe0020 && code <= 0xe007e) out += String.fromCharCode(code - 0xe0000);
  }
  return out;
}
