/* Loyalty Loop: approved reviews in the loyalty page block (blocks/loyalty-page.liquid). */
(() => {
function reviews(box) {
  if (box.llReady) return;
  box.llReady = 1;
  const list = box.querySelector('ul');
  const item = list.querySelector('template').content.firstElementChild;
  fetch(box.closest('[data-ll-proxy]').dataset.llProxy + '/reviews')
    .then((res) => (res.ok ? res.json() : {}))
    .then(({ reviews: all = [] }) => {
      all.slice(0, +box.dataset.llReviews).forEach((r) => {
        const li = item.cloneNode(true);
        const stars = li.querySelector('[data-ll-rating]');
        const n = Math.max(0, Math.min(5, r.rating | 0));
        stars.textContent = '★'.repeat(n) + '☆'.repeat(5 - n);
        stars.ariaLabel = stars.dataset.llRating.replace('{n}', n);
        // Shopper text: textContent only, never markup.
        li.querySelectorAll('[data-ll-review]').forEach((el) => {
          el.textContent = r[el.dataset.llReview] ?? '';
        });
        list.append(li);
      });
      // Its height was reserved: showing it moves nothing. None: no blank band.
      all.length ? (box.style.visibility = 'visible') : (box.hidden = true);
    }, () => (box.hidden = true));
}

const start = () => document.querySelectorAll('[data-ll-reviews]').forEach(reviews);
start();
// The theme editor re-renders blocks.
document.addEventListener('shopify:section:load', start);
})();
