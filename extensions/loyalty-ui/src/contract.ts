/**
 * The checkout API's JSON, as served by /api/checkout/* (design.md §4). The extensions render
 * what the backend computed; they never derive points from the order themselves.
 */

/**
 * Where this order's points stand. `preview`: computed before the orders/paid webhook;
 * `not_eligible`: the order earns nothing (a test order, or cancelled before it was paid).
 */
export type OrderPointsStatus = 'pending' | 'preview' | 'available' | 'reversed' | 'not_eligible';

export interface OrderPoints {
  id: string;
  name: string;
  points: number;
  status: OrderPointsStatus;
  /** ISO date (shop's calendar) when pending points become spendable; null once available. */
  unlocks_on: string | null;
}

export interface TierProgress {
  name: string;
  /** Name of the next tier; null at the top tier. */
  next: string | null;
  /** 0..1 of the way to the next tier. */
  progress: number;
  /** Spend still needed for the next tier, a decimal string in the shop's currency. */
  spend_to_next: string | null;
}

export interface MemberSummary {
  first_name: string | null;
  points: {available: number; pending: number};
  tier: TierProgress | null;
}

export interface ReferralInvite {
  code: string;
  url: string;
  share_text: string;
}

export interface GuestClaim {
  claim_url: string;
  points: number;
}

export interface NpsQuestion {
  asked: boolean;
  answered: boolean;
  /** Points the answer earns; 0 when the merchant gives none. */
  bonus_points: number;
}

/** GET /api/checkout/order/<order id> */
export interface OrderLoyalty {
  /** The shop's currency (ISO 4217): tier spend is counted in it. */
  currency: string;
  order: OrderPoints;
  member: MemberSummary | null;
  referral: ReferralInvite | null;
  guest: GuestClaim | null;
  nps: NpsQuestion;
}

/** POST /api/checkout/nps body. */
export interface NpsAnswer {
  order_id: string;
  score: number;
  comment: string;
}

/** POST /api/checkout/nps response. */
export interface NpsReceipt {
  ok: boolean;
  bonus_points: number;
}

/** Every error response: a stable code and a human message. */
export interface ApiErrorBody {
  error: string;
  message: string;
}
