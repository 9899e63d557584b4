import { z } from 'zod';

// Every text a person types goes through `wellFormed` (directly or through the helpers below), so
// text the database cannot hold is refused at the edge with the field's name, never a 500.
// No server-only imports: pages show these rules too.

// PostgreSQL text cannot hold NUL (the insert fails), and a lone UTF-16 surrogate has no UTF-8
// form (the driver would store U+FFFD in its place): both are refused as input instead.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * `schema`, refusing control characters other than tab and line breaks (NUL among them) and
 * lone surrogates, each with a sentence naming `label`.
 */
export function wellFormed(schema: z.ZodString, label: string): z.ZodString {
  return schema
    .refine((text) => !CONTROL.test(text), `${label} must not contain control characters.`)
    .refine((text) => !LONE_SURROGATE.test(text), `${label} is not valid text (it holds a broken character).`);
}
/** A whole number a person types, with its label in the message. */
export const whole = (what: string) => z.number({ error: `${what} must be a whole number.` }).int(`${what} must be a whole number.`);

/** Free text a person types (descriptions): trimmed, bounded, printable, well-formed. */
export function plainText(label: string, max: number) {
  return wellFormed(z.string().trim().max(max, `${label} must be at most ${max.toLocaleString('en-US')} characters.`), label);
}

/**
 * A model name as Ollama and OpenAI-compatible servers spell them (`qwen2.5-coder:7b`,
 * `hf.co/org/model:q4_k_m`, `gpt-4o-mini-2024-07-18`, `ft:gpt-4o-mini:org::id`).
 */
export function modelName(label: string): z.ZodString {
  return z
    .string()
    .trim()
    .min(1, `${label} is required.`)
    .max(200, `${label} must be at most 200 characters.`)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/, `${label} may use letters, digits and . _ : / @ + - only, starting with a letter or digit.`);
}
