import '@shopify/ui-extensions/preact';
import {render} from 'preact';

import {
  configuredAppUrl,
  createLoyaltyClient,
  expectedLayout,
  formatterFrom,
  LoyaltyPanel,
  orderIdFromGid,
} from '@loyalty-loop/loyalty-ui';

/** customer-account.order-status.block.render: the order id comes from `shopify.order`. */
export default async () => {
  const client = createLoyaltyClient({
    appUrl: configuredAppUrl(),
    sessionToken: () => shopify.sessionToken.get(),
    locale: () => shopify.localization.language.value?.isoCode,
    surface: 'customer_account',
  });
  render(<OrderStatus client={client} />, document.body);
};

function OrderStatus({client}: {client: ReturnType<typeof createLoyaltyClient>}) {
  // Undefined until the order is processed; reading the signal re-renders us when it arrives.
  const orderId = orderIdFromGid(shopify.order.value?.id);
  return (
    <LoyaltyPanel
      orderId={orderId}
      client={client}
      format={formatterFrom(shopify.i18n)}
      expected={expectedLayout(shopify.buyerIdentity)}
    />
  );
}
