// The observer page: plain JS, no build step. Renders each sample the node pushes over /ws.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const history = []; // [{t, throughput: {carrier: bytesPerSec}}]
  const HISTORY = 120;
  const COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b83280', '#718096'];
  const colorOf = {};
  const fmt = (x) => (x >= 1e6 ? (x / 1e6).toFixed(1) + 'M' : x >= 1e3 ? (x / 1e3).toFixed(1) + 'k' : x.toFixed(x < 10 ? 1 : 0));
  const text = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

  function rows(tbody, list, cells) {
    tbody.innerHTML = list.map((x) => '<tr>' + cells(x).join('') + '</tr>').join('');
  }
  const td = (v, num) => (num ? '<td class="n">' : '<td>') + text(v) + '</td>';

  function render(s) {
    $('node').textContent = s.node.name;
    $('summary').textContent = s.peers.length + ' peers · ' + s.node.processes + ' processes · ' + s.node.registered + ' names';
    const peers = $('peers').tBodies[0];
    peers.innerHTML = '';
    rows(peers, s.peers, (p) => [
      '<td data-peer="' + text(p.node) + '">' + text(p.node) + (p.hidden ? ' (hidden)' : '') + '</td>',
      td(p.carrier),
      td(p.state),
      td(fmt(p.msgInPerSec), 1),
      td(fmt(p.msgOutPerSec), 1),
      td(fmt(p.bytesInPerSec), 1),
      td(fmt(p.bytesOutPerSec), 1),
      td(p.rttMs == null ? '–' : p.rttMs.toFixed(2), 1),
    ]);
    rows($('procs').tBodies[0], s.processes, (p) => [td(p.pid), td(p.name || ''), td(p.mailbox, 1), td(p.monitors, 1), td(p.monitoredBy, 1), td(p.links.join(' '))]);
    const tl = s.timeline.slice(-100).reverse();
    rows($('timeline').tBodies[0], tl, (e) => [td(new Date(e.at).toLocaleTimeString()), '<td class="' + e.kind + '">' + text(e.kind) + '</td>', td(e.subject), td(e.detail)]);
    const tp = {};
    for (const c in s.throughput) tp[c] = s.throughput[c].in + s.throughput[c].out;
    history.push({ at: s.at, throughput: tp });
    if (history.length > HISTORY) history.shift();
    chart();
  }

  function chart() {
    const cv = $('chart');
    const ctx = cv.getContext('2d');
    const w = cv.width,
      h = cv.height;
    ctx.clearRect(0, 0, w, h);
    const carriers = new Set();
    let max = 1;
    for (const p of history)
      for (const c in p.throughput) {
        carriers.add(c);
        max = Math.max(max, p.throughput[c]);
      }
    ctx.strokeStyle = '#eee';
    ctx.fillStyle = '#889';
    ctx.font = '11px sans-serif';
    for (let i = 0; i <= 4; i++) {
      const y = h - 14 - (i * (h - 24)) / 4;
      ctx.beginPath();
      ctx.moveTo(40, y);
      ctx.lineTo(w, y);
      ctx.stroke();
      ctx.fillText(fmt((max * i) / 4), 2, y + 4);
    }
    let k = Object.keys(colorOf).length;
    for (const c of carriers) {
      if (!colorOf[c]) colorOf[c] = COLORS[k++ % COLORS.length];
      ctx.strokeStyle = colorOf[c];
      ctx.lineWidth = 2;
      ctx.beginPath();
      history.forEach((p, i) => {
        const x = 40 + (i * (w - 44)) / (HISTORY - 1);
        const y = h - 14 - ((p.throughput[c] || 0) / max) * (h - 24);
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      ctx.stroke();
    }
    $('legend').innerHTML = [...carriers].map((c) => '<span style="color:' + colorOf[c] + '">■ ' + text(c) + '</span>').join(' &nbsp; ');
  }

  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onopen = () => {
      $('status').textContent = 'live';
      $('status').className = '';
    };
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === 'sample') render(m);
      if (m.type === 'hello') document.body.dataset.readOnly = String(m.readOnly);
    };
    ws.onclose = () => {
      $('status').textContent = 'disconnected, retrying';
      $('status').className = 'down';
      setTimeout(connect, 1000);
    };
  }
  connect();
})();
