/** The example document of POLICY.md ("Version 1, compatible"), verbatim. */
export const EXAMPLE_POLICY = {
  version: "1",
  default: "deny",
  hide: ["delete_account"],
  all_tools: { limits: [{ counter: "calls", window: "minute", max: 60, scope: "grant" }] },
  tools: {
    list_customers: {},
    create_refund: {
      require: [{ conditions: [{ path: "args.reason", op: "exists", value: true }], on_deny: "Refunds need a reason." }],
      deny_if: [{ conditions: [{ path: "args.amount", op: "gt", value: 10000 }], on_deny: "Refund exceeds the policy limit." }],
      limits: [{ counter: "create_refund_rate", window: "minute", max: 10, scope: "grant" }],
    },
  },
};
