import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {
  configuredAppUrl,
  createAccountClient,
  formatterFrom,
  LoyaltyApiError,
  type AccountClient,
  type MemberAccount,
} from '@loyalty-loop/loyalty-ui';

/**
 * The loyalty page's address for another extension of this app: `extension://<handle>`
 * (https://shopify.dev/docs/api/customer-account-ui-extensions/latest/target-apis/platform-apis/navigation-api).
 */
export const ACCOUNT_PAGE_URL = 'extension://loyalty-account';

/** customer-account.profile.block.render: the balance at a glance, linking to the page. */
export default async () => {
  const client = createAccountClient({
    appUrl: configuredAppUrl(),
    sessionToken: () => shopify.sessionToken.get(),
    locale: () => shopify.localization.language.value?.isoCode,
  });
  render(<ProfileBlock client={client} />, document.body);
};

const t = (key: string, values?: Record<string, string | number>): string =>
  String(shopify.i18n.translate(key, values));

type BlockState = {kind: 'loading'} | {kind: 'ready'; data: MemberAccount} | {kind: 'hidden'}
  | {kind: 'error'};

function ProfileBlock({client}: {client: AccountClient}) {
  const [state, setState] = useState<BlockState>({kind: 'loading'});
  const format = formatterFrom(shopify.i18n);
  useEffect(() => {
    client.member().then(
      (data) => setState({kind: 'ready', data}),
      (error: unknown) =>
        setState({
          kind:
            error instanceof LoyaltyApiError && error.code === 'program_not_live'
              ? 'hidden'
              : 'error',
        }),
    );
  }, [client]);

  if (state.kind === 'hidden') return null;
  return (
    <s-section heading={t('heading')}>
      <s-stack gap="small-200">
        {state.kind === 'loading' && (
          <s-stack gap="small-200" accessibilityLabel={t('loading')}>
            <s-skeleton-paragraph content="0,000 points available" />
            <s-skeleton-paragraph content="000 points pending · Tier: Silver" />
          </s-stack>
        )}
        {state.kind === 'error' && <s-paragraph color="subdued">{t('unavailable')}</s-paragraph>}
        {state.kind === 'ready' && (
          <s-stack gap="small-200">
            <s-heading>
              {t('balance', {points: format.points(state.data.points.available)})}
            </s-heading>
            <s-text color="subdued">
              {[
                state.data.points.pending > 0 &&
                  t('pending', {points: format.points(state.data.points.pending)}),
                state.data.tier && t('tier', {tier: state.data.tier.name}),
              ]
                .filter(Boolean)
                .join(' · ')}
            </s-text>
          </s-stack>
        )}
        <s-link href={ACCOUNT_PAGE_URL}>{t('open')}</s-link>
      </s-stack>
    </s-section>
  );
}
