/** Types of the values test/global-setup.ts provides to the tests. */
import type { AccessKeys } from "./fixtures/constants";

declare module "vitest" {
  export interface ProvidedContext {
    jwksUrl: string;
    accessKeys: AccessKeys;
    gatewayOrigin: string;
    dockerfileSandboxTag: string | null;
  }
}


export {};
