import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {createClient, ELLIPSIS, type Customer} from './loyalty';

/**
 * pos.customer-details.block.render: on the customer's details screen, their balance, tier
 * and how many rewards they can redeem now.
 */
export default async () => {
  render(<LoyaltyBlock />, document.body);
};

const t = (key: string, values?: Record<string, string | number>): string =>
  String(shopify.i18n.translate(key, values));

function LoyaltyBlock() {
  const customerId = shopify.customer.id;
  const [customer, setCustomer] = useState<Customer | null | 'missing'>(null);

  useEffect(() => {
    createClient(() => shopify.session.getSessionToken(), () => shopify.locale.current.value)
      .customer(customerId)
      .then(setCustomer, () => setCustomer('missing'));
  }, [customerId]);

  return (
    <s-pos-block heading={t('title')}>
      <s-stack direction="block" gap="small">
        {/* POS offers no skeleton component (pos-ui-extensions 2026-07 components): the
            loading state is the ready layout's three lines, same components, what is not
            known yet as an ellipsis, so the screen does not move when the answer comes. */}
        {customer === null && (
          <>
            <s-text type="strong">{t('loading')}</s-text>
            <s-text>{t('tier', {tier: ELLIPSIS})}</s-text>
            <s-text color="subdued">{t('block.rewards', {count: ELLIPSIS})}</s-text>
          </>
        )}
        {customer === 'missing' && <s-text>{t('not_member')}</s-text>}
        {customer !== null && customer !== 'missing' && (
          <>
            <s-text type="strong">
              {t('points', {points: shopify.i18n.formatNumber(customer.points.available)})}
            </s-text>
            <s-text>{t('tier', {tier: customer.tier.name})}</s-text>
            <s-text color="subdued">
              {t('block.rewards', {
                count: customer.rewards.filter((reward) => reward.affordable).length,
              })}
            </s-text>
          </>
        )}
      </s-stack>
    </s-pos-block>
  );
}
