// Browser tests of the residents' pages against the markup contract in
// docs/PAGES.md: Debian's Chromium driven by playwright-core at a 360x640
// phone viewport, axe-core for WCAG 2.1 AA, zbarimg for the QR code.
//
// Run by tests/e2e/test_pages.sh, which starts meldpuntd and sets:
//   MP_BASE   the server's base URL (http://127.0.0.1:PORT, also its public URL)
//   MP_CLI    the meldpunt command; MELDPUNT_URL, MELDPUNT_KEY and
//             MELDPUNT_PASSPHRASE let it act as a caseworker
//   MP_OUT    where screenshots and the axe and weight summaries go
//   MP_TMP    a scratch directory (the browser profile lives under it)
//   E2E_LANGS languages to test (default "nl en pl tr uk ar"); E2E_JOBS flows at once
//
// Prints TAP-style "ok - " / "not ok - " lines with "# " diagnostics; exits 1
// when anything failed.

import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

const BASE = process.env.MP_BASE;
const CLI = process.env.MP_CLI;
const OUT = process.env.MP_OUT;
const TMP = process.env.MP_TMP;
if (!BASE || !CLI || !OUT || !TMP) {
	console.log('not ok - e2e: pages.test.mjs needs MP_BASE, MP_CLI, MP_OUT and MP_TMP (run it through test_pages.sh)');
	process.exit(1);
}
const ALL_LANGS = ['nl', 'en', 'pl', 'tr', 'uk', 'ar'];
const LANGS = (process.env.E2E_LANGS || ALL_LANGS.join(' ')).split(/\s+/).filter(Boolean);
const JOBS = Math.max(1, Number(process.env.E2E_JOBS || 3));
const RTL = new Set(['ar']);
const ORIGIN = new URL(BASE).origin;
const API = process.env.MELDPUNT_URL || BASE; // the JSON API (the same server)
const VIEWPORT = { width: 360, height: 640 };
const MAX_WEIGHT = 50 * 1024; // bytes on the wire per page load: document, CSS, JS
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const TOKEN_RE = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}-[0-9A-HJKMNP-TV-Z]{3}$/;
const CSP_WANT = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'",
	"form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"];

// What a reporter types, in each language; a nonce makes each report findable.
const TEXT = {
	nl: { desc: 'Bij de ingang van de club werd ik geweigerd vanwege mijn afkomst.', place: 'Stationsplein', party: 'Club Één',
		msg: 'Ik kan op dinsdag bellen.', answer: 'Dank voor uw melding; wij nemen contact op.' },
	en: { desc: 'I was refused at the door of the club because of my origin.', place: 'Station square', party: 'Club One',
		msg: 'I can take a call on Tuesday.', answer: 'Thank you for your report; we will be in touch.' },
	pl: { desc: 'Odmówiono mi wejścia do klubu z powodu mojego pochodzenia.', place: 'Plac Dworcowy', party: 'Klub Żółw',
		msg: 'Mogę odebrać telefon we wtorek.', answer: 'Dziękujemy za zgłoszenie; skontaktujemy się.' },
	tr: { desc: 'Kökenim nedeniyle kulübün girişinde reddedildim.', place: 'İstasyon meydanı', party: 'Kulüp Şeker',
		msg: 'Salı günü telefonla görüşebilirim.', answer: 'Bildiriminiz için teşekkürler; sizinle iletişime geçeceğiz.' },
	uk: { desc: 'Мене не пустили до клубу через моє походження.', place: 'Привокзальна площа', party: 'Клуб «Їжак»',
		msg: 'Я можу поговорити по телефону у вівторок.', answer: 'Дякуємо за повідомлення; ми з вами зв’яжемося.' },
	ar: { desc: 'رُفض دخولي إلى النادي بسبب أصلي.', place: 'ساحة المحطة', party: 'نادي الواحة',
		msg: 'يمكنني تلقي مكالمة يوم الثلاثاء.', answer: 'شكرًا على بلاغك؛ سنتواصل معك.' },
};
// Characters that must come back as text, never as markup.
const MARKUP = ' <b>&amp;</b> "q" \'a\'';

// ---- output ------------------------------------------------------------------------------

let passed = 0;
let failed = 0;

class Flow {
	constructor(label) {
		this.label = label;
		this.lines = [];
	}
	ok(cond, name, diag) {
		if (cond) {
			passed++;
			this.lines.push(`ok - [${this.label}] ${name}`);
		} else {
			failed++;
			this.lines.push(`not ok - [${this.label}] ${name}`);
			for (const d of [].concat(diag ?? [])) {
				for (const l of String(d).split('\n').slice(0, 40)) this.lines.push(`#   ${l}`);
			}
		}
		return cond;
	}
	// problems: a list of strings; none means pass.
	none(problems, name) {
		return this.ok(problems.length === 0, name, problems);
	}
	note(s) {
		this.lines.push(`# ${s}`);
	}
	flush() {
		for (const l of this.lines) process.stdout.write(l + '\n');
		this.lines = [];
	}
}

// A failed step ends its flow: later steps need what it should have made.
class Abort extends Error {}

async function step(flow, name, fn) {
	try {
		return await fn();
	} catch (e) {
		if (e instanceof Abort) throw e;
		flow.ok(false, `${name} (stopped here)`, String(e && e.message || e).split('\n').slice(0, 6));
		throw new Abort(name);
	}
}

function need(cond, what) {
	if (!cond) throw new Error(what);
}

// ---- helpers -----------------------------------------------------------------------------

function today(offsetDays = 0) {
	const d = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' }).format(new Date());
	const t = new Date(d + 'T12:00:00Z');
	t.setUTCDate(t.getUTCDate() + offsetDays);
	return t.toISOString().slice(0, 10);
}

const norm = (s) => String(s ?? '').replace(/\s+/g, ' ').trim();
const kb = (n) => (n / 1024).toFixed(1) + ' KB';

async function cli(...args) {
	const { stdout } = await run(CLI, args, { env: process.env, maxBuffer: 64 << 20 });
	return stdout;
}

// The case whose report description contains nonce, through the caseworker's CLI.
const shown = new Map();
async function findCase(nonce) {
	const list = JSON.parse(await cli('cases', '--json', '--limit', '500')).cases;
	for (const c of list) {
		let d = shown.get(c.id);
		if (!d) {
			d = JSON.parse(await cli('case', 'show', c.id, '--json'));
			shown.set(c.id, d);
		}
		if (String(d.report?.description ?? '').includes(nonce)) return d;
	}
	return null;
}

async function followupApi(token) {
	const r = await fetch(`${API}/api/v1/followup`, {
		method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }),
	});
	return r.json();
}

async function decodeQr(png) {
	try {
		const { stdout } = await run('zbarimg', ['-q', '--raw', png]);
		return stdout.trim().split('\n');
	} catch {
		return [];
	}
}

// Where a token could show up in what the browser sent, other than a form body.
function tokenForms(token) {
	const t = token.toUpperCase();
	return [t, t.replace(/-/g, ''), encodeURIComponent(t)];
}

// Problems with an HTML document's response headers and its markup.
function documentProblems(headers, html) {
	const p = [];
	const csp = headers['content-security-policy'];
	if (!csp) {
		p.push('no Content-Security-Policy header');
	} else {
		const dirs = csp.split(';').map(norm).filter(Boolean);
		for (const want of CSP_WANT) {
			const name = want.split(' ')[0];
			const got = dirs.find((d) => d.split(' ')[0] === name);
			if (!got) p.push(`CSP lacks ${name}`);
			else if (['default-src', 'frame-ancestors', 'base-uri'].includes(name) && got !== want) p.push(`CSP has "${got}", want "${want}"`);
		}
		if (/unsafe-inline|unsafe-eval|unsafe-hashes|\*|https?:|wss?:/i.test(csp)) p.push(`CSP allows inline code or other hosts: ${csp}`);
		for (const d of dirs.filter((x) => /^(default|script)-src /.test(x))) {
			if (/data:|blob:/.test(d)) p.push(`CSP allows scripts from data: or blob: (${d})`);
		}
	}
	if (!/^text\/html;\s*charset=utf-8$/i.test(headers['content-type'] || '')) p.push(`Content-Type "${headers['content-type']}"`);
	if (!/no-store/.test(headers['cache-control'] || '')) p.push('no Cache-Control: no-store');
	if ((headers['referrer-policy'] || '') !== 'no-referrer') p.push('no Referrer-Policy: no-referrer');
	if ((headers['x-content-type-options'] || '') !== 'nosniff') p.push('no X-Content-Type-Options: nosniff');
	if (headers['set-cookie']) p.push(`sets a cookie: ${headers['set-cookie']}`);
	if (html != null) {
		for (const m of html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
			const tag = m[1].toLowerCase();
			const attrs = m[2];
			if (tag === 'script' && !/\ssrc\s*=/i.test(attrs)) p.push('an inline <script>');
			if (tag === 'script' && /\ssrc\s*=\s*["']?(https?:)?\/\//i.test(attrs)) p.push(`a third-party script: <script${attrs}>`);
			if (tag === 'style') p.push('an inline <style>');
			if (/\sstyle\s*=/i.test(attrs)) p.push(`a style attribute: <${tag}${attrs.slice(0, 80)}>`);
			const on = attrs.match(/\s(on[a-z]+)\s*=/i);
			if (on) p.push(`an event handler attribute ${on[1]} on <${tag}>`);
			if (/=\s*["']?\s*javascript:/i.test(attrs)) p.push(`a javascript: URL on <${tag}>`);
			if (tag === 'link' && /\shref\s*=\s*["']?(https?:)?\/\//i.test(attrs)) p.push(`a third-party link: <link${attrs}>`);
		}
	}
	return [...new Set(p)];
}

// ---- a browser tab that keeps count of what it loads -----------------------------------

class Tab {
	constructor(flow, ctx, page, lang, tag) {
		this.flow = flow;
		this.ctx = ctx;
		this.page = page;
		this.lang = lang;
		this.tag = tag; // file name prefix of screenshots, or null for none
		this.bucket = null;
		this.loads = []; // {name, bytes, parts}
		this.docProblems = [];
		this.requests = []; // every request: {url, method, post, headers}
		this.console = [];
		this.pageErrors = [];
		this.setCookies = [];
		page.on('request', (r) => {
			this.requests.push({ url: r.url(), method: r.method(), post: r.postData() || '', headers: r.headers() });
			if (this.bucket) this.bucket.push(r);
		});
		page.on('response', async (resp) => {
			const sc = await resp.headerValue('set-cookie').catch(() => null);
			if (sc) this.setCookies.push(`${resp.url()}: ${sc}`);
		});
		page.on('console', (m) => {
			if (m.type() === 'error' || m.type() === 'warning') this.console.push(m.text());
		});
		page.on('pageerror', (e) => this.pageErrors.push(String(e.message || e)));
	}

	static async open(flow, ctx, lang, tag) {
		const page = await ctx.newPage();
		page.setDefaultTimeout(6000);
		page.setDefaultNavigationTimeout(15000);
		return new Tab(flow, ctx, page, lang, tag);
	}

	// load NAME ACTION: ACTION starts one navigation and returns its response (or null);
	// records the weight of everything the page loaded and checks the document.
	async load(name, action) {
		this.bucket = [];
		let resp = await action();
		await this.page.waitForLoadState('load');
		const reqs = this.bucket;
		this.bucket = null;
		if (!resp) {
			const doc = reqs.find((r) => r.isNavigationRequest());
			resp = doc ? await doc.response() : null;
		}
		const sizes = await Promise.all(reqs.map(async (r) => {
			const s = await r.sizes().catch(() => null);
			const n = s ? s.responseBodySize + s.responseHeadersSize : 0;
			return { url: new URL(r.url()).pathname, n };
		}));
		const bytes = sizes.reduce((a, s) => a + s.n, 0);
		this.loads.push({ name, bytes, parts: sizes });
		if (resp) {
			const headers = await resp.allHeaders();
			const html = await resp.text().catch(() => null);
			for (const p of documentProblems(headers, html)) this.docProblems.push(`${name}: ${p}`);
		} else {
			this.docProblems.push(`${name}: no document response`);
		}
		return resp;
	}

	async goto(name, url) {
		return this.load(name, () => this.page.goto(url));
	}

	async submit(name, selector) {
		return this.load(name, async () => {
			const [resp] = await Promise.all([
				this.page.waitForNavigation({ waitUntil: 'load' }),
				this.page.click(selector),
			]);
			return resp;
		});
	}

	async shot(name) {
		if (!this.tag) return;
		await this.page.screenshot({ path: path.join(OUT, `${this.tag}-${name}.png`), fullPage: true });
	}

	// The flow-wide checks, once at the end of a flow.
	async finish(tokens) {
		const f = this.flow;
		const heavy = this.loads.filter((l) => l.bytes >= MAX_WEIGHT);
		const max = this.loads.reduce((a, l) => (l.bytes > a.bytes ? l : a), { bytes: 0, name: '-' });
		f.ok(this.loads.length > 0 && heavy.length === 0,
			`every page load is under ${MAX_WEIGHT / 1024} KB on the wire (heaviest: ${max.name}, ${kb(max.bytes)})`,
			heavy.map((l) => `${l.name}: ${kb(l.bytes)} = ${l.parts.map((p) => `${p.url} ${p.n}`).join(', ')}`));
		f.none(this.docProblems, 'every HTML response has the strict CSP, frame-ancestors none, no-store, no cookie, and no inline script or style');
		const foreign = this.requests.filter((r) => !/^(data|about|blob):/.test(r.url) && new URL(r.url).origin !== ORIGIN);
		f.none(foreign.map((r) => `${r.method} ${r.url}`), 'no request goes to any host but the server');
		const cookies = await this.ctx.cookies();
		f.none([...this.setCookies, ...cookies.map((c) => `cookie ${c.name} for ${c.domain}`)], 'no cookies are set');
		const csp = this.console.filter((m) => /Content Security Policy|Refused to/i.test(m));
		f.none(csp, 'the browser reports no CSP violation');
		f.none(this.pageErrors, 'no script errors');
		const leaks = [];
		for (const token of tokens) {
			for (const r of this.requests) {
				const u = r.url.split('#')[0].toUpperCase();
				const hs = Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join('\n').toUpperCase();
				for (const t of tokenForms(token)) {
					if (u.includes(t)) leaks.push(`${r.method} ${r.url}`);
					if (hs.includes(t)) leaks.push(`a header of ${r.method} ${r.url}`);
				}
			}
		}
		if (tokens.length) f.none([...new Set(leaks)], 'the token never appears in a URL or header the browser sent');
	}
}

// ---- in-page checks (run in the page; they work with JavaScript off too) ---------------

// The frame every page shares: lang/dir, title, landmarks, skip link, language
// switcher, accessibility statement link, and no sideways scrolling at 360 px.
function frameProblems({ lang, dir, paths, langs }) {
	const p = [];
	const html = document.documentElement;
	if (html.getAttribute('lang') !== lang) p.push(`<html lang="${html.getAttribute('lang')}">, want "${lang}"`);
	if (html.getAttribute('dir') !== dir) p.push(`<html dir="${html.getAttribute('dir')}">, want "${dir}"`);
	if (!document.title.trim()) p.push('empty <title>');
	const vp = document.querySelector('meta[name="viewport"]');
	if (!vp || !/width\s*=\s*device-width/.test(vp.content)) p.push('no <meta name="viewport" content="width=device-width, ...">');
	if (document.querySelectorAll('main').length !== 1 || !document.querySelector('main#main')) p.push('not exactly one <main id="main">');
	const first = document.body.querySelector('a[href]');
	if (!first || first.getAttribute('href') !== '#main') p.push('the first link in <body> is not a skip link to #main');
	else if (!first.textContent.trim()) p.push('the skip link has no text');
	if (!document.querySelector('body header, body > header')) p.push('no <header>');
	if (!document.querySelector('footer')) p.push('no <footer>');
	const navs = [...document.querySelectorAll('nav')].filter((n) => n.querySelector('a[hreflang]'));
	if (navs.length !== 1) {
		p.push(`${navs.length} <nav> with a[hreflang] links (want one language switcher)`);
	} else {
		const nav = navs[0];
		if (!(nav.getAttribute('aria-label') || '').trim()) p.push('the language switcher <nav> has no aria-label');
		const links = [...nav.querySelectorAll('a[hreflang]')];
		const codes = links.map((a) => a.getAttribute('hreflang'));
		if ([...codes].sort().join() !== [...langs].sort().join()) p.push(`switcher languages ${codes.join(',')}, want ${langs.join(',')}`);
		for (const a of links) {
			const code = a.getAttribute('hreflang');
			const u = new URL(a.getAttribute('href'), location.href);
			if (u.searchParams.get('lang') !== code) p.push(`switcher link ${code}: href "${a.getAttribute('href')}" has no ?lang=${code}`);
			if (!paths.includes(u.pathname)) p.push(`switcher link ${code}: path ${u.pathname}, want ${paths.join(' or ')}`);
			if (a.getAttribute('lang') !== code) p.push(`switcher link ${code}: lang="${a.getAttribute('lang')}"`);
			if (!a.textContent.trim()) p.push(`switcher link ${code}: no text`);
			const cur = a.getAttribute('aria-current');
			if (code === lang && cur !== 'true') p.push(`switcher link ${code} (the current language) lacks aria-current="true"`);
			if (code !== lang && cur !== null) p.push(`switcher link ${code} has aria-current="${cur}"`);
		}
	}
	const stmt = [...document.querySelectorAll('footer a[href]')].find((a) => {
		const u = new URL(a.getAttribute('href'), location.href);
		return u.pathname === '/accessibility' && u.searchParams.get('lang') === lang;
	});
	if (!stmt) p.push(`no footer link to /accessibility?lang=${lang}`);
	const w = document.documentElement.scrollWidth;
	if (w > window.innerWidth) {
		const wide = [...document.querySelectorAll('main *, header *, footer *')]
			.filter((e) => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0 && getComputedStyle(e).overflowX === 'visible')
			.filter((e, _, all) => !all.some((o) => o !== e && e.contains(o)))
			.slice(0, 3).map((e) => `<${e.tagName.toLowerCase()}> "${e.textContent.trim().slice(0, 40)}"`);
		p.push(`the page is ${w} px wide in a ${window.innerWidth} px viewport (sideways scrolling): ${wide.join(', ')}`);
	}
	return p;
}

// The innermost elements whose content sticks out sideways.
function wideElements() {
	return [...document.querySelectorAll('main *, header *, footer *')]
		.filter((e) => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0 && getComputedStyle(e).overflowX === 'visible')
		.filter((e, _, all) => !all.some((o) => o !== e && e.contains(o)))
		.slice(0, 3).map((e) => `<${e.tagName.toLowerCase()}> "${e.textContent.trim().slice(0, 40)}"`).join(', ');
}

function formProblems({ lang, fresh }) {
	// Every form control has a <label for> (or sits in one).  (In-page functions
	// cannot share helpers, so each holds this.)
	const unlabelled = (root) => [...root.querySelectorAll('input:not([type=hidden]), select, textarea')]
		.filter((el) => !el.labels || el.labels.length === 0)
		.map((el) => `<${el.tagName.toLowerCase()} name="${el.name}"> has no <label>`);
	const p = [];
	const f = document.querySelector('form#report-form');
	if (!f) return ['no <form id="report-form">'];
	if ((f.getAttribute('method') || '').toLowerCase() !== 'post') p.push('the form is not method="post"');
	if (new URL(f.getAttribute('action') || '', location.href).pathname !== '/report') p.push(`form action "${f.getAttribute('action')}"`);
	const q = (s) => f.querySelector(s);
	const hidden = q('input[type=hidden][name=lang]');
	if (!hidden || hidden.value !== lang) p.push(`hidden lang is "${hidden && hidden.value}", want "${lang}"`);
	const d = q('textarea#description[name=description]');
	if (!d) p.push('no <textarea id="description" name="description">');
	else if (!d.required) p.push('description is not required');
	const radios = (name) => [...f.querySelectorAll(`input[type=radio][name=${name}]`)].map((i) => i.value).sort().join();
	if (radios('role') !== 'professional,victim,witness') p.push(`role radios: ${radios('role')}`);
	if (radios('wish') !== 'advice,assistance,register') p.push(`wish radios: ${radios('wish')}`);
	if (radios('contact') !== 'anonymous,contact') p.push(`contact radios: ${radios('contact')}`);
	if (fresh && !q('input[type=radio][name=contact][value=anonymous]')?.checked) p.push('contact=anonymous is not checked by default');
	if (!q('input[type=date][name=occurred_on]')) p.push('no <input type="date" name="occurred_on">');
	for (const n of ['location', 'counterparty']) if (!q(`input[name=${n}]`)) p.push(`no <input name="${n}">`);
	for (const n of ['incident_municipality', 'residence_municipality', 'domain', 'manifestation']) {
		const s = q(`select[name=${n}]`);
		if (!s) p.push(`no <select name="${n}">`);
		else if (s.options.length < 3) p.push(`<select name="${n}"> has ${s.options.length} options`);
	}
	for (const n of ['incident_municipality', 'residence_municipality']) {
		const s = q(`select[name=${n}]`);
		if (s && s.options[0]?.value !== '') p.push(`<select name="${n}"> does not start with an empty option`);
		if (s && ![...s.options].some((o) => o.value === 'leiden')) p.push(`<select name="${n}"> has no leiden`);
	}
	const grounds = [...f.querySelectorAll('input[type=checkbox][name=grounds]')].map((i) => i.value);
	if (grounds.length < 10 || !grounds.includes('origin')) p.push(`grounds checkboxes: ${grounds.join(',')}`);
	const cf = q('fieldset#contact-fields');
	if (!cf) p.push('no <fieldset id="contact-fields">');
	else {
		if (!cf.querySelector('input[name=contact_name]')) p.push('no contact_name in #contact-fields');
		if (!cf.querySelector('input[type=email][name=contact_email]')) p.push('no <input type="email" name="contact_email"> in #contact-fields');
		if (!cf.querySelector('input[type=tel][name=contact_phone]')) p.push('no <input type="tel" name="contact_phone"> in #contact-fields');
		const pref = [...cf.querySelectorAll('input[type=radio][name=contact_preferred]')].map((i) => i.value).sort().join();
		if (pref !== 'email,phone') p.push(`contact_preferred radios: ${pref}`);
	}
	const b = q('button#submit');
	if (!b || b.type !== 'submit') p.push('no <button type="submit" id="submit">');
	else if (!b.textContent.trim()) p.push('the submit button has no text');
	p.push(...unlabelled(f));
	return p;
}

// A field error: <p class="error" id="FIELD-error"> by the field, aria-invalid and
// aria-describedby on it, and the summary first in <main> linking to it.
function fieldErrorProblems({ field, id }) {
	const p = [];
	const el = document.getElementById(id) || document.querySelector(`[name="${field}"]`);
	const err = document.getElementById(`${field}-error`);
	if (!el) return [`no field ${field}`];
	if (!err) return [`no #${field}-error`];
	if (!err.classList.contains('error')) p.push(`#${field}-error lacks class="error"`);
	if (!err.textContent.trim()) p.push(`#${field}-error is empty`);
	if (el.getAttribute('aria-invalid') !== 'true') p.push(`${field} lacks aria-invalid="true"`);
	if (!(el.getAttribute('aria-describedby') || '').split(/\s+/).includes(`${field}-error`)) {
		p.push(`${field}'s aria-describedby "${el.getAttribute('aria-describedby')}" does not name ${field}-error`);
	}
	// "Next to the field": in the field's own container, and close on the screen.
	if (!(el.parentElement.contains(err) || err.parentElement.contains(el))) p.push(`#${field}-error is not beside the field in the markup`);
	const a = el.getBoundingClientRect();
	const b = err.getBoundingClientRect();
	const gap = Math.max(0, b.top - a.bottom, a.top - b.bottom);
	if (gap > 120) p.push(`#${field}-error is ${Math.round(gap)} px away from the field`);
	const main = document.querySelector('main');
	const sum = document.getElementById('error-summary');
	if (!sum) p.push('no #error-summary');
	else {
		if (sum.getAttribute('role') !== 'alert') p.push('#error-summary lacks role="alert"');
		const firstEl = main && [...main.children].find((c) => c.tagName !== 'SCRIPT');
		if (!main || !(firstEl === sum || (firstEl && firstEl.contains(sum) && firstEl.tagName !== 'FORM'))) p.push('#error-summary is not first in <main>');
		const link = [...sum.querySelectorAll('a[href]')].find((x) => x.getAttribute('href') === `#${el.id}`);
		if (!link) p.push(`#error-summary has no link to #${el.id}`);
	}
	return p;
}

function receiptProblems({ lang }) {
	const p = [];
	const t = document.getElementById('token');
	if (!t || t.tagName !== 'P') p.push('no <p id="token">');
	const qr = document.querySelector('#qr svg');
	if (!document.querySelector('div#qr')) p.push('no <div id="qr">');
	else if (!qr) p.push('#qr holds no inline <svg>');
	const pr = document.querySelector('button#print');
	if (!pr || pr.type !== 'button') p.push('no <button type="button" id="print">');
	const f = [...document.querySelectorAll('main a[href]')].find((a) => {
		const u = new URL(a.getAttribute('href'), location.href);
		return u.pathname === '/f' && u.searchParams.get('lang') === lang;
	});
	if (!f) p.push(`no link to /f?lang=${lang} in <main>`);
	return p;
}

function entryProblems({ lang }) {
	// Every form control has a <label for> (or sits in one).  (In-page functions
	// cannot share helpers, so each holds this.)
	const unlabelled = (root) => [...root.querySelectorAll('input:not([type=hidden]), select, textarea')]
		.filter((el) => !el.labels || el.labels.length === 0)
		.map((el) => `<${el.tagName.toLowerCase()} name="${el.name}"> has no <label>`);
	const p = [];
	const f = document.querySelector('form#followup-form');
	if (!f) return ['no <form id="followup-form">'];
	if ((f.getAttribute('method') || '').toLowerCase() !== 'post') p.push('followup-form is not method="post"');
	if (new URL(f.getAttribute('action') || '', location.href).pathname !== '/f') p.push(`followup-form action "${f.getAttribute('action')}"`);
	if (!f.querySelector('input#token-input[name=token]')) p.push('no <input id="token-input" name="token">');
	const h = f.querySelector('input[type=hidden][name=lang]');
	if (!h || h.value !== lang) p.push(`hidden lang "${h && h.value}", want "${lang}"`);
	if (!f.querySelector('button[type=submit], input[type=submit]')) p.push('no submit button');
	p.push(...unlabelled(f));
	return p;
}

function statusProblems({ lang }) {
	// Every form control has a <label for> (or sits in one).  (In-page functions
	// cannot share helpers, so each holds this.)
	const unlabelled = (root) => [...root.querySelectorAll('input:not([type=hidden]), select, textarea')]
		.filter((el) => !el.labels || el.labels.length === 0)
		.map((el) => `<${el.tagName.toLowerCase()} name="${el.name}"> has no <label>`);
	const p = [];
	const s = document.querySelector('p#status');
	if (!s) p.push('no <p id="status">');
	else if (!s.textContent.trim()) p.push('#status is empty');
	if (!document.querySelector('ol#messages')) p.push('no <ol id="messages">');
	for (const li of document.querySelectorAll('#messages > li')) {
		if (!li.classList.contains('message') || !(li.classList.contains('from-reporter') || li.classList.contains('from-caseworker'))) {
			p.push(`a message <li class="${li.className}">`);
		}
	}
	const f = document.querySelector('form#message-form');
	if (!f) return [...p, 'no <form id="message-form">'];
	if ((f.getAttribute('method') || '').toLowerCase() !== 'post') p.push('message-form is not method="post"');
	if (new URL(f.getAttribute('action') || '', location.href).pathname !== '/f/message') p.push(`message-form action "${f.getAttribute('action')}"`);
	if (!f.querySelector('input[type=hidden][name=token]')?.value) p.push('message-form has no hidden token');
	const h = f.querySelector('input[type=hidden][name=lang]');
	if (!h || h.value !== lang) p.push(`message-form hidden lang "${h && h.value}", want "${lang}"`);
	if (!f.querySelector('textarea#text[name=text]')) p.push('no <textarea id="text" name="text">');
	if (!f.querySelector('button[type=submit], input[type=submit]')) p.push('message-form has no submit button');
	p.push(...unlabelled(f));
	return p;
}

function messagesOf() {
	return [...document.querySelectorAll('#messages > li')].map((li) => ({
		from: li.classList.contains('from-caseworker') ? 'caseworker' : li.classList.contains('from-reporter') ? 'reporter' : '?',
		text: li.textContent,
		markup: li.querySelector('b') !== null,
	}));
}

// ---- checks shared by the flows --------------------------------------------------------

const SEEN = {}; // lang -> texts seen, to compare languages at the end
function seen(lang, key, value) {
	(SEEN[lang] ??= {})[key] = norm(value);
}

async function frame(tab, name, paths) {
	const dir = RTL.has(tab.lang) ? 'rtl' : 'ltr';
	const p = await tab.page.evaluate(frameProblems, { lang: tab.lang, dir, paths, langs: ALL_LANGS });
	// Reflow (WCAG 1.4.10) is judged at 320 CSS px: 1280 px zoomed to 400%.
	await tab.page.setViewportSize({ width: 320, height: 640 });
	const w = await tab.page.evaluate(() => document.documentElement.scrollWidth);
	if (w > 320) p.push(`at 320 px the page is ${w} px wide (sideways scrolling): ${await tab.page.evaluate(wideElements)}`);
	await tab.page.setViewportSize(VIEWPORT);
	tab.flow.none(p, `${name}: lang="${tab.lang}" dir="${dir}", title, landmarks, skip link, language switcher, statement link, fits 360 and 320 px`);
}

// The report form, filled in: returns what was typed, for the checks after.
async function fillReport(tab, { nonce, contact, description = true }) {
	const page = tab.page;
	const t = TEXT[tab.lang];
	const typed = {
		description: `${t.desc} [e2e ${tab.flow.label} ${nonce}]`,
		location: `${t.place} ${nonce.slice(0, 4)}`,
		counterparty: t.party,
		role: 'witness',
		wish: 'advice',
		occurred_on: today(-3),
		incident_municipality: 'leiden',
		residence_municipality: 'oegstgeest',
		grounds: ['origin', 'religion'],
		domain: 'hospitality',
		manifestation: 'refusal',
	};
	if (description) await page.fill('#description', typed.description);
	await page.fill('[name=location]', typed.location);
	await page.fill('[name=counterparty]', typed.counterparty);
	await page.check(`input[name=role][value=${typed.role}]`);
	await page.check(`input[name=wish][value=${typed.wish}]`);
	await page.fill('[name=occurred_on]', typed.occurred_on);
	await page.selectOption('[name=incident_municipality]', typed.incident_municipality);
	await page.selectOption('[name=residence_municipality]', typed.residence_municipality);
	for (const g of typed.grounds) await page.check(`input[name=grounds][value=${g}]`);
	await page.selectOption('[name=domain]', typed.domain);
	await page.selectOption('[name=manifestation]', typed.manifestation);
	if (contact) {
		typed.contact = { name: 'Sam de Vries', email: `sam.${nonce.slice(0, 6)}@example.org`, preferred: 'email' };
		await page.check('input[name=contact][value=contact]');
		await page.fill('[name=contact_name]', typed.contact.name);
		await page.fill('[name=contact_email]', typed.contact.email);
		await page.check('input[name=contact_preferred][value=email]');
	}
	return typed;
}

// What the form holds now (to see that nothing typed was lost).
async function formValues(page) {
	return page.evaluate(() => {
		const f = document.getElementById('report-form');
		const v = (n) => f.querySelector(`[name=${n}]`)?.value ?? null;
		const checked = (n) => [...f.querySelectorAll(`input[name=${n}]:checked`)].map((i) => i.value);
		return {
			description: v('description'), location: v('location'), counterparty: v('counterparty'),
			occurred_on: v('occurred_on'), incident_municipality: v('incident_municipality'),
			residence_municipality: v('residence_municipality'), domain: v('domain'), manifestation: v('manifestation'),
			role: checked('role')[0] ?? null, wish: checked('wish')[0] ?? null, grounds: checked('grounds').sort(),
			contact: checked('contact')[0] ?? null, contact_name: v('contact_name'), contact_email: v('contact_email'),
		};
	});
}

function lostValues(typed, got, fields) {
	const p = [];
	for (const k of fields) {
		const want = Array.isArray(typed[k]) ? [...typed[k]].sort().join() : typed[k];
		const have = Array.isArray(got[k]) ? got[k].join() : got[k];
		if (want !== have) p.push(`${k}: typed "${want}", the page now holds "${have}"`);
	}
	return p;
}

// The stored report matches what was typed (through the caseworker's CLI).
function reportProblems(c, typed, lang) {
	const p = [];
	const r = c.report || {};
	if (r.language !== lang) p.push(`report language "${r.language}", want "${lang}"`);
	for (const k of ['description', 'location', 'counterparty', 'role', 'wish', 'occurred_on', 'incident_municipality',
		'residence_municipality', 'domain', 'manifestation']) {
		if (typed[k] !== undefined && r[k] !== typed[k]) p.push(`${k}: stored ${JSON.stringify(r[k])}, typed ${JSON.stringify(typed[k])}`);
	}
	if ([...(r.grounds || [])].sort().join() !== [...typed.grounds].sort().join()) p.push(`grounds: stored ${JSON.stringify(r.grounds)}`);
	if (typed.contact) {
		const k = r.contact || {};
		for (const f of ['name', 'email', 'preferred']) if (k[f] !== typed.contact[f]) p.push(`contact.${f}: stored ${JSON.stringify(k[f])}`);
		if (c.case?.anonymous !== false) p.push('the case is anonymous, but contact details were given');
	} else {
		if (r.contact && Object.keys(r.contact).length) p.push(`contact stored for an anonymous report: ${JSON.stringify(r.contact)}`);
		if (c.case?.anonymous !== true) p.push('the case is not anonymous');
	}
	return p;
}

// The receipt: token, QR code (decoded from a screenshot), nothing echoed.
async function receipt(tab, typed, name) {
	const { page, flow, lang } = tab;
	flow.none(await page.evaluate(receiptProblems, { lang }), `${name}: token, QR code, print button and follow-up link as in docs/PAGES.md`);
	const token = norm(await page.textContent('#token'));
	need(TOKEN_RE.test(token), `#token holds "${token}", not a token XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXX`);
	flow.ok(true, `${name}: #token holds a well-formed token`);
	const html = await page.content();
	const echoed = ['description', 'location', 'counterparty'].filter((k) => html.includes(typed[k]));
	if (typed.contact) echoed.push(...['name', 'email'].filter((k) => html.includes(typed.contact[k])).map((k) => `contact ${k}`));
	flow.none(echoed.map((k) => `the receipt shows the ${k} typed`), `${name}: nothing the reporter wrote is echoed`);
	// The QR code as a phone would see it on this screen.
	const qr = page.locator('#qr svg').first();
	await qr.scrollIntoViewIfNeeded();
	const png = path.join(TMP, `qr-${flow.label.replace(/\W+/g, '-')}.png`);
	await qr.screenshot({ path: png });
	let codes = await decodeQr(png);
	if (codes.length === 0) {
		// Give it a white margin in case the SVG's own quiet zone is cut.
		const b = await qr.boundingBox();
		await page.screenshot({ path: png, fullPage: true, clip: { x: Math.max(0, b.x - 16), y: Math.max(0, b.y - 16), width: b.width + 32, height: b.height + 32 } });
		codes = await decodeQr(png);
	}
	const want = `${BASE}/f#${token}`;
	flow.ok(codes.length === 1 && codes[0] === want, `${name}: the QR code on screen decodes to ${BASE}/f#<the token shown>`,
		[`zbarimg read: ${JSON.stringify(codes)}`, `want: ${want}`]);
	const sized = await qr.boundingBox();
	flow.ok(sized && sized.width >= 120 && sized.width <= 360, `${name}: the QR code is 120..360 px wide at 360 px (is ${sized && Math.round(sized.width)})`);
	return { token, url: codes[0] === want ? codes[0] : want };
}

// The caseworker finds the report, moves it to intake and answers.
async function caseworkerAnswers(flow, lang, typed, nonce) {
	const c = await findCase(nonce);
	need(c, `the caseworker finds no case whose report holds ${nonce} (meldpunt cases / case show)`);
	flow.none(reportProblems(c, typed, lang), 'the caseworker reads the report as typed, in its language (meldpunt case show)');
	await cli('case', 'status', c.case.id, 'intake');
	const answer = `${TEXT[lang].answer}${MARKUP} ${nonce.slice(0, 6)}`;
	await cli('case', 'reply', c.case.id, '--text', answer);
	flow.ok(true, 'the caseworker answers (meldpunt case status intake, case reply)');
	return { id: c.case.id, answer };
}

async function statusPage(tab, name, token, answer) {
	const { page, flow, lang } = tab;
	flow.none(await page.evaluate(statusProblems, { lang }), `${name}: status, messages and message form as in docs/PAGES.md`);
	const api = await followupApi(token);
	const shownStatus = norm(await page.textContent('#status').catch(() => ''));
	flow.ok(api.status_label && shownStatus.includes(norm(api.status_label)),
		`${name}: #status shows the status label in the report's language`, [`page: "${shownStatus}"`, `API: "${api.status_label}"`]);
	const msgs = await page.evaluate(messagesOf);
	const mine = msgs.find((m) => m.from === 'caseworker' && norm(m.text).includes(norm(answer)));
	flow.ok(!!mine && !mine.markup, `${name}: the caseworker's answer is in #messages, as text (markup escaped)`,
		[`messages: ${JSON.stringify(msgs.map((m) => [m.from, norm(m.text)]))}`]);
	seen(lang, 'status', api.status_label);
}

async function addMessage(tab, name, nonce, caseId) {
	const { page, flow, lang } = tab;
	const msg = `${TEXT[lang].msg}${MARKUP} ${nonce.slice(0, 6)}`;
	await page.fill('#text', msg);
	const resp = await tab.submit(name, '#message-form button[type=submit], #message-form input[type=submit]');
	need(resp && resp.status() < 400, `POST /f/message answered ${resp && resp.status()}`);
	const conf = page.locator('p#confirmation[role=status]');
	flow.ok(await conf.isVisible().catch(() => false), `${name}: <p id="confirmation" role="status"> is shown`);
	seen(lang, 'confirmation', await conf.textContent().catch(() => ''));
	const msgs = await page.evaluate(messagesOf);
	const mine = msgs.find((m) => m.from === 'reporter' && norm(m.text).includes(norm(msg)));
	flow.ok(!!mine && !mine.markup, `${name}: the new message is in #messages as the reporter's, as text`,
		[`messages: ${JSON.stringify(msgs.map((m) => [m.from, norm(m.text)]))}`]);
	await frame(tab, name, ['/f']);
	await tab.shot('6-message-sent');
	const c = JSON.parse(await cli('case', 'show', caseId, '--json'));
	const got = (c.messages || []).find((m) => m.from === 'reporter' && m.text === msg);
	flow.ok(!!got, `${name}: the caseworker reads the reporter's message (meldpunt case show)`,
		[`messages: ${JSON.stringify((c.messages || []).map((m) => [m.from, m.kind, m.text]))}`]);
}

// ---- the flows -------------------------------------------------------------------------

// A resident with JavaScript on: the form, its errors, the receipt, the QR code
// followed in the browser, the caseworker's answer, a message back.
async function flowJs(browser, lang) {
	const flow = new Flow(`${lang} js`);
	const ctx = await browser.newContext({ viewport: VIEWPORT, locale: lang, serviceWorkers: 'block' });
	// The print button calls window.print(); count the calls.
	await ctx.addInitScript(() => {
		window.__printed = 0;
		window.print = () => { window.__printed++; };
	});
	const tab = await Tab.open(flow, ctx, lang, lang);
	const { page } = tab;
	const nonce = crypto.randomBytes(8).toString('hex');
	const tokens = [];
	try {
		await step(flow, 'the report form loads', async () => {
			const r = await tab.goto('form', `${BASE}/?lang=${lang}`);
			need(r && r.status() === 200, `GET /?lang=${lang} answered ${r && r.status()}`);
		});
		await frame(tab, 'form', ['/']);
		flow.none(await page.evaluate(formProblems, { lang, fresh: true }), 'form: fields, labels and names as in docs/PAGES.md');
		seen(lang, 'title', await page.title());
		seen(lang, 'submit', await page.textContent('#submit').catch(() => ''));
		seen(lang, 'origin', await page.evaluate(() => document.querySelector('input[name=grounds][value=origin]')?.labels?.[0]?.textContent));
		await tab.shot('1-form');
		await step(flow, 'form: the contact fields stay hidden until contact is chosen', async () => {
			flow.ok(!(await page.locator('#contact-fields').isVisible()), 'form: with JavaScript, #contact-fields is hidden while anonymous is chosen');
			await page.check('input[name=contact][value=contact]');
			flow.ok(await page.locator('input[name=contact_email]').isVisible(), 'form: choosing contact shows the contact fields');
			await page.check('input[name=contact][value=anonymous]');
		});

		// Errors: the browser's own check stops an empty description; the server's
		// answer (with that check off) puts the error by the field and keeps the rest.
		let typed;
		await step(flow, 'form: an empty description comes back with an error by the field', async () => {
			typed = await fillReport(tab, { nonce, contact: lang === 'en', description: false });
			await page.evaluate(() => { document.getElementById('report-form').noValidate = true; });
			const r = await tab.submit('form with errors', '#submit');
			flow.ok(r && r.status() === 400, `form with errors: POST /report with an empty description answers 400 (got ${r && r.status()})`);
			await frame(tab, 'form with errors', ['/', '/f']);
			flow.none(await page.evaluate(fieldErrorProblems, { field: 'description', id: 'description' }),
				'form with errors: #description-error by the field, aria-invalid, aria-describedby, summary first in <main>');
			seen(lang, 'description-error', await page.textContent('#description-error').catch(() => ''));
			const fields = ['location', 'counterparty', 'role', 'wish', 'occurred_on', 'incident_municipality',
				'residence_municipality', 'grounds', 'domain', 'manifestation'];
			flow.none(lostValues(typed, await formValues(page), fields), 'form with errors: everything typed is still there');
			if (typed.contact) {
				const v = await formValues(page);
				flow.none(lostValues({ contact: 'contact', contact_name: typed.contact.name, contact_email: typed.contact.email }, v,
					['contact', 'contact_name', 'contact_email']), 'form with errors: the contact details typed are still there');
				flow.ok(await page.locator('input[name=contact_email]').isVisible(), 'form with errors: the contact fields are shown as chosen');
			}
			flow.none(await page.evaluate(formProblems, { lang }), 'form with errors: still the whole form');
			await tab.shot('2-form-errors');
		});
		await step(flow, 'form: a date in the future comes back with the description kept', async () => {
			await page.fill('#description', typed.description);
			await page.fill('[name=occurred_on]', today(10));
			await page.evaluate(() => { document.getElementById('report-form').noValidate = true; });
			const r = await tab.submit('form with a date error', '#submit');
			flow.ok(r && r.status() === 400, `form with errors: a date in the future answers 400 (got ${r && r.status()})`);
			flow.none(await page.evaluate(fieldErrorProblems, { field: 'occurred_on', id: 'occurred_on' }),
				'form with errors: #occurred_on-error by the date field');
			flow.none(lostValues({ ...typed, occurred_on: today(10) }, await formValues(page), ['description', 'location', 'grounds', 'occurred_on']),
				'form with errors: the description typed (non-ASCII) is kept');
			await page.fill('[name=occurred_on]', typed.occurred_on);
		});

		let token;
		let followUrl;
		await step(flow, 'submitting the report shows the receipt', async () => {
			const r = await tab.submit('receipt', '#submit');
			need(r && r.status() >= 200 && r.status() < 300, `POST /report answered ${r && r.status()}`);
			await frame(tab, 'receipt', ['/', '/f']);
			({ token, url: followUrl } = await receipt(tab, typed, 'receipt'));
			tokens.push(token);
			await tab.shot('3-receipt');
			await page.click('#print');
			flow.ok(await page.evaluate(() => window.__printed) === 1, 'receipt: the print button opens the print dialogue (app.js)');
			await page.emulateMedia({ media: 'print' });
			flow.ok(await page.locator('#token').isVisible() && await page.locator('#qr svg').isVisible(), 'receipt: the print view shows the token and the QR code');
			await tab.shot('3-receipt-print');
			await page.emulateMedia({ media: 'screen' });
		});

		let caseId;
		let answer;
		await step(flow, 'the caseworker answers through the CLI', async () => {
			({ id: caseId, answer } = await caseworkerAnswers(flow, lang, typed, nonce));
		});

		await step(flow, 'following the QR code opens the status page', async () => {
			const before = tab.requests.length;
			const post = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/f');
			// app.js posts the form while the page is still loading: wait for that POST, not for load.
			await page.goto(followUrl, { waitUntil: 'commit' });
			const req = await post;
			await req.response();
			await page.waitForSelector('#status', { state: 'attached' });
			await page.waitForLoadState('load');
			const body = req.postData() || '';
			const params = new URLSearchParams(body);
			flow.ok(norm(params.get('token')).toUpperCase() === token, 'status via QR: app.js POSTs the token from the fragment to /f',
				[`POST /f body: ${body}`]);
			flow.ok(!page.url().includes('#') && !page.url().includes(token), `status via QR: the fragment is cleared from the address bar (${page.url()})`);
			const sent = tab.requests.slice(before).map((r) => `${r.method} ${r.url}`);
			const leaked = sent.filter((s) => tokenForms(token).some((t) => s.split('#')[0].toUpperCase().includes(t)));
			flow.none(leaked, 'status via QR: no request URL holds the token');
			await frame(tab, 'status', ['/f']);
			await statusPage(tab, 'status', token, answer);
			await tab.shot('5-status');
		});

		await step(flow, 'the reporter adds a message', async () => {
			await addMessage(tab, 'status after a message', nonce, caseId);
		});

		await step(flow, 'the follow-up entry page', async () => {
			const r = await tab.goto('follow-up entry', `${BASE}/f?lang=${lang}`);
			need(r && r.status() === 200, `GET /f?lang=${lang} answered ${r && r.status()}`);
			await frame(tab, 'follow-up entry', ['/f']);
			flow.none(await page.evaluate(entryProblems, { lang }), 'follow-up entry: form, token field and labels as in docs/PAGES.md');
			await tab.shot('4-followup');
			const bad = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
			await page.fill('#token-input', bad);
			const r2 = await tab.submit('follow-up entry with a wrong token', '#followup-form [type=submit]');
			need(r2 && r2.status() < 500, `POST /f with a wrong token answered ${r2 && r2.status()}`);
			flow.ok(await page.locator('#token-error').isVisible().catch(() => false) && await page.locator('#token-input').count() === 1,
				'follow-up entry: a wrong token shows the entry form again with #token-error');
			flow.ok(await page.locator('#status').count() === 0, 'follow-up entry: a wrong token shows no status');
			seen(lang, 'token-error', await page.textContent('#token-error').catch(() => ''));
			await tab.shot('4-followup-error');
		});

		await step(flow, 'the accessibility statement', async () => {
			const r = await tab.goto('accessibility statement', `${BASE}/accessibility?lang=${lang}`);
			need(r && r.status() === 200, `GET /accessibility?lang=${lang} answered ${r && r.status()}`);
			await frame(tab, 'accessibility statement', ['/accessibility']);
			const h1 = norm(await page.textContent('h1').catch(() => ''));
			const words = norm(await page.textContent('main')).length;
			flow.ok(h1 && words > 300, `accessibility statement: a heading and text (${words} characters)`);
			seen(lang, 'statement', h1);
			await tab.shot('7-accessibility');
		});
	} catch (e) {
		if (!(e instanceof Abort)) flow.ok(false, 'the flow ran to its end', String(e.stack || e));
	}
	await tab.finish(tokens).catch((e) => flow.ok(false, 'the flow-wide checks ran', String(e)));
	report(lang, 'js', tab.loads);
	await ctx.close();
	return flow;
}

// A resident with JavaScript off: the contact fields reachable, the receipt, the
// token typed (in lower case, with spaces) instead of scanned, the answer, a message.
async function flowNoJs(browser, lang) {
	const flow = new Flow(`${lang} nojs`);
	const ctx = await browser.newContext({ viewport: VIEWPORT, locale: lang, javaScriptEnabled: false });
	const tab = await Tab.open(flow, ctx, lang, `${lang}-nojs`);
	const { page } = tab;
	const nonce = crypto.randomBytes(8).toString('hex');
	const tokens = [];
	try {
		await step(flow, 'the report form loads without JavaScript', async () => {
			const r = await tab.goto('form', `${BASE}/?lang=${lang}`);
			need(r && r.status() === 200, `GET /?lang=${lang} answered ${r && r.status()}`);
		});
		await frame(tab, 'form', ['/']);
		flow.none(await page.evaluate(formProblems, { lang, fresh: true }), 'form: fields, labels and names as in docs/PAGES.md');
		let typed;
		await step(flow, 'form: the contact fields can be filled in without JavaScript', async () => {
			await page.check('input[name=contact][value=contact]');
			flow.ok(await page.locator('input[name=contact_email]').isVisible(), 'form: with contact chosen, the contact fields are visible without JavaScript');
			await page.check('input[name=contact][value=anonymous]');
			typed = await fillReport(tab, { nonce, contact: lang === 'nl' || lang === 'ar' });
			await tab.shot('1-form');
		});
		let token;
		let followUrl;
		await step(flow, 'submitting the report shows the receipt', async () => {
			const r = await tab.submit('receipt', '#submit');
			need(r && r.status() >= 200 && r.status() < 300, `POST /report answered ${r && r.status()}`);
			await frame(tab, 'receipt', ['/', '/f']);
			({ token, url: followUrl } = await receipt(tab, typed, 'receipt'));
			tokens.push(token);
			await tab.shot('3-receipt');
		});
		let caseId;
		let answer;
		await step(flow, 'the caseworker answers through the CLI', async () => {
			({ id: caseId, answer } = await caseworkerAnswers(flow, lang, typed, nonce));
		});
		await step(flow, 'the QR code without JavaScript: the entry form, the token typed in', async () => {
			const r = await tab.goto('follow-up entry (from the QR code)', followUrl);
			need(r && r.status() === 200, `GET ${followUrl} answered ${r && r.status()}`);
			flow.none(await page.evaluate(entryProblems, { lang }), 'follow-up entry: form, token field and labels as in docs/PAGES.md');
			await frame(tab, 'follow-up entry', ['/f']);
			await page.fill('#token-input', token.toLowerCase().replace(/-/g, ' '));
			const r2 = await tab.submit('status', '#followup-form [type=submit]');
			need(r2 && r2.status() === 200, `POST /f answered ${r2 && r2.status()}`);
			await frame(tab, 'status', ['/f']);
			await statusPage(tab, 'status', token, answer);
			await tab.shot('5-status');
		});
		await step(flow, 'the reporter adds a message', async () => {
			await addMessage(tab, 'status after a message', nonce, caseId);
		});
	} catch (e) {
		if (!(e instanceof Abort)) flow.ok(false, 'the flow ran to its end', String(e.stack || e));
	}
	await tab.finish(tokens).catch((e) => flow.ok(false, 'the flow-wide checks ran', String(e)));
	report(lang, 'nojs', tab.loads);
	await ctx.close();
	return flow;
}

// axe-core on every page in one language.  The strict CSP forbids the injected
// script, so this context alone bypasses CSP; the other flows check the CSP.
const AXE_LOG = [];
async function axe(tab, name) {
	const { page, flow, lang } = tab;
	await page.addScriptTag({ path: AXE });
	const res = await page.evaluate(async (tags) => {
		// eslint-disable-next-line no-undef
		const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
		return r.violations.map((v) => ({
			id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary, html: n.html.slice(0, 160) })),
		}));
	}, AXE_TAGS);
	const diag = [];
	for (const v of res) {
		diag.push(`${v.id} (${v.impact}): ${v.help}`);
		for (const n of v.nodes.slice(0, 5)) diag.push(`  ${n.target}  ${norm(n.summary).slice(0, 200)}`);
		if (v.nodes.length > 5) diag.push(`  ... and ${v.nodes.length - 5} more`);
		AXE_LOG.push({ lang, page: name, ...v });
	}
	flow.ok(res.length === 0, `${name}: axe-core finds no WCAG 2.1 AA violation`, diag);
}

async function flowAxe(browser, lang) {
	const flow = new Flow(`${lang} axe`);
	const ctx = await browser.newContext({ viewport: VIEWPORT, locale: lang, bypassCSP: true });
	const tab = await Tab.open(flow, ctx, lang, null);
	const { page } = tab;
	const nonce = crypto.randomBytes(8).toString('hex');
	try {
		await step(flow, 'form', async () => {
			const r = await page.goto(`${BASE}/?lang=${lang}`);
			need(r && r.status() === 200, `GET /?lang=${lang} answered ${r && r.status()}`);
			await axe(tab, 'form');
			await page.check('input[name=contact][value=contact]');
			await axe(tab, 'form with the contact fields shown');
		});
		await step(flow, 'form with errors', async () => {
			await page.evaluate(() => { document.getElementById('report-form').noValidate = true; });
			await Promise.all([page.waitForNavigation(), page.click('#submit')]);
			await page.waitForSelector('#description-error', { state: 'attached' });
			await axe(tab, 'form with errors');
		});
		let token;
		await step(flow, 'receipt', async () => {
			await page.check('input[name=contact][value=anonymous]');
			await page.fill('#description', `${TEXT[lang].desc} [e2e axe ${nonce}]`);
			await Promise.all([page.waitForNavigation(), page.click('#submit')]);
			token = norm(await page.textContent('#token'));
			await axe(tab, 'receipt');
		});
		await step(flow, 'follow-up entry', async () => {
			await page.goto(`${BASE}/f?lang=${lang}`);
			await axe(tab, 'follow-up entry');
			await page.fill('#token-input', 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-230');
			await Promise.all([page.waitForNavigation(), page.click('#followup-form [type=submit]')]);
			await page.waitForSelector('#token-error', { state: 'attached' });
			await axe(tab, 'follow-up entry with a wrong token');
		});
		await step(flow, 'status', async () => {
			await page.fill('#token-input', token);
			await Promise.all([page.waitForNavigation(), page.click('#followup-form [type=submit]')]);
			await page.waitForSelector('#status', { state: 'attached' });
			await axe(tab, 'status');
			await page.fill('#text', TEXT[lang].msg);
			await Promise.all([page.waitForNavigation(), page.click('#message-form [type=submit]')]);
			await page.waitForSelector('#confirmation', { state: 'attached' });
			await axe(tab, 'status after a message');
		});
		await step(flow, 'accessibility statement', async () => {
			await page.goto(`${BASE}/accessibility?lang=${lang}`);
			await axe(tab, 'accessibility statement');
		});
	} catch (e) {
		if (!(e instanceof Abort)) flow.ok(false, 'the flow ran to its end', String(e.stack || e));
	}
	await ctx.close();
	return flow;
}

// ---- checks that need no flow ------------------------------------------------------------

// Whether the focused element looks different from itself unfocused.
function focusShows() {
	const e = document.activeElement;
	// Tab also walks the parts of one control (a date's day, month, year): judge each control once.
	if (e === window.__kbPrev) return { id: e.id, same: true, ring: true };
	window.__kbPrev = e;
	const look = () => {
		const cs = getComputedStyle(e);
		const w = cs.outlineStyle === 'none' ? '0px' : cs.outlineWidth;
		return [cs.outlineStyle, w, cs.outlineColor, cs.boxShadow, cs.backgroundColor, cs.color, cs.borderColor, cs.textDecorationLine].join('|');
	};
	const focused = look();
	e.blur();
	const unfocused = look();
	e.focus();
	return { id: e.id, tag: e.tagName.toLowerCase(), name: e.getAttribute('name'), ring: focused !== unfocused };
}

// A report with the keyboard alone: the skip link first, a visible focus on
// everything reached with Tab, the description typed, the form sent with Enter.
async function keyboard(flow, page) {
	await page.goto(`${BASE}/?lang=en`);
	await page.keyboard.press('Tab');
	const skip = await page.evaluate(() => {
		const a = document.activeElement;
		const r = a.getBoundingClientRect();
		return { href: a.getAttribute('href'), shown: r.width > 1 && r.height > 1 && r.top >= 0 && r.bottom <= innerHeight };
	});
	flow.ok(skip.href === '#main' && skip.shown, 'keyboard: the first Tab reaches the skip link, and it shows', [JSON.stringify(skip)]);
	await page.keyboard.press('Enter');
	const noFocusRing = [];
	let reached = false;
	for (let i = 0; i < 40 && !reached; i++) {
		await page.keyboard.press('Tab');
		const f = await page.evaluate(focusShows);
		if (!f.ring) noFocusRing.push(`<${f.tag} id="${f.id}" name="${f.name}">`);
		reached = f.id === 'description';
	}
	flow.ok(reached, 'keyboard: after the skip link, Tab reaches the description');
	if (!reached) return;
	await page.keyboard.type('Typed with the keyboard alone [e2e keyboard]');
	let onSubmit = false;
	for (let i = 0; i < 120 && !onSubmit; i++) {
		await page.keyboard.press('Tab');
		const f = await page.evaluate(focusShows);
		if (!f.ring) noFocusRing.push(`<${f.tag} id="${f.id}" name="${f.name}">`);
		onSubmit = f.id === 'submit';
	}
	flow.ok(onSubmit, 'keyboard: Tab goes on through the form to the submit button');
	flow.none([...new Set(noFocusRing)], 'keyboard: every element reached with Tab shows where the focus is');
	if (!onSubmit) return;
	await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
	flow.ok(TOKEN_RE.test(norm(await page.textContent('#token').catch(() => ''))), 'keyboard: Enter on the submit button sends the report (receipt with a token)');
}

async function htmlLang(url, headers = {}) {
	const r = await fetch(url, { headers });
	const t = await r.text();
	return (t.match(/<html[^>]*\slang="([^"]*)"/i) || [])[1] ?? `(status ${r.status}, no <html lang>)`;
}

async function general(browser) {
	const flow = new Flow('all');
	// Language choice: ?lang= first, then Accept-Language (q-values honoured), then nl.
	const cases = [
		['/', {}, 'nl'],
		['/', { 'Accept-Language': 'pl' }, 'pl'],
		['/', { 'Accept-Language': 'uk-UA,uk;q=0.9' }, 'uk'],
		['/', { 'Accept-Language': 'ar-EG' }, 'ar'],
		['/', { 'Accept-Language': 'de-DE,de;q=0.9,tr;q=0.8,en;q=0.7' }, 'tr'],
		['/', { 'Accept-Language': 'en;q=0.3, uk;q=0.8' }, 'uk'],
		['/', { 'Accept-Language': 'fr, de' }, 'nl'],
		['/?lang=tr', { 'Accept-Language': 'en' }, 'tr'],
		['/?lang=zz', { 'Accept-Language': 'en' }, 'en'],
		['/f', { 'Accept-Language': 'en-GB,en;q=0.9' }, 'en'],
		['/f?lang=ar', { 'Accept-Language': 'pl' }, 'ar'],
		['/accessibility', { 'Accept-Language': 'tr' }, 'tr'],
	];
	const wrong = [];
	for (const [p, h, want] of cases) {
		const got = await htmlLang(BASE + p, h).catch((e) => String(e));
		if (got !== want) wrong.push(`GET ${p} ${JSON.stringify(h)}: lang "${got}", want "${want}"`);
	}
	flow.none(wrong, 'the language comes from ?lang=, then Accept-Language (q-values), then nl');

	// Headers of every kind of page, and of the static files.
	const probs = [];
	for (const p of ['/', '/?lang=ar', '/f', '/accessibility']) {
		const r = await fetch(BASE + p);
		if (r.status !== 200) probs.push(`GET ${p}: ${r.status}`);
		const h = Object.fromEntries(r.headers);
		for (const x of documentProblems(h, await r.text())) probs.push(`GET ${p}: ${x}`);
	}
	flow.none(probs, 'GET /, /f and /accessibility: strict CSP (frame-ancestors none), no-store, no-referrer, nosniff, no cookie');
	const stat = [];
	for (const [p, type] of [['/static/app.css', /^text\/css/], ['/static/app.js', /^(text|application)\/javascript/]]) {
		const r = await fetch(BASE + p);
		const h = Object.fromEntries(r.headers);
		if (r.status !== 200) stat.push(`GET ${p}: ${r.status}`);
		if (!type.test(h['content-type'] || '')) stat.push(`GET ${p}: Content-Type "${h['content-type']}"`);
		if (h['x-content-type-options'] !== 'nosniff') stat.push(`GET ${p}: no nosniff`);
		if (h['set-cookie']) stat.push(`GET ${p}: sets a cookie`);
	}
	flow.none(stat, 'the static CSS and JS are served with their types');

	// The browser's own language picks the page's language.
	const ctx = await browser.newContext({ viewport: VIEWPORT, locale: 'uk-UA' });
	const page = await ctx.newPage();
	page.setDefaultTimeout(6000);
	try {
		await page.goto(`${BASE}/`);
		flow.ok(await page.getAttribute('html', 'lang') === 'uk', 'a browser set to Ukrainian gets the form in uk');
		// The switcher: from Dutch to Arabic, right to left.
		await page.goto(`${BASE}/?lang=nl`);
		await Promise.all([page.waitForNavigation(), page.click('nav a[hreflang=ar]')]);
		flow.ok(await page.getAttribute('html', 'lang') === 'ar' && await page.getAttribute('html', 'dir') === 'rtl',
			'the language switcher link to ar opens the form in Arabic, right to left');
		flow.ok(await page.evaluate(() => getComputedStyle(document.body).direction) === 'rtl', 'the Arabic page is laid out right to left');
		await keyboard(flow, page);
		// frame-ancestors 'none': a page that frames the form gets nothing.
		await page.setContent(`<iframe src="${BASE}/?lang=en" title="x"></iframe>`);
		await page.waitForTimeout(500);
		const fr = page.frames().find((f) => f !== page.mainFrame());
		const framed = fr ? await fr.locator('#report-form').count().catch(() => 0) : 0;
		flow.ok(framed === 0, 'the form does not render inside a frame (frame-ancestors)');
	} catch (e) {
		flow.ok(false, 'the language and framing checks in the browser ran', String(e.message || e).split('\n').slice(0, 4));
	}
	await ctx.close();
	return flow;
}

// ---- a flood of reports: the browser makes the proof of work (docs/ABUSE.md) ---------------

// The leading zero bits of a hash.
function zeroBits(h) {
	let n = 0;
	for (const b of h) {
		if (b === 0) {
			n += 8;
			continue;
		}
		n += Math.clz32(b) - 24;
		break;
	}
	return n;
}

// Reports from made-up clients behind a proxy (X-Forwarded-For, which meldpuntd takes from
// loopback only) until the API asks for a proof of work; then a browser seen as one more such
// client gets the challenge with the form, and app.js solves it before the form goes.  Runs
// after the other flows: their browsers, on loopback without the header, are exempt anyway.
async function flowPow(browser) {
	const flow = new Flow('flood');
	const XFF = '192.0.2.77';
	const formChallenge = async (xff) => {
		const r = await fetch(`${BASE}/?lang=en`, { headers: xff ? { 'X-Forwarded-For': xff } : {} });
		const m = (await r.text()).match(/data-challenge="([^"]*)"/);
		return m ? m[1] : null;
	};
	flow.ok(await formChallenge(XFF) === null, 'before a flood the report form carries no proof-of-work challenge');
	let sent = 0;
	let asked = null;
	for (; sent < 2000 && !asked; sent++) {
		// Five reports an address: under any client's own limit.
		const n = Math.floor(sent / 5);
		const r = await fetch(`${API}/api/v1/reports`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': `10.${(n >> 8) & 255}.${n & 255}.7` },
			body: JSON.stringify({ description: `e2e flood report ${sent}` }),
		});
		await r.arrayBuffer();
		if (r.status === 429 && r.headers.get('meldpunt-pow-challenge')) asked = r;
		else if (r.status !== 201) {
			flow.ok(false, `flood report ${sent} -> 201 or 429 with a challenge (got ${r.status})`);
			return flow;
		}
	}
	flow.ok(asked !== null, `after ${sent} reports from ${Math.ceil(sent / 5)} addresses the API answers 429 with Meldpunt-Pow-Challenge`);
	if (!asked) return flow;
	flow.ok(await formChallenge(XFF) !== null, 'during the flood the form carries a challenge');
	flow.ok(await formChallenge(null) === null, 'a local client (loopback, no X-Forwarded-For) gets the form without one');

	const ctx = await browser.newContext({ viewport: VIEWPORT, extraHTTPHeaders: { 'X-Forwarded-For': XFF } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(6000);
	const problems = [];
	page.on('console', (m) => {
		if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
	});
	page.on('pageerror', (e) => problems.push(String(e.message || e)));
	let posted = null;
	page.on('request', (r) => {
		if (r.method() === 'POST' && new URL(r.url()).pathname === '/report') posted = r.postData() || '';
	});
	try {
		await page.goto(`${BASE}/?lang=en`);
		const challenge = await page.getAttribute('#pow', 'data-challenge');
		const bits = Number(await page.getAttribute('#pow', 'data-bits'));
		const working = await page.getAttribute('#pow-status', 'data-working');
		await page.fill('#description', 'During the flood I was refused at the door. (e2e proof of work)');
		// What the status line says, kept across the navigation the form makes.
		await page.evaluate(() => {
			const s = document.getElementById('pow-status');
			new MutationObserver(() => sessionStorage.setItem('pow-status',
				`${sessionStorage.getItem('pow-status') || ''}|${s.textContent}`))
				.observe(s, { childList: true, characterData: true, subtree: true });
		});
		const t0 = Date.now();
		await Promise.all([page.waitForNavigation({ timeout: 180000 }), page.click('#submit')]);
		const secs = ((Date.now() - t0) / 1000).toFixed(1);
		const token = norm(await page.textContent('#token').catch(() => ''));
		flow.ok(TOKEN_RE.test(token), `the browser solved the proof of work (${bits} bits, ${secs} s) and the report was taken: the receipt`,
			[`posted: ${(posted || '').slice(0, 200)}`]);
		const [c, nonce] = (new URLSearchParams(posted || '').get('pow') || '').split('.');
		const h = crypto.createHash('sha256').update(`${c}${nonce}`).digest();
		flow.ok(c === challenge && Boolean(nonce) && zeroBits(h) >= bits,
			'the form sent pow=challenge.nonce, and SHA-256(challenge + nonce) has the leading zero bits', [`pow=${c}.${nonce}`]);
		const said = await page.evaluate(() => sessionStorage.getItem('pow-status') || '');
		flow.ok(Boolean(working) && said.includes(working), 'while it worked, the status line said so in the page\'s language', [`said: ${said}`, `want: ${working}`]);
		flow.none(problems, 'no CSP violation and no script error while solving');
	} catch (e) {
		flow.ok(false, 'the browser made the proof of work and sent the form', String(e.message || e).split('\n').slice(0, 4));
	}
	await ctx.close();
	return flow;
}

// Texts that must differ between languages (translated), and script checks.
function compareLanguages() {
	const flow = new Flow('languages');
	const langs = LANGS.filter((l) => SEEN[l]);
	if (langs.length < 2) return flow;
	for (const key of ['title', 'submit', 'origin', 'description-error', 'token-error', 'confirmation', 'status', 'statement']) {
		const vals = langs.map((l) => [l, SEEN[l][key]]).filter(([, v]) => v);
		if (vals.length < 2) continue;
		const byVal = new Map();
		for (const [l, v] of vals) byVal.set(v, [...(byVal.get(v) || []), l]);
		const same = [...byVal.entries()].filter(([, ls]) => ls.length > 1).map(([v, ls]) => `${ls.join(', ')}: "${v}"`);
		flow.none(same, `the ${key} text differs in every language`);
		const script = [];
		for (const [l, v] of vals) {
			if (l === 'uk' && !/[\u0400-\u04ff]/.test(v)) script.push(`uk: "${v}" has no Cyrillic`);
			if (l === 'ar' && !/[\u0600-\u06ff]/.test(v)) script.push(`ar: "${v}" has no Arabic`);
		}
		flow.none(script, `the ${key} text is in the language's script`);
	}
	return flow;
}

const WEIGHTS = [];
function report(lang, mode, loads) {
	for (const l of loads) WEIGHTS.push({ lang, mode, ...l });
}

function writeSummaries() {
	const w = ['page load                                   lang mode   bytes   (document, CSS, JS and their headers)'];
	for (const l of WEIGHTS) {
		w.push(`${l.name.padEnd(44)}${l.lang.padEnd(5)}${l.mode.padEnd(6)}${String(l.bytes).padStart(7)}   ${l.parts.map((p) => `${p.url} ${p.n}`).join(', ')}`);
	}
	fs.writeFileSync(path.join(OUT, 'weights.txt'), w.join('\n') + '\n');
	const a = AXE_LOG.length ? AXE_LOG.map((v) => [`${v.lang}  ${v.page}: ${v.id} (${v.impact}) ${v.help}`,
		...v.nodes.map((n) => `    ${n.target}\n      ${n.html}\n      ${norm(n.summary)}`)].join('\n')) : ['no violations'];
	fs.writeFileSync(path.join(OUT, 'axe.txt'), a.join('\n') + '\n');
	const shots = fs.readdirSync(OUT).filter((f) => f.endsWith('.png')).sort();
	const html = ['<!doctype html><meta charset="utf-8"><title>meldpunt pages at 360 px</title>',
		'<h1>The residents\' pages at 360 px</h1>',
		...shots.map((s) => `<figure style="display:inline-block;vertical-align:top;margin:8px"><img src="${s}" width="360" alt="${s}"><figcaption>${s}</figcaption></figure>`)];
	fs.writeFileSync(path.join(OUT, 'index.html'), html.join('\n') + '\n');
}

async function pool(tasks, n) {
	const results = [];
	let next = 0;
	async function worker() {
		while (next < tasks.length) {
			const i = next++;
			const f = await tasks[i]();
			f.flush();
			results[i] = f;
		}
	}
	await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
	return results;
}

// ---- main --------------------------------------------------------------------------------

async function main() {
	const t0 = Date.now();
	fs.mkdirSync(OUT, { recursive: true });

	// Before a browser starts: are there pages at all?
	const first = await fetch(`${BASE}/?lang=nl`).catch((e) => ({ status: String(e), headers: new Headers() }));
	const type = first.headers.get('content-type') || '';
	if (first.status !== 200 || !/^text\/html/.test(type)) {
		console.log(`not ok - e2e: GET /?lang=nl serves the report form (got ${first.status}, ${type || 'no type'}); no browser tests ran`);
		return 1;
	}
	console.log('ok - e2e: GET /?lang=nl serves HTML');

	const profile = fs.mkdtempSync(path.join(TMP, 'chromium-profile-'));
	const persistent = await chromium.launchPersistentContext(profile, {
		executablePath: '/usr/bin/chromium',
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu'],
		viewport: VIEWPORT,
	});
	const browser = persistent.browser();
	console.log(`# Chromium ${browser.version()}, profile ${profile}`);
	try {
		(await general(browser)).flush();
		const tasks = [];
		for (const lang of LANGS) {
			tasks.push(() => flowJs(browser, lang));
			tasks.push(() => flowNoJs(browser, lang));
			tasks.push(() => flowAxe(browser, lang));
		}
		await pool(tasks, JOBS);
		(await flowPow(browser)).flush();
		compareLanguages().flush();
	} finally {
		await persistent.close().catch(() => {});
	}
	writeSummaries();
	const heaviest = WEIGHTS.reduce((a, l) => (l.bytes > a.bytes ? l : a), { bytes: 0, name: '-', lang: '-' });
	console.log(`# heaviest page load: ${heaviest.name} (${heaviest.lang}) ${kb(heaviest.bytes)}; axe violations: ${AXE_LOG.length}`);
	console.log(`# screenshots, weights.txt and axe.txt in ${OUT}; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
	console.log(`# e2e totals: passed ${passed}, failed ${failed}`);
	return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
	console.log(`not ok - e2e: the browser tests crashed: ${String(e && e.message || e).split('\n')[0]}`);
	console.log(String(e && e.stack || e).split('\n').map((l) => `# ${l}`).join('\n'));
	process.exit(1);
});
