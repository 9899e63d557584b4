import { createRandom, hash32, pick, type Random } from './random';
import { tokenize } from './tokens';

/**
 * Deterministic answers: the same seed, conversation and length always give the same tokens,
 * which is what lets a resumed stream be checked against an uncut one. Code requests get a fenced
 * TypeScript function named after the request; anything else gets prose. Every answer has exactly
 * tokenCount tokens, so run times are predictable.
 */

const codeRequest = /\b(code|function|implement|typescript|javascript|class|method|script|refactor|bug|fix|api|parse|algorithm|test)\b/i;

/** A reviewer asked for findings as JSON (server/services/review-findings.ts, REVIEW_FORMAT) answers in that form. */
const reviewRequest = /fenced ```json block holding an array of findings/;

const stopWords = new Set(
  ('a about an and are as at be by can could do does for from give how i in into is it make me my of on or ' +
    'please show so tell explain describe that the then this to using want we what when which why with would ' +
    'write you your ' +
    'implement create typescript javascript function code program class method simple small').split(' '),
);

const fillerNouns = ['input', 'value', 'record', 'item', 'entry', 'result', 'buffer', 'node', 'key', 'state'];
const verbs = ['handles', 'keeps', 'returns', 'checks', 'builds', 'tracks', 'groups', 'limits', 'sorts'];
const adjectives = ['empty', 'large', 'shared', 'stale', 'pending', 'invalid', 'nested', 'cached'];

/** Tokens left after the code block for the closing sentence. */
const closingTokens = 14;

/** Repeated prompts (benchmarks, retries) skip composing; long conversations are not kept. */
const cache = new Map<string, string[]>();
const cacheLimit = 512;
const cachedConversationChars = 4096;

export function answerTokens(seed: number, conversation: string, request: string, tokenCount: number): string[] {
  const key = `${seed}\u0000${tokenCount}\u0000${conversation}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const random = createRandom(hash32(conversation, seed));
  const words = keywords(request);
  const text = reviewRequest.test(conversation) ? reviewAnswer(random, request) : codeRequest.test(request) ? codeAnswer(random, words, tokenCount) : '';
  const tokens = tokenize(withProse(random, words, text, tokenCount)).slice(0, tokenCount);
  if (conversation.length <= cachedConversationChars) {
    if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value!);
    cache.set(key, tokens);
  }
  return tokens;
}

function keywords(request: string): string[] {
  const found = (request.toLowerCase().match(/[a-z][a-z0-9]{2,}/g) ?? []).filter((w) => !stopWords.has(w));
  return found.length > 0 ? [...new Set(found)] : ['value'];
}

function camel(parts: string[]): string {
  return parts.map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1))).join('');
}

function noun(random: Random, words: string[]): string {
  return random() < 0.5 ? pick(random, words) : pick(random, fillerNouns);
}

/** A complete function whose size fits tokenCount, leaving room for a closing sentence. */
function codeAnswer(random: Random, words: string[], tokenCount: number): string {
  const name = camel(words.slice(0, 3));
  const subject = pick(random, words);
  const list = subject.endsWith('s') ? subject : `${subject}s`;
  const head = [`Here is a TypeScript implementation of \`${name}\`.`, '', '```ts', `export function ${name}(${list}: readonly string[]): string[] {`, '  const result: string[] = [];'];
  const tail = ['  return result;', '}', '```', ''];
  let used = tokenize(head.concat(tail).join('\n')).length;
  const body: string[] = [];
  for (;;) {
    const line = codeLine(random, words, list, body.length);
    const cost = tokenize(`\n${line}`).length;
    if (used + cost > tokenCount - closingTokens) break;
    body.push(line);
    used += cost;
  }
  return [...head, ...body, ...tail].join('\n');
}

const findingMessages = [
  'This value is used before it is checked for null.',
  'The loop bound is off by one.',
  'An error here is swallowed silently.',
  'This name does not say what it holds.',
];
const severities = ['major', 'minor', 'info'];

/**
 * One or two findings on lines the request numbered (`  12| code`, or a diff's `  12 +code`),
 * as a fenced JSON block; an empty array when it numbered none.
 */
function reviewAnswer(random: Random, request: string): string {
  const lines = [...request.matchAll(/^\s*(\d+)(?:\||\s[+ ])/gm)].map((m) => Number(m[1]));
  const findings = lines.length === 0 ? [] : Array.from({ length: 1 + Math.floor(random() * 2) }, () => {
    const line = pick(random, lines);
    return { line, endLine: line, severity: pick(random, severities), message: pick(random, findingMessages), suggestion: null };
  });
  return ['```json', JSON.stringify(findings), '```', ''].join('\n');
}

function codeLine(random: Random, words: string[], list: string, i: number): string {
  const item = `${noun(random, words)}${i}`;
  switch (Math.floor(random() * 4)) {
    case 0:
      return `  if (${list}.length === ${i}) return result;`;
    case 1:
      return `  const ${item} = ${list}.map((entry) => entry.trim()).filter(Boolean);`;
    case 2:
      return `  for (const ${item} of ${list}) result.push(${item}.toLowerCase());`;
    default:
      return `  // ${pick(random, verbs)} the ${pick(random, adjectives)} ${noun(random, words)} first`;
  }
}

/** Appends sentences until the text has at least tokenCount tokens; the caller cuts the excess. */
function withProse(random: Random, words: string[], text: string, tokenCount: number): string {
  let out = text;
  // Counting sentence by sentence is cheap but can undercount where whitespace joins them.
  for (let i = 0, count = tokenize(out).length; count < tokenCount || tokenize(out).length < tokenCount; i++) {
    const sentence = (i === 0 || out.endsWith('\n') ? '' : i % 4 === 0 ? '\n\n' : ' ') + proseSentence(random, words);
    out += sentence;
    count += tokenize(sentence).length;
  }
  return out;
}

function proseSentence(random: Random, words: string[]): string {
  const first = noun(random, words);
  return `${first.charAt(0).toUpperCase()}${first.slice(1)} ${pick(random, verbs)} the ${pick(random, adjectives)} ${noun(random, words)} before the ${noun(random, words)}.`;
}
