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

/** purchase.thank-you.block.render: the order id comes from the order confirmation. */
export default async () => {
  const client = createLoyaltyClient({
    appUrl: configuredAppUrl(),
    sessionToken: () => shopify.sessionToken.get(),
    locale: () => shopify.localization.language.value?.isoCode,
  });
  render(<ThankYou client={client} />, document.body);
};

function ThankYou({client}: {client: ReturnType<typeof createLoyaltyClient>}) {
  // Reading the signal's value subscribes this component to it.
  const orderId = orderIdFromGid(shopify.orderConfirmation.value?.order?.id);
  return (
    <LoyaltyPanel
      orderId={orderId}
      client={client}
      format={formatterFrom(shopify.i18n)}
      expected={expectedLayout(shopify.buyerIdentity)}
    />
  );
}
