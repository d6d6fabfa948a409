import {LoyaltyApiError} from './client';
import type {ApiErrorBody, ReferralInvite} from './contract';

/**
 * The widget's member contract (GET /proxy/member), which the customer account page reads from
 * /api/account/member with the session token instead of the app proxy's signature.
 */

export interface MemberPoints {
  available: number;
  pending: number;
  lifetime: number;
  /** ISO date (shop's calendar) when the next pending points unlock; null when none wait. */
  pending_until: string | null;
}

export interface MemberTier {
  name: string;
  next: string | null;
  progress: number;
  spend_to_next: string | null;
}

export interface RewardOption {
  id: number;
  title: string;
  cost: number;
  affordable: boolean;
}

/** A reward code an order can still use; `apply_url` puts it in the store's cart. */
export interface RewardCode {
  code: string;
  title: string;
  apply_url: string;
}

export interface ActivityEntry {
  /** ISO date of the entry. */
  at: string;
  points: number;
  kind: string;
  label: string;
  status: string;
}

/** GET /api/account/member, the same keys as /proxy/member. */
export interface MemberAccount {
  member: {first_name: string | null; birthday: string | null};
  points: MemberPoints;
  tier: MemberTier | null;
  rewards: RewardOption[];
  codes: RewardCode[];
  referral: ReferralInvite | null;
  activity: ActivityEntry[];
  /** The shop's currency (ISO 4217): amounts such as `tier.spend_to_next` are in it. */
  currency: string;
}

/** POST /api/account/redeem: the new code and what changed with it. */
export interface RedeemAnswer
  extends Pick<MemberAccount, 'points' | 'rewards' | 'codes' | 'activity'> {
  redemption: RewardCode;
}

export interface AccountClient {
  member(): Promise<MemberAccount>;
  redeem(rewardId: number, requestKey: string): Promise<RedeemAnswer>;
  saveBirthday(birthday: string): Promise<MemberAccount>;
}

export interface AccountClientOptions {
  appUrl: string;
  sessionToken: () => Promise<string>;
  /** The customer's language (`shopify.localization.language`): the backend writes the text
   * it sends (default reward titles, tier names, activity) in it. */
  locale?: () => string | undefined;
  fetch?: typeof fetch;
}

/** GET /api/checkout/rewards: what the checkout block offers. */
export type CheckoutRewards = Pick<MemberAccount, 'points' | 'rewards' | 'codes'>;

/** POST /api/checkout/rewards/return: the code is gone and its points are back. */
export interface ReturnAnswer extends Pick<MemberAccount, 'points' | 'rewards' | 'codes'> {
  returned: string;
}

export interface CheckoutRewardsClient {
  rewards(): Promise<CheckoutRewards>;
  redeem(rewardId: number, requestKey: string): Promise<RedeemAnswer>;
  returnCode(code: string): Promise<ReturnAnswer>;
}

/** One JSON call with the session token as the bearer credential; errors as LoyaltyApiError. */
function bearerCaller(options: AccountClientOptions, prefix: string) {
  const appUrl = options.appUrl.replace(/\/+$/, '');
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  return async function call<T>(path: string, body?: unknown): Promise<T> {
    if (!appUrl) {
      throw new LoyaltyApiError('not_configured', 0, 'The app URL was not set at build time.');
    }
    const token = await options.sessionToken();
    const locale = options.locale?.();
    const query = locale ? `?${new URLSearchParams({locale})}` : '';
    let response: Response;
    try {
      response = await send(`${appUrl}${prefix}${path}${query}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : {'Content-Type': 'application/json'}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new LoyaltyApiError('network_error', 0, String(error));
    }
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      const failure = (answer ?? {}) as Partial<ApiErrorBody>;
      throw new LoyaltyApiError(
        failure.error ?? `http_${response.status}`,
        response.status,
        failure.message ?? response.statusText,
      );
    }
    return answer as T;
  };
}

/** Calls /api/account/* with the customer account session token. */
export function createAccountClient(options: AccountClientOptions): AccountClient {
  const call = bearerCaller(options, '/api/account/');
  return {
    member: () => call<MemberAccount>('member'),
    redeem: (rewardId, requestKey) =>
      call<RedeemAnswer>('redeem', {reward_id: rewardId, request_key: requestKey}),
    saveBirthday: (birthday) => call<MemberAccount>('birthday', {birthday}),
  };
}

/** Calls /api/checkout/rewards* with the checkout session token. */
export function createCheckoutRewardsClient(options: AccountClientOptions): CheckoutRewardsClient {
  const call = bearerCaller(options, '/api/checkout/rewards');
  return {
    rewards: () => call<CheckoutRewards>(''),
    redeem: (rewardId, requestKey) =>
      call<RedeemAnswer>('/redeem', {reward_id: rewardId, request_key: requestKey}),
    returnCode: (code) => call<ReturnAnswer>('/return', {code}),
  };
}
