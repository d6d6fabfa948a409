/* Loyalty Loop widget. Bindings are documented in snippets/loyalty-program.liquid. */
(() => {
const PROPS = { llText: 'textContent', llValue: 'value', llAria: 'ariaLabel', llHref: 'href' };
// Never let a bad value become a javascript: link.
const SAFE_HREF = /^(\/(?!\/)|https:\/\/)/;
const get = (o, path) => path.split('.').reduce((v, k) => v && v[k], o);

function widget(root) {
  if (root.llReady) return;
  root.llReady = 1;
  const $ = (s) => root.querySelector(s);
  const msgs = JSON.parse($('[data-ll-msgs]').textContent);
  const { llLocale: locale, llCurrency: currency, llProxy: proxy } = root.dataset;
  const num = new Intl.NumberFormat(locale);
  const money = (v) => new Intl.NumberFormat(locale, { style: 'currency', currency }).format(v);
  const day = (v) => v && new Intl.DateTimeFormat(locale, { timeZone: 'UTC' }).format(new Date(v));
  const toggle = $('[data-ll-toggle]');
  const panel = $('[data-ll-panel]');
  let data = {};
  let loading;

  const say = (text) => { $('[data-ll-status]').textContent = text; };
  const fail = (err) => say(msgs[err?.error] || msgs.generic);
  const fill = (tpl, ctx) => tpl.replace(/\{([\w.]+)\}/g, (_, p) => {
    const v = get(ctx, p);
    return typeof v == 'number' ? num.format(v) : v ?? '';
  });

  function bind(el, ctx) {
    const a = el.dataset;
    if (a.llIf) {
      const v = get(ctx, a.llIf.replace('!', ''));
      el.hidden = (a.llIf[0] == '!') == !!(v?.length ?? v);
    }
    for (const k in PROPS) {
      const v = a[k] && fill(a[k], ctx);
      if (v != null) el[PROPS[k]] = k == 'llHref' && !SAFE_HREF.test(v) ? '#' : v;
    }
  }

  function update() {
    const d = data;
    const p = d.points || {};
    const t = d.tier;
    p.unlocks = day(p.pending_until);
    // Ungrouped, like the server-rendered badge, so the launcher keeps its width.
    p.count = '' + (p.available ?? '');
    // A string: <progress> needs Latin digits in every locale.
    if (t) {
      t.percent = '' + Math.round(t.progress * 100 || 0);
      t.spend = money(t.spend_to_next);
    }
    if (d.rewards) {
      d.affordable = d.rewards.filter((r) => r.affordable && r.cost <= p.available);
      const next = d.rewards.filter((r) => r.cost > p.available).sort((a, b) => a.cost - b.cost)[0];
      d.next_reward = next && { ...next, needed: next.cost - p.available };
    }
    (d.activity || []).forEach((a) => {
      a.date = day(a.at);
      a.signed = (a.points > 0 ? '+' : '') + num.format(a.points);
      a.pending = a.status == 'pending';
    });
    (get(d, 'program.tiers') || []).forEach((x) => { x.min = +x.threshold && money(x.threshold); });
    root.querySelectorAll('[data-ll-each]').forEach((list) => {
      list.querySelectorAll('[data-ll-item]').forEach((n) => n.remove());
      (get(d, list.dataset.llEach) || []).forEach((item) => {
        const node = list.querySelector('template').content.firstElementChild.cloneNode(true);
        node.dataset.llItem = '';
        node.llItem = item;
        node.querySelectorAll('*').forEach((el) => bind(el, item));
        list.append(node);
      });
    });
    root.querySelectorAll('*').forEach((el) => el.closest('[data-ll-item]') || bind(el, d));
  }

  const call = (path, body) => fetch(proxy + path + '?locale=' + locale, {
    method: body && 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  }).then((res) => res.json().catch(() => ({})).then((json) => {
    if (!res.ok) throw json;
    return json;
  }));

  const load = () => loading || (root.ariaBusy = true, say(msgs.loading), loading = Promise.all([
    $('.ll-program') && call('/program'),
    root.hasAttribute('data-ll-member') && call('/member'),
  ]).then((parts) => {
    data = Object.assign({}, ...parts);
    update();
    say('');
  }, (err) => {
    loading = 0;
    fail(err);
  }).finally(() => (root.ariaBusy = false)));

  function open(show) {
    toggle.ariaExpanded = show;
    panel.hidden = !show;
    if (show) load();
    (show ? panel.querySelector('h2') : toggle).focus();
  }

  const act = (path, body, message) => call(path, body).then((res) => {
    Object.assign(data, res);
    update();
    say(msgs[message]);
  });

  // Copied for a moment, on one button at a time; if the copy fails, `src` shows the text.
  let done = () => {};
  const copy = (b, text, src) => navigator.clipboard.writeText(text).then(() => {
    done();
    const label = b.textContent;
    done = () => (b.textContent = label);
    b.textContent = msgs.copied;
    say(msgs.copied);
    setTimeout(done, 2e3);
  }, () => (src.select ? src.select() : getSelection().selectAllChildren(src)));

  root.onclick = (e) => {
    const b = e.target.closest('button');
    const a = b ? b.dataset : {};
    const ref = data.referral;
    if ('llToggle' in a) open(panel.hidden);
    if ('llClose' in a) open(false);
    if ('llRedeem' in a) {
      b.disabled = true;
      act('/redeem', { reward_id: b.closest('[data-ll-item]').llItem.id }, 'redeemed')
        .then(() => $('[data-ll-code]').focus(), (err) => {
          // Disabled, it lost the focus.
          b.disabled = false;
          b.focus();
          fail(err);
        });
    }
    const li = b?.closest('li');
    if ('llCopyCode' in a) copy(b, li.llItem.code, li.querySelector('[data-ll-code]'));
    if (!ref) return;
    // Counted for the merchant's referral funnel; nothing waits on it.
    if ('llCopy' in a || 'llShare' in a) call('/share', { via: 'llShare' in a ? 'share' : 'copy' }).catch(() => {});
    const input = $('[data-ll-value]');
    if ('llCopy' in a) copy(b, ref.url, input);
    // No Web Share API: copy the message instead.
    if ('llShare' in a) {
      const text = ref.share_text;
      navigator.share ? navigator.share({ text }).catch(() => {}) : copy(b, text, input);
    }
  };

  root.onsubmit = (e) => {
    e.preventDefault();
    // The form hides: focus stays in the widget.
    act('/birthday', { birthday: e.target.elements.birthday.value }, 'birthday_saved')
      .then(() => $('[data-ll-saved]').focus(), fail);
  };

  if (panel) {
    // Returns nothing: false would cancel every other key.
    root.onkeydown = (e) => { e.key == 'Escape' && !panel.hidden && open(false); };
    // Opened by the inline loader in launcher.liquid.
    if (!panel.hidden) open(true);
  } else load();
}

const start = () => document.querySelectorAll('[data-ll-root]').forEach(widget);
window.LoyaltyLoop = { start };
start();
// The theme editor re-renders blocks.
document.addEventListener('shopify:section:load', start);
})();
