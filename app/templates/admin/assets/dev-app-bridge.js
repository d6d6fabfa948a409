// Development only (served by app/web/dev_admin.py): a stand-in for Shopify's App Bridge inside
// the dev admin frame. It offers what the admin page script uses:
// - shopify.idToken(), each fresh token from /dev/admin/id-token for the shop and staff user of
//   the page's token;
// - the save bar: <ui-save-bar id> with a Save (variant="primary") and a Discard <button>,
//   shown and hidden through shopify.saveBar.show(id) / hide(id) / toggle(id), and
//   leaveConfirmation() (shopify.dev/docs/api/app-home/apis/user-interface-and-interactions/save-bar-api).
//   Inside Shopify the bar is drawn in the admin's top bar and clicks its buttons; here it is
//   drawn at the top of the page with the page's own buttons in it.
// - <s-app-nav>, which Shopify's admin draws in its sidebar (the dev frame draws its own).
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

  class SaveBar extends HTMLElement {
    constructor() {
      super();
      const root = this.attachShadow({ mode: "open" });
      root.innerHTML = `<style>
          :host { display: none; }
          :host([data-showing]) { display: block; position: fixed; inset: 0 0 auto 0; z-index: 20; }
          div { box-sizing: border-box; display: flex; align-items: center; gap: var(--p-space-200); min-height: 3.5rem;
                padding: var(--p-space-300) var(--p-space-500); background: var(--p-color-bg-inverse);
                color: var(--p-color-text-inverse); font-family: var(--p-font-family-sans);
                font-size: var(--p-font-size-350); }
          p { flex: 1; margin: 0; font-weight: var(--p-font-weight-semibold); }
          ::slotted(button) { min-height: 2rem; padding: var(--p-space-150) var(--p-space-300);
                border: 0; border-radius: var(--p-border-radius-200); font: inherit;
                font-weight: var(--p-font-weight-medium); cursor: pointer;
                background: var(--p-color-bg-fill); color: var(--p-color-text); }
          ::slotted(button[variant="primary"]) { background: var(--p-color-bg-fill-success);
                color: var(--p-color-text-brand-on-bg-fill); }
          ::slotted(button:focus-visible) { outline: 2px solid var(--p-color-border-focus); outline-offset: 2px; }
          ::slotted(button[disabled]) { opacity: .6; cursor: default; }
        </style><div><p aria-hidden="true">Unsaved changes</p><slot></slot></div>`;
    }
    connectedCallback() {
      // The bar is a landmark around its own buttons (they are this element's children).
      this.setAttribute("role", "region");
      this.setAttribute("aria-label", "Unsaved changes");
    }
    get showing() { return this.hasAttribute("data-showing"); }
    async show() { this.setAttribute("data-showing", ""); this.dispatchEvent(new Event("show")); }
    async hide() { this.removeAttribute("data-showing"); this.dispatchEvent(new Event("hide")); }
    async toggle() { return this.showing ? this.hide() : this.show(); }
  }

  class AppNav extends HTMLElement {
    connectedCallback() { this.hidden = true; }
  }

  if (!customElements.get("ui-save-bar")) customElements.define("ui-save-bar", SaveBar);
  if (!customElements.get("s-app-nav")) customElements.define("s-app-nav", AppNav);

  const bar = (id) => {
    const element = document.getElementById(id);
    if (!element || element.tagName !== "UI-SAVE-BAR") throw new Error(`no <ui-save-bar id="${id}">`);
    return element;
  };

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
    saveBar: {
      show: (id) => bar(id).show(),
      hide: (id) => bar(id).hide(),
      toggle: (id) => bar(id).toggle(),
      // Resolves when no save bar shows, or once the merchant agrees to lose the changes.
      leaveConfirmation: () => new Promise((resolve) => {
        const open = [...document.querySelectorAll("ui-save-bar")].some((b) => b.showing);
        if (!open || window.confirm("Leave this page? Your unsaved changes will be lost.")) resolve();
      }),
    },
  };
})();
