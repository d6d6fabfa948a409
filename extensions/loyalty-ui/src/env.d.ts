/**
 * Shopify CLI's esbuild replaces `process.env.NAME` with the build environment's value
 * (see client.ts); nothing else of Node's `process` exists in an extension's worker.
 */
declare const process: {readonly env: Readonly<Record<string, string | undefined>>};
