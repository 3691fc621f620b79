/** Small self-contained HTML pages: cold-start loading page, configuration error, gateway auth error. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}.muted{color:#666}`;

function page(title: string, body: string, script = ""): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}${script ? `<script>${script}</script>` : ""}</body></html>`;
}

export function loadingPage(timeoutMs: number): string {
  return page(
    "Starting OpenClaw…",
    `<h1>Starting OpenClaw…</h1><p>The gateway container is starting (cold start). This page reloads when it is ready.</p>
<p>State: <strong id="state">starting</strong> <span class="muted" id="elapsed"></span></p><p class="muted" id="hint"></p>`,
    `const started=Date.now(),limit=${Math.round(timeoutMs)};let idle=0;
async function poll(){let state="unknown";try{const r=await fetch("/api/status",{headers:{accept:"application/json"},cache:"no-store"});if(r.ok){const s=await r.json();state=s.state;if(s.detail)document.getElementById("hint").textContent=s.detail;}else{state="HTTP "+r.status;}}catch(e){state="unreachable";}
document.getElementById("state").textContent=state;document.getElementById("elapsed").textContent="("+Math.round((Date.now()-started)/1000)+" s)";
if(state==="running"){sessionStorage.removeItem("openclaw-edge-starts");location.reload();return;}
// Nothing is starting (the start in the background was cut off, or failed): loading the page again starts it again, a few times.
idle=state==="not_running"?idle+1:0;const starts=Number(sessionStorage.getItem("openclaw-edge-starts")||"0");
if(idle>=3&&starts<3){sessionStorage.setItem("openclaw-edge-starts",String(starts+1));location.reload();return;}
if(Date.now()-started>limit){document.getElementById("hint").textContent="Still not ready: check /_admin/ (restart the gateway) or /debug/logs when debug routes are enabled.";}
setTimeout(poll,2000);}
poll();`,
  );
}

export function configErrorPage(missing: string[]): string {
  const items = missing.map((name) => `<li><code>${escapeHtml(name)}</code></li>`).join("");
  return page(
    "Configuration error",
    `<h1>Configuration error</h1><p>The Worker is missing required configuration:</p><ul>${items}</ul>
<p>Set secrets with <code>wrangler secret put NAME</code> (the Pulumi stack does this from SSM) and vars in the rendered wrangler config, then redeploy.</p>`,
  );
}

export function gatewayAuthErrorPage(help: string): string {
  return page("Gateway rejected the Worker", `<h1>Gateway rejected the Worker</h1><p>${escapeHtml(help)}</p>`);
}
