// A small admin API client for tests and scripts. Kept apart from workerd.mjs: importing wrangler
// installs signal handlers that would stop `npm run dev` from shutting its children down.
export function adminClient(origin, adminToken) {
  return async function admin(method, path, body) {
    const res = await fetch(`${origin}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { raw: text };
    }
    if (!res.ok) {
      const e = new Error(`admin ${method} ${path} -> ${res.status}: ${text}`);
      e.status = res.status;
      e.body = json;
      throw e;
    }
    return json;
  };
}
