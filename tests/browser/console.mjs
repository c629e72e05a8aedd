// The web console in a real browser: Debian's chromium, driven by
// playwright-core. tests/test_browser.c sets up the daemon, the simulator
// and the data, runs this once, and checks each step's outcome (and what
// the step left in the store and the simulator). Steps run in order; each
// one's outcome goes to the JSON file $RESULTS as {"step": "ok" | reason}.
//
// Environment: CONSOLE_URL, CHROMIUM, RESULTS, SCREENSHOTS (a directory),
// PASSWORD, SARA_SECRET and ANA_SECRET (base32 TOTP secrets),
// INBOUND_SENTENCE (what the family page says of the family's message),
// WRITE_TEXT (what to write to the family), SIM_BASE (the simulator),
// FAMILY_CHAT (the family's chat there) and LIVE_TEXT (what it writes
// while the overview is open).
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const env = process.env;
const base = env.CONSOLE_URL;
const results = {};

// RFC 6238 with SHA-1, six digits, as an authenticator app shows it.
function totp(secret, at = Date.now() / 1000) {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = '';
	for (const ch of secret.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
	const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
	const counter = Buffer.alloc(8);
	counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
	const mac = createHmac('sha1', key).update(counter).digest();
	const off = mac[mac.length - 1] & 0xf;
	const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
	return String(n).padStart(6, '0');
}

async function step(name, fn) {
	const t0 = Date.now();
	try {
		await fn();
		results[name] = 'ok';
	} catch (e) {
		results[name] = String(e && e.message ? e.message : e).slice(0, 2000);
	}
	console.log(`# ${name}: ${results[name]} (${Date.now() - t0} ms)`);
}

function check(cond, what) {
	if (!cond) throw new Error(what);
}

async function login(page, name, secret, code) {
	await page.goto(`${base}/login`);
	await page.getByLabel('Naam').fill(name);
	await page.getByLabel('Wachtwoord').fill(env.PASSWORD);
	await page.getByLabel('Code uit je authenticator-app').fill(code ?? totp(secret));
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Aanmelden' }).click()]);
}

// Contrast as WCAG 2 computes it, from computed colours; a transparent
// background is the nearest ancestor's that is not (white at the root).
async function contrastFailures(p) {
	return p.evaluate(() => {
		const parse = (c) => {
			const m = c.match(/rgba?\(([^)]+)\)/);
			if (!m) return null;
			const v = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
			return { r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1 };
		};
		const lum = (c) => {
			const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
			return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
		};
		const bgOf = (el) => {
			for (let e = el; e; e = e.parentElement) {
				const c = parse(getComputedStyle(e).backgroundColor);
				if (c && c.a > 0) return c;
			}
			return { r: 255, g: 255, b: 255, a: 1 };
		};
		const bad = [];
		for (const el of document.querySelectorAll('body *')) {
			const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
			if (!text || el.getClientRects().length === 0) continue;
			const s = getComputedStyle(el);
			if (s.visibility === 'hidden') continue;
			const fg = parse(s.color), bg = bgOf(el);
			const a = fg.a, mix = { r: fg.r * a + bg.r * (1 - a), g: fg.g * a + bg.g * (1 - a), b: fg.b * a + bg.b * (1 - a) };
			const l1 = lum(mix), l2 = lum(bg);
			const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
			const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
			const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
			if (ratio < need) bad.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)} < ${need}`);
		}
		return bad;
	});
}

// Tabs through the whole page: every visible control is reached, in
// order, and each shows a focus outline of 2 px or more whose colour
// stands out 3:1 from what is behind it.
async function keyboardAudit(p) {
	const n = await p.evaluate(() => {
		const all = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
			.filter((e) => e.getClientRects().length > 0 && !e.disabled)
			// Inside a closed <details>, a control is reached once its
			// summary (itself reached) is opened with Enter.
			.filter((e) => e.tagName === 'SUMMARY' || !e.closest('details:not([open])'));
		all.forEach((e, i) => e.setAttribute('data-kbd', String(i)));
		document.activeElement && document.activeElement.blur();
		return all.length;
	});
	const seen = new Set();
	const problems = [];
	// A date or time field takes a Tab per part: room for those.
	for (let i = 0; i < 6 * n + 10 && seen.size < n; i++) {
		await p.keyboard.press('Tab');
		const f = await p.evaluate(() => {
			const e = document.activeElement;
			if (!e || e === document.body) return null;
			const s = getComputedStyle(e);
			const parse = (c) => (c.match(/rgba?\(([^)]+)\)/) || [0, '0,0,0'])[1].split(/[ ,/]+/).filter(Boolean).map(Number);
			const lum = (v) => v.slice(0, 3).map((x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; })
				.reduce((acc, x, k) => acc + [0.2126, 0.7152, 0.0722][k] * x, 0);
			let bg = [255, 255, 255];
			for (let a = e.parentElement; a; a = a.parentElement) {
				const c = parse(getComputedStyle(a).backgroundColor);
				if (c.length < 4 || c[3] > 0) { bg = c; break; }
			}
			const l1 = lum(parse(s.outlineColor)), l2 = lum(bg);
			return {
				id: e.getAttribute('data-kbd'), tag: e.tagName.toLowerCase(), style: s.outlineStyle,
				width: parseFloat(s.outlineWidth), ratio: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05),
			};
		});
		if (f === null || f.id === null) continue;
		seen.add(f.id);
		if (f.style === 'none' || f.width < 2 || f.ratio < 3)
			problems.push(`#${f.id} ${f.tag}: outline ${f.style} ${f.width}px, ${f.ratio.toFixed(2)}:1`);
	}
	if (seen.size < n) {
		const missed = await p.evaluate((ids) => [...document.querySelectorAll('[data-kbd]')]
			.filter((e) => !ids.includes(e.getAttribute('data-kbd')))
			.map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "${e.textContent.trim().slice(0, 20)}"`), [...seen]);
		problems.push(`${n - seen.size} of ${n} controls not reached by Tab: ${missed.join(', ')}`);
	}
	return problems;
}

// What the simulator's control interface answers, as JSON.
async function sim(path, body) {
	const r = await fetch(`${env.SIM_BASE}/control/${path}`, body === undefined ? {} :
		{ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
	if (!r.ok) throw new Error(`simulator ${path}: ${r.status}`);
	return r.json();
}

const browser = await chromium.launch({
	executablePath: env.CHROMIUM,
	args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
	const sara = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	const page = await sara.newPage();

	await step('wrong_totp', async () => {
		const good = totp(env.SARA_SECRET);
		const wrong = String((Number(good) + 500000) % 1000000).padStart(6, '0');
		await login(page, 'Sara', env.SARA_SECRET, wrong);
		check(new URL(page.url()).pathname === '/login', `at ${page.url()}`);
		check(await page.getByRole('alert').isVisible(), 'no failure message');
		check((await page.getByRole('alert').innerText()).startsWith('Aanmelden mislukt'), 'another message');
	});

	await step('login', async () => {
		await login(page, 'Sara', env.SARA_SECRET);
		check(new URL(page.url()).pathname === '/', `at ${page.url()}`);
		check(await page.getByRole('heading', { name: 'Overzicht', level: 1 }).isVisible(), 'no overview');
		const cookies = await sara.cookies();
		const c = cookies.find((k) => k.name === 'cb_session');
		check(c && c.httpOnly && c.sameSite === 'Strict', 'session cookie not HttpOnly/Strict');
	});

	await step('never_reached', async () => {
		await page.getByRole('link', { name: /niet bereikt: niets verstuurd/ }).click();
		await page.waitForLoadState('load');
		check(await page.locator('#list + p + div a[href="/families/F-2"]').count() === 1, 'F-2 not listed');
	});

	await step('unconfirmed', async () => {
		await page.getByRole('link', { name: /Herinneringen niet bevestigd/ }).click();
		await page.waitForLoadState('load');
		check(await page.locator('#list + p + div a[href="/families/F-1"]').count() === 1, 'F-1 not listed');
		const csv = await page.request.get(`${base}/export/unconfirmed.csv`);
		check(csv.status() === 200 && (await csv.text()).includes('"F-1"'), 'export');
	});

	await step('inbound', async () => {
		await page.goto(`${base}/families/F-1`);
		const timeline = await page.locator('ol.timeline').innerText();
		check(timeline.includes(env.INBOUND_SENTENCE), `timeline: ${timeline}`);
	});

	await step('write', async () => {
		await page.getByLabel(/Je bericht/).fill(env.WRITE_TEXT);
		await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Versturen' }).click()]);
		check(new URL(page.url()).pathname === '/families/F-1', `at ${page.url()}`);
	});

	await step('ack', async () => {
		// The family's message made an alert of its own: the last one is
		// the one the test set up.
		const buttons = page.getByRole('button', { name: 'Afgehandeld' });
		const open = await buttons.count();
		check(open >= 1, 'no open alert');
		await Promise.all([page.waitForLoadState('load'), buttons.last().click()]);
		check(new URL(page.url()).pathname === '/families/F-1', `at ${page.url()}`);
		check(await page.getByRole('button', { name: 'Afgehandeld' }).count() === open - 1, 'still open');
	});

	await step('csrf', async () => {
		// The session's cookie goes along; only the token is missing.
		const r = await page.request.post(`${base}/families/F-1/write`, { form: { text: 'no token' } });
		check(r.status() === 403, `status ${r.status()}`);
		const again = await page.request.post(`${base}/families/F-1/write`,
			{ form: { text: 'bad token', csrf: '0'.repeat(64) } });
		check(again.status() === 403, `status ${again.status()}`);
	});

	await step('phone', async () => {
		const phone = await sara.newPage();
		await phone.setViewportSize({ width: 360, height: 740 });
		await phone.goto(`${base}/?list=not-reached-silent`);
		const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
		check(wide <= 360, `the page is ${wide} px wide`);
		await phone.screenshot({ path: `${env.SCREENSHOTS}/console-overview-360.png`, fullPage: true });
		await phone.goto(`${base}/families/F-1`);
		const wide2 = await phone.evaluate(() => document.documentElement.scrollWidth);
		check(wide2 <= 360, `the family page is ${wide2} px wide`);
		await phone.screenshot({ path: `${env.SCREENSHOTS}/console-family-360.png`, fullPage: true });
		await phone.close();
		await page.setViewportSize({ width: 1280, height: 800 });
		await page.goto(`${base}/`);
		await page.screenshot({ path: `${env.SCREENSHOTS}/console-overview.png`, fullPage: true });
		await page.goto(`${base}/families/F-1`);
		await page.screenshot({ path: `${env.SCREENSHOTS}/console-family.png`, fullPage: true });
	});

	await step('keyboard', async () => {
		const problems = [];
		for (const path of ['/', '/?list=unconfirmed', '/families/F-1', '/alerts', '/audit', '/caseload']) {
			await page.goto(`${base}${path}`);
			for (const p of await keyboardAudit(page)) problems.push(`${path} ${p}`);
		}
		check(problems.length === 0, problems.slice(0, 8).join('; '));
		// One action with the keyboard alone: the check-in plan.
		await page.goto(`${base}/families/F-1`);
		let id = '';
		for (let i = 0; i < 300 && id !== 'checkin-every'; i++) {
			await page.keyboard.press('Tab');
			id = await page.evaluate(() => document.activeElement.id);
		}
		check(id === 'checkin-every', 'the check-in form is not reached by Tab');
		await page.keyboard.press('Control+A');
		await page.keyboard.type('14');
		await page.keyboard.press('Tab');
		await page.keyboard.press('ArrowDown');
		// On past the time (a Tab per part of it) to the form's button.
		let label = '';
		for (let i = 0; i < 6 && label !== 'Check-ins plannen'; i++) {
			await page.keyboard.press('Tab');
			label = await page.evaluate(() => document.activeElement.tagName === 'BUTTON' ? document.activeElement.textContent : '');
		}
		const values = await page.evaluate(() => ['checkin-every', 'checkin-day', 'checkin-time']
			.map((id) => document.getElementById(id).value).join(' '));
		check(label === 'Check-ins plannen' && values === '14 2 10:00', `at "${label}" with ${values}`);
		await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
		check(new URL(page.url()).hash === '#checkin', `at ${page.url()}: ${(await page.content()).slice(0, 400)}`);
		const plan = await page.locator('#checkin + p').innerText();
		check(plan === 'Om de 14 dagen, op dinsdag om 10:00.', `plan: ${plan}`);
	});

	await step('contrast', async () => {
		const bad = [];
		for (const path of ['/', '/?list=unconfirmed', '/families/F-1', '/alerts', '/audit', '/caseload']) {
			await page.goto(`${base}${path}`);
			for (const b of await contrastFailures(page)) bad.push(`${path}: ${b}`);
		}
		const anon = await browser.newContext();
		const p = await anon.newPage();
		await p.goto(`${base}/login`);
		for (const b of await contrastFailures(p)) bad.push(`/login: ${b}`);
		await anon.close();
		check(bad.length === 0, bad.slice(0, 8).join('; '));
	});

	await step('caseload', async () => {
		await page.goto(`${base}/caseload`);
		const title = await page.locator('svg > title').first().textContent();
		check(/Sara over 12 weken: \d+ van gezinnen, \d+ naar gezinnen/.test(title), `title: ${title}`);
		await page.screenshot({ path: `${env.SCREENSHOTS}/console-caseload.png`, fullPage: true });
	});

	await step('live', async () => {
		// The page's clock is the test's: each fastForward is one turn of
		// the script's timer, so nothing waits for real seconds.
		const p = await sara.newPage();
		await p.clock.install();
		await p.goto(`${base}/`);
		const before = Number(await p.locator('#count-alerts').innerText());
		check(await p.locator('#live').isHidden(), 'the live list shows before anything is new');
		const chat = Number(env.FAMILY_CHAT);
		const sent = (await sim(`wait?chat_id=${chat}&count=0&timeout_ms=1`)).count;
		await sim('message', { chat_id: chat, text: env.LIVE_TEXT });
		// The family's calm answer (urgent words) goes out once its alert
		// is stored.
		const now = (await sim(`wait?chat_id=${chat}&count=${sent + 1}&timeout_ms=15000`)).count;
		check(now > sent, 'the daemon did not answer the family');
		const polled = p.waitForResponse((r) => r.url().includes('/alerts/live'));
		await p.clock.fastForward(16000);
		await polled;
		await p.locator('#live li').first().waitFor();
		check(await p.locator('#live').isVisible(), 'no new alert shown');
		check(await p.locator('#live li.urgent a[href="/families/F-1"]').count() === 1, 'the alert does not link its family');
		check(Number(await p.locator('#count-alerts').innerText()) === before + 1, 'the count did not grow');
		await p.screenshot({ path: `${env.SCREENSHOTS}/console-overview-live.png`, fullPage: true });
		await p.close();
	});

	await step('refused', async () => {
		const ana = await browser.newContext();
		const p = await ana.newPage();
		await login(p, 'Ana', env.ANA_SECRET);
		check(new URL(p.url()).pathname === '/', `login: at ${p.url()}`);
		const r = await p.goto(`${base}/families/F-1`);
		check(r.status() === 404, `status ${r.status()}`);
		check((await p.locator('h1').innerText()).includes('not one of yours'), 'no refusal');
		check(!(await p.content()).includes('Amina'), 'the family shows');
		await ana.close();
	});
} finally {
	await browser.close();
	writeFileSync(env.RESULTS, JSON.stringify(results));
}
