/**
 * The admin API, mounted at /admin: JSON in and out, every route behind the ADMIN_TOKEN guard, every
 * error `{ error, message }` (+ `details`). The README's "Admin API" section lists the routes.
 */
import { Hono } from "hono";
import { approvals } from "./approvals";
import { audit } from "./audit";
import { catalogue } from "./catalogue";
import { renderAdminError } from "./errors";
import { grants } from "./grants";
import { adminGuard } from "./guard";
import { pins } from "./pins";
import { policies } from "./policies";
import { servers } from "./servers";

export const admin = new Hono<{ Bindings: Env }>();

admin.onError(renderAdminError);
admin.use("*", adminGuard());
admin.route("/", servers);
admin.route("/", policies);
admin.route("/", grants);
admin.route("/", audit);
admin.route("/", catalogue);
admin.route("/", pins);
admin.route("/", approvals);
