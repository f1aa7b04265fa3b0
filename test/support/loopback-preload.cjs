// Preloaded (node --require) into peers that bind every interface, such as
// @modelcontextprotocol/server-everything: pins every listen() to 127.0.0.1 so test servers are
// never reachable from outside this machine.
const net = require("node:net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function pinnedListen(...args) {
  if (typeof args[0] === "object" && args[0] !== null && !Array.isArray(args[0])) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  } else if (typeof args[0] === "number" || typeof args[0] === "string") {
    const port = args[0];
    const rest = args.slice(1).filter((a) => typeof a === "function");
    args = [port, "127.0.0.1", ...rest];
  }
  return listen.apply(this, args);
};
