// Loyalty Loop admin: the one page script.
// - Every fetch carries `Authorization: Bearer <session token>`: App Bridge's shopify.idToken()
//   inside Shopify (or the dev frame's stand-in), else the token this page was loaded with.
//   A 401 with X-Shopify-Retry-Invalid-Session-Request is retried once with a fresh token.
// - Forms with data-endpoint are posted as JSON; field errors come back keyed by field name.
// - Links and GET forms to this app navigate with a fresh id_token, as Shopify's admin does.
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

  async function go(href) {
    const url = new URL(href, location.href);
    url.searchParams.set("id_token", await sessionToken());
    if (new URLSearchParams(location.search).get("dev_frame") === "1") {
      url.searchParams.set("dev_frame", "1");
    }
    location.assign(url.toString());
  }

  const reload = () => go(location.href);

  function setPath(target, path, value) {
    const parts = path.split(".");
    let node = target;
    parts.slice(0, -1).forEach((part) => { node = node[part] = node[part] || {}; });
    node[parts[parts.length - 1]] = value;
  }

  const valueOf = (el) => (el.type === "checkbox" ? el.checked : el.value);

  function serialize(form) {
    const data = {};
    for (const el of form.elements) {
      const list = el.closest("[data-list]");
      if (!el.name || el.disabled || (list && form.contains(list))) continue;
      if (["submit", "button", "reset"].includes(el.type)) continue;
      setPath(data, el.name, valueOf(el));
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
    form.querySelectorAll(".field-error").forEach((note) => note.remove());
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const banner = form.querySelector("[data-form-error]");
    if (banner) { banner.hidden = true; banner.textContent = ""; }
  }

  function showErrors(form, fields, message) {
    const unplaced = [];
    for (const [path, text] of Object.entries(fields || {})) {
      const el = fieldFor(form, path);
      if (!el) { unplaced.push(`${path.split(".").pop().replace(/_/g, " ")}: ${text}.`); continue; }
      el.setAttribute("aria-invalid", "true");
      const note = document.createElement("p");
      note.className = "field-error";
      note.dataset.errorFor = path;
      note.textContent = text;
      (el.closest(".field") || el.parentElement).appendChild(note);
    }
    const banner = form.querySelector("[data-form-error]");
    if (banner) {
      banner.textContent = [message, ...unplaced].filter(Boolean).join(" ");
      banner.hidden = false;
    }
    const first = form.querySelector('[aria-invalid="true"]');
    if (first && typeof first.focus === "function") first.focus();
  }

  // The settings header names the version now in force, so it follows each save.
  function showVersion(version) {
    const header = document.querySelector("[data-settings-version]");
    if (!header || !Number.isInteger(version)) return;
    header.textContent = `Version ${version}.`;
  }

  async function save(form) {
    clearErrors(form);
    const button = form.querySelector('[type="submit"]');
    if (button) button.disabled = true;
    try {
      const result = await send(form.dataset.endpoint, serialize(form));
      if (result.ok) {
        toast(result.data.message || "Saved");
        form.dataset.saved = String(result.data.version || Date.now());
        showVersion(result.data.version);
        if (form.hasAttribute("data-reload")) await reload();
      } else {
        showErrors(form, result.data.fields, result.data.message || "Not saved.");
        toast(result.data.message || "Not saved.", true);
      }
    } catch (error) {
      toast("Could not reach Loyalty Loop. Nothing was saved.", true);
    } finally {
      if (button) button.disabled = false;
    }
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
      const added = list.lastElementChild.querySelector("input, select");
      if (added) added.focus();
      return;
    }
    const item = button.closest("[data-item]");
    if (!item) return;
    const list = item.parentElement;
    if (button.hasAttribute("data-remove")) {
      item.remove();
      return;
    }
    const up = button.dataset.move === "up";
    const neighbour = up ? item.previousElementSibling : item.nextElementSibling;
    if (!neighbour || !neighbour.hasAttribute("data-item")) return;
    list.insertBefore(up ? item : neighbour, up ? neighbour : item);
    button.focus();
    if (list.dataset.orderEndpoint) saveOrder(list);
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
    const file = form.querySelector('input[type="file"]').files[0];
    const button = form.querySelector('[type="submit"]');
    if (banner) banner.hidden = true;
    if (!file) { toast("Choose a CSV file first.", true); return; }
    button.disabled = true;
    try {
      const query = new URLSearchParams({ source: form.elements.source.value, filename: file.name });
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
    const control = event.target.closest("[data-add], [data-remove], [data-move], [data-post]");
    if (control) {
      event.preventDefault();
      if (control.dataset.post) postAction(control); else editList(control);
      return;
    }
    const link = event.target.closest("a[href]");
    if (!link || link.target || event.defaultPrevented || event.button !== 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin) return;
    event.preventDefault();
    go(url.toString());
  });

  // A colour field: the swatch writes its pick into the hex field, a complete hex code typed
  // into the field moves the swatch.
  document.addEventListener("input", (event) => {
    const el = event.target;
    if (el.dataset.colorFor) {
      const field = document.getElementById(el.dataset.colorFor);
      if (field) field.value = el.value;
      return;
    }
    const swatch = el.id && document.querySelector(`[data-color-for="${CSS.escape(el.id)}"]`);
    if (swatch && /^#[0-9a-fA-F]{6}$/.test(el.value.trim())) swatch.value = el.value.trim().toLowerCase();
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
    if (form.dataset.endpoint) {
      event.preventDefault();
      save(form);
    }
  });
})();
