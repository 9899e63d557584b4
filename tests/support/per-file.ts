import { afterAll, beforeAll } from 'vitest';

/**
 * A value that exists from the test file's `beforeAll` to its `afterAll` (closed also when tests
 * fail), returned as a handle usable at module scope: every property read or method call goes to
 * the value once it exists, and fails with `what` named before that.
 */
export function perFile<T extends object>(what: string, open: () => Promise<T>, close: (value: T) => Promise<unknown>, openTimeoutMs?: number): T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await open();
  }, openTimeoutMs);
  afterAll(async () => {
    if (value) await close(value);
  });
  return deferred(what, () => value);
}

/** A stand-in for the object `get` returns once there is one (methods stay bound to it). */
export function deferred<T extends object>(what: string, get: () => T | undefined): T {
  const current = () => {
    const value = get();
    if (!value) throw new Error(`${what} exists only inside tests and hooks`);
    return value;
  };
  return new Proxy({} as T, {
    get(_, property) {
      const target = current();
      const member: unknown = Reflect.get(target, property, target);
      return typeof member === 'function' ? member.bind(target) : member;
    },
    has: (_, property) => Reflect.has(current(), property),
  });
}
