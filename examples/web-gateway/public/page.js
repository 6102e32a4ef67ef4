// The page (docs/ws.md, "The token flow"): log in to the app server for a short-lived page token,
// join the gateway with it, and call registered names through the gateway's proxies. Only the name
// the token grants answers; the gateway refuses any other ({gateway_proxy, Target, {error, not_granted}}).
const C = globalThis.Courier;
const $ = (id) => document.getElementById(id);
let session; // { node, gateway, granted }

function say(el, state, text) {
  el.dataset.state = state;
  el.textContent = text;
}

/** A term as Erlang would print it (enough for this page). */
function show(t) {
  if (t instanceof C.Tuple) return `{${t.elements.map(show).join(',')}}`;
  if (Array.isArray(t)) return `[${t.map(show).join(',')}]`;
  if (t instanceof C.Atom) return t.name;
  if (t instanceof C.Pid) return '<pid>';
  return typeof t === 'string' ? JSON.stringify(t) : String(t);
}

$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const res = await fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: $('user').value, password: $('password').value }),
  });
  const body = await res.json();
  if (!res.ok) return say($('status'), 'refused', `Login refused: ${body.error}.`);
  say($('status'), 'joining', 'Logged in; joining the gateway…');
  try {
    // The token goes in the first WebSocket message; the gateway names this page's node.
    const { node, gateway, identity, expiresAt } = await C.joinGateway({ url: body.url, token: body.token });
    session = { node, gateway, granted: body.granted };
    say(
      $('status'),
      'joined',
      `Joined as ${node.name.name} (${identity}) until ${new Date(expiresAt).toLocaleTimeString()}; granted: ${body.granted.name} on ${body.granted.node}.`,
    );
    $('call').hidden = false;
  } catch (err) {
    say($('status'), 'error', `The gateway refused the page: ${err.code ?? err.name}: ${err.message}`);
  }
});

$('call').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const { node, gateway, granted } = session;
  const name = $('name').value;
  const li = $('calls').appendChild(document.createElement('li'));
  say(li, 'waiting', `${name}: …`);
  node.spawn(async (self) => {
    // Ask the gateway for a proxy of {Name, Node}: {proxy, ReplyTo, Target} → {gateway_proxy, Target, Proxy | {error, Why}}.
    const target = new C.Tuple([C.atom(name), C.atom(granted.node)]);
    self.send({ name: 'gateway', node: gateway }, new C.Tuple([C.atom('proxy'), self.pid, target]));
    const answer = await self.receive(undefined, 5000);
    if (answer === C.TIMEOUT) return say(li, 'error', `${name}: the gateway did not answer`);
    const proxy = answer.elements[2];
    if (!(proxy instanceof C.Pid)) return say(li, 'refused', `${name}: refused, ${show(proxy)}`);
    self.send(proxy, new C.Tuple([self.pid, $('message').value]));
    const reply = await self.receive(undefined, 5000);
    say(li, 'reply', `${name}: ${reply === C.TIMEOUT ? 'no reply' : show(reply)}`);
  });
});
