import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {
  cartAmounts,
  createClient,
  ELLIPSIS,
  type Client,
  type Customer,
  type Reward,
} from './loyalty';
import {useSignal} from './useSignal';

/**
 * pos.home.modal.render: the cart customer's balance and tier, what this cart will earn (its
 * gift cards by the shop's rules, as the paid order), and their rewards. Redeem spends the
 * points for a code and adds it to the POS cart (`cart.addCartCodeDiscount`); when the cart
 * does not take it, the code is returned and the points come back, so no points stay spent
 * for a discount that was not applied.
 */
export default async () => {
  const client = createClient(
    () => shopify.session.getSessionToken(),
    () => shopify.locale.current.value,
  );
  render(<LoyaltyModal client={client} />, document.body);
};

const t = (key: string, values?: Record<string, string | number>): string =>
  String(shopify.i18n.translate(key, values));

type Notice = {tone: 'success' | 'warning' | 'critical'; text: string} | null;

function LoyaltyModal({client}: {client: Client}) {
  const cart = useSignal(shopify.cart.current);
  const customerId = cart.customer?.id;
  const amounts = cartAmounts(cart);
  const subtotal = amounts?.subtotal;
  const giftCards = amounts?.giftCards;
  const [customer, setCustomer] = useState<Customer | null | 'missing'>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [notice, setNotice] = useState<Notice>(null);

  useEffect(() => {
    if (!customerId) return;
    // Only the newest cart's answer is shown: an older one arriving late is dropped.
    let current = true;
    client.customer(customerId, amounts).then(
      (answer) => current && setCustomer(answer),
      () => current && setCustomer('missing'),
    );
    return () => {
      current = false;
    };
  }, [client, customerId, subtotal, giftCards]);

  if (!customerId || customer === 'missing') {
    return (
      <s-page heading={t('title')}>
        <s-scroll-box>
          <s-section>
            <s-text>{t(customerId ? 'not_member' : 'modal.no_customer')}</s-text>
          </s-section>
        </s-scroll-box>
      </s-page>
    );
  }
  if (customer === null) {
    // POS offers no skeleton component (pos-ui-extensions 2026-07 components): the loading
    // state is the ready layout, same components, what is not known yet as an ellipsis; the
    // rewards come last, so their rows grow the page at its end and move nothing.
    return (
      <s-page heading={t('title')}>
        <s-scroll-box>
          <s-stack direction="block" gap="base">
            <s-section heading={t('modal.member')}>
              <s-stack direction="block" gap="small">
                <s-text type="strong">{t('loading')}</s-text>
                <s-text>{t('tier', {tier: ELLIPSIS})}</s-text>
                <s-text color="subdued">{t('pending', {points: ELLIPSIS})}</s-text>
              </s-stack>
            </s-section>
            {amounts && (
              <s-section heading={t('modal.this_order')}>
                <s-text>{t('modal.will_earn', {points: ELLIPSIS})}</s-text>
              </s-section>
            )}
            <s-section heading={t('modal.rewards')} />
          </s-stack>
        </s-scroll-box>
      </s-page>
    );
  }

  const redeem = async (reward: Reward) => {
    setBusy(reward.id);
    setNotice(null);
    try {
      const redeemed = await client.redeem(customerId, reward.id);
      try {
        await shopify.cart.addCartCodeDiscount(redeemed.redemption.code);
        setNotice({tone: 'success', text: t('modal.applied', {reward: reward.title})});
        setCustomer({...customer, ...redeemed});
      } catch {
        const returned = await client.returnCode(customerId, redeemed.redemption.code);
        setNotice({tone: 'warning', text: t('modal.not_applied')});
        setCustomer({...customer, ...returned});
      }
    } catch {
      setNotice({tone: 'critical', text: t('modal.failed')});
      client.customer(customerId, amounts).then(setCustomer, () => undefined);
    } finally {
      setBusy(null);
    }
  };

  const earning = customer.cart;
  return (
    <s-page heading={t('title')}>
      <s-scroll-box>
        <s-stack direction="block" gap="base">
          <s-section heading={t('modal.member')}>
            <s-stack direction="block" gap="small">
              <s-text type="strong">
                {t('points', {points: shopify.i18n.formatNumber(customer.points.available)})}
              </s-text>
              <s-text>{t('tier', {tier: customer.tier.name})}</s-text>
              {/* Even at 0: the line the loading state holds. */}
              <s-text color="subdued">
                {t('pending', {points: shopify.i18n.formatNumber(customer.points.pending)})}
              </s-text>
            </s-stack>
          </s-section>
          {earning && (
            <s-section heading={t('modal.this_order')}>
              <s-text>
                {earning.pos_earning_on
                  ? t('modal.will_earn', {points: shopify.i18n.formatNumber(earning.points)})
                  : t('modal.pos_off')}
              </s-text>
            </s-section>
          )}
          {notice && <s-banner tone={notice.tone} heading={notice.text} />}
          <s-section heading={t('modal.rewards')}>
            <s-stack direction="block" gap="base">
              {customer.rewards.length === 0 && <s-text>{t('modal.no_rewards')}</s-text>}
              {customer.rewards.map((reward) => (
                <s-stack key={reward.id} direction="inline" gap="base" alignItems="center"
                  justifyContent="space-between">
                  <s-text>
                    {t('modal.reward', {
                      reward: reward.title,
                      points: shopify.i18n.formatNumber(reward.cost),
                    })}
                  </s-text>
                  <s-button
                    variant={reward.affordable ? 'primary' : 'secondary'}
                    disabled={!reward.affordable || busy !== null}
                    loading={busy === reward.id}
                    onClick={() => redeem(reward)}
                  >
                    {t('modal.redeem', {reward: reward.title})}
                  </s-button>
                </s-stack>
              ))}
            </s-stack>
          </s-section>
        </s-stack>
      </s-scroll-box>
    </s-page>
  );
}
