import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {
  configuredAppUrl,
  createCheckoutRewardsClient,
  expectedLayout,
  formatterFrom,
  SkeletonLine,
  type CheckoutRewards as Offer,
  type CheckoutRewardsClient,
  type RewardOption,
} from '@loyalty-loop/loyalty-ui';

import {ROWS, shownRewards} from './rows';

/**
 * purchase.checkout.block.render: the signed-in customer's rewards, the affordable ones worth
 * the most first, each with its Apply button, the next to unlock after them. A tap spends
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
  // A guest has no points to spend: the block shows nothing, not even a skeleton, and asks the
  // app nothing until the buyer logs in (reading the signal re-renders us when they do).
  const signedIn = expectedLayout(shopify.buyerIdentity) === 'member';

  useEffect(() => {
    if (!signedIn) return;
    // A draft program or an unreachable app: the block stays out of the way.
    client.rewards().then(setOffer, () => setOffer('hidden'));
  }, [client, signedIn]);

  if (!signedIn || offer === 'hidden') return null;
  // Checkout may not allow discount codes here (its instructions say so): nothing to offer.
  if (shopify.instructions.value.discounts.canUpdateDiscountCodes === false) return null;
  if (offer === null) {
    // The ready layout line for line: the balance, ROWS reward rows as tall as their buttons,
    // and the line under them.
    return (
      <s-section heading={t('heading')}>
        <s-stack gap="base" accessibilityLabel={t('loading')}>
          <s-skeleton-paragraph content="You have 0,000 points." />
          {['$5 off · 500 points', 'Free shipping · 400 points'].slice(0, ROWS).map((row) => (
            <s-stack key={row} direction="inline" gap="base" alignItems="center"
              justifyContent="space-between">
              <s-skeleton-paragraph content={row} />
              <SkeletonLine text={t('apply')} padded />
            </s-stack>
          ))}
          <s-skeleton-paragraph content={t('none', {points: '000'})} />
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

  const {rows, more} = shownRewards(offer.rewards);
  const affordable = rows.filter((reward) => reward.affordable).length;
  const cheapest = rows.find((reward) => !reward.affordable);
  let footer = t('hint');
  if (more > 0) footer = t('more', {number: format.points(more)});
  else if (affordable === 0 && cheapest) {
    footer = t('none', {points: format.points(toGo(cheapest, offer))});
  }
  return (
    <s-section heading={t('heading')}>
      <s-stack gap="base">
        <s-text>{t('balance', {points: format.points(offer.points.available)})}</s-text>
        {notice && <s-banner tone={notice.tone} heading={notice.text} />}
        {rows.map((reward) => (
          <s-stack key={reward.id} direction="inline" gap="base" alignItems="center"
            justifyContent="space-between">
            <s-text>
              {reward.title} · {t('cost', {points: format.points(reward.cost)})}
            </s-text>
            {reward.affordable ? (
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
            ) : (
              // As tall as the button it stands in for.
              <s-box paddingBlock="small-300">
                <s-text color="subdued">
                  {t('to_go', {points: format.points(toGo(reward, offer))})}
                </s-text>
              </s-box>
            )}
          </s-stack>
        ))}
        <s-text color="subdued">{footer}</s-text>
      </s-stack>
    </s-section>
  );
}

/** Points still missing for a reward the balance does not afford. */
function toGo(reward: RewardOption, offer: Offer): number {
  return Math.max(reward.cost - offer.points.available, 0);
}
