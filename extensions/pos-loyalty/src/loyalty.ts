/**
 * What the three POS targets share: the client of /api/pos/* and the answers' shapes. It knows
 * no `shopify` global: each target hands it the session token and its language.
 */

export interface Reward {
  id: number;
  title: string;
  cost: number;
  affordable: boolean;
}

export interface Code {
  code: string;
  title?: string | null;
}

export interface CartEarning {
  points: number;
  multiplier: string;
  tier: string;
  pos_earning_on: boolean;
}

export interface Customer {
  points: {available: number; pending: number};
  tier: {name: string; next: string | null};
  rewards: Reward[];
  codes: Code[];
  currency: string;
  cart?: CartEarning;
}

export interface Redeemed {
  redemption: Code;
  points: Customer['points'];
  rewards: Reward[];
  codes: Code[];
}

/** A failed call: the backend's error code (or `network_error`, `no_token`) and status. */
export class PosApiError extends Error {
  constructor(readonly code: string, readonly status: number) {
    super(code);
  }
}

/** The backend's origin, inlined by Shopify CLI at build time (see loyalty-ui's client.ts). */
function appUrl(): string {
  try {
    return (process.env.SHOPIFY_APP_URL ?? '').replace(/\/+$/, '');
  } catch {
    return '';
  }
}

/**
 * `token`: `shopify.session.getSessionToken`; `locale`: the POS language
 * (`shopify.locale.current`), in which the backend writes its own words (default reward
 * titles, tier names).
 */
export function createClient(token: () => Promise<string | undefined>, locale: () => string) {
  async function call<T>(path: string, body?: object): Promise<T> {
    // No token: the user logged into POS lacks the app permission (Session API).
    const bearer = await token();
    if (!bearer || !appUrl()) throw new PosApiError('no_token', 0);
    let response: Response;
    try {
      const query = `${path.includes('?') ? '&' : '?'}locale=${encodeURIComponent(locale())}`;
      response = await fetch(appUrl() + path + query, {
        method: body ? 'POST' : 'GET',
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${bearer}`,
          ...(body ? {'Content-Type': 'application/json'} : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new PosApiError('network_error', 0);
    }
    const answer = await response.json().catch(() => null);
    if (!response.ok) throw new PosApiError(answer?.error ?? 'http_error', response.status);
    return answer as T;
  }

  return {
    customer: (customerId: number, cart?: CartAmounts) =>
      call<Customer>(
        `/api/pos/customers/${customerId}` +
          (cart ? `?subtotal=${cart.subtotal}` : '') +
          (cart?.giftCards ? `&gift_cards=${cart.giftCards}` : ''),
      ),
    redeem: (customerId: number, rewardId: number) =>
      call<Redeemed>('/api/pos/redeem', {
        customer_id: customerId,
        reward_id: rewardId,
        request_key: `pos-${customerId}-${rewardId}-${Date.now().toString(36)}`,
      }),
    returnCode: (customerId: number, code: string) =>
      call<Redeemed>('/api/pos/return', {customer_id: customerId, code}),
  };
}

export type Client = ReturnType<typeof createClient>;

/** What the backend needs of a cart to say what it earns, as amounts with cents. */
export interface CartAmounts {
  subtotal: string;
  /** The gift-card lines in the subtotal; omitted when there are none. */
  giftCards?: string;
}

interface CartLike {
  subtotal?: string;
  lineItems?: {price?: number; quantity: number; isGiftCard?: boolean}[];
}

/**
 * The POS cart's subtotal and the part of it that is gift cards (Cart API `lineItems[]`:
 * `isGiftCard`, unit `price` × `quantity`; Shopify never discounts a gift card). The backend
 * applies the shop's gift-card exclusion, as it does to the paid order's gift-card lines.
 */
export function cartAmounts(cart: CartLike): CartAmounts | undefined {
  const subtotal = Number(cart.subtotal);
  if (!Number.isFinite(subtotal) || subtotal < 0) return undefined;
  let cents = 0;
  for (const line of cart.lineItems ?? []) {
    if (line.isGiftCard) cents += Math.round((line.price ?? 0) * 100) * line.quantity;
  }
  return {
    subtotal: subtotal.toFixed(2),
    giftCards: cents > 0 ? (cents / 100).toFixed(2) : undefined,
  };
}

/** A value of one of the host's signals (the POS cart), re-rendering when it changes. */
export interface SignalLike<T> {
  readonly value: T;
  subscribe(fn: (value: T) => void): () => void;
}

/** What a loading line shows where its number or name will be. */
export const ELLIPSIS = '…';
