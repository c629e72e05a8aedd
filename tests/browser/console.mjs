// The web console in a real browser: Debian's chromium, driven by
// playwright-core. tests/test_browser.c sets up the daemon, the simulator
// and the data, runs this once, and checks each step's outcome (and what
// the step left in the store and the simulator). Steps run in order; each
// one's outcome goes to the JSON file $RESULTS as {"step": "ok" | reason}.
//
// Environment: CONSOLE_URL, CHROMIUM, RESULTS, SCREENSHOTS (a directory),
// PASSWORD, SARA_SECRET and ANA_SECRET (base32 TOTP secrets),
// INBOUND_SENTENCE (what the family page says of the family's message),
// WRITE_TEXT (what to write to the family).
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
	try {
		await fn();
		results[name] = 'ok';
	} catch (e) {
		results[name] = String(e && e.message ? e.message : e).slice(0, 2000);
	}
	console.log(`# ${name}: ${results[name]}`);
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
	});

	await step('caseload', async () => {
		await page.goto(`${base}/caseload`);
		const title = await page.locator('svg > title').first().textContent();
		check(/Sara over 12 weken: \d+ van gezinnen, \d+ naar gezinnen/.test(title), `title: ${title}`);
		await page.screenshot({ path: `${env.SCREENSHOTS}/console-caseload.png`, fullPage: true });
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
