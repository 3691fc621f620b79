/**
 * Request validation for the Worker's own API, on Hono's validator (hono/validator): a route
 * declares what its body or path must be and reads the checked value with `c.req.valid(...)`.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { validator } from "hono/validator";

export const NOT_JSON = "the body is not JSON";

function isJsonRequest(c: Context): boolean {
  const type = (c.req.header("content-type") ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return /^application\/([\w.-]+\+)?json$/.test(type);
}

/**
 * A JSON body `check` accepts (it returns the value, or the problem as a string). A body that is
 * missing, not sent as JSON or malformed is refused like one `check` refuses: 400 with
 * `{ok: false, error, help}`. (Hono's validator throws HTTPException 400 on malformed JSON, which
 * would otherwise reach app.onError as a 500.)
 */
export function jsonBody<T>(check: (body: unknown) => T | string, help: string) {
  const refuse = (c: Context, problem: string) => c.json({ ok: false, error: problem, help }, 400);
  const inner = validator("json", (value: unknown, c) => {
    if (!isJsonRequest(c)) return refuse(c, NOT_JSON);
    const checked = check(value);
    return typeof checked === "string" ? refuse(c, checked) : checked;
  });
  const outer: typeof inner = async (c, next) => {
    try {
      return await inner(c, next);
    } catch (error) {
      // Only the validator's own parse can throw here: later handlers' errors go to onError.
      if (error instanceof HTTPException && error.status === 400) return refuse(c, NOT_JSON);
      throw error;
    }
  };
  return outer;
}

/** A path parameter that must match `pattern`; otherwise 400 with `{ok: false, error, help}`. */
export function paramMatching<K extends string>(name: K, pattern: RegExp, error: string, help: string) {
  return validator("param", (params: Record<string, string>, c) => {
    const value = params[name] ?? "";
    if (!pattern.test(value)) return c.json({ ok: false, error, help }, 400);
    return { [name]: value } as Record<K, string>;
  });
}
