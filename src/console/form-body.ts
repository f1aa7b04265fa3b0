/**
 * Reading a console form post: `application/x-www-form-urlencoded` only (what browsers and htmx
 * send), at most MAX_FORM_BYTES counted as they arrive, strict UTF-8. Entries keep their order and
 * repeats, so the policy builder can read its rows.
 */
import type { Context } from "hono";
import { decodeUtf8, readBodyBytes } from "../http";
import { ConsoleRefusal } from "./guard";

/** A policy may be 1 MiB (the admin API's limit); its form fields and JSON pane together stay under 4. */
export const MAX_FORM_BYTES = 4 * 1024 * 1024;

export interface PostedForm {
  entries: [string, string][];
  get(name: string): string | undefined;
}

export async function readPostedForm(c: Context): Promise<PostedForm> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new ConsoleRefusal(400, "The console accepts only its own forms.");
  const bytes = await readBodyBytes(c.req.raw, MAX_FORM_BYTES);
  if (bytes === null) throw new ConsoleRefusal(413, "The form is larger than the console accepts.");
  const text = decodeUtf8(bytes);
  if (text === null) throw new ConsoleRefusal(400, "The form is not valid UTF-8.");
  const entries = [...new URLSearchParams(text).entries()];
  return { entries, get: (name) => entries.find(([key]) => key === name)?.[1] };
}
