/// The live dashboard served at `/` by the AdminServer: one self-contained page (no
/// external scripts or fonts) that polls `/dashboard/data` every second.
public enum DashboardPage {
    public static let html = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>Aviary dashboard</title>
    <style>
    body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#0f172a;color:#e2e8f0}
    header{padding:12px 20px;background:#1e293b;display:flex;gap:24px;align-items:baseline}
    h1{font-size:20px;margin:0} .muted{color:#94a3b8}
    main{padding:16px 20px;display:grid;grid-template-columns:repeat(4,1fr);gap:14px}
    .card{background:#1e293b;border-radius:8px;padding:12px}
    .card h2{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:#94a3b8;margin:0 0 6px}
    .big{font-size:26px;font-weight:600} .wide{grid-column:span 2} .full{grid-column:span 4}
    canvas{width:100%;height:120px} table{width:100%;border-collapse:collapse}
    td,th{text-align:left;padding:4px 6px;border-bottom:1px solid #334155;font-size:13px}
    .ok{color:#4ade80} .bad{color:#f87171}
    </style></head><body>
    <header><h1>Aviary</h1><span id="version" class="muted"></span><span id="status" class="muted">connecting…</span></header>
    <main>
    <div class="card full"><h2>Members</h2><table><thead><tr><th>Server</th><th>State</th><th>Zxid</th><th>Lag</th><th>Last heard</th><th>Connections</th><th>Outstanding</th><th>Uptime</th></tr></thead><tbody id="members"></tbody></table></div>
    <div class="card"><h2>Znodes</h2><div class="big" id="znodes">–</div></div>
    <div class="card"><h2>Watches</h2><div class="big" id="watches">–</div></div>
    <div class="card"><h2>Sessions / connections</h2><div class="big"><span id="sessions">–</span> / <span id="connections">–</span></div></div>
    <div class="card"><h2>Data size</h2><div class="big" id="datasize">–</div></div>
    <div class="card wide"><h2>Throughput (requests/s)</h2><canvas id="throughput" width="600" height="120"></canvas><div class="muted" id="throughputText"></div></div>
    <div class="card wide"><h2>Latency p99 (ms): reads, updates</h2><canvas id="latency" width="600" height="120"></canvas><div class="muted" id="latencyText"></div></div>
    <div class="card wide"><h2>Fsync (ms)</h2><canvas id="fsync" width="600" height="120"></canvas><div class="muted" id="fsyncText"></div></div>
    <div class="card wide"><h2>Recent errors</h2><table><tbody id="errors"></tbody></table></div>
    <div class="card full"><h2>Recent events</h2><table><tbody id="events"></tbody></table></div>
    </main>
    <script>
    const history = {throughput: [], read: [], update: [], fsync: []};
    let last = null;
    function push(series, value) { series.push(value); if (series.length > 60) series.shift(); }
    function draw(id, lines, colors) {
      const c = document.getElementById(id), g = c.getContext('2d');
      g.clearRect(0, 0, c.width, c.height);
      const max = Math.max(1, ...lines.flat());
      lines.forEach((series, i) => {
        g.strokeStyle = colors[i]; g.lineWidth = 2; g.beginPath();
        series.forEach((v, x) => { const px = x * c.width / 59, py = c.height - 4 - v * (c.height - 8) / max;
          x ? g.lineTo(px, py) : g.moveTo(px, py); });
        g.stroke();
      });
    }
    function text(id, value) { document.getElementById(id).textContent = value; }
    function rows(id, items, cells) {
      document.getElementById(id).innerHTML = items.map(item =>
        '<tr>' + cells(item).map(v => '<td>' + String(v).replace(/[<&]/g, ch => ({'<':'&lt;','&':'&amp;'})[ch]) + '</td>').join('') + '</tr>').join('');
    }
    async function tick() {
      try {
        const d = await (await fetch('/dashboard/data')).json();
        const now = Date.now();
        if (last) {
          const seconds = Math.max(0.001, (now - last.at) / 1000);
          push(history.throughput, (d.reads + d.updates - last.reads - last.updates) / seconds);
        }
        last = {at: now, reads: d.reads, updates: d.updates};
        push(history.read, d.read_p99); push(history.update, d.update_p99); push(history.fsync, d.fsync_p99);
        text('version', d.version); text('status', 'live'); document.getElementById('status').className = 'ok';
        text('znodes', d.znodes); text('watches', d.watches); text('sessions', d.sessions); text('connections', d.connections);
        text('datasize', d.data_size + ' B');
        text('throughputText', (history.throughput.at(-1) || 0).toFixed(0) + ' req/s now; ' + d.packets_received + ' packets in');
        text('latencyText', 'reads p50/p99 ' + d.read_p50 + '/' + d.read_p99 + ', updates ' + d.update_p50 + '/' + d.update_p99 + ', mean ' + d.avg_latency);
        text('fsyncText', 'p50 ' + d.fsync_p50 + ', p99 ' + d.fsync_p99);
        draw('throughput', [history.throughput], ['#38bdf8']);
        draw('latency', [history.read, history.update], ['#4ade80', '#f59e0b']);
        draw('fsync', [history.fsync], ['#c084fc']);
        const known = v => v === undefined || v === null ? '–' : v;
        rows('members', d.members, m => [m.server, m.state, known(m.zxid), known(m.lag), m.heard_ms == null ? '–' : m.heard_ms + ' ms ago',
                                         known(m.connections), known(m.outstanding), m.uptime_ms == null ? '–' : Math.round(m.uptime_ms / 1000) + ' s']);
        rows('events', d.events, e => [e.time, e.kind, e.details]);
        rows('errors', d.errors.slice(-8).reverse(), e => [e.time, e.kind, e.details.message]);
      } catch (e) {
        text('status', 'unreachable'); document.getElementById('status').className = 'bad';
      }
    }
    tick(); setInterval(tick, 1000);
    </script></body></html>
    """
}
