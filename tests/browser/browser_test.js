// SPDX-License-Identifier: MIT
// browser_test.js BUILD_DIR - MQTT.js in headless Chromium against WardMQ's
// WebSocket listeners.
//
// Starts, all on free loopback ports: a tiny HTTP server for page.html and
// MQTT.js's browser bundle; a test PKI (tests/fixtures/make_test_ca.sh); a
// WardMQ broker (BUILD_DIR/bin/wardmq) with a plain MQTT listener, a ws://
// listener whose Origin allow-list is this page's origin, a wss:// listener,
// and a ws:// listener that allows only another origin. Then drives
// /usr/bin/chromium through playwright-core (never a downloaded browser)
// with a fresh user-data-dir. wss: the browser trusts the test CA's server
// certificate through Playwright's ignoreHTTPSErrors context option (CDP
// certificate-error override), not through a Chromium command-line flag.
//
// Checks: page loads MQTT.js; over ws and wss (MQTT 3.1.1 and 5) the page
// subscribes, publishes and shows its own message; a message from the page
// reaches mosquitto_sub on TCP and one from mosquitto_pub on TCP reaches
// the page; a wrong Origin is refused (HTTP 403 in the broker log); the
// broker stops cleanly on SIGTERM with no sanitizer report.
// Each step is bounded (a few seconds); the whole run by a 170 s watchdog.
// Last line: "N passed, M failed"; exit status 1 if anything failed.
"use strict";
const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const STEP_MS = 6000;
const ROOT = path.resolve(__dirname, "..", "..");
const build = path.resolve(process.argv[2] || path.join(ROOT, "build-asan"));
const WARDMQ = path.join(build, "bin", "wardmq");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

let passed = 0;
let failed = 0;
let broker = null;
let browserCtx = null;
let server = null;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wmq-browser-"));
const brokerLog = path.join(tmp, "broker.stderr");

function ok(name) {
  passed++;
  console.log(`ok   ${name}`);
}
function fail(name, why) {
  failed++;
  console.log(`FAIL ${name}: ${why}`);
}
async function check(name, fn) {
  try {
    await fn();
    ok(name);
  } catch (e) {
    fail(name, e && e.message ? e.message : String(e));
  }
}
function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(t));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function logText() {
  try { return fs.readFileSync(brokerLog, "utf8"); } catch { return ""; }
}
async function waitLog(rx, ms = STEP_MS) {
  const end = Date.now() + ms;
  for (;;) {
    const m = logText().match(rx);
    if (m) return m;
    if (Date.now() > end) throw new Error(`broker log never matched ${rx}`);
    await sleep(50);
  }
}

// ---- static page server -------------------------------------------------
function startServer() {
  const files = {
    "/": ["text/html", path.join(__dirname, "page.html")],
    "/mqtt.min.js": ["text/javascript", path.join(__dirname, "node_modules", "mqtt", "dist", "mqtt.min.js")],
  };
  server = http.createServer((req, res) => {
    const f = files[req.url];
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { "Content-Type": f[0] });
    fs.createReadStream(f[1]).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server.address().port));
  });
}

// ---- broker ----------------------------------------------------------------
async function startBroker(pageOrigin) {
  const pki = path.join(tmp, "pki");
  const r = spawnSync("sh", [path.join(ROOT, "tests", "fixtures", "make_test_ca.sh"), pki],
    { timeout: 120000, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`make_test_ca.sh failed: ${r.stderr}`);
  const conf = path.join(tmp, "wardmq.conf");
  fs.writeFileSync(conf, [
    "allow_anonymous true", "persistence false", "log_dest stderr", "log_level debug",
    "listener 0 127.0.0.1",
    "listener 0 127.0.0.1", "protocol websockets", `websockets_origin ${pageOrigin}`,
    "listener 0 127.0.0.1", "protocol websockets",
    `certfile ${pki}/server.crt`, `keyfile ${pki}/server.key`,
    "listener 0 127.0.0.1", "protocol websockets", "websockets_origin https://elsewhere.example",
    "",
  ].join("\n"));
  const err = fs.openSync(brokerLog, "a");
  broker = spawn(WARDMQ, ["-c", conf], { stdio: ["ignore", "ignore", err] });
  fs.closeSync(err);
  await waitLog(/wardmq \S+ running/, 15000);
  const ports = [...logText().matchAll(/listening on 127\.0\.0\.1 port (\d+) \((mqtt|ws|wss)\b/g)]
    .map((m) => [m[2], Number(m[1])]);
  if (ports.length !== 4) throw new Error(`expected 4 listeners in the log, got ${ports.length}`);
  return { tcp: ports[0][1], ws: ports[1][1], wss: ports[2][1], wsOther: ports[3][1] };
}

function stopBroker() {
  return new Promise((resolve) => {
    if (!broker || broker.exitCode !== null) return resolve(broker ? broker.exitCode : null);
    const t = setTimeout(() => { broker.kill("SIGKILL"); }, 15000);
    broker.once("exit", (code, sig) => { clearTimeout(t); resolve(sig ? sig : code); });
    broker.kill("SIGTERM");
  });
}

// mosquitto_sub for one message on TCP; resolves with its output.
function tcpSubscribeOnce(port, topic) {
  const p = spawn("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(port), "-t", topic,
    "-C", "1", "-W", "8", "-q", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let errOut = "";
  p.stdout.on("data", (d) => { out += d; });
  p.stderr.on("data", (d) => { errOut += d; });
  const done = new Promise((resolve, reject) => {
    p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`mosquitto_sub exit ${code}: ${errOut}`))));
  });
  return { proc: p, done };
}
function tcpPublish(port, topic, msg) {
  const r = spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(port), "-t", topic,
    "-m", msg, "-q", "1"], { timeout: 8000, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mosquitto_pub failed: ${r.stderr}`);
}

async function waitMessage(page, client, text) {
  await page.waitForFunction(([c, t]) => [...document.querySelectorAll("#msgs li")]
    .some((li) => li.dataset.client === c && li.textContent === t), [client, text], { timeout: STEP_MS });
}

// One transport (ws or wss) with one MQTT version: page echo, page -> TCP,
// TCP -> page.
async function roundTrips(page, label, url, version, tcpPort) {
  const name = `${label}-v${version}`;
  const topic = `br/${name}`;
  await check(`${name}: MQTT.js connects to ${url}`, async () => {
    const r = await withTimeout(page.evaluate(([n, u, v]) => window.openClient(n, u, v), [name, url, version]),
      STEP_MS, "connect");
    if (r !== "connected") throw new Error(r);
  });
  await check(`${name}: subscribe QoS 1 granted`, async () => {
    const q = await withTimeout(page.evaluate(([n, t]) => window.sub(n, t + "/#", 1), [name, topic]), STEP_MS, "subscribe");
    if (q !== 1) throw new Error(`granted ${q}`);
  });
  await check(`${name}: page receives its own QoS 1 publish`, async () => {
    await withTimeout(page.evaluate(([n, t]) => window.pub(n, t + "/echo", "echo " + n, 1), [name, topic]), STEP_MS, "publish");
    await waitMessage(page, name, `echo ${name}`);
  });
  await check(`${name}: page -> mosquitto_sub on TCP`, async () => {
    const s = tcpSubscribeOnce(tcpPort, `${topic}/to-tcp`);
    await sleep(500); // mosquitto_sub subscribed (it has no ready signal)
    await withTimeout(page.evaluate(([n, t]) => window.pub(n, t + "/to-tcp", "from browser " + n, 1), [name, topic]),
      STEP_MS, "publish");
    const out = await withTimeout(s.done, 10000, "mosquitto_sub");
    if (out.trim() !== `from browser ${name}`) throw new Error(`mosquitto_sub got ${JSON.stringify(out)}`);
  });
  await check(`${name}: mosquitto_pub on TCP -> page`, async () => {
    tcpPublish(tcpPort, `${topic}/from-tcp`, `from tcp ${name}`);
    await waitMessage(page, name, `from tcp ${name}`);
  });
  await withTimeout(page.evaluate((n) => window.closeClient(n), name), STEP_MS, "close").catch(() => {});
}

async function main() {
  if (!fs.existsSync(WARDMQ)) throw new Error(`no broker at ${WARDMQ}`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (scripts/deps.sh test)`);
  const httpPort = await startServer();
  const origin = `http://127.0.0.1:${httpPort}`;
  const ports = await startBroker(origin);
  const userDataDir = fs.mkdtempSync(path.join(tmp, "chromium-profile-"));
  browserCtx = await withTimeout(chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true, // wss: the test CA is not in the browser's trust store
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  }), 30000, "launch chromium");
  const page = browserCtx.pages()[0] || await browserCtx.newPage();
  page.setDefaultTimeout(STEP_MS);

  await check("page loads MQTT.js", async () => {
    await page.goto(origin + "/", { timeout: STEP_MS });
    await page.waitForFunction(() => document.getElementById("status").textContent === "ready",
      null, { timeout: STEP_MS });
  });

  await roundTrips(page, "ws", `ws://127.0.0.1:${ports.ws}/mqtt`, 4, ports.tcp);
  await roundTrips(page, "ws", `ws://127.0.0.1:${ports.ws}/mqtt`, 5, ports.tcp);
  await roundTrips(page, "wss", `wss://127.0.0.1:${ports.wss}/mqtt`, 5, ports.tcp);
  await roundTrips(page, "wss", `wss://localhost:${ports.wss}/mqtt`, 4, ports.tcp);

  await check("browser origin not in the allow-list: refused with HTTP 403", async () => {
    const r = await withTimeout(page.evaluate((u) => window.openClient("other", u, 4).catch((e) => String(e)),
      `ws://127.0.0.1:${ports.wsOther}/mqtt`), STEP_MS, "connect");
    if (r === "connected") throw new Error("connected despite the origin allow-list");
    await waitLog(new RegExp(`WebSocket upgrade from 127\\.0\\.0\\.1:\\d+ on port ${ports.wsOther} refused: HTTP 403`));
  });

  await check("page origin accepted by the allow-list of the ws listener", async () => {
    await waitLog(new RegExp(`WebSocket upgrade from 127\\.0\\.0\\.1:\\d+ on port ${ports.ws} \\(subprotocol mqtt\\)`));
  });

  await browserCtx.close();
  browserCtx = null;
  await check("broker stops cleanly, no sanitizer report", async () => {
    const st = await stopBroker();
    if (st !== 0) throw new Error(`broker exit status ${st}`);
    const log = logText();
    for (const m of ["Sanitizer", "runtime error"]) if (log.includes(m)) throw new Error(`'${m}' in broker stderr`);
  });
}

const watchdog = setTimeout(() => {
  fail("whole run", "exceeded 170 s");
  finish(1);
}, 170000);

async function finish(code) {
  clearTimeout(watchdog);
  try { if (browserCtx) await withTimeout(browserCtx.close(), 10000, "close browser"); } catch { /* ignore */ }
  if (broker && broker.exitCode === null) broker.kill("SIGKILL");
  if (server) server.close();
  if (failed) {
    console.log("---- broker stderr (tail) ----");
    console.log(logText().slice(-4000));
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code || (failed ? 1 : 0));
}

main().then(() => finish(0), (e) => {
  fail("setup", e && e.message ? e.message : String(e));
  finish(1);
});
