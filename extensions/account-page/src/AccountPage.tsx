import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {
  configuredAppUrl,
  createAccountClient,
  formatterFrom,
  LoyaltyApiError,
  type AccountClient,
  type ActivityEntry,
  type Formatter,
  type MemberAccount,
  type RedeemAnswer,
  type RewardCode,
} from '@loyalty-loop/loyalty-ui';

/**
 * customer-account.page.render: the member's loyalty page in the new customer accounts. The
 * member is the session token's `sub`; the answers are the widget's (/api/account/*).
 */
export default async () => {
  const client = createAccountClient({
    appUrl: configuredAppUrl(),
    sessionToken: () => shopify.sessionToken.get(),
    locale: () => shopify.localization.language.value?.isoCode,
  });
  render(<AccountPage client={client} format={formatterFrom(shopify.i18n)} />, document.body);
};

const t = (key: string, values?: Record<string, string | number>): string =>
  String(shopify.i18n.translate(key, values));

type PageState =
  | {kind: 'loading'}
  | {kind: 'ready'; data: MemberAccount}
  | {kind: 'hidden'}
  | {kind: 'error'};

interface PageProps {
  client: AccountClient;
  format: Formatter;
}

function AccountPage({client, format}: PageProps) {
  const [state, setState] = useState<PageState>({kind: 'loading'});
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    client.member().then(
      (data) => !cancelled && setState({kind: 'ready', data}),
      (error: unknown) =>
        !cancelled &&
        setState({
          kind:
            error instanceof LoyaltyApiError && error.code === 'program_not_live'
              ? 'hidden'
              : 'error',
        }),
    );
    return () => {
      cancelled = true;
    };
  }, [client, attempt]);

  if (state.kind === 'hidden') return null;
  const update = (changes: Partial<MemberAccount>) =>
    setState((previous) =>
      previous.kind === 'ready' ? {kind: 'ready', data: {...previous.data, ...changes}} : previous,
    );
  return (
    <s-page heading={t('title')}>
      {state.kind === 'loading' && <PageSkeleton />}
      {state.kind === 'error' && (
        <s-banner tone="warning" heading={t('error.heading')}>
          <s-stack gap="base">
            <s-paragraph>{t('error.note')}</s-paragraph>
            <s-button
              onClick={() => {
                setState({kind: 'loading'});
                setAttempt((n) => n + 1);
              }}
            >
              {t('error.retry')}
            </s-button>
          </s-stack>
        </s-banner>
      )}
      {state.kind === 'ready' && (
        <s-stack gap="large">
          <Balance data={state.data} format={format} />
          <Rewards data={state.data} client={client} format={format} onChange={update} />
          {state.data.codes.length > 0 && <Codes codes={state.data.codes} />}
          {state.data.referral && <Referral url={state.data.referral.url}
            text={state.data.referral.share_text} />}
          <Birthday data={state.data} client={client} onChange={update} />
          <Activity entries={state.data.activity} format={format} />
        </s-stack>
      )}
    </s-page>
  );
}

function Balance({data, format}: {data: MemberAccount; format: Formatter}) {
  const {points, tier, member} = data;
  return (
    <s-section heading={t('balance.heading')}>
      <s-stack gap="small-200">
        {member.first_name && <s-text color="subdued">{t('greeting', {name: member.first_name})}</s-text>}
        <s-heading>{t('balance.available', {points: format.points(points.available)})}</s-heading>
        {points.pending > 0 && (
          <s-paragraph>
            {t('balance.pending', {points: format.points(points.pending)})}
            {points.pending_until &&
              ` · ${t('balance.unlocks', {date: format.date(points.pending_until)})}`}
          </s-paragraph>
        )}
        <s-text color="subdued">
          {t('balance.lifetime', {points: format.points(points.lifetime)})}
        </s-text>
        {tier && <s-paragraph>{t('tier.current', {tier: tier.name})}</s-paragraph>}
        {tier && tier.next && (
          <s-progress
            value={Math.min(Math.max(tier.progress, 0), 1)}
            max={1}
            accessibilityLabel={t('tier.progress', {tier: tier.next})}
          />
        )}
        {tier && (
          <s-text color="subdued">
            {tier.next && tier.spend_to_next
              ? t('tier.to_next', {
                  amount: format.money(tier.spend_to_next, data.currency),
                  tier: tier.next,
                })
              : t('tier.top')}
          </s-text>
        )}
      </s-stack>
    </s-section>
  );
}

const REDEEM_ERRORS: Record<string, string> = {
  insufficient_points: 'rewards.insufficient',
  reward_unavailable: 'rewards.unavailable',
  reward_not_issued: 'rewards.failed',
  rate_limited: 'rewards.rate_limited',
};

interface ChangeProps {
  data: MemberAccount;
  client: AccountClient;
  format: Formatter;
  onChange: (changes: Partial<MemberAccount>) => void;
}

/** One tap redeems: the code shows at once, and the points are only spent for a code. */
function Rewards({data, client, format, onChange}: ChangeProps) {
  const [busy, setBusy] = useState<number | null>(null);
  const [issued, setIssued] = useState<RewardCode | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const redeem = (rewardId: number) => {
    setBusy(rewardId);
    setFailure(null);
    setIssued(null);
    // One key per tap: a retried request spends nothing twice.
    const key = `account-${rewardId}-${Date.now().toString(36)}`;
    client.redeem(rewardId, key).then(
      (answer: RedeemAnswer) => {
        setBusy(null);
        setIssued(answer.redemption);
        onChange({points: answer.points, rewards: answer.rewards, codes: answer.codes,
                  activity: answer.activity});
      },
      (error: unknown) => {
        setBusy(null);
        const code = error instanceof LoyaltyApiError ? error.code : '';
        setFailure(t(REDEEM_ERRORS[code] ?? 'rewards.generic'));
        // The balance may have moved (points back after a failed code): show it as it is.
        client.member().then(onChange, () => undefined);
      },
    );
  };

  return (
    <s-section heading={t('rewards.heading')}>
      <s-stack gap="base">
        {issued && (
          <s-banner tone="success" heading={t('rewards.ready')}>
            <CodeLine code={issued} />
          </s-banner>
        )}
        {failure && <s-banner tone="critical" heading={failure} />}
        {data.rewards.length === 0 && <s-paragraph>{t('rewards.none')}</s-paragraph>}
        {data.rewards.map((reward) => (
          <s-stack key={reward.id} direction="inline" gap="base" alignItems="center"
            justifyContent="space-between">
            <s-stack gap="none">
              <s-text type="strong">{reward.title}</s-text>
              <s-text color="subdued">
                {reward.affordable
                  ? t('rewards.cost', {points: format.points(reward.cost)})
                  : t('rewards.to_go', {
                      points: format.points(reward.cost - data.points.available),
                    })}
              </s-text>
            </s-stack>
            <s-button
              variant={reward.affordable ? 'primary' : 'secondary'}
              disabled={!reward.affordable || busy !== null}
              loading={busy === reward.id}
              accessibilityLabel={t('rewards.redeem_label', {
                reward: reward.title,
                points: format.points(reward.cost),
              })}
              onClick={() => redeem(reward.id)}
            >
              {t('rewards.redeem')}
            </s-button>
          </s-stack>
        ))}
      </s-stack>
    </s-section>
  );
}

/** A code with its copy button and the link that puts it in the store's cart. */
function CodeLine({code}: {code: RewardCode}) {
  const [copied, setCopied] = useState(false);
  const id = `loyalty-code-${code.code}`;
  return (
    <s-stack direction="inline" gap="base" alignItems="center">
      <s-text>{t('codes.code', {title: code.title, code: code.code})}</s-text>
      <s-clipboard-item id={id} text={code.code} onCopy={() => setCopied(true)} />
      <s-button variant="secondary" command="--copy" commandFor={id}
        accessibilityLabel={t(copied ? 'codes.copied_label' : 'codes.copy_label', {code: code.code})}>
        {copied ? t('codes.copied') : t('codes.copy')}
      </s-button>
      <s-link href={code.apply_url} target="_blank"
        accessibilityLabel={t('codes.apply_label', {code: code.code})}>
        {t('codes.apply')}
      </s-link>
    </s-stack>
  );
}

function Codes({codes}: {codes: RewardCode[]}) {
  return (
    <s-section heading={t('codes.heading')}>
      <s-stack gap="small-200">
        {codes.map((code) => (
          <CodeLine key={code.code} code={code} />
        ))}
      </s-stack>
    </s-section>
  );
}

function Referral({url, text}: {url: string; text: string}) {
  const [copied, setCopied] = useState(false);
  return (
    <s-section heading={t('referral.heading')}>
      <s-stack gap="small-200">
        <s-paragraph>{text}</s-paragraph>
        <s-text type="strong">{url}</s-text>
        <s-clipboard-item id="loyalty-referral-url" text={url} onCopy={() => setCopied(true)} />
        <s-stack direction="inline">
          <s-button variant="secondary" command="--copy" commandFor="loyalty-referral-url">
            {copied ? t('referral.copied') : t('referral.copy')}
          </s-button>
        </s-stack>
      </s-stack>
    </s-section>
  );
}

const BIRTHDAY_ERRORS: Record<string, string> = {
  invalid_birthday: 'birthday.invalid',
  birthday_locked: 'birthday.locked',
  rate_limited: 'rewards.rate_limited',
};

function Birthday({data, client, onChange}: Omit<ChangeProps, 'format'>) {
  const [value, setValue] = useState('');
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState('');
  const saved = data.member.birthday;

  const save = () => {
    setSaving(true);
    setFailure('');
    client.saveBirthday(value.trim()).then(
      (answer) => {
        setSaving(false);
        onChange(answer);
      },
      (error: unknown) => {
        setSaving(false);
        const code = error instanceof LoyaltyApiError ? error.code : '';
        setFailure(t(BIRTHDAY_ERRORS[code] ?? 'rewards.generic'));
      },
    );
  };

  return (
    <s-section heading={t('birthday.heading')}>
      {saved ? (
        <s-paragraph>{t('birthday.saved', {date: birthdayText(saved)})}</s-paragraph>
      ) : (
        <s-stack gap="small-200">
            <s-text-field
              label={t('birthday.label')}
              value={value}
              maxLength={10}
              error={failure || undefined}
              disabled={saving}
              onInput={(event) => setValue(fieldValue(event))}
            />
            <s-text color="subdued">{t('birthday.hint')}</s-text>
            <s-stack direction="inline">
              <s-button loading={saving} disabled={!value.trim()} onClick={save}>
                {t('birthday.save')}
              </s-button>
            </s-stack>
        </s-stack>
      )}
    </s-section>
  );
}

/** "03-14" as the buyer's locale writes a month and day (no year: it stays private). */
function birthdayText(monthDay: string): string {
  return shopify.i18n.formatDate(new Date(`2000-${monthDay}T00:00:00Z`), {
    month: 'long',
    day: 'numeric',
    timeZone: 'UTC',
  });
}

function fieldValue(event: Event): string {
  return (event.currentTarget as HTMLElementTagNameMap['s-text-field'] | null)?.value ?? '';
}

function Activity({entries, format}: {entries: ActivityEntry[]; format: Formatter}) {
  return (
    <s-section heading={t('activity.heading')}>
      {entries.length === 0 ? (
        <s-paragraph color="subdued">{t('activity.empty')}</s-paragraph>
      ) : (
        <s-stack gap="small-200">
          {entries.map((entry, index) => (
            <s-stack key={index} direction="inline" justifyContent="space-between" gap="base">
              <s-stack gap="none">
                <s-text>{entry.label}</s-text>
                <s-text color="subdued">
                  {format.date(entry.at.slice(0, 10))}
                  {entry.status === 'pending' && ` · ${t('activity.pending')}`}
                </s-text>
              </s-stack>
              <s-text type="strong">
                {t('activity.points', {
                  points: `${entry.points > 0 ? '+' : ''}${format.points(entry.points)}`,
                })}
              </s-text>
            </s-stack>
          ))}
        </s-stack>
      )}
    </s-section>
  );
}

/** The ready page's first sections, line for line, so nothing moves when data arrives. */
function PageSkeleton() {
  return (
    <s-stack gap="large" accessibilityLabel={t('loading')}>
      <s-section heading={t('balance.heading')}>
        <s-stack gap="small-200">
          <s-skeleton-paragraph content="Welcome back, Ada" />
          <s-skeleton-paragraph content="0,000 points available" />
          <s-skeleton-paragraph content="000 points pending · Available from December 26, 2026" />
          <s-skeleton-paragraph content="0,000 points earned in all" />
          <s-skeleton-paragraph content="Tier: Silver" />
          <s-skeleton-paragraph content="Spend 000.00 more to reach Gold." />
        </s-stack>
      </s-section>
      <s-section heading={t('rewards.heading')}>
        <s-stack gap="base">
          {['$5 off', '$10 off', '$25 off'].map((title) => (
            <s-stack key={title} gap="none">
              <s-skeleton-paragraph content={title} />
              <s-skeleton-paragraph content="0,000 points" />
            </s-stack>
          ))}
        </s-stack>
      </s-section>
    </s-stack>
  );
}
