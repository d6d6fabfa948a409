/** The host's locale-aware formatting, narrowed to what the panel shows. */
export interface Formatter {
  points(value: number): string;
  /** An ISO calendar date such as `2026-12-27`, in the buyer's locale. */
  date(isoDate: string): string;
  decimal(value: string): string;
}

/** The subset of `shopify.i18n` both targets provide. */
export interface HostI18n {
  formatNumber(value: number, options?: Intl.NumberFormatOptions): string;
  formatDate(date: Date, options?: Intl.DateTimeFormatOptions): string;
}

/** A Formatter over the extension host's i18n API. */
export function formatterFrom(i18n: HostI18n): Formatter {
  return {
    points: (value) => i18n.formatNumber(value),
    // The date is a calendar day, so format it in UTC: no timezone may move it by a day.
    date: (isoDate) =>
      i18n.formatDate(new Date(`${isoDate}T00:00:00Z`), {
        year: 'numeric',
        month: 'long',
        day: 'numeric',
        timeZone: 'UTC',
      }),
    decimal: (value) =>
      i18n.formatNumber(Number(value), {minimumFractionDigits: 2, maximumFractionDigits: 2}),
  };
}
