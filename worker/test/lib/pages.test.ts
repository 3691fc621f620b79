/** The HTML pages: templates in src/pages/*.html (Text modules) filled by src/lib/pages.ts. */
import { describe, expect, it } from "vitest";
import { configErrorPage, fill, gatewayAuthErrorPage, loadingPage } from "../../src/lib/pages";

describe("page templates", () => {
  it("escape text values and insert Html values as they are", () => {
    expect(fill("<p>{{a}}</p>{{b}}", { a: "<x & 'y'>", b: { html: "<hr>" } })).toBe("<p>&#60;x &#38; &#39;y&#39;&#62;</p><hr>");
  });

  it("refuse a placeholder without a value instead of rendering it", () => {
    expect(() => fill("{{missing}}", {})).toThrow(/no value for \{\{missing\}\}/);
  });

  it("fill the loading page's timeout into its script", () => {
    const html = loadingPage(1234.4);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("<title>Starting OpenClaw…</title>");
    expect(html).toContain("limit=1234;");
    expect(html).not.toContain("{{");
  });

  it("name each missing key, escaped, and show the gateway's help as text", () => {
    const html = configErrorPage(["MOLTBOT_GATEWAY_TOKEN", "<script>"]);
    expect(html).toContain("<li><code>MOLTBOT_GATEWAY_TOKEN</code></li><li><code>&#60;script&#62;</code></li>");
    expect(gatewayAuthErrorPage("restart <now>")).toContain("<p>restart &#60;now&#62;</p>");
  });
});
