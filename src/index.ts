export { GrantObject } from "./grant/object";
export { ServerObject } from "./server/object";
import { app } from "./app";
export default app;
