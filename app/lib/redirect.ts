// Browsers drop tabs and newlines from URLs and read `\` as `/`, so `/\t/evil.example` and
// `/\evil.example` both become `//evil.example`, another site.
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const UNSAFE = /[\u0000-\u001F\u007F\\]/;

/** Only same-site paths, so a form cannot be used to bounce users to another site. */
export const safeRedirect = (to: string | null | undefined, fallback = '/projects') =>
  to && to.startsWith('/') && !to.startsWith('//') && !UNSAFE.test(to) ? to : fallback;
