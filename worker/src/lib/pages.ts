/**
 * Small self-contained HTML pages: cold-start loading page, configuration error, gateway auth
 * error. The markup is in src/pages/*.html (Text modules: wrangler's default rule for *.html,
 * and the same rule in wrangler.jsonc for the vitest pool); this file only fills them in.
 */
import layout from "../pages/layout.html";
import loading from "../pages/loading.html";
import configError from "../pages/config-error.html";
import authError from "../pages/auth-error.html";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Markup that is already HTML (escaped where it holds text). */
export interface Html {
  readonly html: string;
}

/**
 * Replaces each `{{name}}` of `template`: strings are escaped, `Html` values go in as they are.
 * A placeholder without a value is a bug in the caller, so it throws instead of rendering `{{x}}`.
 */
export function fill(template: string, values: Readonly<Record<string, string | Html>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`page template: no value for {{${name}}}`);
    return typeof value === "string" ? escapeHtml(value) : value.html;
  });
}

function page(title: string, content: string): string {
  return fill(layout, { title, content: { html: content } });
}

export function loadingPage(timeoutMs: number): string {
  return page("Starting OpenClaw…", fill(loading, { timeoutMs: String(Math.round(timeoutMs)) }));
}

export function configErrorPage(missing: readonly string[]): string {
  const items = missing.map((name) => `<li><code>${escapeHtml(name)}</code></li>`).join("");
  return page("Configuration error", fill(configError, { items: { html: items } }));
}

export function gatewayAuthErrorPage(help: string): string {
  return page("Gateway rejected the Worker", fill(authError, { help }));
}
