/**
 * Options for a transaction that takes an advisory lock. Its callers come in bursts (one user's
 * submits, a review's parallel items recording usage): each waits for the lock holding a pool
 * connection, the others wait for a connection, and both waits count toward Prisma's limits
 * (2 s to get a connection, 5 s in all, by default) — too little on a busy machine.
 */
export const LOCK_WAIT_TRANSACTION = { maxWait: 10_000, timeout: 20_000 } as const;
