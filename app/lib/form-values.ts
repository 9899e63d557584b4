/**
 * Form fields converted for the admin procedures, never judged: the procedures' zod schemas and the
 * services refuse bad values with a message per field.
 */

/** What the person typed, trimmed: kept to show again beside a refusal. */
export function formTexts<K extends string>(form: FormData, names: readonly K[]): Record<K, string> {
  return Object.fromEntries(names.map((name) => [name, String(form.get(name) ?? '').trim()])) as Record<K, string>;
}

/** An empty box becomes a missing number (refused as such), not a silent 0. */
export function formNumbers<K extends string>(values: Record<K, string>, names: readonly K[]): Record<K, number> {
  return Object.fromEntries(names.map((name) => [name, values[name] === '' ? undefined : Number(values[name])])) as Record<K, number>;
}

/** Stored numbers as the form shows them. */
export function numberTexts<K extends string>(row: Record<K, number>, names: readonly K[]): Record<K, string> {
  return Object.fromEntries(names.map((name) => [name, String(row[name])])) as Record<K, string>;
}
