/* Runs the HTML report's script against a minimal DOM (no browser needed) and checks that it
   renders a window of rows, filters, searches and sorts. Usage: node html_harness.js REPORT.html
   Prints "ok rows=N" on success; throws (exit 1) otherwise. */
'use strict';
const fs = require('fs');
const assert = require('assert');
const html = fs.readFileSync(process.argv[2], 'utf8');

function scriptById(id) {
  const open = '<script type="application/json" id="' + id + '">';
  const s = html.indexOf(open) + open.length;
  return html.slice(s, html.indexOf('</script>', s));
}
const program = (() => {
  const s = html.lastIndexOf('<script>') + '<script>'.length;
  return html.slice(s, html.indexOf('</script>', s));
})();

const RH = 29;
class El {
  constructor(tag, id) {
    this.tagName = tag.toUpperCase(); this.id = id || ''; this.children = []; this.parent = null;
    this._text = ''; this.className = ''; this.dataset = {}; this.style = {}; this.attrs = {};
    this.listeners = {}; this.hidden = false; this.value = ''; this.checked = true; this.title = '';
    this.scrollTop = 0; this.clientHeight = 600; this.colSpan = 1;
    const self = this;
    this.classList = {
      toggle(c, on) { const s = new Set(self.className.split(' ').filter(Boolean)); if (on) s.add(c); else s.delete(c); self.className = [...s].join(' '); },
      contains(c) { return self.className.split(' ').includes(c); },
    };
  }
  get textContent() { return this.children.length ? this.children.map(c => c.textContent).join('') : this._text; }
  set textContent(t) { this.children.forEach(c => { c.parent = null; }); this.children = []; this._text = String(t); }
  appendChild(c) { if (c.parent) c.parent.children.splice(c.parent.children.indexOf(c), 1); c.parent = this; this.children.push(c); return c; }
  get firstChild() { return this.children[0] || null; }
  get cells() { return this.children; }
  get rows() { return this.children; }
  get offsetHeight() { return this.tagName === 'THEAD' ? 30 : RH; }
  getBoundingClientRect() { return {height: RH}; }
  addEventListener(t, f) { (this.listeners[t] = this.listeners[t] || []).push(f); }
  fire(t, extra) { const e = Object.assign({target: this, key: '', preventDefault() {}}, extra || {}); (this.listeners[t] || []).forEach(f => f(e)); }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
  removeAttribute(k) { delete this.attrs[k]; }
  closest(sel) {
    for (let e = this; e; e = e.parent) {
      if (sel === 'tr.row' && e.tagName === 'TR' && e.classList.contains('row')) return e;
      if (sel.startsWith('a[') && e.tagName === 'A') return e;
    }
    return null;
  }
  querySelector(sel) { return sel === 'thead' ? thead : null; }
  querySelectorAll(sel) { return sel === 'thead th' ? ths : []; }
  scrollIntoView() {}
  focus() {}
}

const byId = {};
const thead = new El('thead');
const ths = [];
for (let c = 0; c < 13; c++) ths.push(thead.appendChild(new El('th')));
ths.forEach((th, c) => { th.textContent = ['#', 'severity', 'code', 'entity', 'key', 'file', 'sheet', 'row', 'column', 'field', 'value', 'message', 'hint'][c]; });
for (const id of ['grid', 'rows', 'shown', 'detail', 'findings', 'f-code', 'f-entity', 'f-q', 'f-clear',
  'sev-error', 'sev-warning', 'sev-info', 'n-error', 'n-warning', 'n-info']) byId[id] = new El(id === 'rows' ? 'tbody' : 'div', id);
byId['ferry-findings'] = new El('script'); byId['ferry-findings'].textContent = scriptById('ferry-findings');
byId['ferry-dicts'] = new El('script'); byId['ferry-dicts'].textContent = scriptById('ferry-dicts');

const timers = [];
const errors = [];
const docListeners = {};
const context = {
  document: {
    getElementById: id => byId[id] || null,
    createElement: tag => new El(tag),
    addEventListener: (t, f) => { (docListeners[t] = docListeners[t] || []).push(f); },
  },
  requestAnimationFrame: f => timers.push(f),
  setTimeout: f => { timers.push(f); return timers.length; },
  clearTimeout: () => {},
  addEventListener: () => {},
};
context.window = context;
function flush() { while (timers.length) timers.shift()(); }

const run = new Function('window', 'document', 'requestAnimationFrame', 'setTimeout', 'clearTimeout', program);
run(context, context.document, context.requestAnimationFrame, context.setTimeout, context.clearTimeout);
flush();

const api = context.ferryReport;
const data = JSON.parse(byId['ferry-findings'].textContent);
const dict = JSON.parse(byId['ferry-dicts'].textContent);
const N = data.length;
const tbody = byId.rows;
const shownRows = () => tbody.children.filter(r => r.classList.contains('row'));
assert.strictEqual(api.rows(), N);
assert.ok(api.dom() < 60, 'rendered ' + api.dom() + ' rows');
assert.strictEqual(shownRows()[0].cells[0].textContent, '1');

/* Scroll to the middle: a window around row 50,000. */
const grid = byId.grid;
grid.scrollTop = 50000 * RH;
grid.fire('scroll');
flush();
assert.ok(api.dom() < 60);
const firstShown = +shownRows()[0].dataset.i;
assert.ok(firstShown > 49900 && firstShown <= 50000, 'first shown ' + firstShown);

/* Filter by code. */
const code = 1;
byId['f-code'].value = String(code);
byId['f-code'].fire('change');
flush();
const expect = data.filter(r => r[1] === code).length;
assert.strictEqual(api.rows(), expect);
shownRows().forEach(r => assert.strictEqual(r.cells[2].textContent, dict.code[code]));

/* Severity off. */
byId['sev-error'].checked = false;
byId['sev-error'].fire('change', {target: Object.assign(byId['sev-error'], {checked: false})});
flush();
assert.strictEqual(api.rows(), data.filter(r => r[1] === code && r[0] !== 0).length);

/* Clear, then search text. */
byId['f-clear'].fire('click');
flush();
assert.strictEqual(api.rows(), N);
byId['f-q'].value = 'U000123';
byId['f-q'].fire('input');
flush();
assert.strictEqual(api.rows(), data.filter(r => r[3].toLowerCase().includes('u000123')).length);
byId['f-clear'].fire('click');
flush();

/* Sort by key, descending after a second click. */
ths[4].fire('click');
flush();
ths[4].fire('click');
flush();
const keys = shownRows().map(r => r.cells[4].textContent);
const sorted = [...keys].sort().reverse();
assert.deepStrictEqual(keys, sorted);
assert.strictEqual(keys[0], data.map(r => r[3]).sort().pop());
assert.strictEqual(ths[4].getAttribute('aria-sort'), 'descending');

/* A row opens its details; the summary's links filter. */
tbody.fire('click', {target: shownRows()[0].cells[3]});
assert.strictEqual(byId.detail.hidden, false);
assert.ok(byId.detail.textContent.includes(keys[0]));
const link = new El('a');
link.setAttribute('data-entity', 'Contact');
link.setAttribute('data-sev', 'error');
(docListeners.click || []).forEach(f => f({target: link, preventDefault() {}}));
flush();
const ent = dict.entity.indexOf('Contact');
assert.strictEqual(api.rows(), data.filter(r => r[2] === ent && r[0] === 0).length);

console.log('ok rows=' + N);
