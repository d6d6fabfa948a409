import type {OrderPointsStatus} from './contract';

/** `shopify.i18n.translate`: a key of the extension's locales/*.json, `count` picks the plural. */
export type Translate = (key: string, options?: Record<string, string | number>) => string;

/**
 * Every sentence the shopper reads, from the extension's locale files (locales/en.default.json,
 * locales/fr.json: Shopify picks the buyer's language) so wording stays consistent. Numbers
 * arrive formatted for the buyer's locale; `count` chooses the plural form.
 */
export function copyFrom(t: Translate, points: (value: number) => string) {
  const counted = (key: string) => (value: number) =>
    t(key, {count: value, points: points(value)});
  const earned = (status: OrderPointsStatus) =>
    status === 'not_eligible' ? () => t('earned.not_eligible') : counted(`earned.${status}`);
  return {
    heading: t('heading'),
    loading: t('loading'),
    earned: {
      preview: earned('preview'),
      pending: earned('pending'),
      available: earned('available'),
      reversed: earned('reversed'),
      not_eligible: earned('not_eligible'),
    } satisfies Record<OrderPointsStatus, (value: number) => string>,
    badge: {
      preview: t('badge.preview'),
      pending: t('badge.pending'),
      available: t('badge.available'),
      reversed: t('badge.reversed'),
      not_eligible: t('badge.not_eligible'),
    } satisfies Record<OrderPointsStatus, string>,
    unlocks: (date: string) => t('unlocks', {date}),
    previewNote: t('previewNote'),
    availableNote: t('availableNote'),
    reversedNote: t('reversedNote'),
    balance: (name: string | null, available: number, pending: number) =>
      name
        ? t('balanceNamed', {name, available: points(available), pending: points(pending)})
        : t('balance', {available: points(available), pending: points(pending)}),
    tierNext: (tier: string, spend: string, next: string) => t('tierNext', {tier, spend, next}),
    tierTop: (tier: string) => t('tierTop', {tier}),
    tierProgressLabel: (next: string) => t('tierProgressLabel', {next}),
    guestHeading: counted('guestHeading'),
    guestNote: t('guestNote'),
    guestAction: t('guestAction'),
    referralHeading: t('referralHeading'),
    copyLink: t('copyLink'),
    linkCopied: t('linkCopied'),
    copyMessage: t('copyMessage'),
    messageCopied: t('messageCopied'),
    shareByEmail: t('shareByEmail'),
    shareSubject: t('shareSubject'),
    npsQuestion: t('npsQuestion'),
    npsBonus: counted('npsBonus'),
    npsScoreLabel: (score: number) => t('npsScoreLabel', {score: String(score)}),
    npsLow: t('npsLow'),
    npsHigh: t('npsHigh'),
    npsThanks: t('npsThanks'),
    npsThanksBonus: counted('npsThanksBonus'),
    npsCommentLabel: t('npsCommentLabel'),
    npsSendComment: t('npsSendComment'),
    npsCommentThanks: t('npsCommentThanks'),
    npsAnswered: t('npsAnswered'),
    npsFailed: t('npsFailed'),
    empty: t('empty'),
    errorHeading: t('errorHeading'),
    errorNote: t('errorNote'),
    retry: t('retry'),
  };
}

export type Copy = ReturnType<typeof copyFrom>;
