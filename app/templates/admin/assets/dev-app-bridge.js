// Development only (served by app/web/dev_admin.py): a stand-in for Shopify's App Bridge inside
// the dev admin frame. It offers what the admin page script uses, shopify.idToken(), and gets
// each fresh token from /dev/admin/id-token for the shop and staff user of the page's token.
(() => {
  "use strict";
  function claims() {
    try {
      const token = document.querySelector('meta[name="loyalty-id-token"]').content;
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(payload));
    } catch (error) {
      return {};
    }
  }
  window.shopify = {
    environment: { embedded: true, mobile: false, pos: false },
    async idToken() {
      const { dest, sub } = claims();
      if (!dest) throw new Error("no session token on this page");
      const query = new URLSearchParams({ shop: new URL(dest).host, user_id: String(sub || "1") });
      const response = await fetch(`/dev/admin/id-token?${query}`, { cache: "no-store" });
      if (!response.ok) throw new Error(`no fresh session token (${response.status})`);
      return (await response.json()).id_token;
    },
  };
})();
