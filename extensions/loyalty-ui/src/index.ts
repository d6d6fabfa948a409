/** The loyalty panel the thank-you and order-status extensions share. */
export {configuredAppUrl, createLoyaltyClient, LoyaltyApiError, orderIdFromGid} from './client';
export type {LoyaltyClient, LoyaltyClientOptions, LoyaltySurface} from './client';
export type * from './contract';
export {formatterFrom} from './format';
export type {Formatter, HostI18n} from './format';
export {LoyaltyPanel, REFRESH_DELAYS_MS} from './LoyaltyPanel';
