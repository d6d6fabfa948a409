// Editors type this package's `s-*` elements as the thank-you target's; `npm run typecheck`
// checks the same sources against each extension's own target (see extensions/*/tsconfig.json).
import '@shopify/ui-extensions/purchase.thank-you.block.render';
