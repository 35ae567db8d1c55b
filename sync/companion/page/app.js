// The companion page: a phone-side receiver in the browser. It speaks the protocol of sync/README.md over
// MQTT-over-WebSocket with mqtt.js (loaded as a classic script before this module, as the global `mqtt`).

const $ = (id) => document.getElementById(id);
const LOGIN_KEY = 'glance-companion-login';
const RECEIPT_DELAY_MS = 300;
const KEEP_RECORDS = 500;

const config = await (await fetch('/config.json')).json();
const root = `${config.topicPrefix}/${config.deviceId}`;
// Without a configured URL, assume the embedded broker's default WebSocket port on the glasses we came from.
const wsUrl = config.wsUrl ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.hostname}:8083`;
const storeKey = `glance-companion-records-${config.deviceId}`;
const clientId = `companion-${Math.random().toString(36).slice(2, 10)}`;

/** Records by `<kind>/<recordId>`: the phone de-duplicates on that pair, not on `seq` (README: Payloads). */
const records = new Map(loadRecords());
const pendingReceipts = new Set();
let receiptTimer;
let client;

$('device-id').textContent = config.deviceId;

function loadRecords() {
  try {
    return JSON.parse(localStorage.getItem(storeKey) ?? '[]');
  } catch {
    return [];
  }
}

/** Durable before receipted: a receipt lets the device forget the record, so it must be in storage first. */
function saveRecords() {
  const newest = [...records.entries()].sort((a, b) => when(b[1]) - when(a[1])).slice(0, KEEP_RECORDS);
  localStorage.setItem(storeKey, JSON.stringify(newest));
}

function when(event) {
  return event.data?.startWallMs ?? event.createdMs ?? 0;
}

function connect(login) {
  client?.end(true);
  $('link').textContent = `Connecting to ${wsUrl}…`;
  const presence = (online) => JSON.stringify({ v: 1, online, clientId });
  client = mqtt.connect(wsUrl, {
    username: login.username,
    password: login.password,
    clientId,
    protocolVersion: 4,
    reconnectPeriod: 2000,
    will: { topic: `${root}/phone/presence`, payload: presence(false), qos: 1, retain: true },
  });
  client.on('connect', () => {
    $('link').textContent = 'Connected';
    $('login').hidden = true;
    $('device').hidden = false;
    $('memories').hidden = false;
    $('login-error').textContent = '';
    sessionStorage.setItem(LOGIN_KEY, JSON.stringify(login));
    const filters = [`${root}/status`, `${root}/events/#`, `${root}/cmd/+/reply`];
    client.subscribe(filters, { qos: 1 }, () => {
      // Announcing presence after subscribing: the device starts sending as soon as it sees it.
      client.publish(`${root}/phone/presence`, presence(true), { qos: 1, retain: true });
    });
  });
  client.on('message', onMessage);
  client.on('close', () => {
    $('link').textContent = 'Disconnected, retrying…';
  });
  client.on('error', (error) => {
    $('link').textContent = 'Not connected';
    $('login-error').textContent = error.message;
    if (/auth|password|Not authorized/i.test(error.message)) {
      sessionStorage.removeItem(LOGIN_KEY);
      client.end(true);
      $('login').hidden = false;
    }
  });
}

function onMessage(topic, payload) {
  let message;
  try {
    message = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return; // not ours to fix; the device validates what it sends
  }
  const sub = topic.slice(root.length + 1);
  if (sub === 'status') showStatus(message);
  else if (sub.startsWith('events/')) onEvent(message);
  else if (sub.startsWith('cmd/') && sub.endsWith('/reply')) showReply(message);
}

function onEvent(event) {
  if (event?.v !== 1 || typeof event.seq !== 'number') return;
  records.set(`${event.kind}/${event.recordId}`, event);
  saveRecords();
  pendingReceipts.add(event.seq);
  clearTimeout(receiptTimer);
  receiptTimer = setTimeout(sendReceipts, RECEIPT_DELAY_MS);
  renderTimeline();
}

function sendReceipts() {
  const seqs = [...pendingReceipts].slice(0, 1000);
  if (seqs.length === 0 || !client?.connected) return;
  client.publish(`${root}/phone/receipts`, JSON.stringify({ v: 1, seqs }), { qos: 1 }, (error) => {
    if (error) return;
    for (const seq of seqs) pendingReceipts.delete(seq);
    if (pendingReceipts.size > 0) sendReceipts();
  });
}

function showStatus(status) {
  const online = status.online === true;
  $('status-online').textContent = online ? 'online' : 'offline';
  $('status-online').dataset.online = String(online);
  const device = status.device;
  $('status-capture').textContent = online && device ? device.capture : '–';
  $('status-battery').textContent = device?.battery
    ? `${Math.round(device.battery.percent)} %${device.battery.charging ? ' (charging)' : ''}`
    : '–';
  $('status-storage').textContent = device?.storage
    ? `${bytes(device.storage.usedBytes)} used, ${bytes(device.storage.freeBytes)} free`
    : '–';
  $('status-pending').textContent = status.sync
    ? `${status.sync.pendingRecords} records, ${status.sync.openTransfers} files`
    : '–';
  $('pause').disabled = !online || device?.capture === 'paused';
  $('resume').disabled = !online || device?.capture !== 'paused';
}

function bytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i += 1;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function sendCommand(name, args = {}) {
  if (!client?.connected) return;
  const correlationId = `${name}-${Date.now().toString(36)}`;
  $('reply').textContent = `${name}: sent…`;
  client.publish(`${root}/cmd/${name}`, JSON.stringify({ v: 1, correlationId, ...args }), { qos: 1 });
}

function showReply(reply) {
  const outcome = reply.ok ? 'done' : `refused (${reply.error?.code}: ${reply.error?.message})`;
  $('reply').textContent = `${reply.command}: ${outcome} [${reply.correlationId ?? 'no id'}]`;
  $('reply').dataset.ok = String(reply.ok);
}

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function fields(data) {
  const list = el('dl', { className: 'fields' });
  for (const [key, value] of Object.entries(data ?? {})) {
    const text = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    list.append(el('dt', { textContent: key }), el('dd', { textContent: text }));
  }
  return list;
}

const VIEWS = {
  snippet(data, event) {
    const id = data.id ?? event.recordId;
    const src = (ext) => `/snippets/${encodeURIComponent(`${id}.${ext}`)}`;
    const seconds = data.durationMs ? `${(data.durationMs / 1000).toFixed(1)} s` : '';
    return el('div', { className: 'snippet' }, [
      el('img', { src: src('jpg'), alt: `Thumbnail of snippet ${id}`, loading: 'lazy' }),
      el('div', {}, [
        el('video', { src: src('mp4'), controls: true, preload: 'metadata', poster: src('jpg') }),
        el('p', { className: 'meta', textContent: `${data.trigger ?? 'snippet'} · ${seconds}` }),
      ]),
    ]);
  },
  emotion(data) {
    const what = data.emotion ?? data.label ?? data.state ?? 'emotion';
    return el('div', {}, [
      el('p', { textContent: `Felt ${what}${data.cause ? ` — because of ${describe(data.cause)}` : ''}` }),
      fields(data),
    ]);
  },
  person(data) {
    return el('div', {}, [el('p', { textContent: `Met ${data.name ?? data.label ?? 'someone'}` }), fields(data)]);
  },
  'label-request'(data, event) {
    const requestId = data.requestId ?? event.recordId;
    // The device offers its answers (one per class of the model asked about); free text only when it offers none.
    const options = Array.isArray(data.options) ? data.options.filter((o) => typeof o === 'string') : [];
    const input =
      options.length > 0
        ? el(
            'select',
            { name: 'answer', required: true },
            options.map((o) => el('option', { value: o, textContent: o })),
          )
        : el('input', { name: 'answer', required: true, placeholder: 'What was this?' });
    input.setAttribute('aria-label', `Label for request ${requestId}`);
    const form = el('form', { className: 'label-answer' }, [input, el('button', { textContent: 'Send label' })]);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      sendCommand('label', { requestId, answer: input.value });
    });
    return el('div', {}, [
      el('p', { textContent: data.question ?? 'The glasses ask for a label' }),
      fields(data),
      form,
    ]);
  },
};
VIEWS.people = VIEWS.person;
VIEWS.label_request = VIEWS['label-request'];

function describe(value) {
  return typeof value === 'object' && value !== null ? (value.label ?? value.name ?? JSON.stringify(value)) : value;
}

function renderTimeline() {
  const sorted = [...records.values()].sort((a, b) => when(b) - when(a) || b.seq - a.seq);
  $('empty').hidden = sorted.length > 0;
  const items = sorted.map((event) => {
    const key = `${event.kind}/${event.recordId}`;
    const existing = document.querySelector(`#timeline > li[data-key="${CSS.escape(key)}"]`);
    if (existing) return existing; // keeps a playing video playing
    const view = VIEWS[event.kind] ?? ((data) => fields(data));
    const time = new Date(when(event));
    const heading = el('p', { className: 'meta' }, [
      el('strong', { textContent: event.kind }),
      ' · ',
      el('time', { dateTime: time.toISOString(), textContent: time.toLocaleString() }),
    ]);
    const item = el('li', {}, [el('article', {}, [heading, view(event.data ?? {}, event)])]);
    item.dataset.key = key;
    item.dataset.kind = event.kind;
    return item;
  });
  $('timeline').replaceChildren(...items);
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  connect({ username: String(form.get('username')), password: String(form.get('password')) });
});
$('pause').addEventListener('click', () => sendCommand('pause', { reason: 'from the companion page' }));
$('resume').addEventListener('click', () => sendCommand('resume'));
$('logout').addEventListener('click', () => {
  sessionStorage.removeItem(LOGIN_KEY);
  client?.publish(`${root}/phone/presence`, JSON.stringify({ v: 1, online: false, clientId }), {
    qos: 1,
    retain: true,
  });
  client?.end();
  location.reload();
});

renderTimeline();
const remembered = sessionStorage.getItem(LOGIN_KEY);
if (remembered) connect(JSON.parse(remembered));
