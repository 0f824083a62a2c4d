/* Deflect help widget: <script src="https://help.example.com/widget.js" defer></script>
 * adds a help button; its panel asks /api/v1/suggest and shows the answer, articles or a
 * link to a person. Styles live in a shadow root; all text is set with textContent.
 * Options (data- attributes on the script tag): data-title, data-button-label,
 * data-placeholder, data-send-label, data-close-label, data-human-label, data-helpful-label,
 * data-yes-label, data-no-label, data-thanks-label, data-articles-label, data-error-label,
 * data-customer-tier, data-api (defaults to the script's origin), data-position (left|right). */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__deflectWidget) return;
  window.__deflectWidget = true;
  var d = script.dataset;
  var base = (d.api || new URL(script.src, location.href).origin).replace(/\/$/, '');
  var t = {
    button: d.buttonLabel || 'Help',
    title: d.title || 'How can we help?',
    placeholder: d.placeholder || 'Type your question',
    send: d.sendLabel || 'Ask',
    close: d.closeLabel || 'Close help',
    human: d.humanLabel || 'Talk to a person',
    helpful: d.helpfulLabel || 'Was this helpful?',
    yes: d.yesLabel || 'Yes',
    no: d.noLabel || 'No',
    thanks: d.thanksLabel || 'Thanks for your feedback!',
    articles: d.articlesLabel || 'These articles may help:',
    read: d.readLabel || 'Read the full article',
    error: d.errorLabel || 'Something went wrong. Please try again.',
    busy: d.busyLabel || 'Looking for an answer…'
  };

  function newId() {
    var a = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  var session;
  try {
    session = sessionStorage.getItem('deflect_session') || newId();
    sessionStorage.setItem('deflect_session', session);
  } catch (e) {
    session = newId();
  }

  var css = ':host{all:initial}' +
    '*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}' +
    '.launcher{position:fixed;bottom:20px;' + (d.position === 'left' ? 'left' : 'right') + ':20px;z-index:2147483000;' +
    'background:#1f4fd1;color:#fff;border:0;border-radius:24px;padding:12px 20px;font-size:16px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}' +
    '.launcher:focus-visible,button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}' +
    '.panel{position:fixed;bottom:80px;' + (d.position === 'left' ? 'left' : 'right') + ':20px;z-index:2147483001;width:min(380px,calc(100vw - 40px));' +
    'max-height:min(560px,calc(100vh - 100px));display:flex;flex-direction:column;background:#fff;color:#1b1b1b;' +
    'border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);font-size:15px;line-height:1.45}' +
    '.panel[hidden]{display:none}' +
    'header{display:flex;align-items:center;justify-content:space-between;padding:12px 16px;background:#1f4fd1;color:#fff;border-radius:12px 12px 0 0}' +
    'h2{margin:0;font-size:17px}h3{margin:0 0 6px;font-size:16px}' +
    '.x{background:none;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:4px 8px}' +
    'form{display:flex;gap:8px;padding:12px 16px;border-bottom:1px solid #e3e3e3}' +
    'input{flex:1;min-width:0;padding:8px 10px;border:1px solid #8a8a8a;border-radius:6px;font-size:15px}' +
    '.send{background:#1f4fd1;color:#fff;border:0;border-radius:6px;padding:8px 14px;font-size:15px;cursor:pointer}' +
    '.out{overflow-y:auto;padding:12px 16px;flex:1}' +
    '.out p{margin:0 0 8px}.reply{color:#333}.err{color:#a30000}' +
    '.answer{background:#f3f6fd;border-radius:8px;padding:10px 12px;margin-bottom:10px}' +
    'ul{list-style:none;margin:0;padding:0}li{margin:0 0 8px}li span{display:block;color:#555;font-size:13px}' +
    'a{color:#1f4fd1}.vote{display:flex;gap:8px;align-items:center;margin-top:8px}' +
    '.vote button{background:#fff;border:1px solid #1f4fd1;color:#1f4fd1;border-radius:6px;padding:4px 12px;cursor:pointer}' +
    'footer{padding:10px 16px;border-top:1px solid #e3e3e3}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}';

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    return e;
  }
  function link(href, text) {
    var a = el('a', { href: base + href, target: '_blank', rel: 'noopener' }, text);
    return a;
  }

  var host = el('div', { id: 'deflect-widget' });
  var root = host.attachShadow({ mode: 'open' });
  if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    // Constructed style sheets are not inline styles: a host page's CSP does not block them.
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el('style', null, css));
  }

  var launcher = el('button', { type: 'button', 'class': 'launcher', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-controls': 'deflect-panel' }, t.button);
  var panel = el('div', { id: 'deflect-panel', 'class': 'panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'deflect-title' });
  panel.hidden = true;
  var header = el('header');
  header.appendChild(el('h2', { id: 'deflect-title' }, t.title));
  var closer = el('button', { type: 'button', 'class': 'x', 'aria-label': t.close }, '×');
  header.appendChild(closer);
  var form = el('form', { role: 'search' });
  form.appendChild(el('label', { 'for': 'deflect-q', 'class': 'sr' }, t.placeholder));
  var input = el('input', { id: 'deflect-q', type: 'text', name: 'q', autocomplete: 'off', maxlength: '500', placeholder: t.placeholder });
  form.appendChild(input);
  form.appendChild(el('button', { type: 'submit', 'class': 'send' }, t.send));
  var out = el('div', { 'class': 'out', 'aria-live': 'polite' });
  var footer = el('footer');
  var human = link('/contact', t.human);
  human.className = 'human';
  footer.appendChild(human);
  panel.appendChild(header);
  panel.appendChild(form);
  panel.appendChild(out);
  panel.appendChild(footer);
  root.appendChild(launcher);
  root.appendChild(panel);

  function open() {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    input.focus();
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus();
  }
  launcher.addEventListener('click', function () { if (panel.hidden) open(); else close(); });
  closer.addEventListener('click', close);
  panel.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape') { ev.preventDefault(); close(); return; }
    if (ev.key !== 'Tab') return;
    // Keep focus inside the open panel.
    var f = Array.prototype.filter.call(panel.querySelectorAll('a[href],button,input'), function (x) {
      return !x.disabled && x.offsetParent !== null;
    });
    if (!f.length) return;
    var first = f[0], last = f[f.length - 1], active = root.activeElement;
    if (ev.shiftKey && active === first) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && active === last) { ev.preventDefault(); first.focus(); }
  });

  function post(path, body) {
    return fetch(base + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) {
          var e = new Error((j.error && j.error.message) || t.error);
          e.status = r.status;
          throw e;
        }
        return j;
      });
    });
  }

  function vote(box, slug, helpful) {
    post('/api/v1/articles/' + encodeURIComponent(slug) + '/votes', { helpful: helpful, session_id: session })
      .then(function () { box.textContent = ''; box.appendChild(el('p', null, t.thanks)); })
      .catch(function (e) { box.appendChild(el('p', { 'class': 'err' }, e.message)); });
  }

  function render(r) {
    out.textContent = '';
    if (r.reply) out.appendChild(el('p', { 'class': 'reply' }, r.reply));
    var rest = r.articles || [];
    if (r.action === 'answer' && r.answer) {
      var a = el('div', { 'class': 'answer' });
      a.appendChild(el('h3', null, r.answer.title));
      r.answer.text.split('\n').forEach(function (line) {
        if (line.trim()) a.appendChild(el('p', { 'class': 'answer-text' }, line));
      });
      a.appendChild(link(r.answer.url, t.read));
      var box = el('div', { 'class': 'vote', role: 'group', 'aria-label': t.helpful });
      box.appendChild(el('span', null, t.helpful));
      var yes = el('button', { type: 'button' }, t.yes);
      var no = el('button', { type: 'button' }, t.no);
      yes.addEventListener('click', function () { vote(box, r.answer.slug, true); });
      no.addEventListener('click', function () { vote(box, r.answer.slug, false); });
      box.appendChild(yes);
      box.appendChild(no);
      a.appendChild(box);
      out.appendChild(a);
      rest = rest.filter(function (x) { return x.slug !== r.answer.slug; });
    }
    if (rest.length) {
      out.appendChild(el('p', null, t.articles));
      var ul = el('ul', { 'class': 'articles' });
      rest.forEach(function (x) {
        var li = el('li');
        li.appendChild(link(x.url, x.title));
        li.appendChild(el('span', null, x.summary));
        ul.appendChild(li);
      });
      out.appendChild(ul);
    }
    human.href = base + (r.handoff ? r.handoff.ticket_url : '/contact?description=' + encodeURIComponent(input.value));
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var message = input.value.trim();
    if (!message) { input.focus(); return; }
    out.textContent = '';
    out.appendChild(el('p', { 'class': 'reply' }, t.busy));
    var context = { page: location.pathname };
    if (d.customerTier) context.customer_tier = d.customerTier;
    post('/api/v1/suggest', { message: message, session_id: session, context: context })
      .then(render)
      .catch(function (e) {
        out.textContent = '';
        out.appendChild(el('p', { 'class': 'err' }, e.status ? e.message : t.error));
      });
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
