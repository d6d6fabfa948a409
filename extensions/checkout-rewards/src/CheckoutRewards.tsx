import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {
  configuredAppUrl,
  createCheckoutRewardsClient,
  formatterFrom,
  type CheckoutRewards as Offer,
  type CheckoutRewardsClient,
  type RewardOption,
} from '@loyalty-loop/loyalty-ui';

/**
 * purchase.checkout.block.render: the signed-in customer's affordable rewards. A tap spends
 * the points for a code and applies it; when checkout refuses the code, it is returned (deleted
 * in Shopify, points back), so points are never spent for a code that was not applied.
 */
export default async () => {
  const client = createCheckoutRewardsClient({
    appUrl: configuredAppUrl(),
    sessionToken: () => shopify.sessionToken.get(),
    locale: () => shopify.localization.language.value?.isoCode,
  });
  render(<CheckoutRewards client={client} />, document.body);
};

const t = (key: string, values?: Record<string, string | number>): string =>
  String(shopify.i18n.translate(key, values));

type Notice = {tone: 'success' | 'warning' | 'critical'; text: string} | null;

function CheckoutRewards({client}: {client: CheckoutRewardsClient}) {
  const format = formatterFrom(shopify.i18n);
  const [offer, setOffer] = useState<Offer | null | 'hidden'>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [notice, setNotice] = useState<Notice>(null);

  useEffect(() => {
    // A guest, a draft program or an unreachable app: the block stays out of the way.
    client.rewards().then(setOffer, () => setOffer('hidden'));
  }, [client]);

  if (offer === 'hidden') return null;
  // Checkout may not allow discount codes here (its instructions say so): nothing to offer.
  if (shopify.instructions.value.discounts.canUpdateDiscountCodes === false) return null;
  if (offer === null) {
    // The ready layout line for line: the balance, then two reward rows as tall as their
    // buttons. For a member who affords two rewards nothing below the block moves when the
    // data arrives; each reward more or fewer moves it by a row.
    return (
      <s-section heading={t('heading')}>
        <s-stack gap="base" accessibilityLabel={t('loading')}>
          <s-skeleton-paragraph content="You have 0,000 points." />
          {['$5 off · 500 points', 'Free shipping · 400 points'].map((row) => (
            <s-stack key={row} direction="inline" gap="base" alignItems="center"
              justifyContent="space-between">
              <s-skeleton-paragraph content={row} />
              <s-box paddingBlock="small-300">
                <s-skeleton-paragraph content={t('apply')} />
              </s-box>
            </s-stack>
          ))}
        </s-stack>
      </s-section>
    );
  }

  const apply = async (reward: RewardOption) => {
    setBusy(reward.id);
    setNotice(null);
    try {
      const key = `checkout-${reward.id}-${Date.now().toString(36)}`;
      const redeemed = await client.redeem(reward.id, key);
      const result = await shopify.applyDiscountCodeChange({
        type: 'addDiscountCode',
        code: redeemed.redemption.code,
      });
      if (result.type === 'success') {
        setOffer({points: redeemed.points, rewards: redeemed.rewards, codes: redeemed.codes});
        setNotice({tone: 'success', text: t('applied', {reward: reward.title})});
      } else {
        const returned = await client.returnCode(redeemed.redemption.code);
        setOffer({points: returned.points, rewards: returned.rewards, codes: returned.codes});
        setNotice({tone: 'warning', text: t('not_applied')});
      }
    } catch {
      setNotice({tone: 'critical', text: t('failed')});
      client.rewards().then(setOffer, () => undefined);
    } finally {
      setBusy(null);
    }
  };

  const affordable = offer.rewards.filter((reward) => reward.affordable);
  const cheapest = offer.rewards.reduce<number | null>(
    (low, reward) => (low === null || reward.cost < low ? reward.cost : low),
    null,
  );
  return (
    <s-section heading={t('heading')}>
      <s-stack gap="base">
        <s-text>{t('balance', {points: format.points(offer.points.available)})}</s-text>
        {notice && <s-banner tone={notice.tone} heading={notice.text} />}
        {affordable.length === 0 && cheapest !== null && (
          <s-text color="subdued">
            {t('none', {points: format.points(Math.max(cheapest - offer.points.available, 0))})}
          </s-text>
        )}
        {affordable.map((reward) => (
          <s-stack key={reward.id} direction="inline" gap="base" alignItems="center"
            justifyContent="space-between">
            <s-text>
              {reward.title} · {t('cost', {points: format.points(reward.cost)})}
            </s-text>
            <s-button
              variant="secondary"
              disabled={busy !== null}
              loading={busy === reward.id}
              accessibilityLabel={t('apply_label', {
                reward: reward.title,
                points: format.points(reward.cost),
              })}
              onClick={() => apply(reward)}
            >
              {t('apply')}
            </s-button>
          </s-stack>
        ))}
      </s-stack>
    </s-section>
  );
}
