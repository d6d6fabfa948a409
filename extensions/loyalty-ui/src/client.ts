import type {ApiErrorBody, NpsAnswer, NpsReceipt, OrderLoyalty} from './contract';

/**
 * The backend's origin. Shopify CLI's esbuild inlines `process.env.NAME` from the build's
 * environment and the app's .env, so the extensions call the same SHOPIFY_APP_URL the Flask
 * app is configured with. Left undefined at build time, the reference would throw in the
 * extension's worker; the panel then shows its error state instead of calling a wrong host.
 * https://shopify.dev/docs/apps/build/cli-for-apps/environment-variables
 */
export function configuredAppUrl(): string {
  try {
    return process.env.SHOPIFY_APP_URL ?? '';
  } catch {
    return '';
  }
}

/** A failed call: the backend's stable error code (or a transport code) and HTTP status. */
export class LoyaltyApiError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'LoyaltyApiError';
    this.code = code;
    this.status = status;
  }
}

export interface LoyaltyClient {
  orderLoyalty(orderId: string): Promise<OrderLoyalty>;
  answerNps(answer: NpsAnswer): Promise<NpsReceipt>;
}

/** Which extension API issues the session token: the backend verifies it as that surface. */
export type LoyaltySurface = 'checkout' | 'customer_account';

export interface LoyaltyClientOptions {
  appUrl: string;
  /** `shopify.sessionToken.get`: a fresh 5-minute token per call, cached by the host. */
  sessionToken: () => Promise<string>;
  /** `checkout` (thank-you) unless told; order status is a customer account extension. */
  surface?: LoyaltySurface;
  /** The buyer's language (`shopify.localization.language`): the backend writes the text it
   * sends (tier names, the referral message) in it. */
  locale?: () => string | undefined;
  fetch?: typeof fetch;
}

/** Calls /api/checkout/* with the extension's session token as the bearer credential. */
export function createLoyaltyClient(options: LoyaltyClientOptions): LoyaltyClient {
  const appUrl = options.appUrl.replace(/\/+$/, '');
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  const query = () => {
    const params = new URLSearchParams();
    if (options.surface === 'customer_account') params.set('surface', 'customer_account');
    const locale = options.locale?.();
    if (locale) params.set('locale', locale);
    const text = params.toString();
    return text ? `?${text}` : '';
  };

  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    if (!appUrl) {
      throw new LoyaltyApiError('not_configured', 0, 'The app URL was not set at build time.');
    }
    const token = await options.sessionToken();
    let response: Response;
    try {
      response = await send(`${appUrl}${path}${query()}`, {
        ...init,
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${token}`,
          ...(init.body ? {'Content-Type': 'application/json'} : {}),
        },
      });
    } catch (error) {
      throw new LoyaltyApiError('network_error', 0, String(error));
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const failure = (body ?? {}) as Partial<ApiErrorBody>;
      throw new LoyaltyApiError(
        failure.error ?? `http_${response.status}`,
        response.status,
        failure.message ?? response.statusText,
      );
    }
    return body as T;
  }

  return {
    orderLoyalty: (orderId) =>
      call<OrderLoyalty>(`/api/checkout/order/${encodeURIComponent(orderId)}`),
    answerNps: (answer) =>
      call<NpsReceipt>('/api/checkout/nps', {method: 'POST', body: JSON.stringify(answer)}),
  };
}

/** The numeric id the backend keys orders by, from `gid://shopify/Order/123`. */
export function orderIdFromGid(gid: string | null | undefined): string | undefined {
  const match = /\/(\d+)(?:\?.*)?$/.exec(gid ?? '');
  return match ? match[1] : undefined;
}
