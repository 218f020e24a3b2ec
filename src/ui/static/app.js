// The dashboard's only script: plain DOM, no framework, no build step. Every value from the API is
// put in the page as text (never as HTML): run records hold request text from any conversation.
/* global document, window, fetch, sessionStorage, history, location, URLSearchParams, FormData */

const TOKEN_KEY = 'automcp.token';
const SVG = 'http://www.w3.org/2000/svg';
const main = document.getElementById('main');

// A token in the fragment (`/ui#token=...`) is kept for this tab and removed from the address bar.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get('token')) {
  sessionStorage.setItem(TOKEN_KEY, fragment.get('token'));
  history.replaceState(null, '', location.pathname + location.search);
}

/** Builds an element: h('td', { class: 'num' }, 'text', child, ...). */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

class Unauthorized extends Error {}

async function api(path, init = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { ...(init.headers ?? {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const response = await fetch(`/ui/api/${path}`, { ...init, headers });
  if (response.status === 401) throw new Unauthorized();
  const body = await response.json();
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

function show(...nodes) {
  main.replaceChildren(...nodes.filter((node) => node !== null && node !== undefined));
}

function login(wrong) {
  const input = h('input', { type: 'password', name: 'token', placeholder: 'bearer token', autocomplete: 'off' });
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: (event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        void route();
      },
    },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'Paste the token of a caller in runtime.yaml (the one its MCP client sends).'),
    wrong ? h('p', { class: 'bad', id: 'login-error' }, 'That token belongs to no caller.') : null,
    input,
    h('button', { type: 'submit' }, 'Open the dashboard'),
  );
  document.getElementById('who').textContent = '';
  show(form);
}

const time = (iso) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const ms = (value) => `${Math.round(value)} ms`;
const number = (value) => value.toLocaleString('en-US');

// ---- servers ----------------------------------------------------------------------------------

async function serversPage() {
  const { gateways } = await api('servers');
  const blocks = [h('h1', {}, 'Servers')];
  if (gateways.length === 0) blocks.push(h('p', { class: 'muted' }, 'No gateway is running with this state directory.'));
  for (const gateway of gateways) {
    blocks.push(
      h('h2', {}, `Gateway pid ${gateway.pid} · profile ${gateway.profile}`),
      h('p', { class: 'muted' }, `${gateway.config} · since ${time(gateway.startedAt)} · updated ${time(gateway.updatedAt)}`),
      h(
        'table',
        { class: 'servers' },
        h(
          'tr',
          {},
          h('th', {}, 'server'),
          h('th', {}, 'state'),
          h('th', { class: 'num' }, 'tools'),
          h('th', { class: 'num' }, 'held back'),
          h('th', {}, 'last error'),
          h('th', {}, 'retry at'),
        ),
        gateway.servers.map((server) =>
          h(
            'tr',
            {},
            h('td', { class: 'mono' }, server.name),
            h(
              'td',
              {},
              h('span', { class: `state ${server.state}` }, server.state),
              // Quarantine outranks the connection state: the tools serve nobody until a person approves them.
              server.quarantined
                ? h('span', { class: 'state quarantined', title: `automcp review approve ${server.name}` }, ' quarantined')
                : '',
            ),
            h('td', { class: 'num' }, String(server.tools)),
            h(
              'td',
              { class: 'num' },
              server.heldBack
                ? h(
                    'span',
                    {
                      class: server.flagged || server.quarantined ? 'bad' : '',
                      title:
                        server.flagged || server.quarantined ? `automcp review ${server.name}` : `automcp trust ${server.name}`,
                    },
                    `${server.heldBack}${server.flagged ? ` (${server.flagged} flagged)` : ''}`,
                  )
                : '0',
            ),
            h('td', { class: server.lastError ? 'bad' : 'muted' }, server.lastError ?? '—'),
            h('td', {}, server.downUntil ? time(server.downUntil) : '—'),
          ),
        ),
      ),
    );
  }
  show(...blocks);
}

// ---- runs -------------------------------------------------------------------------------------

async function runsPage(params) {
  const id = params.get('id');
  if (id) return runPage(id);
  const query = new URLSearchParams();
  for (const key of ['caller', 'tool', 'kind', 'since']) if (params.get(key)) query.set(key, params.get(key));
  const { runs } = await api(`runs?${query}`);
  const field = (name, label, placeholder) =>
    h('label', {}, label, h('input', { name, value: params.get(name) ?? '', placeholder }));
  const kind = h(
    'select',
    { name: 'kind' },
    [
      ['', 'all'],
      ['selection', 'selections'],
      ['eval', 'evals'],
    ].map(([value, label]) => h('option', { value, selected: (params.get('kind') ?? '') === value }, label)),
  );
  const filters = h(
    'form',
    { class: 'filters', method: 'get', action: '/ui/runs', onsubmit: (event) => navigate(event, filters) },
    me.auth ? null : field('caller', 'caller', 'any'),
    field('tool', 'tool', 'filesystem.*'),
    h('label', {}, 'kind', kind),
    field('since', 'since', '1h, 2d, 2026-01-31'),
    h('button', { type: 'submit' }, 'Filter'),
  );
  const rows = runs.map((run) =>
    h(
      'tr',
      {},
      h('td', { class: 'mono' }, time(run.time)),
      h('td', { class: 'mono' }, h('a', { href: `/ui/runs?id=${encodeURIComponent(run.runId)}` }, run.runId)),
      h('td', {}, run.caller),
      h('td', {}, run.kind === 'eval' ? 'eval' : 'select'),
      h('td', {}, run.kind === 'eval' ? evalSummary(run) : selectSummary(run)),
      h('td', { class: 'num' }, ms(run.durationMs)),
    ),
  );
  show(
    h('h1', {}, 'Runs'),
    filters,
    runs.length === 0
      ? h('p', { class: 'muted' }, 'No runs match.')
      : h(
          'table',
          { class: 'runs' },
          h(
            'tr',
            {},
            ['time', 'run', 'caller', 'kind', 'what'].map((name) => h('th', {}, name)),
            h('th', { class: 'num' }, 'took'),
          ),
          rows,
        ),
  );
}

function evalSummary(run) {
  const outcome = run.errorCode ?? run.outcome;
  return h('span', {}, h('code', {}, run.tool), ' → ', h('span', { class: run.outcome === 'ok' ? 'ok' : 'bad' }, outcome));
}

function selectSummary(run) {
  return h(
    'span',
    {},
    `“${run.request.query}” → `,
    h('code', {}, run.chosen.join(', ') || '(none)'),
    h('span', { class: 'muted' }, ` (${run.mode})`),
  );
}

async function runPage(id) {
  const { run, rows } = await api(`runs/${encodeURIComponent(id)}`);
  const facts = [
    ['caller', run.caller],
    ['profile', run.profile],
    ['session', run.session ?? '(none)'],
    ['time', time(run.time)],
    ['took', ms(run.durationMs)],
  ];
  const blocks = [
    h('h1', {}, `Run ${run.runId} · ${run.kind === 'eval' ? 'automatic_eval' : 'automatic_mcp'}`),
    h('p', { class: 'muted' }, facts.map(([k, v]) => `${k} ${v}`).join(' · ')),
  ];
  if (run.kind === 'eval') {
    blocks.push(
      h('p', {}, 'tool ', h('code', {}, run.tool), run.server ? ` on server ${run.server}` : ''),
      h('p', {}, 'outcome ', h('span', { class: run.outcome === 'ok' ? 'ok' : 'bad' }, run.errorCode ?? run.outcome)),
    );
    if (run.arguments !== undefined) blocks.push(h('h2', {}, 'Arguments'), h('pre', {}, JSON.stringify(run.arguments, null, 2)));
    if (run.result !== undefined) blocks.push(h('h2', {}, 'Result'), h('pre', {}, JSON.stringify(run.result, null, 2)));
  } else {
    const llm = run.llm;
    const head = [
      `mode ${run.mode}`,
      `limit ${run.request.limit}`,
      `sent ${run.sent.full} full, ${run.sent.unchanged} names-only of ${run.totalAvailable}`,
    ];
    if (run.tokens)
      head.push(
        `${number(run.tokens.sent)} tokens sent${run.tokens.catalog !== undefined ? ` (full catalog ${number(run.tokens.catalog)})` : ''}`,
      );
    if (llm) head.push(`model ${llm.model}`, llm.cached ? 'cached' : ms(llm.latencyMs));
    blocks.push(
      h('p', {}, 'request ', h('q', { class: 'request' }, run.request.query), run.request.fresh ? ' (fresh)' : ''),
      h('p', { class: 'muted' }, head.join(' · ')),
    );
    if (llm?.error) blocks.push(h('p', { class: 'bad' }, `model answer not used: ${llm.error}`));
    if (!llm) blocks.push(h('p', { class: 'muted' }, 'No model took part: the lexical ranking stood.'));
    blocks.push(
      h(
        'table',
        { class: 'ranking' },
        h(
          'tr',
          {},
          h('th', { class: 'num' }, 'rank'),
          h('th', {}, 'lexical ranking'),
          h('th', { class: 'num' }, 'score'),
          h('th', {}, 'model’s choice'),
          h('th', {}, 'reason'),
        ),
        rows.map((row) =>
          h(
            'tr',
            {},
            h('td', { class: 'num' }, String(row.rank)),
            h('td', { class: row.lexical?.selected ? 'mono selected' : 'mono' }, row.lexical?.name ?? ''),
            h('td', { class: 'num' }, row.lexical ? String(row.lexical.score) : ''),
            h('td', { class: 'mono' }, row.choice?.name ?? ''),
            h('td', {}, row.choice?.reason ?? ''),
          ),
        ),
      ),
      llm?.dropped?.length ? h('p', { class: 'muted' }, `dropped (not candidates): ${llm.dropped.join(', ')}`) : null,
      h('p', {}, 'selected: ', h('code', {}, run.chosen.join(', ') || '(none)')),
    );
  }
  blocks.push(h('p', {}, h('a', { href: '/ui/runs' }, '← all runs')));
  show(...blocks);
}

// ---- savings ----------------------------------------------------------------------------------

async function savingsPage(params) {
  const query = new URLSearchParams();
  if (params.get('caller')) query.set('caller', params.get('caller'));
  const data = await api(`savings?${query}`);
  const { totals } = data;
  const saved = totals.catalog > 0 ? Math.round((1 - totals.sent / totals.catalog) * 100) : 0;
  const picker = me.auth
    ? null
    : h(
        'form',
        { class: 'filters', method: 'get', action: '/ui/savings', onsubmit: (event) => navigate(event, picker) },
        h(
          'label',
          {},
          'caller',
          h(
            'select',
            { name: 'caller' },
            h('option', { value: '' }, 'all'),
            data.callers.map((name) => h('option', { value: name, selected: params.get('caller') === name }, name)),
          ),
        ),
        h('button', { type: 'submit' }, 'Show'),
      );
  const card = (label, value) => h('div', { class: 'card' }, h('b', {}, value), label);
  show(
    h('h1', {}, 'Savings'),
    picker,
    h(
      'div',
      { class: 'cards' },
      card('selections', number(totals.selections)),
      card('tokens sent by automatic_mcp', number(totals.sent)),
      card('tokens of the full catalog', number(totals.catalog)),
      card('saved', `${saved}%`),
      card('names-only hits', number(totals.namesOnly)),
    ),
    totals.counted < totals.selections
      ? h(
          'p',
          { class: 'muted' },
          `${totals.selections - totals.counted} older selections carry no token counts and are left out of the token figures.`,
        )
      : null,
    data.buckets.length === 0 ? h('p', { class: 'muted' }, 'No selections yet.') : chart(data),
  );
}

/** Bars per time bucket: the full catalog's tokens behind, what was sent in front; names-only hits as dots. */
function chart({ buckets, bucketMs }) {
  const width = 960;
  const height = 280;
  const pad = { left: 64, right: 16, top: 12, bottom: 40 };
  const max = Math.max(1, ...buckets.map((bucket) => bucket.catalog), ...buckets.map((bucket) => bucket.sent));
  const first = Date.parse(buckets[0].start);
  const count = Math.round((Date.parse(buckets[buckets.length - 1].start) - first) / bucketMs) + 1;
  const slot = (width - pad.left - pad.right) / count;
  const y = (value) => pad.top + (height - pad.top - pad.bottom) * (1 - value / max);
  const nodes = [];
  for (let tick = 0; tick <= 4; tick++) {
    const value = (max * tick) / 4;
    nodes.push(
      svg('line', { x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value), stroke: '#e5e7eb' }),
      svg(
        'text',
        { x: pad.left - 6, y: y(value) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#6b7280' },
        document.createTextNode(number(Math.round(value))),
      ),
    );
  }
  for (const bucket of buckets) {
    const index = Math.round((Date.parse(bucket.start) - first) / bucketMs);
    const x = pad.left + index * slot + slot * 0.15;
    const w = Math.max(2, slot * 0.7);
    const title = `${time(bucket.start)}: ${number(bucket.sent)} tokens sent, full catalog ${number(bucket.catalog)}, ${bucket.selections} selections, ${bucket.namesOnly} names-only`;
    nodes.push(
      svg(
        'rect',
        { class: 'catalog', x, y: y(bucket.catalog), width: w, height: y(0) - y(bucket.catalog), fill: '#d1d5db' },
        svg('title', {}, document.createTextNode(title)),
      ),
      svg(
        'rect',
        { class: 'sent', x: x + w * 0.2, y: y(bucket.sent), width: w * 0.6, height: y(0) - y(bucket.sent), fill: '#2563eb' },
        svg('title', {}, document.createTextNode(title)),
      ),
    );
    if (bucket.namesOnly > 0)
      nodes.push(
        svg('circle', { cx: x + w / 2, cy: height - pad.bottom + 12, r: Math.min(6, 2 + bucket.namesOnly), fill: '#15803d' }),
      );
  }
  const label = (iso) => (bucketMs >= 86_400_000 ? iso.slice(0, 10) : iso.slice(11, 16));
  nodes.push(
    svg(
      'text',
      { x: pad.left, y: height - 6, 'font-size': 11, fill: '#6b7280' },
      document.createTextNode(label(buckets[0].start)),
    ),
    svg(
      'text',
      { x: width - pad.right, y: height - 6, 'font-size': 11, fill: '#6b7280', 'text-anchor': 'end' },
      document.createTextNode(label(buckets[buckets.length - 1].start)),
    ),
  );
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', {}, h('span', { class: 'swatch catalog' }), 'full catalog tokens'),
    h('span', {}, h('span', { class: 'swatch sent' }), 'tokens sent by automatic_mcp'),
    h('span', {}, h('span', { class: 'swatch names' }), 'names-only hits'),
    h('span', {}, `one bar per ${bucketMs >= 3_600_000 ? `${bucketMs / 3_600_000} h` : `${bucketMs / 60_000} min`}`),
  );
  return h(
    'div',
    { class: 'chart' },
    legend,
    svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': 'tokens over time' }, nodes),
  );
}

// ---- try --------------------------------------------------------------------------------------

function tryPage() {
  const query = h('textarea', { name: 'query', placeholder: 'read the notes file in my project', required: true });
  const profile = h(
    'select',
    { name: 'profile' },
    me.profiles.map((name) => h('option', { value: name, selected: name === me.profile }, name)),
  );
  const limit = h('input', { name: 'limit', type: 'number', min: 1, max: 50, placeholder: 'profile’s', class: 'narrow' });
  const result = h('div', { id: 'try-result' });
  const form = h(
    'form',
    {
      class: 'try',
      onsubmit: async (event) => {
        event.preventDefault();
        result.replaceChildren(
          h('p', { class: 'muted' }, me.mode === 'ui' ? 'Selecting (the first try starts the servers)…' : 'Selecting…'),
        );
        try {
          const body = { query: query.value, profile: profile.value, ...(limit.value ? { limit: Number(limit.value) } : {}) };
          const answer = await api('try', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          });
          result.replaceChildren(...tryResult(answer));
        } catch (error) {
          if (error instanceof Unauthorized) return login(true);
          result.replaceChildren(h('p', { class: 'bad' }, error.message));
        }
      },
    },
    h('label', {}, 'task', query),
    h('label', {}, 'profile', profile),
    h('label', {}, 'limit', limit),
    h('button', { type: 'submit' }, 'Select tools'),
  );
  show(
    h('h1', {}, 'Try automatic_mcp'),
    h('p', { class: 'muted' }, 'What automatic_mcp returns to a new conversation with this profile.'),
    form,
    result,
  );
}

function tryResult({ profile, output, tokens }) {
  return [
    h(
      'p',
      { class: 'muted' },
      `profile ${profile} · mode ${output.mode} · ${output.totalAvailable} tools available · ${number(tokens.sent)} tokens (full catalog ${number(tokens.catalog)}) · run ${output.runId}`,
    ),
    h(
      'table',
      { class: 'tools' },
      h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, 'tool'), h('th', {}, 'description')),
      output.tools.map((tool, index) =>
        h(
          'tr',
          {},
          h('td', { class: 'num' }, String(index + 1)),
          h('td', { class: 'mono' }, tool.name),
          h('td', {}, (tool.description ?? '').split('\n')[0]),
        ),
      ),
    ),
    h('details', {}, h('summary', {}, 'JSON as the agent receives it'), h('pre', {}, JSON.stringify(output, null, 2))),
  ];
}

// ---- routing ----------------------------------------------------------------------------------

let me;

function navigate(event, form) {
  event.preventDefault();
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) if (value) params.set(key, value);
  history.pushState(null, '', `${form.getAttribute('action')}?${params}`);
  void route();
}

const PAGES = { servers: serversPage, runs: runsPage, savings: savingsPage, try: tryPage };

async function route() {
  const page = location.pathname.replace(/^\/ui\/?/, '').replace(/\/$/, '') || 'servers';
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('current', link.dataset.page === page);
  try {
    me ??= await api('me');
    document.getElementById('who').textContent = me.auth
      ? `caller ${me.caller} · profile ${me.profile}`
      : `${me.mode === 'ui' ? 'automcp ui' : 'loopback'} · profile ${me.profile}`;
    await (PAGES[page] ?? serversPage)(new URLSearchParams(location.search));
  } catch (error) {
    if (error instanceof Unauthorized) {
      const had = sessionStorage.getItem(TOKEN_KEY);
      sessionStorage.removeItem(TOKEN_KEY);
      me = undefined;
      return login(Boolean(had));
    }
    show(h('p', { class: 'bad' }, error.message));
  }
}

// Links inside the dashboard change the page without reloading it.
document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a');
  if (!link || !link.getAttribute('href')?.startsWith('/ui')) return;
  event.preventDefault();
  history.pushState(null, '', link.getAttribute('href'));
  void route();
});
window.addEventListener('popstate', () => void route());
void route();
