/**
 * The one page that shows a grant's token: the answer to creating a grant and to rotating its
 * token, never a URL, sent `no-store` (src/console/guard.ts). Ready client configs come from
 * src/console/client-configs.ts.
 */
import { clientConfigs } from "../client-configs";
import { CopyBlock, Notice, Page } from "../layout";
import { grantPath, type GrantSummary } from "./grants";

/** The one page that shows a token: after create and after rotate. */
export function TokenPage(props: { title: string; grant: GrantSummary; token: string; url: string; note: string }) {
  const { grant, token, url } = props;
  return (
    <Page title={props.title} nav="grants">
      <Notice kind="warn">
        <strong>Copy the token now.</strong> {props.note} The gateway keeps only its SHA-256; this page is the only place it is ever shown.
      </Notice>
      <CopyBlock id="grant-url" label="Grant URL" text={url} />
      <CopyBlock id="grant-token" label="Token (send as Authorization: Bearer <token>)" text={token} />
      <h2>Client configurations</h2>
      {clientConfigs(grant.label, url, token).map((config) => (
        <CopyBlock id={`config-${config.id}`} label={config.label} text={config.text} />
      ))}
      <p>
        <a href={`/console${grantPath(grant.id)}`}>Go to the grant</a> · <a href="/console/grants">All grants</a>
      </p>
    </Page>
  );
}
