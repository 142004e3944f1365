// The browser half of tests/integration/test_legacy_browser.py: Debian's
// headless Chromium (/usr/bin/chromium, no browser download) driven by
// playwright-core.  It loads the test's page from a loopback URL and runs
// runTests() of tests/browser/page.html once per set of cases.
//
//   node run.mjs < job.json
//
// job.json: { "executablePath": "/usr/bin/chromium", "page": "http://...",
//   "args": [ extra Chromium flags ], "runs": { NAME: [ case ... ] } }
// stdout: { "runs": { NAME: [ result ... ] }, "console": [ ... ] }, exit 0;
// or { "error": "..." , "console": [ ... ] }, exit 1.

import { chromium } from "playwright-core";

// The flags the probe runs Chromium with: no sandbox (root,
// containers), no GPU, no QUIC, and nothing that phones home while the
// test runs.  Playwright adds --remote-debugging-pipe and a fresh
// profile of its own.
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage"];

const TIMEOUT = 30000;

async function readStdin() {
	const chunks = [];
	for await (const c of process.stdin)
		chunks.push(c);
	return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function main() {
	const job = await readStdin();
	const out = { runs: {}, console: [] };
	let browser;
	try {
		browser = await chromium.launch({
			executablePath: job.executablePath || "/usr/bin/chromium",
			headless: true,
			args: FLAGS.concat(job.args || []),
			timeout: TIMEOUT,
		});
		const page = await browser.newPage();
		page.setDefaultTimeout(TIMEOUT);
		page.on("console", (m) =>
		    out.console.push(m.type() + ": " + m.text()));
		page.on("pageerror", (e) =>
		    out.console.push("pageerror: " + String(e)));
		await page.goto(job.page);
		await page.waitForFunction(() => window.testsReady === true);
		for (const [name, cases] of Object.entries(job.runs)) {
			// runTests() resolves with a JSON string
			out.runs[name] = JSON.parse(await page.evaluate(
			    (c) => window.runTests(c), cases));
		}
	} catch (e) {
		out.error = String(e && e.stack ? e.stack : e);
	} finally {
		if (browser)
			await browser.close().catch(() => {});
	}
	process.stdout.write(JSON.stringify(out) + "\n");
	return out.error === undefined ? 0 : 1;
}

main().then((rc) => { process.exitCode = rc; }, (e) => {
	process.stdout.write(JSON.stringify({ error: String(e) }) + "\n");
	process.exitCode = 1;
});
