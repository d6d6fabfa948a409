// Development only (served by app/web/dev_admin.py, never in production): a stand-in for
// Shopify's polaris.js inside the dev admin frame, whose pages cannot load Shopify's CDN.
// It defines the Polaris web components our admin templates use, with the attributes
// @shopify/polaris-types declares for them (tests/unit/admin/test_admin_markup.py holds the
// templates to those declarations):
// - fields are form-associated (ElementInternals): named fields take part in FormData, submit
//   and reset, as Polaris' own do (shopify.dev/docs/apps/build/app-home/migrate-from-polaris-react/form);
// - each renders a real <label>, <input>/<select>/<textarea> or <button> in its shadow root,
//   so it is keyboard focusable (delegatesFocus) and its label, details and `error` are wired
//   to the control for assistive technology;
// - colours, spacing and type come from @shopify/polaris-tokens' CSS variables
//   (dev-polaris-tokens.css, copied from the package).
(() => {
  "use strict";
  if (customElements.get("s-page")) return;

  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`
    :host { font-family: var(--p-font-family-sans); font-size: var(--p-font-size-325);
            color: var(--p-color-text); box-sizing: border-box; }
    :host([hidden]) { display: none !important; }
    *, *::before, *::after { box-sizing: border-box; }
    .field { display: flex; flex-direction: column; gap: var(--p-space-100); min-width: 0; }
    label.title { font-weight: var(--p-font-weight-medium); }
    .visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
                       clip: rect(0 0 0 0); white-space: nowrap; }
    .control { display: flex; align-items: center; gap: var(--p-space-150); }
    .affix { color: var(--p-color-text-secondary); white-space: nowrap; }
    input, select, textarea {
      width: 100%; min-height: 2rem; padding: var(--p-space-150) var(--p-space-300);
      color: var(--p-color-text); background: var(--p-color-input-bg-surface);
      border: 1px solid var(--p-color-input-border); border-radius: var(--p-border-radius-200);
      font: inherit; }
    textarea { min-height: 4rem; resize: vertical; }
    input:focus-visible, select:focus-visible, textarea:focus-visible, button:focus-visible,
    a:focus-visible { outline: 2px solid var(--p-color-border-focus); outline-offset: 1px; }
    [aria-invalid="true"] { border-color: var(--p-color-text-critical);
                            background: var(--p-color-bg-surface-critical); }
    .details { color: var(--p-color-text-secondary); font-size: var(--p-font-size-300); margin: 0; }
    .error { color: var(--p-color-text-critical); font-size: var(--p-font-size-300); margin: 0; }
    .error:empty, .details:empty, .affix:empty { display: none; }
  `);

  // Markup parsed once per distinct text, then cloned for each element.
  const templates = new Map();
  function shadow(host, html, focusable) {
    const root = host.attachShadow({ mode: "open", delegatesFocus: Boolean(focusable) });
    root.adoptedStyleSheets = [sheet, ...(host.constructor.styles ? [host.constructor.styles] : [])];
    let template = templates.get(html);
    if (!template) {
      template = document.createElement("template");
      template.innerHTML = html;
      templates.set(html, template);
    }
    root.appendChild(template.content.cloneNode(true));
    return root;
  }

  function css(text) {
    const own = new CSSStyleSheet();
    own.replaceSync(text);
    return own;
  }

  // Runs once the element's children are parsed: polaris.js loads in <head>, so an element is
  // upgraded when its start tag is parsed, before its children exist.
  function whenParsed(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback, { once: true });
    } else {
      callback();
    }
  }

  // ----- layout and feedback -------------------------------------------------------------

  class Page extends HTMLElement {
    static styles = css(`
      :host { display: block; max-width: 65rem; margin: 0 auto;
              padding: var(--p-space-500) var(--p-space-500) var(--p-space-1200); }
      h1 { margin: 0 0 var(--p-space-400); font-size: var(--p-font-size-450);
           font-weight: var(--p-font-weight-bold); }
      main { display: block; }`);
    static observedAttributes = ["heading"];
    constructor() {
      super();
      shadow(this, "<main><h1></h1><slot></slot></main>");
    }
    attributeChangedCallback() {
      this.shadowRoot.querySelector("h1").textContent = this.getAttribute("heading") || "";
    }
  }

  class Section extends HTMLElement {
    static styles = css(`
      :host { display: block; margin: 0 0 var(--p-space-400); padding: var(--p-space-400);
              background: var(--p-color-bg-surface); border-radius: var(--p-border-radius-300);
              box-shadow: var(--p-shadow-100), inset 0 0 0 1px var(--p-color-border-secondary); }
      h2 { margin: 0 0 var(--p-space-300); font-size: var(--p-font-size-350);
           font-weight: var(--p-font-weight-semibold); }
      h2:empty { display: none; }
      section { display: block; }`);
    static observedAttributes = ["heading", "accessibilitylabel"];
    constructor() {
      super();
      shadow(this, '<section><h2 id="heading"></h2><slot></slot></section>');
    }
    attributeChangedCallback() {
      const heading = this.shadowRoot.querySelector("h2");
      const section = this.shadowRoot.querySelector("section");
      heading.textContent = this.getAttribute("heading") || "";
      const label = this.getAttribute("accessibilitylabel");
      if (label) section.setAttribute("aria-label", label);
      else if (heading.textContent) section.setAttribute("aria-labelledby", heading.id);
      else section.removeAttribute("aria-labelledby");
    }
  }

  const TONES = {
    info: ["--p-color-bg-fill-info-secondary", "--p-color-text-info"],
    success: ["--p-color-bg-fill-success-secondary", "--p-color-text-success"],
    warning: ["--p-color-bg-fill-warning-secondary", "--p-color-text-warning"],
    critical: ["--p-color-bg-fill-critical-secondary", "--p-color-text-critical"],
  };

  // A badge is text with a tone: styled from the document (a ledger shows one per row), no
  // shadow root.
  class Badge extends HTMLElement {}
  const badges = new CSSStyleSheet();
  badges.replaceSync(`
    s-badge { display: inline-block; padding: 0 var(--p-space-200); white-space: nowrap;
      border-radius: var(--p-border-radius-200); background: var(--p-color-bg-fill-secondary);
      color: var(--p-color-text); font-size: var(--p-font-size-300);
      font-weight: var(--p-font-weight-medium); vertical-align: middle; }
    ${Object.entries(TONES).map(([tone, [bg, fg]]) =>
      `s-badge[tone="${tone}"] { background: var(${bg}); color: var(${fg}); }`).join("\n")}`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, badges];

  class Banner extends HTMLElement {
    static styles = css(`
      :host { display: block; margin: 0 0 var(--p-space-400); }
      div { padding: var(--p-space-300) var(--p-space-400); border-radius: var(--p-border-radius-300);
            background: var(--p-color-bg-surface-info);
            box-shadow: inset 0 0 0 1px var(--p-color-border-info); }
      :host([tone="critical"]) div { background: var(--p-color-bg-surface-critical);
                                     box-shadow: inset 0 0 0 1px var(--p-color-border-critical); }
      :host([tone="success"]) div { background: var(--p-color-bg-surface-success);
                                    box-shadow: inset 0 0 0 1px var(--p-color-border-success); }
      :host([tone="warning"]) div { background: var(--p-color-bg-surface-warning);
                                    box-shadow: inset 0 0 0 1px var(--p-color-border-warning); }
      h2 { margin: 0 0 var(--p-space-100); font-size: var(--p-font-size-325);
           font-weight: var(--p-font-weight-semibold); }
      h2:empty { display: none; }`);
    static observedAttributes = ["heading", "tone"];
    constructor() {
      super();
      shadow(this, "<div><h2></h2><slot></slot></div>");
    }
    attributeChangedCallback() {
      this.shadowRoot.querySelector("h2").textContent = this.getAttribute("heading") || "";
      // A critical banner (a form's error) is announced at once, the others politely.
      this.shadowRoot.querySelector("div").setAttribute(
        "role", this.getAttribute("tone") === "critical" ? "alert" : "status");
    }
  }

  // ----- tables: the elements themselves carry the table roles and layout (no shadow root: a
  // ledger has hundreds of cells), so the cells stay ordinary light-DOM content.

  const TABLE_PARTS = {
    "s-table": "table", "s-table-header-row": "row", "s-table-body": "rowgroup",
    "s-table-row": "row", "s-table-header": "columnheader", "s-table-cell": "cell",
  };
  const tables = new CSSStyleSheet();
  tables.replaceSync(`
    s-table { display: table; width: 100%; border-collapse: collapse; }
    s-table-header-row, s-table-row { display: table-row; }
    s-table-body { display: table-row-group; }
    s-table-header { display: table-cell; padding: var(--p-space-200); text-align: start;
      color: var(--p-color-text-secondary); font-weight: var(--p-font-weight-medium);
      background: var(--p-color-bg-surface-secondary); border-bottom: 1px solid var(--p-color-border); }
    s-table-header:is([format="numeric"], [format="currency"]) { text-align: end; }
    s-table-cell { display: table-cell; padding: var(--p-space-200); vertical-align: top;
      border-bottom: 1px solid var(--p-color-border-secondary); }
    s-table-row:last-child > s-table-cell { border-bottom: 0; }
    s-option, s-app-nav { display: none; }`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, tables];

  // The table gives itself and, once parsed, its parts their roles in one pass (its rows and
  // cells need no element class of their own), and aligns numeric columns as Polaris does by
  // each header's `format`.
  class Table extends HTMLElement {
    connectedCallback() {
      whenParsed(() => {
        for (const [tag, role] of Object.entries(TABLE_PARTS)) {
          const parts = tag === "s-table" ? [this] : this.querySelectorAll(tag);
          for (const part of parts) if (!part.hasAttribute("role")) part.setAttribute("role", role);
        }
        alignNumericColumns(this);
      });
    }
  }

  function alignNumericColumns(table) {
    const headers = [...table.querySelectorAll(":scope > s-table-header-row > s-table-header")];
    headers.forEach((header, index) => {
      if (!["numeric", "currency"].includes(header.getAttribute("format"))) return;
      for (const row of table.querySelectorAll(":scope > s-table-body > s-table-row")) {
        const cell = row.children[index];
        if (cell) cell.style.textAlign = "end";
      }
    });
  }

  // ----- form fields ----------------------------------------------------------------------

  class Field extends HTMLElement {
    static formAssociated = true;
    static observedAttributes = ["label", "details", "error", "disabled", "placeholder",
      "labelaccessibilityvisibility", "prefix", "suffix", "required", "readonly"];

    constructor() {
      super();
      this.internals = this.attachInternals();
      // Ids are the shadow root's own: every field's control is "control".
      const id = "control";
      shadow(this, `<div class="field">
          <label class="title" for="${id}"></label>
          <div class="control"><span class="affix prefix"></span>${this.controlHtml(id)}<span class="affix suffix"></span></div>
          <p class="details" id="${id}-details"></p>
          <p class="error" id="${id}-error"></p>
        </div>`, true);
      this.control = this.shadowRoot.getElementById(id);
      this.control.addEventListener("input", () => this.sync());
      this.control.addEventListener("change", () => {
        this.sync();
        this.dispatchEvent(new Event("change", { bubbles: true }));
      });
      this.control.addEventListener("keydown", (event) => {
        // Enter in a one-line field submits its form, as in a native form.
        if (event.key === "Enter" && this.control.tagName === "INPUT" && this.form) {
          event.preventDefault();
          this.form.requestSubmit();
        }
      });
    }

    controlHtml(id) { return `<input id="${id}" type="text">`; }

    connectedCallback() {
      if (!this.initialised) {
        this.initialised = true;
        this.control.value = this.getAttribute("value") ?? "";
        this.applyControlAttributes();
        this.sync();
      }
    }

    applyControlAttributes() {
      for (const name of ["min", "max", "step", "maxlength", "minlength", "autocomplete",
                          "inputmode", "rows"]) {
        if (this.hasAttribute(name)) this.control.setAttribute(name, this.getAttribute(name));
      }
    }

    attributeChangedCallback(name) {
      const root = this.shadowRoot;
      const text = (attr) => this.getAttribute(attr) || "";
      if (name === "label" || name === "labelaccessibilityvisibility") {
        const label = root.querySelector("label.title");
        label.textContent = text("label");
        label.classList.toggle("visually-hidden",
          this.getAttribute("labelaccessibilityvisibility") === "exclusive");
      } else if (name === "details") {
        root.querySelector(".details").textContent = text("details");
      } else if (name === "prefix" || name === "suffix") {
        root.querySelector(`.${name}`).textContent = text(name);
      } else if (name === "error") {
        root.querySelector(".error").textContent = text("error");
        if (this.hasAttribute("error")) this.control.setAttribute("aria-invalid", "true");
        else this.control.removeAttribute("aria-invalid");
      } else {
        const controlName = name === "readonly" ? "readonly" : name;
        if (this.hasAttribute(name)) this.control.setAttribute(controlName, this.getAttribute(name));
        else this.control.removeAttribute(controlName);
      }
      const described = [["details", "-details"], ["error", "-error"]]
        .filter(([attr]) => this.getAttribute(attr)).map(([, suffix]) => this.control.id + suffix);
      if (described.length) this.control.setAttribute("aria-describedby", described.join(" "));
      else this.control.removeAttribute("aria-describedby");
    }

    sync() { this.internals.setFormValue(this.control.value); }

    get value() { return this.control.value; }
    set value(value) { this.control.value = value ?? ""; this.sync(); }
    get name() { return this.getAttribute("name") || ""; }
    get form() { return this.internals.form; }
    get disabled() { return this.hasAttribute("disabled"); }
    set disabled(on) { this.toggleAttribute("disabled", Boolean(on)); }
    get error() { return this.getAttribute("error") || ""; }
    set error(text) { if (text) this.setAttribute("error", text); else this.removeAttribute("error"); }
    focus(options) { this.control.focus(options); }

    formResetCallback() { this.value = this.getAttribute("value") ?? ""; }
    formDisabledCallback(disabled) { this.control.disabled = disabled; }
  }

  class TextField extends Field {}
  class SearchField extends Field {
    controlHtml(id) { return `<input id="${id}" type="search">`; }
  }
  class NumberField extends Field {
    controlHtml(id) { return `<input id="${id}" type="number">`; }
  }
  class DateField extends Field {
    controlHtml(id) { return `<input id="${id}" type="date">`; }
  }
  class TextArea extends Field {
    controlHtml(id) { return `<textarea id="${id}"></textarea>`; }
  }

  // The hex code is the field; the swatch beside it is a picker that fills it in, and a
  // complete code typed into the field moves the swatch.
  class ColorField extends Field {
    static styles = css(`input[type="color"] { flex: 0 0 3rem; width: 3rem; padding: 2px; }
      input.hex { font-family: var(--p-font-family-mono); }`);
    controlHtml(id) {
      return `<input type="color" aria-label="" data-swatch><input id="${id}" type="text" class="hex" maxlength="7" spellcheck="false" autocomplete="off">`;
    }
    constructor() {
      super();
      this.swatch = this.shadowRoot.querySelector("[data-swatch]");
      this.swatch.addEventListener("input", () => {
        this.control.value = this.swatch.value;
        this.sync();
        this.dispatchEvent(new Event("input", { bubbles: true, composed: true }));
      });
    }
    attributeChangedCallback(name) {
      super.attributeChangedCallback(name);
      if (name === "label") this.swatch.setAttribute("aria-label", `${this.getAttribute("label") || ""}: pick a color`);
    }
    sync() {
      super.sync();
      const code = this.control.value.trim();
      if (/^#[0-9a-fA-F]{6}$/.test(code)) this.swatch.value = code.toLowerCase();
    }
  }

  class Select extends Field {
    controlHtml(id) { return `<select id="${id}"></select>`; }
    connectedCallback() {
      if (this.initialised) return;
      this.initialised = true;
      whenParsed(() => this.buildOptions());
    }
    buildOptions() {
      this.control.replaceChildren(...[...this.querySelectorAll("s-option")].map((option) => {
        const native = document.createElement("option");
        native.value = option.getAttribute("value") ?? option.textContent;
        native.textContent = option.textContent;
        native.defaultSelected = option.hasAttribute("selected") || option.hasAttribute("defaultselected");
        native.disabled = option.hasAttribute("disabled");
        return native;
      }));
      if (this.hasAttribute("value")) this.control.value = this.getAttribute("value");
      this.sync();
    }
    formResetCallback() {
      for (const option of this.control.options) option.selected = option.defaultSelected;
      if (this.hasAttribute("value")) this.control.value = this.getAttribute("value");
      this.sync();
    }
  }

  class Option extends HTMLElement {
    connectedCallback() { this.hidden = true; }
  }

  // Polaris' s-drop-zone stands in as a labelled file input; `files` are the chosen files.
  class DropZone extends Field {
    controlHtml(id) { return `<input id="${id}" type="file">`; }
    applyControlAttributes() {
      for (const name of ["accept", "multiple"]) {
        if (this.hasAttribute(name)) this.control.setAttribute(name, this.getAttribute(name));
      }
    }
    sync() { this.internals.setFormValue(this.control.files && this.control.files[0] || null); }
    get files() { return [...(this.control.files || [])]; }
    get value() { return this.control.value; }
    set value(value) { if (!value) this.control.value = ""; this.sync(); }
  }
  class Checkbox extends HTMLElement {
    static formAssociated = true;
    static styles = css(`
      label { display: flex; gap: var(--p-space-200); align-items: flex-start; }
      input { width: auto; min-height: 0; margin: 2px 0 0; }
      .text { display: flex; flex-direction: column; }`);
    static observedAttributes = ["label", "details", "error", "disabled", "accessibilitylabel"];
    constructor() {
      super();
      this.internals = this.attachInternals();
      const id = "control";
      shadow(this, `<label><input type="checkbox" id="${id}"><span class="text"><span class="title"></span>
        <span class="details" id="${id}-details"></span><span class="error" id="${id}-error"></span></span></label>`, true);
      this.control = this.shadowRoot.getElementById(id);
      this.control.addEventListener("change", () => {
        this.sync();
        this.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
    connectedCallback() {
      if (this.initialised) return;
      this.initialised = true;
      this.control.checked = this.hasAttribute("checked") || this.hasAttribute("defaultchecked");
      this.sync();
    }
    attributeChangedCallback() {
      const root = this.shadowRoot;
      root.querySelector(".title").textContent = this.getAttribute("label") || "";
      root.querySelector(".details").textContent = this.getAttribute("details") || "";
      root.querySelector(".error").textContent = this.getAttribute("error") || "";
      this.control.disabled = this.hasAttribute("disabled");
      const label = this.getAttribute("accessibilitylabel");
      if (label) this.control.setAttribute("aria-label", label); else this.control.removeAttribute("aria-label");
      if (this.getAttribute("error")) this.control.setAttribute("aria-invalid", "true");
      else this.control.removeAttribute("aria-invalid");
      const described = ["details", "error"].filter((a) => this.getAttribute(a))
        .map((a) => `${this.control.id}-${a}`);
      if (described.length) this.control.setAttribute("aria-describedby", described.join(" "));
      else this.control.removeAttribute("aria-describedby");
    }
    sync() {
      this.internals.setFormValue(this.control.checked ? (this.getAttribute("value") || "on") : null);
    }
    get checked() { return this.control.checked; }
    set checked(on) { this.control.checked = Boolean(on); this.sync(); }
    get value() { return this.getAttribute("value") || "on"; }
    get name() { return this.getAttribute("name") || ""; }
    get form() { return this.internals.form; }
    get disabled() { return this.hasAttribute("disabled"); }
    focus(options) { this.control.focus(options); }
    formResetCallback() {
      this.control.checked = this.hasAttribute("checked") || this.hasAttribute("defaultchecked");
      this.sync();
    }
  }

  // ----- actions ----------------------------------------------------------------------

  // The few icons our templates use, drawn as text.
  const ICONS = { "arrow-up": "↑", "arrow-down": "↓", x: "✕", external: "↗", search: "⌕" };

  class Button extends HTMLElement {
    static formAssociated = true;
    static styles = css(`
      :host { display: inline-block; }
      .button { display: inline-flex; align-items: center; justify-content: center;
        gap: var(--p-space-150); min-height: 2rem; min-width: 2rem;
        padding: var(--p-space-150) var(--p-space-300); color: var(--p-color-text);
        background: var(--p-color-bg-fill); border: 0; border-radius: var(--p-border-radius-200);
        box-shadow: var(--p-shadow-button); font: inherit; font-weight: var(--p-font-weight-medium);
        cursor: pointer; white-space: nowrap; text-decoration: none; }
      .button:hover { background: var(--p-color-bg-fill-hover); }
      :host([variant="primary"]) .button { color: var(--p-color-text-brand-on-bg-fill);
        background: var(--p-color-bg-fill-brand); box-shadow: var(--p-shadow-button-primary); }
      :host([variant="primary"]) .button:hover { background: var(--p-color-bg-fill-brand-hover); }
      :host([variant="tertiary"]) .button { background: transparent; box-shadow: none;
        color: var(--p-color-text-link); }
      :host([variant="tertiary"]) .button:hover { background: var(--p-color-bg-fill-transparent-hover); }
      :host([tone="critical"]) .button { color: var(--p-color-text-critical); }
      :host([tone="critical"][variant="primary"]) .button { color: var(--p-color-text-critical-on-bg-fill);
        background: var(--p-color-bg-fill-critical); }
      .button[disabled], .button[aria-disabled="true"] { opacity: .5; cursor: default; }
      .icon:empty { display: none; }`);
    static observedAttributes = ["href", "target", "disabled", "loading", "accessibilitylabel", "icon"];
    constructor() {
      super();
      this.internals = this.attachInternals();
      shadow(this, "", true);
      this.render();
    }
    render() {
      const href = this.getAttribute("href");
      const inner = href === null ? document.createElement("button") : document.createElement("a");
      inner.className = "button";
      inner.setAttribute("part", "button");
      if (href === null) {
        inner.type = "button";
        inner.addEventListener("click", (event) => {
          if (this.disabled) { event.stopPropagation(); return; }
          if (this.getAttribute("type") === "submit" && this.internals.form) {
            this.internals.form.requestSubmit();
          } else if (this.getAttribute("type") === "reset" && this.internals.form) {
            this.internals.form.reset();
          }
        });
      } else {
        inner.href = href;
        if (this.hasAttribute("target")) inner.target = this.getAttribute("target");
        if (this.getAttribute("target") === "_blank") inner.rel = "noopener";
      }
      inner.innerHTML = '<span class="icon" aria-hidden="true"></span><slot></slot>';
      this.shadowRoot.replaceChildren(inner);
      this.inner = inner;
      this.update();
    }
    attributeChangedCallback(name) {
      if ((name === "href" && (this.getAttribute("href") === null) !== (this.inner.tagName === "BUTTON"))
          || name === "target") {
        this.render();
      } else {
        this.update();
      }
    }
    update() {
      const inner = this.inner;
      const label = this.getAttribute("accessibilitylabel");
      if (label) inner.setAttribute("aria-label", label); else inner.removeAttribute("aria-label");
      inner.querySelector(".icon").textContent = ICONS[this.getAttribute("icon")] || "";
      const busy = this.hasAttribute("loading");
      if (busy) inner.setAttribute("aria-busy", "true"); else inner.removeAttribute("aria-busy");
      if (inner.tagName === "BUTTON") inner.disabled = this.disabled || busy;
      else if (this.disabled) inner.setAttribute("aria-disabled", "true");
      else inner.removeAttribute("aria-disabled");
    }
    get disabled() { return this.hasAttribute("disabled"); }
    set disabled(on) { this.toggleAttribute("disabled", Boolean(on)); }
    get loading() { return this.hasAttribute("loading"); }
    set loading(on) { this.toggleAttribute("loading", Boolean(on)); }
    get form() { return this.internals.form; }
    focus(options) { this.inner.focus(options); }
  }

  class Link extends HTMLElement {
    static styles = css(`a { color: var(--p-color-text-link); text-decoration: underline; }`);
    static observedAttributes = ["href", "target", "accessibilitylabel"];
    constructor() {
      super();
      shadow(this, '<a part="link"><slot></slot></a>', true);
    }
    attributeChangedCallback() {
      const link = this.shadowRoot.querySelector("a");
      for (const [attr, prop] of [["href", "href"], ["target", "target"], ["accessibilitylabel", "aria-label"]]) {
        if (this.hasAttribute(attr)) link.setAttribute(prop, this.getAttribute(attr));
        else link.removeAttribute(prop);
      }
    }
  }

  const elements = {
    "s-page": Page, "s-section": Section, "s-badge": Badge, "s-banner": Banner,
    "s-text-field": TextField, "s-search-field": SearchField, "s-number-field": NumberField,
    "s-date-field": DateField, "s-text-area": TextArea, "s-color-field": ColorField,
    "s-select": Select, "s-option": Option, "s-drop-zone": DropZone, "s-checkbox": Checkbox, "s-button": Button,
    "s-link": Link, "s-table": Table,
  };
  for (const [tag, element] of Object.entries(elements)) customElements.define(tag, element);
})();
