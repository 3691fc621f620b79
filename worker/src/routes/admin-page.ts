/**
 * The /_admin/ page: plain HTML and JavaScript over /api/admin/*. Every action runs in the
 * background with its own progress line and result, so slow device calls never block the page.
 */

export const ADMIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>OpenClaw admin</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
h2{margin-top:0;font-size:1.1rem}button{margin:.2rem .4rem .2rem 0}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eee;font-size:.9rem}
.progress{color:#555;font-size:.9rem}.ok{color:#0a6b2d}.err{color:#b00020}.muted{color:#777}
code{background:#f3f3f3;padding:0 .25rem;border-radius:3px}
</style></head><body>
<h1>OpenClaw admin</h1>
<section id="gateway"><h2>Gateway</h2>
<p>State: <strong id="gw-state">…</strong> <span class="muted" id="gw-detail"></span></p>
<button data-action="restart">Restart gateway</button> <span class="progress" id="restart-progress"></span></section>
<section id="channels"><h2>Channels</h2>
<table><thead><tr><th>Channel</th><th>State</th><th>Detail</th></tr></thead><tbody id="channel-rows"><tr><td colspan="3" class="muted">…</td></tr></tbody></table>
<p class="muted" id="cron-next"></p></section>
<section id="devices"><h2>Devices</h2>
<button data-action="devices">Refresh</button><button data-action="approve-all">Approve all</button>
<span class="progress" id="devices-progress"></span>
<h3>Pending</h3><table><thead><tr><th>Request</th><th>Client</th><th>Role</th><th>Remote IP</th><th></th></tr></thead><tbody id="pending"></tbody></table>
<h3>Paired</h3><table><thead><tr><th>Device</th><th>Client</th><th>Role</th><th>Approved</th></tr></thead><tbody id="paired"></tbody></table></section>
<section id="backup"><h2>Backups</h2>
<p id="backup-summary" class="muted">…</p>
<p id="recovery-point" class="muted"></p>
<button data-action="backup-status">Refresh</button><button data-action="backup-now">Back up now</button>
<span class="progress" id="backup-progress"></span>
<h3>Snapshots</h3><button data-action="snapshots">List snapshots</button> <span class="progress" id="snapshots-progress"></span>
<table><thead><tr><th>Snapshot</th><th>Time</th><th></th></tr></thead><tbody id="snapshots"></tbody></table>
<p><label>Snapshot id <input id="restore-id" size="24" placeholder="latest or an id" autocomplete="off"></label>
<button data-action="restore-id">Restore</button> <span class="progress" id="restore-progress"></span></p></section>
<section id="import" hidden><h2>Moved in from moltworker</h2>
<p id="import-summary" class="muted">…</p>
<ul id="import-details" class="muted"></ul>
<div id="import-delete" hidden>
<p>The old deployment's objects are still in the bucket, <strong>unencrypted</strong>: its config held your tokens in plain text.
Deleting them also removes the old Worker's data, so a rollback to the old Worker would start empty. Keeping them is the default.</p>
<label><input type="checkbox" id="import-delete-confirm"> I understand: delete <span id="import-delete-count">?</span> legacy objects (objects the old Worker changed since the import are kept)</label><br>
<button id="import-delete-button" disabled>Delete legacy objects</button> <span class="progress" id="import-progress"></span></div></section>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function cell(text){const td=document.createElement("td");td.textContent=text==null?"":String(text);return td;}
function when(ms){return ms?new Date(ms).toLocaleString():"";}
function fmtBytes(n){if(n==null)return "unknown";const u=["B","KiB","MiB","GiB"];let i=0;while(n>=1024&&i<u.length-1){n/=1024;i++;}return n.toFixed(i?1:0)+" "+u[i];}
// Same-origin only, JSON in and out: what the Worker's cross-site check and JSON rule ask for.
async function api(path, options){
  const response = await fetch(path, Object.assign({headers:{accept:"application/json","content-type":"application/json"},cache:"no-store",mode:"same-origin",credentials:"same-origin"}, options||{}));
  let body = null; try { body = await response.json(); } catch (e) { body = {}; }
  if (!response.ok) throw new Error(failure(response.status, body));
  return body;
}
// The status says whose fault it is (4xx: this request, 5xx: the gateway side); help says what to do.
const KINDS = {400:"bad request",403:"refused",404:"not found",409:"needs action",415:"unsupported media type",501:"not available",502:"upstream failure",503:"unavailable",504:"timed out"};
function failure(status, body){
  let text = "HTTP " + status + " " + (KINDS[status] || "error") + ": " + ((body && body.error) || "no details");
  if (body && body.reason) text += " (" + body.reason + ")";
  if (body && body.help) text += ". " + body.help;
  return text;
}
// Runs one action in the background: disables its button, shows elapsed time, then the outcome.
async function run(progressId, button, label, work){
  const line = $(progressId); const started = Date.now();
  if (button) button.disabled = true;
  line.className = "progress"; line.textContent = label + "…";
  const timer = setInterval(() => { line.textContent = label + "… " + Math.round((Date.now()-started)/1000) + " s"; }, 1000);
  try { const message = await work(); line.className = "ok"; line.textContent = message || "done"; }
  catch (error) { line.className = "err"; line.textContent = label + " failed: " + error.message; }
  finally { clearInterval(timer); if (button) button.disabled = false; }
}
async function loadStatus(){
  try { const s = await api("/api/status"); $("gw-state").textContent = s.state; $("gw-detail").textContent = s.detail || ""; renderChannels(s); }
  catch (error) { $("gw-state").textContent = "unknown"; $("gw-detail").textContent = error.message; }
}
// One row per chat channel: is the bot online, and if not, why (from the boot code's status).
const CHANNEL_LABELS = {connected: "connected", connecting: "connecting", not_configured: "not configured", error: "error", unknown: "unknown"};
function renderChannels(s){
  const rows = $("channel-rows"); rows.replaceChildren();
  const channels = s.channels || {};
  for (const name of Object.keys(channels).sort()) {
    const c = channels[name]; const tr = document.createElement("tr"); tr.dataset.channel = name;
    const state = cell(CHANNEL_LABELS[c.state] || c.state); state.className = c.state === "connected" ? "ok" : (c.state === "error" ? "err" : "muted");
    const plugin = c.plugin && c.plugin.package && c.plugin.package.startsWith("@") ? c.plugin.package + (c.plugin.installed ? " " + (c.plugin.version || "") : " NOT INSTALLED") : "";
    const detail = [c.reason, c.bot ? "bot @" + c.bot : "", plugin].concat(c.issues || []).filter(Boolean).join(" · ");
    tr.append(cell(name), state, cell(detail)); rows.append(tr);
  }
  if (!Object.keys(channels).length) { const tr = document.createElement("tr"); const td = cell(s.channels_error || "no channel information"); td.colSpan = 3; tr.append(td); rows.append(tr); }
  $("cron-next").textContent = s.cron && s.cron.next_run_at ? "Next OpenClaw cron job: " + when(Date.parse(s.cron.next_run_at)) : "";
}
function renderDevices(list){
  const pending = $("pending"), paired = $("paired"); pending.replaceChildren(); paired.replaceChildren();
  for (const p of list.pending) {
    const tr = document.createElement("tr");
    tr.append(cell(p.requestId), cell((p.clientId||"") + " " + (p.platform||"")), cell(p.role), cell(p.remoteIp));
    const td = document.createElement("td"); const b = document.createElement("button"); b.textContent = "Approve";
    b.addEventListener("click", () => run("devices-progress", b, "Approving " + p.requestId, async () => {
      await api("/api/admin/devices/" + encodeURIComponent(p.requestId) + "/approve", {method:"POST"}); await refreshDevices(); return "Approved " + p.requestId; }));
    td.append(b); tr.append(td); pending.append(tr);
  }
  if (!list.pending.length) { const tr=document.createElement("tr"); const td=cell("No pending requests"); td.colSpan=5; tr.append(td); pending.append(tr); }
  for (const d of list.paired) { const tr=document.createElement("tr"); tr.append(cell((d.deviceId||"").slice(0,16)+"…"), cell((d.clientId||"")+" "+(d.platform||"")), cell(d.role), cell(when(d.approvedAtMs))); paired.append(tr); }
}
async function refreshDevices(){ const list = await api("/api/admin/devices"); renderDevices(list); return list.pending.length + " pending, " + list.paired.length + " paired"; }
async function refreshBackup(){
  const s = await api("/api/admin/backup"); const b = s.backup || {};
  // The bucket binding only knows about snapshots when it is the bucket restic writes to (deployed);
  // an empty listing (local runs, other backends) is no evidence, so it is not shown as "0 B".
  const r2 = (s.bucket && s.bucket.snapshot_count > 0) ? s.bucket : {};
  const last = b.last_snapshot ? (b.last_snapshot.time + " (" + fmtBytes(b.last_snapshot.bytes_added) + " added)") : (r2.last_snapshot_time || "never");
  const parts = ["Last snapshot: " + last, "snapshots: " + (b.snapshot_count != null ? b.snapshot_count : (r2.snapshot_count != null ? r2.snapshot_count : "?")),
    "repository size: " + fmtBytes(b.repository_size != null ? b.repository_size : r2.repository_size)];
  if (b.configured === false) parts.push("NOT CONFIGURED (R2 credentials or BACKUP_PASSWORD missing)");
  if (b.last_error) parts.push("last error: " + b.last_error);
  if (s.control_error) parts.push("control API: " + s.control_error);
  $("backup-summary").textContent = parts.join(" · "); $("recovery-point").textContent = recoveryPoint(b, s.restore || {}); return "Backup status updated";
}
// What a stop can lose: everything after the newest snapshot. Snapshots are taken every
// interval while anything changes; the final one on a stop must fit the 5 s the Sandbox SDK
// gives before SIGKILL. The restore says how the previous container's life ended.
function recoveryPoint(b, r){
  const every = b.interval_seconds ? "every " + b.interval_seconds + " s while anything changes" : "periodically";
  const point = b.last_snapshot ? b.last_snapshot.time + " (" + (b.last_snapshot.trigger || "snapshot") + ")" : (r.snapshot_time ? r.snapshot_time + " (restored at boot)" : "none yet");
  let text = "Recovery point: " + point + ". Snapshots are taken " + every + "; a stop takes a final one when it fits in the 5 s the platform allows, so at worst the changes since the recovery point are lost.";
  if (r.snapshot_id) text += " This boot restored " + String(r.snapshot_id).slice(0, 8) + " from " + (r.snapshot_time || "?") + (r.snapshot_trigger === "shutdown" ? ", the final snapshot of a clean stop." : r.snapshot_trigger ? ", taken on " + r.snapshot_trigger + ": the stop before it saved no final snapshot." : ".");
  return text;
}
async function listSnapshots(){
  const s = await api("/api/admin/snapshots"); const body = $("snapshots"); body.replaceChildren();
  for (const snap of s.snapshots || []) {
    const tr = document.createElement("tr"); tr.append(cell(snap.short_id || snap.id), cell(snap.time));
    const td = document.createElement("td"); const b = document.createElement("button"); b.textContent = "Restore";
    b.addEventListener("click", () => { if (!confirm("Restore snapshot " + (snap.short_id||snap.id) + "? The gateway restarts.")) return;
      run("snapshots-progress", b, "Restoring " + (snap.short_id||snap.id), () => restore(snap.id)); });
    td.append(b); tr.append(td); body.append(tr);
  }
  return (s.snapshots || []).length + " snapshots";
}
async function restore(id){
  const r = await api("/api/admin/restore", {method:"POST", body: JSON.stringify({snapshot_id: id})});
  if (!r.ok) throw new Error(r.error || "restore failed"); loadStatus(); return "Restored " + r.snapshot_id;
}
const actions = {
  restart: (b) => run("restart-progress", b, "Restarting gateway", async () => { await api("/api/admin/gateway/restart", {method:"POST"}); setTimeout(loadStatus, 3000); return "Restart requested"; }),
  devices: (b) => run("devices-progress", b, "Loading devices (can take a while on a cold gateway)", refreshDevices),
  "approve-all": (b) => run("devices-progress", b, "Approving all pending devices", async () => { const r = await api("/api/admin/devices/approve-all", {method:"POST"}); await refreshDevices(); return "Approved " + r.approved + " device(s)" + (r.ok ? "" : " — some failed"); }),
  "backup-status": (b) => run("backup-progress", b, "Reading backup status", refreshBackup),
  "backup-now": (b) => run("backup-progress", b, "Backing up", async () => { const r = await api("/api/admin/backup", {method:"POST"}); await refreshBackup().catch(() => {}); return r.skipped ? "Nothing changed: " + (r.reason || "skipped") : "Snapshot " + (r.snapshot_id || "done"); }),
  snapshots: (b) => run("snapshots-progress", b, "Listing snapshots", listSnapshots),
  "restore-id": (b) => { const id = $("restore-id").value.trim(); if (!confirm("Restore snapshot " + id + "? The gateway restarts.")) return;
    run("restore-progress", b, "Restoring " + id, () => restore(id)); },
};
document.querySelectorAll("button[data-action]").forEach((b) => b.addEventListener("click", () => actions[b.dataset.action](b)));
loadStatus(); setInterval(loadStatus, 10000);
actions.devices(null); actions["backup-status"](null);
</script>
<script>
"use strict";
// Moving in from moltworker: the import report (GET /api/admin/import) and the delete offer,
// shown only after a verified import; the checkbox starts unticked and a dialog asks again.
let importPlan = null;
function importLine(label, value) { const li = document.createElement("li"); li.textContent = label + ": " + value; return li; }
async function refreshImport(){
  const r = await api("/api/admin/import"); const section = $("import");
  if (!r || !r.state || r.state === "none" || r.state === "disabled") { section.hidden = true; return "no import"; }
  section.hidden = false;
  const src = r.source || {};
  const summary = r.state === "imported"
    ? "Imported " + r.files + " files (" + fmtBytes(r.bytes) + ") from " + r.layout + " on " + r.at + "; source last synced " + (src.last_sync || "unknown") + "."
    : (r.state === "not-importable" ? "Not importable: " : "Import " + r.state + ": ") + (r.message || "");
  $("import-summary").textContent = summary; $("import-summary").className = r.state === "imported" ? "ok" : "err";
  const list = $("import-details"); list.replaceChildren();
  if (r.state === "imported") {
    list.append(importLine("First snapshot", (r.snapshot_id || "none") + (r.verified ? " (verified: " + r.verification + ")" : " (not verified: " + (r.verification || "pending") + ")")));
    const doctor = r.doctor || {};
    list.append(importLine("Doctor", doctor.state + (doctor.notes && doctor.notes.length ? " — " + doctor.notes.join("; ") : "") + (doctor.message ? " — " + doctor.message : "")));
    if (r.skipped_count) list.append(importLine("Not imported", r.skipped_count + " object(s): " + (r.skipped || []).map((s) => (s.key || s.path) + " (" + s.reason + ")").join(", ")));
    if (r.config_removed && r.config_removed.length) list.append(importLine("Dropped from the old config (the stack renders these)", r.config_removed.join(", ")));
    if (r.masked_files) list.append(importLine("Files with an old secret masked", r.masked_files));
    if (r.other_layouts && r.other_layouts.length) list.append(importLine("Also in the bucket, older, kept", r.other_layouts.map((o) => o.layout + " (" + o.objects + " objects)").join(", ")));
    if (r.deleted) list.append(importLine("Legacy objects deleted", r.deleted.objects + " on " + r.deleted.at + (r.deleted.kept_changed && r.deleted.kept_changed.length ? "; kept (changed since the import): " + r.deleted.kept_changed.join(", ") : "")));
  }
  importPlan = r.delete_offer ? r.delete_plan : null;
  $("import-delete").hidden = !importPlan;
  $("import-delete-count").textContent = String(r.legacy_objects);
  $("import-delete-confirm").checked = false; $("import-delete-button").disabled = true;
  return "Import report updated";
}
$("import-delete-confirm").addEventListener("change", (event) => { $("import-delete-button").disabled = !event.target.checked; });
$("import-delete-button").addEventListener("click", () => {
  const button = $("import-delete-button");
  if (!importPlan || !$("import-delete-confirm").checked) return;
  if (!confirm("Delete the old deployment's plain-text objects from the bucket? This cannot be undone.")) return;
  run("import-progress", button, "Deleting legacy objects", async () => {
    const r = await api("/api/admin/import/delete-legacy", {method:"POST", body: JSON.stringify({confirm: "delete-legacy-objects", plan: importPlan})});
    await refreshImport().catch(() => {});
    return "Deleted " + r.deleted + " object(s)" + (r.kept_changed && r.kept_changed.length ? ", kept " + r.kept_changed.length + " changed since the import" : "");
  });
});
refreshImport().catch(() => {});
</script></body></html>`;
