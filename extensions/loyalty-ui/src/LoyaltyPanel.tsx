import {useEffect, useState} from 'preact/hooks';

import {LoyaltyApiError, type LoyaltyClient} from './client';
import type {
  GuestClaim,
  MemberSummary,
  NpsQuestion,
  OrderLoyalty,
  OrderPoints,
  ReferralInvite,
} from './contract';
import type {Formatter} from './format';
import {NPS_COLUMNS, NPS_SCORES, PanelSkeleton, type ExpectedLayout} from './PanelSkeleton';

/**
 * Right after checkout the backend may answer with a `preview` (before the orders/paid webhook)
 * or not know the order yet (404): ask again a few times so the shopper sees it settle without
 * reloading, backing off so an order that stays unpaid costs little.
 */
export const REFRESH_DELAYS_MS = [3000, 10000, 30000];

type PanelState =
  | {kind: 'loading'}
  | {kind: 'ready'; data: OrderLoyalty}
  | {kind: 'empty'}
  | {kind: 'hidden'}
  | {kind: 'error'};

export interface LoyaltyPanelProps {
  /** The numeric Shopify order id; undefined while the host has not told us yet. */
  orderId: string | undefined;
  client: LoyaltyClient;
  format: Formatter;
  /** Whose layout the skeleton reserves, from what the host says before anything is fetched. */
  expected: ExpectedLayout;
}

/** The thank-you and order-status block: this order's points, balance, referral and NPS. */
export function LoyaltyPanel({orderId, client, format, expected}: LoyaltyPanelProps) {
  const {copy} = format;
  const [state, setState] = useState<PanelState>({kind: 'loading'});
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!orderId) return undefined;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let refreshes = 0;
    const refreshLater = () => {
      if (refreshes < REFRESH_DELAYS_MS.length) {
        timer = setTimeout(load, REFRESH_DELAYS_MS[refreshes++]);
      }
    };
    const load = () => {
      client.orderLoyalty(orderId).then(
        (data) => {
          if (cancelled) return;
          setState({kind: 'ready', data});
          if (data.order.status === 'preview') refreshLater();
        },
        (error: unknown) => {
          if (cancelled) return;
          const next = stateForError(error);
          // A failed refresh keeps what the shopper already sees.
          setState((previous) => (previous.kind === 'ready' ? previous : next));
          if (next.kind === 'empty') refreshLater();
        },
      );
    };
    load();
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [orderId, client, attempt]);

  const retry = () => {
    setState({kind: 'loading'});
    setAttempt((n) => n + 1);
  };

  // The merchant has not launched the program: the block shows nothing at all.
  if (state.kind === 'hidden') return null;

  return (
    <s-section heading={copy.heading}>
      {state.kind === 'loading' && <PanelSkeleton format={format} expected={expected} />}
      {state.kind === 'empty' && <s-paragraph color="subdued">{copy.empty}</s-paragraph>}
      {state.kind === 'error' && (
        <s-banner tone="warning" heading={copy.errorHeading}>
          <s-stack gap="base">
            <s-paragraph>{copy.errorNote}</s-paragraph>
            <s-button onClick={retry}>{copy.retry}</s-button>
          </s-stack>
        </s-banner>
      )}
      {state.kind === 'ready' && orderId && (
        <LoyaltyDetails orderId={orderId} data={state.data} client={client} format={format} />
      )}
    </s-section>
  );
}

function stateForError(error: unknown): PanelState {
  // The program is still a draft, or the holdout keeps this customer out of it: nothing of it
  // shows, and asking again will not change that during this visit.
  if (error instanceof LoyaltyApiError
      && (error.code === 'program_not_live' || error.code === 'not_in_program')) {
    return {kind: 'hidden'};
  }
  // 404: the backend has neither the order nor enough to preview it yet.
  if (error instanceof LoyaltyApiError && error.status === 404) return {kind: 'empty'};
  return {kind: 'error'};
}

interface DetailsProps {
  orderId: string;
  data: OrderLoyalty;
  client: LoyaltyClient;
  format: Formatter;
}

function LoyaltyDetails({orderId, data, client, format}: DetailsProps) {
  return (
    <s-stack gap="large">
      <OrderPointsSummary order={data.order} format={format} />
      {data.member && (
        <MemberBalance member={data.member} currency={data.currency} format={format} />
      )}
      {data.guest && <GuestInvitation guest={data.guest} format={format} />}
      {data.referral && <ReferralShare referral={data.referral} format={format} />}
      {data.nps.asked && (
        <NpsSurvey key={orderId} orderId={orderId} nps={data.nps} client={client} format={format} />
      )}
    </s-stack>
  );
}

function OrderPointsSummary({order, format}: {order: OrderPoints; format: Formatter}) {
  const {copy} = format;
  const unlocks = order.unlocks_on ? copy.unlocks(format.date(order.unlocks_on)) : '';
  const note = {
    preview: `${copy.previewNote} ${unlocks}`.trim(),
    pending: unlocks,
    available: copy.availableNote,
    reversed: copy.reversedNote,
    not_eligible: '',
  }[order.status];
  return (
    <s-stack gap="small-200">
      <s-stack direction="inline" gap="small-200" alignItems="center">
        <s-heading>{copy.earned[order.status](order.points)}</s-heading>
        <s-badge tone={order.status === 'reversed' ? 'critical' : 'auto'}>
          {copy.badge[order.status]}
        </s-badge>
      </s-stack>
      {note && <s-paragraph color="subdued">{note}</s-paragraph>}
    </s-stack>
  );
}

interface MemberBalanceProps {
  member: MemberSummary;
  /** The shop's currency, in which tier thresholds are spent. */
  currency: string;
  format: Formatter;
}

function MemberBalance({member, currency, format}: MemberBalanceProps) {
  const {copy} = format;
  const {tier} = member;
  return (
    <s-stack gap="small-200">
      <s-paragraph>
        {copy.balance(member.first_name, member.points.available, member.points.pending)}
      </s-paragraph>
      {tier && tier.next && (
        <s-progress
          value={Math.min(Math.max(tier.progress, 0), 1)}
          max={1}
          accessibilityLabel={copy.tierProgressLabel(tier.next)}
        />
      )}
      {tier && (
        <s-text color="subdued">
          {tier.next && tier.spend_to_next
            ? copy.tierNext(tier.name, format.money(tier.spend_to_next, currency), tier.next)
            : copy.tierTop(tier.name)}
        </s-text>
      )}
    </s-stack>
  );
}

function GuestInvitation({guest, format}: {guest: GuestClaim; format: Formatter}) {
  const {copy} = format;
  return (
    <s-banner tone="info" heading={copy.guestHeading(guest.points)}>
      <s-stack gap="base">
        <s-paragraph>{copy.guestNote}</s-paragraph>
        <s-button href={guest.claim_url} target="_blank" variant="primary">
          {copy.guestAction}
        </s-button>
      </s-stack>
    </s-banner>
  );
}

function ReferralShare({referral, format}: {referral: ReferralInvite; format: Formatter}) {
  const {copy} = format;
  const [copied, setCopied] = useState<'link' | 'message' | null>(null);
  const message = referral.share_text.includes(referral.url)
    ? referral.share_text
    : `${referral.share_text} ${referral.url}`;
  const mailto =
    `mailto:?subject=${encodeURIComponent(copy.shareSubject)}` +
    `&body=${encodeURIComponent(message)}`;
  return (
    <s-stack gap="small-200">
      <s-heading>{copy.referralHeading}</s-heading>
      <s-paragraph>{message}</s-paragraph>
      <s-clipboard-item
        id="loyalty-referral-link"
        text={referral.url}
        onCopy={() => setCopied('link')}
      />
      <s-clipboard-item
        id="loyalty-referral-message"
        text={message}
        onCopy={() => setCopied('message')}
      />
      <s-stack direction="inline" gap="small-200">
        <s-button command="--copy" commandFor="loyalty-referral-link" variant="secondary">
          {copied === 'link' ? copy.linkCopied : copy.copyLink}
        </s-button>
        <s-button command="--copy" commandFor="loyalty-referral-message" variant="secondary">
          {copied === 'message' ? copy.messageCopied : copy.copyMessage}
        </s-button>
        <s-button href={mailto} target="_blank" variant="secondary">
          {copy.shareByEmail}
        </s-button>
      </s-stack>
    </s-stack>
  );
}

type NpsPhase =
  | 'ask'
  | 'sendingScore'
  | 'thanked'
  | 'sendingComment'
  | 'commented'
  | 'answeredBefore';

interface NpsSurveyProps {
  orderId: string;
  nps: NpsQuestion;
  client: LoyaltyClient;
  format: Formatter;
}

/** One tap sends the score; an optional comment can follow, sent again with the same score. */
function NpsSurvey({orderId, nps, client, format}: NpsSurveyProps) {
  const {copy} = format;
  const [phase, setPhase] = useState<NpsPhase>(nps.answered ? 'answeredBefore' : 'ask');
  const [score, setScore] = useState<number | null>(null);
  const [bonus, setBonus] = useState(0);
  const [comment, setComment] = useState('');
  const [failed, setFailed] = useState(false);

  const sendScore = (chosen: number) => {
    setScore(chosen);
    setFailed(false);
    setPhase('sendingScore');
    client.answerNps({order_id: orderId, score: chosen, comment: ''}).then(
      (receipt) => {
        setBonus(receipt.bonus_points);
        setPhase('thanked');
      },
      () => {
        setFailed(true);
        setPhase('ask');
      },
    );
  };

  const sendComment = () => {
    if (score === null || !comment.trim()) return;
    setFailed(false);
    setPhase('sendingComment');
    client.answerNps({order_id: orderId, score, comment: comment.trim()}).then(
      () => setPhase('commented'),
      () => {
        setFailed(true);
        setPhase('thanked');
      },
    );
  };

  if (phase === 'answeredBefore') {
    return <s-paragraph color="subdued">{copy.npsAnswered}</s-paragraph>;
  }
  if (phase === 'ask' || phase === 'sendingScore') {
    return (
      <s-stack gap="small-200">
        <s-heading>{copy.npsQuestion}</s-heading>
        {nps.bonus_points > 0 && (
          <s-text color="subdued">{copy.npsBonus(nps.bonus_points)}</s-text>
        )}
        <s-grid gridTemplateColumns={NPS_COLUMNS} gap="small-300">
          {NPS_SCORES.map((value) => (
            <s-button
              key={value}
              variant="secondary"
              inlineSize="fill"
              accessibilityLabel={copy.npsScoreLabel(value)}
              disabled={phase === 'sendingScore'}
              loading={phase === 'sendingScore' && score === value}
              onClick={() => sendScore(value)}
            >
              {String(value)}
            </s-button>
          ))}
        </s-grid>
        <s-stack direction="inline" justifyContent="space-between">
          <s-text color="subdued">{copy.npsLow}</s-text>
          <s-text color="subdued">{copy.npsHigh}</s-text>
        </s-stack>
        {failed && <s-text tone="critical">{copy.npsFailed}</s-text>}
      </s-stack>
    );
  }
  if (phase === 'commented') {
    return <s-paragraph>{copy.npsCommentThanks}</s-paragraph>;
  }
  return (
    <s-stack gap="small-200">
      <s-paragraph>
        {bonus > 0 ? copy.npsThanksBonus(bonus) : copy.npsThanks}
      </s-paragraph>
      <s-text-area
        label={copy.npsCommentLabel}
        rows={3}
        maxLength={1000}
        value={comment}
        disabled={phase === 'sendingComment'}
        onInput={(event) => setComment(valueOf(event))}
      />
      {failed && <s-text tone="critical">{copy.npsFailed}</s-text>}
      <s-button
        variant="secondary"
        disabled={!comment.trim()}
        loading={phase === 'sendingComment'}
        onClick={sendComment}
      >
        {copy.npsSendComment}
      </s-button>
    </s-stack>
  );
}

/** The text of the field an input event came from. */
function valueOf(event: Event): string {
  return (event.currentTarget as HTMLElementTagNameMap['s-text-area'] | null)?.value ?? '';
}
