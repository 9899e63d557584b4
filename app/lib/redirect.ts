/** Only same-site paths, so a form cannot be used to bounce users to another site. */
export const safeRedirect = (to: string | null | undefined, fallback = '/projects') =>
  to && to.startsWith('/') && !to.startsWith('//') && !to.startsWith('/\\') ? to : fallback;
