import { createContext, useContext } from 'react';

/**
 * The Content-Security-Policy nonce of the page being rendered on the server
 * (app/entry.server.tsx provides it). In the browser there is none: scripts already ran, and
 * browsers hide a nonce from the DOM anyway.
 */
export const NonceContext = createContext<string | undefined>(undefined);

export const useNonce = () => useContext(NonceContext);
