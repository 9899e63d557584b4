import { z } from 'zod';
import { wellFormed } from '../services/text-input';

// No server-only imports here: the sign-up page's component shows these rules too.

export const MIN_PASSWORD_LENGTH = 10;

// Upper bound: argon2 of a megabyte-long "password" is a cheap way to burn our CPU.
export const newPasswordInput = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`)
  .max(200, 'Use at most 200 characters.');

/** Sign-up form, shared by the Remix action and tests. */
export const signUpInput = z.object({
  name: wellFormed(z.string().trim().min(1, 'Enter your name.').max(100, 'Keep your name under 100 characters.'), 'Your name'),
  email: z.string().trim().toLowerCase().max(254, 'Use at most 254 characters.').pipe(z.email('Enter a valid email address.')),
  password: newPasswordInput,
});
export type SignUpInput = z.infer<typeof signUpInput>;
