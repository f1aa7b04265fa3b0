// Raw HTTP pieces the end-to-end tests share: the headers an MCP client sends to a grant URL, and
// the whole audit log of a grant read through the admin API.

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;

/** The headers of a Streamable HTTP POST to a grant URL, plus any the test adds or overrides. */
export function mcpHeaders(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
    ...extra,
  };
}

/** Every audit record of a grant, oldest first, following the admin API's paging. */
/** Settlement is recorded after the answer is sent, so a test that counts outcomes waits until they are all in. */
export async function readAuditUntil(admin: Admin, grantId: string, ready: (records: any[]) => boolean, ms = 10_000): Promise<any[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const records = await readAudit(admin, grantId);
    if (ready(records) || Date.now() > deadline) return records;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function readAudit(admin: Admin, grantId: string): Promise<any[]> {
  const records: any[] = [];
  let after = 0;
  for (;;) {
    const page = await admin("GET", `/grants/${grantId}/audit?after=${after}&limit=500`);
    records.push(...page.records);
    if (page.next === null) return records;
    after = page.next;
  }
}
