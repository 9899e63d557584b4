/**
 * "You can try again at 15:32 (in about 4 minutes)." for a refusal's `retryAt`, in the reader's
 * own time zone (the server's message names UTC). `locale`/`timeZone` are for tests.
 */
export function describeRetry(retryAt: Date, now: Date, options: { locale?: string; timeZone?: string } = {}): string {
  const { locale, timeZone } = options;
  const time = retryAt.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', timeZone });
  const day = (d: Date) => d.toLocaleDateString(locale, { timeZone });
  const when = day(retryAt) === day(now) ? time : `${retryAt.toLocaleDateString(locale, { weekday: 'short', day: 'numeric', month: 'short', timeZone })} ${time}`;
  return `You can try again at ${when} (${relative(retryAt.getTime() - now.getTime())}).`;
}

function relative(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'in less than a minute';
  if (minutes < 60) return `in about ${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in about ${hours} hour${hours === 1 ? '' : 's'}`;
  return `in about ${Math.round(hours / 24)} days`;
}

/**
 * A submit form's refusal: the field errors to show beside their fields, or else one sentence for
 * the whole form, naming when a limit frees (cap, token budget) if the server said.
 */
export function describeSubmitError(error: { message: string; data?: unknown } | null): { fieldErrors: Record<string, string>; formError: string | null } {
  const data = error?.data as { fieldErrors?: Record<string, string> | null; retryAt?: string | null } | undefined;
  const fieldErrors = data?.fieldErrors ?? {};
  const retryAt = data?.retryAt ? new Date(data.retryAt) : null;
  const formError =
    error && Object.keys(fieldErrors).length === 0 ? [error.message, retryAt && describeRetry(retryAt, new Date())].filter(Boolean).join(' ') : null;
  return { fieldErrors, formError };
}
