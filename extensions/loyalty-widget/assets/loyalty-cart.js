/* Loyalty Loop cart block: redeem a reward and apply its code to this cart (blocks/cart.liquid). */
(() => {
const start = () => document.querySelectorAll('[data-ll-cart]').forEach((root) => {
  if (root.llReady) return;
  root.llReady = 1;
  const $ = (s) => root.querySelector(s);
  const msgs = JSON.parse($('[data-ll-msgs]').textContent);
  const { llProxy: proxy, llLocale: locale, llCartUrl: cartUrl, llUpdateUrl: updateUrl } = root.dataset;
  const num = new Intl.NumberFormat(locale);
  const list = $('[data-ll-cart-rewards]');
  const up = (c) => c.toUpperCase();
  const say = (text) => { $('[data-ll-status]').textContent = text; };
  const fail = (err) => say(msgs[err?.error] || msgs.generic);
  const call = (url, body) => fetch(url, body && {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  }).then((res) => res.json().catch(() => ({})).then((json) => {
    if (!res.ok) throw json;
    return json;
  }));
  const app = (path, body) => call(proxy + path + '?locale=' + locale, body);
  const discount = (codes) => call(updateUrl + '.js', { discount: codes.join(',') });
  let data, cart;

  function show() {
    $('[data-ll-points]').textContent = num.format(data.points.available);
    list.querySelectorAll('li').forEach((n) => n.remove());
    // Store credit makes no code (stacking null): nothing to apply to a cart.
    const usable = data.rewards.filter((r) => r.affordable && r.stacking);
    usable.forEach((r) => {
      const li = list.querySelector('template').content.firstElementChild.cloneNode(true);
      li.querySelector('[data-ll-title]').textContent = r.title;
      li.querySelector('[data-ll-cost]').textContent = msgs.cost.replace('{n}', num.format(r.cost));
      li.querySelector('button').ariaLabel = msgs.use_label.replace('{reward}', r.title);
      li.llReward = r;
      list.append(li);
    });
    $('[data-ll-none]').hidden = usable.length > 0;
  }

  // The class of each code the cart took: a cart-level application is an order discount, or a
  // shipping one by its target; a code without one discounts products.
  const taken = () => cart.discount_codes.filter((c) => c.applicable).map((c) => {
    const a = cart.cart_level_discount_applications.find((d) => d.type == 'discount_code' && up(d.title) == up(c.code));
    return [c.code, a ? (a.target_type == 'shipping_line' ? 'shipping' : 'order') : 'product'];
  });

  async function use(b) {
    const r = b.closest('li').llReward;
    const clash = taken().find(([, kind]) => !r.stacking.combines_with.includes(kind));
    if (clash) return say(msgs.clash.replace('{code}', clash[0]));
    b.disabled = true;
    say(msgs.applying);
    let code;
    try {
      const res = await app('/redeem', { reward_id: r.id });
      data = res;
      code = res.redemption.code;
      const before = cart.discount_codes.map((c) => c.code);
      try {
        cart = await discount([...before, code]);
      } catch {}
      if (cart.discount_codes.some((c) => c.applicable && up(c.code) == up(code))) {
        say(msgs.applied.replace('{code}', code));
      } else {
        // Refused, or the cart did not answer: the points back first, then off the cart.
        Object.assign(data, await app('/return', { code }));
        say(msgs.not_applied);
        cart = await discount(before).catch(() => cart);
      }
      show();
      // The button is gone with the list: the block's heading keeps the focus.
      $('h2').focus();
    } catch (err) {
      b.disabled = false;
      fail(err);
    }
  }

  root.onclick = (e) => {
    const b = e.target.closest('[data-ll-use]');
    if (b) use(b);
  };

  say(msgs.loading);
  Promise.all([app('/member'), call(cartUrl + '.js')]).then(([m, c]) => {
    data = m;
    cart = c;
    show();
    say('');
  }, fail).finally(() => (root.ariaBusy = false));
});
start();
// The theme editor re-renders blocks.
document.addEventListener('shopify:section:load', start);
})();
