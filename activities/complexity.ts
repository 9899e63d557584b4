export type ReviewLevel = 'none' | 'standard' | 'thorough';

export interface Assessment {
  /** 1 (a one-liner) to 5 (a subsystem). */
  complexity: number;
  reviewLevel: ReviewLevel;
  /** Expected answer length, used for progress and capacity estimates. */
  expectedTokens: number;
}

const HEAVY_WORDS =
  /\b(architecture|concurren\w*|distributed|security|auth\w*|database|migration|protocol|parser|compiler|scheduler|cache|transaction\w*|refactor\w*|multi-?thread\w*)\b/gi;

/**
 * A cheap reading of how big a request is: length, the number of asked-for parts and words that
 * mark hard problems. It only steers the review depth and estimates; it never refuses a job.
 */
export function assessRequirements(requirements: string): Assessment {
  const words = requirements.split(/\s+/).filter(Boolean).length;
  const parts = (requirements.match(/^\s*([-*]|\d+[.)])\s+/gm) ?? []).length;
  const heavy = new Set((requirements.match(HEAVY_WORDS) ?? []).map((w) => w.toLowerCase())).size;
  const score = Math.log2(1 + words / 15) + parts * 0.5 + heavy;
  const complexity = Math.max(1, Math.min(5, Math.round(1 + score)));
  const reviewLevel: ReviewLevel = complexity <= 1 ? 'none' : complexity >= 4 ? 'thorough' : 'standard';
  return { complexity, reviewLevel, expectedTokens: 150 * complexity };
}
