// The status page (docs/web.md): one snapshot a server-sent event, drawn with DOM calls
// (textContent only, never HTML from the hub). Actions POST JSON to /api/*.

const $ = (id) => document.getElementById(id);
let state = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c ?? ''));
  return e;
}

function ago(ms, now) {
  if (ms == null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return 'now';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleString();
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function drawStations(s) {
  $('stations').replaceChildren(
    ...s.stations.map((st) =>
      el(
        'li',
        { 'data-station': st.name, 'data-state': st.state },
        el('div', { class: 'name' }, st.name),
        el('span', { class: `badge ${st.state}` }, st.state.replace('_', ' ')),
        st.peer ? el('div', { class: 'meta' }, `with ${st.peer}`) : '',
        el(
          'div',
          { class: 'meta' },
          st.state === 'offline' ? `last seen ${ago(st.lastSeen, s.now)}` : 'online',
        ),
      ),
    ),
  );
  if (s.stations.length === 0)
    $('stations').append(el('li', {}, 'No stations yet: add a user below.'));
}

function num(v, digits) {
  return v == null ? '–' : Number(v).toFixed(digits);
}

function bytes(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

// The hub relay's counts for one leg: what it took from the station's device and sent to it.
function relayRow(leg) {
  const r = leg.relay;
  return el(
    'tr',
    { class: 'relay', 'data-relay-leg': leg.station },
    el(
      'td',
      { colspan: '5' },
      `relay: in ${r.packetsIn} pk, ${bytes(r.bytesIn)} · out ${r.packetsOut} pk, ${bytes(r.bytesOut)}`,
    ),
  );
}

function drawCall(c, now) {
  const since = c.startedAt ?? c.ringingAt;
  const rows = c.legs.flatMap((leg) => {
    const st = leg.stats;
    const row = el(
      'tr',
      { 'data-leg': leg.station },
      el('td', {}, leg.station),
      el('td', {}, st ? `${num(st.loss_pct, 1)} %` : '–'),
      el('td', {}, st ? `${num(st.jitter_ms, 1)} ms` : '–'),
      el('td', {}, st ? num(st.concealed, 0) : '–'),
      el('td', {}, st && st.srtp !== undefined ? (st.srtp ? 'on' : 'off') : '–'),
    );
    return leg.relay ? [row, relayRow(leg)] : [row];
  });
  return el(
    'div',
    { class: 'call', 'data-call': c.id, 'data-phase': c.phase },
    el('strong', {}, `${c.caller} → ${c.callee}`),
    ' ',
    el('span', { class: `badge ${c.phase}` }, c.phase),
    ' ',
    el(
      'span',
      { class: 'meta', 'data-media': c.relayed ? 'relayed' : 'direct' },
      `${duration(now - since)} · ${c.relayed ? 'relayed' : 'direct'}`,
    ),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['Receiving', 'Loss', 'Jitter', 'Concealed', 'SRTP'].map((h) => el('th', {}, h)),
        ),
      ),
      el('tbody', {}, ...rows),
    ),
  );
}

function drawCalls(s) {
  const calls = s.calls.map((c) => drawCall(c, s.now));
  $('calls').replaceChildren(
    ...(calls.length ? calls : [el('p', { class: 'meta' }, 'No calls now.')]),
  );
  $('recent').replaceChildren(
    ...s.recentCalls.map((c) =>
      el(
        'li',
        {},
        `${c.caller} → ${c.callee}: ${c.reason ?? 'ended'}`,
        c.startedAt ? `, ${duration(c.endedAt - c.startedAt)}` : '',
        el('span', { class: 'meta' }, ` ${ago(c.endedAt, s.now)}`),
      ),
    ),
  );
}

function drawDoors(s) {
  $('doors').replaceChildren(
    ...s.doors.map((d) =>
      el(
        'li',
        { class: d.result },
        `${d.station}: ${d.result} by ${d.by}${d.from ? ` (${d.from})` : ''}${d.reason ? `: ${d.reason}` : ''}`,
        el('span', { class: 'meta' }, ` ${ago(d.at, s.now)}`),
      ),
    ),
  );
  if (s.doors.length === 0) $('doors').append(el('li', { class: 'meta' }, 'No door events yet.'));
}

function drawPairing(s) {
  $('pairing-state').textContent = s.pairing.state;
  $('pairing-until').textContent =
    s.pairing.state === 'open' && s.pairing.until
      ? ` until ${new Date(s.pairing.until).toLocaleTimeString()}`
      : '';
}

function drawUsers(s) {
  const tbody = $('users').tBodies[0];
  tbody.replaceChildren(
    ...s.users.map((u) =>
      el(
        'tr',
        { 'data-user': u.name },
        el('td', {}, u.name),
        el('td', {}, u.hasSecret ? 'set' : 'none'),
        el(
          'td',
          {},
          el(
            'button',
            { type: 'button', class: 'small secondary', onclick: () => newSecret(u.name) },
            'New secret',
          ),
          ' ',
          el(
            'button',
            { type: 'button', class: 'small secondary', onclick: () => removeUser(u.name) },
            'Remove',
          ),
        ),
      ),
    ),
  );
}

function drawGroups(s) {
  const tbody = $('groups').tBodies[0];
  tbody.replaceChildren(
    ...(s.groups || []).map((g) =>
      el(
        'tr',
        { 'data-group': g.name },
        el('td', {}, g.name),
        el(
          'td',
          {},
          g.members
            .map((m) => (m.state ? `${m.name} (${m.state.replace('_', ' ')})` : m.name))
            .join(', ') || '–',
        ),
        el(
          'td',
          {},
          el(
            'button',
            { type: 'button', class: 'small secondary', onclick: () => removeGroup(g.name) },
            'Delete',
          ),
        ),
      ),
    ),
  );
}

function groupSay(text, error) {
  const m = $('group-msg');
  m.textContent = text;
  m.className = error ? 'msg error' : 'msg';
}

async function removeGroup(name) {
  if (!confirm(`Delete the group ${name}?`)) return;
  try {
    await post('/api/groups', { op: 'remove', name });
    groupSay(`Deleted ${name}`);
  } catch (e) {
    groupSay(e.message, true);
  }
}

function drawHub(s) {
  const h = s.hub || {};
  const rows = [
    ['Uptime', h.uptime_s != null ? duration(h.uptime_s * 1000) : '–'],
    [
      'Listeners',
      Object.entries(h.listeners || {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    [
      'MQTT',
      h.mqtt ? `${h.mqtt.url} (${h.mqtt.connected ? 'connected' : 'not connected'})` : 'off',
    ],
    ['Relay', h.relay ? `${h.relay.forwarded} packets, ${h.relay.forwardedBytes} bytes` : '–'],
  ];
  $('hub').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function draw() {
  if (!state) return;
  drawStations(state);
  drawCalls(state);
  drawDoors(state);
  drawPairing(state);
  drawUsers(state);
  drawGroups(state);
  drawHub(state);
}

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 401) location.href = '/login';
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function say(text, error) {
  const m = $('user-msg');
  m.textContent = text;
  m.className = error ? 'msg error' : 'msg';
}

async function newSecret(name) {
  try {
    const r = await post('/api/users/secret', { name });
    say(`New secret of ${name}: ${r.secret} (shown once)`);
  } catch (e) {
    say(e.message, true);
  }
}

async function removeUser(name) {
  if (!confirm(`Remove ${name}?`)) return;
  try {
    await post('/api/users/remove', { name });
    say(`Removed ${name}`);
  } catch (e) {
    say(e.message, true);
  }
}

function connect() {
  const live = $('live');
  const es = new EventSource('/api/events');
  es.addEventListener('state', (ev) => {
    state = JSON.parse(ev.data);
    live.textContent = 'live';
    live.className = 'badge on';
    draw();
  });
  es.onerror = () => {
    live.textContent = 'reconnecting';
    live.className = 'badge off';
    // a lost session shows as an error too: check, and go to the login page if so
    fetch('/api/state', { credentials: 'same-origin' }).then(
      (r) => {
        if (r.status === 401) location.href = '/login';
      },
      () => {},
    );
  };
}

document.addEventListener('DOMContentLoaded', () => {
  $('pairing-open').addEventListener('click', async () => {
    try {
      await post('/api/pairing', { minutes: Number($('pairing-minutes').value) });
    } catch (e) {
      alert(e.message);
    }
  });
  $('pairing-close').addEventListener('click', () =>
    post('/api/pairing', { open: false }).catch((e) => alert(e.message)),
  );
  $('user-add').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('user-name').value.trim();
    const secret = $('user-secret').value;
    try {
      const r = await post('/api/users/add', { name, secret });
      say(
        r.secret ? `Created ${r.name}; its secret: ${r.secret} (shown once)` : `Created ${r.name}`,
      );
      $('user-add').reset();
    } catch (e) {
      say(e.message, true);
    }
  });
  $('group-edit').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const op = ev.submitter && ev.submitter.value === 'remove' ? 'remove' : 'add';
    const name = $('group-name').value.trim();
    const members = $('group-members')
      .value.split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    try {
      await post('/api/groups', { op, name, members });
      groupSay(
        op === 'add'
          ? `Added to ${name}: ${members.join(', ')}`
          : `Removed from ${name}: ${members.join(', ')}`,
      );
      $('group-edit').reset();
    } catch (e) {
      groupSay(e.message, true);
    }
  });
  // durations and "ago" move on without news from the hub
  setInterval(() => {
    if (state) {
      state.now += 1000;
      drawStations(state);
      drawCalls(state);
    }
  }, 1000);
  connect();
});
