export { GrantObject } from "./grant/object";
import { app } from "./app";
export default app;
