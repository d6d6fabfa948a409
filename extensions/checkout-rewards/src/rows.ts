import type {RewardOption} from '@loyalty-loop/loyalty-ui';

/** How many reward rows the block always shows, and its skeleton reserves. */
export const ROWS = 2;

export interface Shown {
  /** Up to ROWS rewards: the affordable ones worth the most, then the nearest to unlock. */
  rows: RewardOption[];
  /** Affordable rewards left out of `rows`. */
  more: number;
}

/**
 * The block's height must not depend on how many rewards the balance affords (the page below
 * it would move when the data arrives), so it always shows ROWS rewards: the affordable ones
 * worth the most points (as the engagement emails pick "the best reward"), and when fewer are
 * affordable, the cheapest of the others, the next to unlock.
 */
export function shownRewards(rewards: RewardOption[]): Shown {
  const affordable = rewards.filter((r) => r.affordable).sort((a, b) => b.cost - a.cost);
  const locked = rewards.filter((r) => !r.affordable).sort((a, b) => a.cost - b.cost);
  const best = affordable.slice(0, ROWS);
  return {
    rows: [...best, ...locked.slice(0, ROWS - best.length)],
    more: affordable.length - best.length,
  };
}
