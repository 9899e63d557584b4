/** When each user acts, in milliseconds after the scenario starts. */
export type Arrivals = number[];

/** Every user at the same moment. */
export const burst = (users: number): Arrivals => Array.from({ length: users }, () => 0);

/** Evenly spaced arrivals at `perSecond` for `seconds`. */
export const steady = (perSecond: number, seconds: number): Arrivals =>
  Array.from({ length: Math.round(perSecond * seconds) }, (_, i) => (i * 1000) / perSecond);
