import type {Formatter} from './format';

export const NPS_SCORES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
// One row of eleven equal buttons: the scale reads as a scale even on a narrow phone.
export const NPS_COLUMNS = `repeat(${NPS_SCORES.length}, minmax(0, 1fr))`;

/**
 * Whose layout the loading state reserves: a signed-in customer's (points, balance and tier,
 * referral, survey) or a guest's (points and the invitation to claim them).
 */
export type ExpectedLayout = 'member' | 'guest';

/** What both targets' `buyerIdentity` offers: the signed-in customer, undefined for a guest. */
interface HostBuyerIdentity {
  customer: {readonly value: unknown};
}

/**
 * The layout to expect, known before anything is fetched. `buyerIdentity.customer` is
 * undefined when the buyer is a guest or has not logged in (thank-you:
 * https://shopify.dev/docs/api/checkout-ui-extensions/2026-07-rc/target-apis/checkout-apis/buyer-identity-api,
 * order status:
 * https://shopify.dev/docs/api/customer-account-ui-extensions/latest/target-apis/order-apis/buyer-identity-api,
 * and so the 2026.7 types of @shopify/ui-extensions);
 * `buyerIdentity` itself is absent without protected customer data access, and then the
 * member layout, the one most buyers who come back see, is the guess.
 */
export function expectedLayout(buyerIdentity: HostBuyerIdentity | undefined): ExpectedLayout {
  if (!buyerIdentity) return 'member';
  return buyerIdentity.customer.value === undefined ? 'guest' : 'member';
}

/**
 * The loading state reserves the ready layout's size, line for line (headings in a heading's
 * line height, the referral message on the two lines a shop's name and link take), buttons as
 * padded placeholders, so nothing below the block moves when data arrives.
 */
export function PanelSkeleton({format, expected}: {format: Formatter; expected: ExpectedLayout}) {
  const {copy} = format;
  const points = (
    <s-stack gap="small-200">
      <SkeletonHeading text="You earned 000 points" />
      <SkeletonLine text="They unlock on December 27, 2026, once the return window closes." />
    </s-stack>
  );
  if (expected === 'guest') {
    return (
      <s-stack gap="large" accessibilityLabel={copy.loading}>
        {points}
        {/* The invitation to claim the points: a banner with its note and its button. */}
        <s-banner tone="info" heading={copy.loading}>
          <s-stack gap="base">
            <SkeletonLine text={copy.guestNote} />
            <SkeletonLine text={copy.guestAction} padded />
          </s-stack>
        </s-banner>
      </s-stack>
    );
  }
  return (
    <s-stack gap="large" accessibilityLabel={copy.loading}>
      {points}
      <s-stack gap="small-200">
        <SkeletonLine text="Your balance: 0,000 points available, 000 pending" />
        {/* The tier progress bar's line: indeterminate (no value) while loading. */}
        <s-progress accessibilityLabel={copy.loading} />
        <SkeletonLine text="Silver member: spend 000.00 more to reach Gold" />
      </s-stack>
      <s-stack gap="small-200">
        <SkeletonHeading text={copy.referralHeading} />
        <SkeletonLine text={REFERRAL_MESSAGE} />
        <s-stack direction="inline" gap="small-200">
          {[copy.copyLink, copy.copyMessage, copy.shareByEmail].map((label) => (
            <SkeletonLine key={label} text={label} padded />
          ))}
        </s-stack>
      </s-stack>
      <s-stack gap="small-200">
        <SkeletonHeading text={copy.npsQuestion} />
        <SkeletonLine text="Answer and earn 00 points." />
        <s-grid gridTemplateColumns={NPS_COLUMNS} gap="small-300">
          {NPS_SCORES.map((value) => (
            <SkeletonLine key={value} text={String(value)} padded />
          ))}
        </s-grid>
        <SkeletonLine text={copy.npsLow} />
      </s-stack>
    </s-stack>
  );
}

// As long as the app's share text with a shop's name and its link (app/locales share_text).
const REFERRAL_MESSAGE =
  "Here's 10% off your first order at Your Store Name - use my link: " +
  'https://your-store-name.myshopify.com/?ref=AAAA-AAAA';

/** A grey line in a heading, so it takes the heading's line height. */
function SkeletonHeading({text}: {text: string}) {
  return (
    <s-heading>
      <s-skeleton-paragraph content={text} />
    </s-heading>
  );
}

/** A grey line as wide as `text`; `padded` gives it a button's height. */
export function SkeletonLine({text, padded = false}: {text: string; padded?: boolean}) {
  return padded ? (
    <s-box paddingBlock="small-300">
      <s-skeleton-paragraph content={text} />
    </s-box>
  ) : (
    <s-skeleton-paragraph content={text} />
  );
}
