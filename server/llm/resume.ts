/**
 * Cloud APIs do not reliably continue a trailing assistant message (some reject it, some start
 * a new answer), so cloud resumes append the partial answer and then ask for the rest.
 */
export const continueInstruction = 'Continue exactly where you stopped, without repeating anything.';
