import {copyFrom, type Copy, type Translate} from './copy';

/** The host's locale-aware formatting and translations, narrowed to what the panel shows. */
export interface Formatter {
  points(value: number): string;
  /** An ISO calendar date such as `2026-12-27`, in the buyer's locale. */
  date(isoDate: string): string;
  /** A decimal amount such as `273.00` in `currency`: $273.00, 273,00 $US. */
  money(value: string, currency: string): string;
  /** Every sentence, in the buyer's language. */
  copy: Copy;
}

/** The subset of `shopify.i18n` both targets provide. */
export interface HostI18n {
  formatNumber(value: number, options?: Intl.NumberFormatOptions): string;
  formatCurrency(value: number, options?: Intl.NumberFormatOptions): string;
  formatDate(date: Date, options?: Intl.DateTimeFormatOptions): string;
  translate: Translate;
}

/** A Formatter over the extension host's i18n API. */
export function formatterFrom(i18n: HostI18n): Formatter {
  const points = (value: number) => i18n.formatNumber(value);
  return {
    points,
    // The date is a calendar day, so format it in UTC: no timezone may move it by a day.
    date: (isoDate) =>
      i18n.formatDate(new Date(`${isoDate}T00:00:00Z`), {
        year: 'numeric',
        month: 'long',
        day: 'numeric',
        timeZone: 'UTC',
      }),
    money: (value, currency) => i18n.formatCurrency(Number(value), {currency}),
    copy: copyFrom((key, options) => i18n.translate(key, options), points),
  };
}
