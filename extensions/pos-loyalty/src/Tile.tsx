import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {createClient, type Customer} from './loyalty';
import {useSignal} from './useSignal';

/**
 * pos.home.tile.render: the cart customer's points and tier at a glance; a tap opens the
 * loyalty modal. Without a customer in the cart the tile says so and stays disabled.
 */
export default async () => {
  render(<LoyaltyTile />, document.body);
};

const t = (key: string, values?: Record<string, string | number>): string =>
  String(shopify.i18n.translate(key, values));

function LoyaltyTile() {
  const customerId = useSignal(shopify.cart.current).customer?.id;
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    setCustomer(null);
    setFailed(false);
    if (!customerId) return;
    createClient(() => shopify.session.getSessionToken(), () => shopify.locale.current.value)
      .customer(customerId)
      .then(setCustomer, () => setFailed(true));
  }, [customerId]);

  const subheading = !customerId
    ? t('tile.no_customer')
    : failed
      ? t('tile.not_member')
      : customer
        ? t('tile.summary', {
            points: shopify.i18n.formatNumber(customer.points.available),
            tier: customer.tier.name,
          })
        : t('loading');
  return (
    <s-tile
      heading={t('title')}
      subheading={subheading}
      disabled={!customerId}
      onClick={() => shopify.action.presentModal()}
    />
  );
}
