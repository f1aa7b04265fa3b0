// What test/support/down-upstream.global.mjs provides to the workers tests.
declare module "vitest" {
  export interface ProvidedContext {
    downUpstream: string;
  }
}
export {};
