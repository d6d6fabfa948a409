/** What the UI extensions share: the order panel (thank-you, order status) and the member
 * contract and client of the customer account page. */
export {configuredAppUrl, createLoyaltyClient, LoyaltyApiError, orderIdFromGid} from './client';
export type {LoyaltyClient, LoyaltyClientOptions, LoyaltySurface} from './client';
export type * from './contract';
export {formatterFrom} from './format';
export type {Formatter, HostI18n} from './format';
export {LoyaltyPanel, REFRESH_DELAYS_MS} from './LoyaltyPanel';
export {expectedLayout, SkeletonLine} from './PanelSkeleton';
export type {ExpectedLayout} from './PanelSkeleton';
export {createAccountClient, createCheckoutRewardsClient} from './member';
export type * from './member';
