// Loyalty Loop admin: the one page script.
// - Every fetch carries `Authorization: Bearer <session token>`: App Bridge's shopify.idToken()
//   inside Shopify (or the dev frame's stand-in), else the token this page was loaded with.
//   A 401 with X-Shopify-Retry-Invalid-Session-Request is retried once with a fresh token.
// - Forms with data-endpoint are posted as JSON; field errors come back keyed by field name and
//   are set on the Polaris field as its `error`.
// - Settings forms (data-save-with="<ui-save-bar id>") save through App Bridge's save bar: it
//   shows while any of them differs from what was loaded (or last saved), its Save saves each
//   changed form and hides once all are saved, its Discard puts them back.
// - Links and GET forms to this app navigate with a fresh id_token, as Shopify's admin does.
// Polaris' fields are form-associated custom elements: they are in form.elements and FormData,
// with `value` (or `checked`) as native controls have.
(() => {
  "use strict";
  const RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request";
  const pageToken = () => (document.querySelector('meta[name="loyalty-id-token"]') || {}).content || "";

  async function sessionToken() {
    const bridge = window.shopify;
    if (bridge && typeof bridge.idToken === "function") {
      try {
        const fresh = await bridge.idToken();
        if (fresh) return fresh;
      } catch (error) {
        // No fresh token to be had: the page's own is still valid for a minute.
      }
    }
    return pageToken();
  }

  async function send(url, body) {
    for (let attempt = 0; ; attempt += 1) {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "Authorization": "Bearer " + await sessionToken(),
          "Content-Type": "application/json",
          "Accept": "application/json",
        },
        body: JSON.stringify(body),
      });
      if (response.status === 401 && response.headers.get(RETRY_HEADER) === "1" && attempt === 0) {
        continue;
      }
      let data = {};
      try { data = await response.json(); } catch (error) { data = {}; }
      return { ok: response.ok, status: response.status, data };
    }
  }

  function toast(message, isError) {
    const bridge = window.shopify;
    if (bridge && bridge.toast && typeof bridge.toast.show === "function") {
      bridge.toast.show(message, { isError: Boolean(isError) });
      return;
    }
    const box = document.querySelector("[data-toast]");
    if (!box) return;
    box.textContent = message;
    box.classList.toggle("error", Boolean(isError));
    box.hidden = false;
    clearTimeout(box.hideTimer);
    box.hideTimer = setTimeout(() => { box.hidden = true; }, 5000);
  }

  async function go(href, { confirmLeave = true } = {}) {
    // App Bridge holds a page with unsaved changes; our navigation is not an anchor's, so ask it.
    const bar = window.shopify && window.shopify.saveBar;
    if (confirmLeave && bar && typeof bar.leaveConfirmation === "function") await bar.leaveConfirmation();
    const url = new URL(href, location.href);
    url.searchParams.set("id_token", await sessionToken());
    if (new URLSearchParams(location.search).get("dev_frame") === "1") {
      url.searchParams.set("dev_frame", "1");
    }
    location.assign(url.toString());
  }

  const reload = () => go(location.href, { confirmLeave: false });

  function setPath(target, path, value) {
    const parts = path.split(".");
    let node = target;
    parts.slice(0, -1).forEach((part) => { node = node[part] = node[part] || {}; });
    node[parts[parts.length - 1]] = value;
  }

  const CHECKS = ["S-CHECKBOX", "S-SWITCH"];
  const isCheck = (el) => CHECKS.includes(el.tagName) || el.type === "checkbox";
  const valueOf = (el) => (isCheck(el) ? Boolean(el.checked) : (el.value ?? ""));
  const fieldName = (el) => el.getAttribute("name") || "";

  function serialize(form) {
    const data = {};
    for (const el of form.elements) {
      const list = el.closest("[data-list]");
      if (!fieldName(el) || el.hasAttribute("disabled") || (list && form.contains(list))) continue;
      if (el.tagName === "S-BUTTON" || ["submit", "button", "reset"].includes(el.type)) continue;
      setPath(data, fieldName(el), valueOf(el));
    }
    for (const list of form.querySelectorAll("[data-list]")) {
      const items = [...list.querySelectorAll(":scope > [data-item]")].map((item) => {
        const fields = {};
        item.querySelectorAll("[data-field]").forEach((el) => { fields[el.dataset.field] = valueOf(el); });
        return fields;
      });
      setPath(data, list.dataset.list, items);
    }
    return data;
  }

  function fieldFor(form, path) {
    const named = form.querySelector(`[name="${CSS.escape(path)}"]`);
    if (named) return named;
    for (const list of form.querySelectorAll("[data-list]")) {
      const prefix = list.dataset.list + ".";
      if (!path.startsWith(prefix)) continue;
      const [index, field] = path.slice(prefix.length).split(".");
      const item = list.querySelectorAll(":scope > [data-item]")[Number(index)];
      if (item && field) return item.querySelector(`[data-field="${CSS.escape(field)}"]`);
    }
    return null;
  }

  function clearErrors(form) {
    form.querySelectorAll("[error]").forEach((el) => el.removeAttribute("error"));
    const banner = form.querySelector("[data-form-error]");
    if (banner) { banner.hidden = true; banner.textContent = ""; }
  }

  // Each error goes on its field (Polaris shows `error` under it and marks the control invalid);
  // one without a field on this page goes into the form's banner.
  function showErrors(form, fields, message) {
    const unplaced = [];
    let first = null;
    for (const [path, text] of Object.entries(fields || {})) {
      const el = fieldFor(form, path);
      if (!el) { unplaced.push(`${path.split(".").pop().replace(/_/g, " ")}: ${text}.`); continue; }
      el.setAttribute("error", text);
      first = first || el;
    }
    const banner = form.querySelector("[data-form-error]");
    if (banner) {
      banner.textContent = [message, ...unplaced].filter(Boolean).join(" ");
      banner.hidden = false;
    }
    if (first && typeof first.focus === "function") first.focus();
  }

  // The settings header names the version now in force, so it follows each save.
  function showVersion(version) {
    const header = document.querySelector("[data-settings-version]");
    if (!header || !Number.isInteger(version)) return;
    header.textContent = `Version ${version}.`;
  }

  // Posts one form; true once saved.
  async function save(form) {
    clearErrors(form);
    const button = form.querySelector('[type="submit"]');
    if (button) button.disabled = true;
    try {
      const result = await send(form.dataset.endpoint, serialize(form));
      if (result.ok && result.data.redirect_top) {
        // A page of Shopify's (a charge's confirmation) cannot be framed: the top window goes.
        window.open(result.data.redirect_top, "_top");
        return true;
      }
      if (result.ok) {
        toast(result.data.message || "Saved");
        form.dataset.saved = String(result.data.version || Date.now());
        showVersion(result.data.version);
        if (form.hasAttribute("data-reload")) await reload();
        return true;
      }
      showErrors(form, result.data.fields, result.data.message || "Not saved.");
      toast(result.data.message || "Not saved.", true);
    } catch (error) {
      toast("Could not reach Loyalty Loop. Nothing was saved.", true);
    } finally {
      if (button) button.disabled = false;
    }
    return false;
  }

  // ----- the save bar -------------------------------------------------------------------
  const loaded = new WeakMap();  // form → its serialized state as loaded or last saved
  const snapshot = (form) => JSON.stringify(serialize(form));
  const barForms = (id) => [...document.querySelectorAll("form[data-save-with]")]
    .filter((form) => form.dataset.saveWith === id);
  const changed = (form) => loaded.has(form) && loaded.get(form) !== snapshot(form);

  function saveBar(method, id) {
    const bar = window.shopify && window.shopify.saveBar;
    if (bar && typeof bar[method] === "function") {
      Promise.resolve(bar[method](id)).catch(() => {});
    }
  }

  function trackChanges(form) {
    if (!form || !form.dataset.saveWith) return;
    const id = form.dataset.saveWith;
    saveBar(barForms(id).some(changed) ? "show" : "hide", id);
  }

  async function saveChanges(id) {
    const buttons = document.querySelectorAll(`#${CSS.escape(id)} button`);
    buttons.forEach((button) => { button.disabled = true; });
    let allSaved = true;
    try {
      for (const form of barForms(id).filter(changed)) {
        if (await save(form)) loaded.set(form, snapshot(form));
        else allSaved = false;
      }
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
    if (allSaved) saveBar("hide", id);
  }

  async function discardChanges(id) {
    const forms = barForms(id);
    saveBar("hide", id);
    // A list edited row by row (tiers) cannot be put back by form.reset(): load the page again.
    if (forms.some((form) => form.querySelector("[data-list]") && changed(form))) {
      await reload();
      return;
    }
    forms.forEach((form) => { form.reset(); clearErrors(form); });
  }

  // What each form holds once the page is parsed (a select knows its options only then).
  function remember() {
    for (const form of document.querySelectorAll("form[data-save-with]")) loaded.set(form, snapshot(form));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", remember);
  else remember();
  // Polaris' fields announce edits with input and change events; capture sees them wherever
  // they are dispatched.
  for (const type of ["input", "change"]) {
    document.addEventListener(type, (event) => {
      trackChanges(event.target.closest && event.target.closest("form[data-save-with]"));
    }, true);
  }

  async function postAction(button) {
    button.disabled = true;
    try {
      const result = await send(button.dataset.post, JSON.parse(button.dataset.body || "{}"));
      toast(result.data.message || (result.ok ? "Done" : "Not done."), !result.ok);
      if (result.ok && button.hasAttribute("data-reload")) await reload();
    } catch (error) {
      toast("Could not reach Loyalty Loop.", true);
    } finally {
      button.disabled = false;
    }
  }

  async function saveOrder(list) {
    const ids = [...list.querySelectorAll(":scope > [data-item]")].map((item) => Number(item.dataset.id));
    const result = await send(list.dataset.orderEndpoint, { ids });
    toast(result.data.message || (result.ok ? "Order saved." : "Order not saved."), !result.ok);
  }

  function editList(button) {
    if (button.dataset.add) {
      const list = document.querySelector(`[data-list="${CSS.escape(button.dataset.add)}"]`);
      const template = document.querySelector(`template[data-template-for="${CSS.escape(button.dataset.add)}"]`);
      if (!list || !template) return;
      list.appendChild(template.content.cloneNode(true));
      trackChanges(list.closest("form"));
      const added = list.lastElementChild.querySelector("[data-field]");
      if (added) requestAnimationFrame(() => added.focus());
      return;
    }
    const item = button.closest("[data-item]");
    if (!item) return;
    const list = item.parentElement;
    if (button.hasAttribute("data-remove")) {
      const form = item.closest("form");
      item.remove();
      trackChanges(form);
      return;
    }
    const up = button.dataset.move === "up";
    const neighbour = up ? item.previousElementSibling : item.nextElementSibling;
    if (!neighbour || !neighbour.hasAttribute("data-item")) return;
    list.insertBefore(up ? item : neighbour, up ? neighbour : item);
    button.focus();
    if (list.dataset.orderEndpoint) saveOrder(list);
    else trackChanges(list.closest("form"));
  }

  // Imports: the file is the request body; the run page polls its progress while it imports.
  async function authorized(url, options) {
    for (let attempt = 0; ; attempt += 1) {
      const headers = { "Authorization": "Bearer " + await sessionToken(), ...(options.headers || {}) };
      const response = await fetch(url, { method: "POST", ...options, headers });
      if (response.status === 401 && response.headers.get(RETRY_HEADER) === "1" && attempt === 0) continue;
      return response;
    }
  }

  async function uploadImport(form) {
    const banner = form.querySelector("[data-form-error]");
    const file = (form.querySelector("s-drop-zone").files || [])[0];
    const button = form.querySelector('[type="submit"]');
    if (banner) banner.hidden = true;
    if (!file) { toast("Choose a CSV file first.", true); return; }
    button.disabled = true;
    try {
      const query = new URLSearchParams({ source: form.querySelector('[name="source"]').value, filename: file.name });
      const response = await authorized(`/admin/imports?${query}`, {
        headers: { "Content-Type": "text/csv", "Accept": "application/json" }, body: file });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        if (banner) { banner.textContent = data.message || "The file could not be read."; banner.hidden = false; }
        toast(data.message || "The file could not be read.", true);
        return;
      }
      await go(`/admin/imports/${data.id}`);
    } catch (error) {
      toast("Could not reach Loyalty Loop. Nothing was imported.", true);
    } finally {
      button.disabled = false;
    }
  }

  function showImportProgress(box, run) {
    const bar = box.querySelector("[data-import-bar]");
    const share = run.total_rows ? Math.floor(run.rows_done * 100 / run.total_rows) : 0;
    bar.setAttribute("aria-valuenow", String(run.rows_done));
    bar.firstElementChild.style.width = `${share}%`;
    const count = `${run.rows_done.toLocaleString("en")} of ${run.total_rows.toLocaleString("en")} lines`;
    const status = box.querySelector("[data-import-status]");
    status.textContent = run.state === "done" ? `Imported: ${count}.`
      : run.state === "failed" ? `Stopped after ${run.rows_done.toLocaleString("en")} lines: ${run.error}. Reload to resume.`
        : `Importing: ${count}.`;
    box.dataset.state = run.state;
  }

  async function watchImport(box) {
    while (box.dataset.state === "importing") {
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
      try {
        const response = await authorized(`/admin/imports/${box.dataset.importRun}/status`, { headers: { "Accept": "application/json" } });
        if (response.ok) showImportProgress(box, await response.json());
      } catch (error) {
        // The next poll tries again.
      }
    }
  }

  async function confirmImport(button) {
    const box = button.closest("[data-import-run]");
    button.disabled = true;
    const result = await send(button.dataset.importConfirm, {}).catch(() => null);
    if (!result || !result.ok) {
      toast((result && result.data.message) || "Could not start the import.", true);
      button.disabled = false;
      return;
    }
    button.remove();
    showImportProgress(box, result.data);
    if (result.data.state === "importing") watchImport(box);
  }

  async function download(button) {
    button.disabled = true;
    try {
      const response = await authorized(button.dataset.export, { headers: { "Accept": "text/csv" } });
      if (!response.ok) { toast("The export failed.", true); return; }
      const name = (/filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "") || [])[1] || "export.csv";
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = name;
      document.body.appendChild(link);
      link.click();
      link.remove();
      toast("Export downloaded.");
    } catch (error) {
      toast("Could not reach Loyalty Loop.", true);
    } finally {
      button.disabled = false;
    }
  }

  document.querySelectorAll("[data-import-run]").forEach((box) => { watchImport(box); });

  document.addEventListener("click", (event) => {
    const transfer = event.target.closest("[data-import-confirm], [data-export]");
    if (transfer) {
      event.preventDefault();
      if (transfer.dataset.export) download(transfer); else confirmImport(transfer);
      return;
    }
    const barButton = event.target.closest("ui-save-bar button[data-save-bar]");
    if (barButton) {
      event.preventDefault();
      const id = barButton.closest("ui-save-bar").id;
      if (barButton.dataset.saveBar === "save") saveChanges(id); else discardChanges(id);
      return;
    }
    const control = event.target.closest("[data-add], [data-remove], [data-move], [data-post]");
    if (control) {
      event.preventDefault();
      if (control.hasAttribute("disabled")) return;
      if (control.dataset.post) postAction(control); else editList(control);
      return;
    }
    // A link: <a>, or Polaris' s-link / s-button with an href (the click comes from its shadow).
    const link = event.target.closest("a[href], s-link[href], s-button[href]");
    if (!link || link.getAttribute("target") || event.defaultPrevented || event.button !== 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.getAttribute("href"), location.href);
    if (url.origin !== location.origin) return;
    event.preventDefault();
    go(url.toString());
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.hasAttribute("data-import-upload")) {
      event.preventDefault();
      uploadImport(form);
      return;
    }
    if (form.hasAttribute("data-navigate")) {
      event.preventDefault();
      const url = new URL(form.getAttribute("action") || location.pathname, location.href);
      for (const [key, value] of new URLSearchParams(location.search)) {
        if (["shop", "host", "embedded", "locale"].includes(key)) url.searchParams.set(key, value);
      }
      for (const [key, value] of new FormData(form)) {
        if (value !== "") url.searchParams.set(key, value); else url.searchParams.delete(key);
      }
      go(url.toString());
      return;
    }
    if (form.dataset.saveWith) {
      // Enter in a settings field: the same as the save bar's Save.
      event.preventDefault();
      saveChanges(form.dataset.saveWith);
      return;
    }
    if (form.dataset.endpoint) {
      event.preventDefault();
      save(form);
    }
  });
})();
