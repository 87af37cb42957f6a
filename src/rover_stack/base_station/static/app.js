// Base-station page: WebSocket client, telemetry, map, camera, driving (keys, stick, gamepad), E-STOP.
// Plain script, no build step, no external resources. Protocol: docs/base_station.md.
'use strict';

const HEARTBEAT_MS = 200;       // heartbeat period
const DRIVE_MS = 100;           // drive message period while an input is held
const NORMAL_FRACTION = 0.5;    // share of the bridge's max speeds without turbo
const $ = (id) => document.getElementById(id);

const state = {
  ws: null, connected: false, canDrive: false, session: null, maxLinear: 1.0, maxAngular: 1.5,
  seq: 0, rtt: null, unanswered: new Map(), lostLocal: 0, telemetry: null, track: [], fixes: [],
  keys: new Set(), stick: { x: 0, y: 0 }, pad: { x: 0, y: 0, turbo: false }, driving: false,
  lastCommand: [0, 0], messages: [], driveSeq: 0, restSent: false, lock: false,
};
window.baseStation = state;   // for people debugging in the console and for the browser tests

function token() { return $('token').value.trim(); }

function send(obj) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) { state.ws.send(JSON.stringify(obj)); return true; }
  return false;
}

function note(text) {
  state.messages.unshift(`${new Date().toLocaleTimeString()} ${text}`);
  state.messages.length = Math.min(state.messages.length, 5);
  $('messages').textContent = state.messages.join('\n');
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => { state.connected = true; send({ type: 'hello', token: token() }); };
  ws.onclose = () => {
    state.connected = false; state.canDrive = false; state.driving = false;
    render(); setTimeout(connect, 1000);
  };
  ws.onmessage = (event) => {
    let msg;
    try { msg = JSON.parse(event.data); } catch (e) { return; }
    if (msg.type === 'telemetry') {
      if (msg.lock && !state.lock) state.restSent = false;   // the bridge wants "controls at rest" again
      state.lock = !!msg.lock; state.telemetry = msg; remember(msg); render();
    }
    else if (msg.type === 'camera') { $('camera').src = `data:image/jpeg;base64,${msg.jpeg}`; }
    else if (msg.type === 'pong') {
      const sent = state.unanswered.get(msg.seq);
      if (sent !== undefined) { state.rtt = (performance.now() - sent) / 1000; state.unanswered.delete(msg.seq); }
    } else if (msg.type === 'hello_ack') {
      state.canDrive = msg.can_drive; state.session = msg.session; state.restSent = false;
      // "controls at rest" at once, before any key the operator presses next can be sent (a key already
      // held is sent as a drive instead, and the bridge asks to let go: the new connection is an action)
      if (state.canDrive && !inputVector().some((v) => v !== 0)) { sendDrive(0, 0); state.restSent = true; }
      state.maxLinear = msg.max_linear; state.maxAngular = msg.max_angular;
      if (token() && !msg.can_drive) note('token refused: read-only view');
      render();
    } else if (msg.type === 'error') { note(`error: ${msg.error}`); }
    else if (msg.type === 'result') { note(`${msg.of}: ${msg.success ? 'ok' : 'failed'} (${msg.message})`); }
  };
}

function heartbeat() {
  if (!state.connected) return;
  const now = performance.now();
  for (const [seq, sent] of state.unanswered) {
    if (now - sent > 2000) { state.unanswered.delete(seq); state.lostLocal += 1; }
  }
  state.seq += 1;
  state.unanswered.set(state.seq, now);
  send({ type: 'heartbeat', seq: state.seq, t: now, rtt: state.rtt });
}

// ---- driving -------------------------------------------------------------------------------
const KEYMAP = { w: [1, 0], arrowup: [1, 0], s: [-1, 0], arrowdown: [-1, 0],
                 a: [0, 1], arrowleft: [0, 1], d: [0, -1], arrowright: [0, -1] };

function inputVector() {
  let fwd = 0, turn = 0, turbo = false;
  for (const key of state.keys) {
    if (KEYMAP[key]) { fwd += KEYMAP[key][0]; turn += KEYMAP[key][1]; }
    if (key === 'shift') turbo = true;
  }
  if (fwd === 0 && turn === 0) { fwd = state.stick.y; turn = -state.stick.x; }
  if (fwd === 0 && turn === 0) { fwd = state.pad.y; turn = state.pad.x; turbo = state.pad.turbo; }
  const clamp = (v) => Math.max(-1, Math.min(1, v));
  const scale = turbo ? 1.0 : NORMAL_FRACTION;
  return [clamp(fwd) * scale * state.maxLinear, clamp(turn) * scale * state.maxAngular];
}

// Each drive carries a sequence number and the page clock: the bridge drops old or out-of-order ones
// (a backlog after a stalled link). It drives only after a "controls at rest" (zero) drive sent since
// the page logged in or the link lock engaged: a control held through a stall must be pressed again.
function sendDrive(linear, angular) {
  state.driveSeq += 1;
  send({ type: 'drive', seq: state.driveSeq, t: performance.now(), linear, angular });
}

function driveTick() {
  pollGamepad();
  const [linear, angular] = inputVector();
  const moving = linear !== 0 || angular !== 0;
  $('drive-out').textContent = `${linear.toFixed(2)} m/s, ${angular.toFixed(2)} rad/s`;
  if (!state.canDrive) return;
  if (moving) {
    sendDrive(linear, angular); state.driving = true;
  } else if (state.driving || !state.restSent) {
    sendDrive(0, 0); state.driving = false; state.restSent = true;
  }
}

function keyName(event) { return event.key.toLowerCase(); }
document.addEventListener('keydown', (event) => {
  if (event.target.tagName === 'INPUT') return;
  const key = keyName(event);
  if (KEYMAP[key] || key === 'shift') { state.keys.add(key); event.preventDefault(); driveTick(); }
});
document.addEventListener('keyup', (event) => { state.keys.delete(keyName(event)); driveTick(); });
window.addEventListener('blur', () => { state.keys.clear(); state.stick = { x: 0, y: 0 }; driveTick(); });

function pollGamepad() {
  const pads = navigator.getGamepads ? navigator.getGamepads() : [];
  const pad = Array.from(pads || []).find((p) => p && p.connected);
  if (!pad) { state.pad = { x: 0, y: 0, turbo: false }; $('gamepad').textContent = 'gamepad: none'; return; }
  const dead = (v) => (Math.abs(v) < 0.1 ? 0 : v);
  const enable = pad.buttons[4] && pad.buttons[4].pressed;   // left shoulder = deadman
  state.pad = enable ? { x: -dead(pad.axes[0] || 0), y: -dead(pad.axes[1] || 0),
                         turbo: !!(pad.buttons[5] && pad.buttons[5].pressed) } : { x: 0, y: 0, turbo: false };
  $('gamepad').textContent = `gamepad: ${pad.id.slice(0, 30)} ${enable ? '(enabled)' : '(hold LB)'}`;
}

// on-screen joystick
const stick = $('stick');
function stickMove(event) {
  const r = stick.getBoundingClientRect();
  const x = ((event.clientX - r.left) / r.width) * 2 - 1, y = -(((event.clientY - r.top) / r.height) * 2 - 1);
  const n = Math.max(1, Math.hypot(x, y));
  state.stick = { x: x / n, y: y / n }; drawStick(); driveTick();
}
stick.addEventListener('pointerdown', (e) => { stick.setPointerCapture(e.pointerId); stickMove(e); });
stick.addEventListener('pointermove', (e) => { if (stick.hasPointerCapture(e.pointerId)) stickMove(e); });
const stickRelease = () => { state.stick = { x: 0, y: 0 }; drawStick(); driveTick(); };
stick.addEventListener('pointerup', stickRelease);
stick.addEventListener('pointercancel', stickRelease);

function drawStick() {
  const c = stick.getContext('2d'), w = stick.width, h = stick.height;
  c.clearRect(0, 0, w, h);
  c.strokeStyle = '#555'; c.beginPath(); c.arc(w / 2, h / 2, w / 2 - 4, 0, 2 * Math.PI); c.stroke();
  c.fillStyle = '#39f'; c.beginPath();
  c.arc(w / 2 + state.stick.x * (w / 2 - 20), h / 2 - state.stick.y * (h / 2 - 20), 18, 0, 2 * Math.PI); c.fill();
}

// ---- buttons --------------------------------------------------------------------------------
$('estop').addEventListener('click', () => { if (!send({ type: 'estop' })) note('E-STOP NOT SENT: no link'); });
$('estop-reset').addEventListener('click', () => send({ type: 'estop_reset' }));
$('token-form').addEventListener('submit', (event) => {
  event.preventDefault(); send({ type: 'hello', token: token() });
});
for (const button of document.querySelectorAll('#mission-controls button')) {
  button.addEventListener('click', () => send({ type: 'mission', action: button.dataset.action,
                                                mission: $('mission-name').value.trim() }));
}

// ---- rendering ------------------------------------------------------------------------------
function remember(t) {
  if (t.pose) {
    const last = state.track[state.track.length - 1];
    if (!last || Math.hypot(last[0] - t.pose.x, last[1] - t.pose.y) > 0.05) state.track.push([t.pose.x, t.pose.y]);
    if (state.track.length > 5000) state.track.shift();
  }
  if (t.fix && t.fix.x !== null) {
    const last = state.fixes[state.fixes.length - 1];
    if (!last || last[0] !== t.fix.x || last[1] !== t.fix.y) state.fixes.push([t.fix.x, t.fix.y]);
    if (state.fixes.length > 2000) state.fixes.shift();
  }
}

const fmt = (v, digits = 2) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));

function render() {
  const t = state.telemetry || {};
  $('conn').textContent = state.connected ? 'connected' : 'disconnected';
  $('conn').className = `badge ${state.connected ? 'ok' : 'bad'}`;
  $('role').textContent = state.canDrive ? 'operator (can drive)' : 'read-only';
  $('role').className = `badge ${state.canDrive ? 'ok' : 'warn'}`;
  $('t-pose').textContent = t.pose ? `x ${fmt(t.pose.x)} m, y ${fmt(t.pose.y)} m, yaw ${fmt(t.pose.yaw)} rad (${t.pose.frame})` : 'unavailable';
  $('t-speed').textContent = t.speed ? `${fmt(t.speed.linear)} m/s, ${fmt(t.speed.angular)} rad/s` : 'unavailable';
  $('t-battery').textContent = t.battery ? `${fmt(t.battery.percentage === null ? null : t.battery.percentage * 100, 0)} %, ${fmt(t.battery.voltage, 1)} V` : 'unavailable';
  $('t-fix').textContent = t.fix ? `${fmt(t.fix.lat, 7)}, ${fmt(t.fix.lon, 7)} (status ${t.fix.status}, σ ${fmt(t.fix.sigma)} m)` : 'unavailable';
  $('t-sigma').textContent = t.pose ? `σxy ${fmt(t.pose.sigma_xy)} m` : 'unavailable';
  $('t-source').textContent = t.active_source || 'unavailable';
  $('t-light').textContent = t.status_light ? `${t.status_light.color}${t.status_light.flashing ? ' flashing' : ''} ${t.status_light.reason}` : 'unavailable';
  $('t-mission').textContent = t.mission ? `${t.mission.name || '–'}: ${t.mission.state}, leg ${t.mission.leg + 1}/${t.mission.legs} ${t.mission.leg_kind} ${t.mission.leg_state}` : 'unavailable';
  const link = t.link || {};
  $('t-link').textContent = `RTT ${state.rtt === null ? '–' : (state.rtt * 1000).toFixed(0) + ' ms'}, lost ${(link.lost || 0) + state.lostLocal}`;
  $('t-lock').textContent = t.lock ? `ENGAGED: ${t.lock_reason}` : 'released';
  const estop = $('estop');
  estop.classList.toggle('latched', t.estop === true);
  $('estop-state').textContent = `E-STOP: ${t.estop === true ? 'LATCHED' : t.estop === false ? 'released' : 'unknown'}`;
  drawMap(t);
}

function drawMap(t) {
  const canvas = $('map'), c = canvas.getContext('2d'), w = canvas.width, h = canvas.height;
  c.fillStyle = '#0b0d10'; c.fillRect(0, 0, w, h);
  const pts = state.track.concat(state.fixes, t.plan || []);
  if (t.pose) pts.push([t.pose.x, t.pose.y]);
  if (!pts.length) { c.fillStyle = '#888'; c.fillText('no pose yet', 10, 20); return; }
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of pts) { minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y); }
  const span = Math.max(maxX - minX, maxY - minY, 10) * 1.2, cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
  const px = (x, y) => [w / 2 + ((x - cx) / span) * w, h / 2 - ((y - cy) / span) * h];
  c.fillStyle = '#888'; c.fillText(`${span.toFixed(0)} m across`, 10, h - 10);
  const line = (list, color) => {
    if (list.length < 2) return;
    c.strokeStyle = color; c.beginPath();
    list.forEach(([x, y], i) => { const [u, v] = px(x, y); if (i) c.lineTo(u, v); else c.moveTo(u, v); });
    c.stroke();
  };
  line(t.plan || [], '#5c5'); line(state.track, '#39f');
  c.fillStyle = '#fc3';
  for (const [x, y] of state.fixes) { const [u, v] = px(x, y); c.fillRect(u - 1, v - 1, 3, 3); }
  if (t.pose) {
    const [u, v] = px(t.pose.x, t.pose.y);
    c.save(); c.translate(u, v); c.rotate(-t.pose.yaw);
    c.fillStyle = '#fff'; c.beginPath(); c.moveTo(10, 0); c.lineTo(-6, 6); c.lineTo(-6, -6); c.fill();
    c.restore();
  }
}

const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get('token')) { $('token').value = fragment.get('token'); history.replaceState(null, '', location.pathname); }
drawStick(); render(); connect();
setInterval(heartbeat, HEARTBEAT_MS);
setInterval(driveTick, DRIVE_MS);
